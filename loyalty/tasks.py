"""Loyalty jobs: the periodic ones, scheduled by `manage.py crontab` (README, "Processes"),
and member imports."""

import dramatiq
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner
from loyalty.services.imports import member_import_run
from loyalty.services.orders import pending_points_release


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
    """Send a stored import to the workers (call it once the import row is committed)."""
    start_in_process_runner()
    import_members.send(import_id)
