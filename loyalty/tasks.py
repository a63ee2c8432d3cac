"""Loyalty jobs: the periodic ones, scheduled by `manage.py crontab` (README, "Processes"),
and member imports."""

import logging

import dramatiq
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner
from loyalty.services.imports import member_import_run, member_imports_stale
from loyalty.services.orders import pending_points_release

logger = logging.getLogger(__name__)


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def release_pending_points() -> None:
    # Bounded: what is not released this minute is released the next.
    pending_points_release(limit=5000)


@dramatiq.actor(broker=broker, max_retries=0, time_limit=60 * 60 * 1000)
def import_members(import_id: int) -> None:
    # No retries: a failure marks the import failed with its error, and the merchant can
    # upload the file again (rows already imported add nothing the second time).
    member_import_run(import_id=import_id)


def member_import_enqueue(import_id: int) -> None:
    """Send a stored import to the workers (call it once the import row is committed).

    If the broker cannot take it, the import stays queued and `resend_stale_imports`
    sends it within a few minutes.
    """
    start_in_process_runner()
    try:
        import_members.send(import_id)
    except Exception:  # noqa: BLE001 - the file is stored; the minute job sends it later
        logger.warning("broker unavailable; member import %s waits to be resent", import_id)


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def resend_stale_imports() -> None:
    # An import whose job message was lost stays queued, and one whose worker was killed
    # stays running: send them again (crediting is idempotent per customer).
    for import_id in member_imports_stale():
        import_members.send(import_id)
