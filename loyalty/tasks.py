"""Loyalty jobs: the periodic ones, scheduled by `manage.py crontab` (README, "Processes"),
and member imports."""

import logging
import random

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner
from loyalty.models import RedemptionStatus
from loyalty.services.imports import member_import_run, member_imports_stale
from loyalty.services.orders import pending_points_release
from loyalty.services.redemptions import (
    redemption_deliver,
    redemptions_expire,
    redemptions_overdue,
)

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


@dramatiq.actor(broker=broker, max_retries=3, min_backoff=5000)
def deliver_redemption(redemption_id: int) -> None:
    # One try per message; a try Shopify may answer later sends the next message itself,
    # at the redemption's retry_at. Dramatiq's own retries only cover a crash (database
    # gone): the claim lets no two tries overlap.
    redemption = redemption_deliver(redemption_id=redemption_id)
    if redemption.status == RedemptionStatus.PENDING and redemption.retry_at is not None:
        redemption_enqueue(redemption_id, at=redemption.retry_at)


def redemption_enqueue(redemption_id: int, *, at=None) -> None:
    """Send a pending redemption to the workers, now or at `at` (with a little jitter, so
    a burst of redemptions that failed together does not retry together).

    If the broker cannot take it, `resend_overdue_redemptions` sends it within minutes.
    """
    start_in_process_runner()
    delay_ms = 0
    if at is not None:
        seconds = max(0.0, (at - timezone.now()).total_seconds())
        delay_ms = int(seconds * 1000 * random.uniform(1.0, 1.2))  # noqa: S311 - jitter only
    try:
        deliver_redemption.send_with_options(args=(redemption_id,), delay=delay_ms or None)
    except Exception:  # noqa: BLE001 - the redemption is stored; the sweeper sends it later
        logger.warning("broker unavailable; redemption %s waits for the sweeper", redemption_id)


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def resend_overdue_redemptions() -> None:
    # A pending redemption whose message was lost would never be tried again: send it.
    for redemption_id in redemptions_overdue():
        redemption_enqueue(redemption_id)


@cron("17 * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def expire_redemption_codes() -> None:
    # Hourly is plenty: codes expire a day after their end (the grace for late orders).
    expired = redemptions_expire()
    if expired:
        logger.info("marked %d unused codes expired", expired)
