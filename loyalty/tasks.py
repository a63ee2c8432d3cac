"""Loyalty jobs: the periodic ones, scheduled by `manage.py crontab` (README, "Processes"),
member imports, and the storefront metafields' sync."""

import logging
import random
import threading
import time

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner
from loyalty.daily import daily_jobs_run
from loyalty.models import RedemptionStatus, Shop
from loyalty.services.imports import member_import_run, member_imports_stale
from loyalty.services.notifications import notifications_send
from loyalty.services.orders import pending_points_release
from loyalty.services.reconciliation import orders_reconcile_all
from loyalty.services.redemptions import (
    redemption_deliver,
    redemptions_expire,
    redemptions_overdue,
)
from loyalty.services.storefront_sync import (
    StorefrontSyncRefused,
    storefront_stale_shops,
    storefront_sync_run,
)
from loyalty.services.tiers import tiers_recompute
from loyalty.shopify.admin_api import AdminApiError

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


@dramatiq.actor(broker=broker, max_retries=5, min_backoff=5000, time_limit=10 * 60 * 1000)
def recompute_tiers(shop_id: int, after_id: int = 0) -> None:
    # One batch a message, then the next: a long shop never holds a worker for long, and a
    # retried batch only places its members again (placing is idempotent).
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return
    last_id = tiers_recompute(shop=shop, after_id=after_id)
    if last_id is not None:
        recompute_tiers.send(shop_id, last_id)


def tiers_recompute_enqueue(shop_id: int) -> None:
    """Place every member of the shop in their tier again, in batches (call it once the
    program change committed)."""
    start_in_process_runner()
    try:
        recompute_tiers.send(shop_id, 0)
    except Exception:  # noqa: BLE001 - members keep their tiers until the next change
        logger.warning("broker unavailable; the tiers of shop %s were not recomputed", shop_id)


# --- Storefront metafields (docs/shopify-sync.md) ---------------------------------------------

# A change waits this long for the others of its burst before the shop's job writes them all.
STOREFRONT_SYNC_DELAY_MS = 2000
# A shop's pending job is remembered this long at most (a lost message is forgotten, and the
# minute job below sends another).
STOREFRONT_GUARD_SECONDS = 60
# The longest a run may take; its per-shop lock lapses a little after, should it die.
STOREFRONT_RUN_SECONDS = 240
# Within this, a process that itself just sent the shop's (delayed) job sends no other: that
# job has not started yet, so it will read the change.
STOREFRONT_RECENT_SECONDS = 1.0
_storefront_lock = threading.Lock()
_storefront_pending: dict[str, float] = {}
_storefront_sent_at: dict[int, float] = {}


@dramatiq.actor(
    broker=broker,
    max_retries=5,
    min_backoff=5000,
    max_backoff=120_000,
    time_limit=STOREFRONT_RUN_SECONDS * 1000,
)
def sync_storefront(shop_id: int) -> None:
    # First let the next change send a new job: whatever commits after this line is either
    # read below or written by that job.
    _storefront_release(shop_id)
    shop = Shop.objects.filter(pk=shop_id, uninstalled_at__isnull=True).first()
    if shop is None:
        return
    # One run per shop at a time: two runs could write a member's values out of order (the
    # older read landing last) while both mark the row written.
    if not _storefront_claim(shop_id, running=True):
        storefront_sync_request(shop_id)
        return
    try:
        run = storefront_sync_run(shop=shop)
    except AdminApiError as exc:
        if exc.transient:
            raise  # dramatiq retries with backoff; the minute job is the net below that
        logger.warning("storefront sync of %s failed: %s", shop.domain, exc)
        return
    except StorefrontSyncRefused as exc:
        logger.warning("%s", exc)
        return
    finally:
        _storefront_release(shop_id, running=True)
    logger.info(
        "storefront sync of %s: %d members in %d calls%s",
        shop.domain,
        run.members,
        run.calls,
        ", more to come" if run.more else "",
    )
    if run.more:
        storefront_sync_request(shop_id, delay_ms=0)


@dramatiq.actor(broker=broker, max_retries=3, min_backoff=5000)
def deliver_redemption(redemption_id: int) -> None:
    # One try per message; a try Shopify may answer later sends the next message itself,
    # at the redemption's retry_at. A message that did not try (a duplicate, or one early)
    # sends nothing, so one chain of messages goes on. Dramatiq's own retries only cover a
    # crash (database gone).
    redemption, tried = redemption_deliver(redemption_id=redemption_id)
    if tried and redemption.status == RedemptionStatus.PENDING:
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
def resync_stale_storefronts() -> None:
    # The net under the debounced jobs: a failed job, a lost message, a crashed worker.
    for shop_id in storefront_stale_shops():
        storefront_sync_request(shop_id)


def storefront_sync_request(shop_id: int, *, delay_ms: int = STOREFRONT_SYNC_DELAY_MS) -> None:
    """Send the shop's storefront sync job unless one is already waiting (call it after
    the change committed). Never raises: a lost request is caught by the minute job."""
    now = time.monotonic()
    if now - _storefront_sent_at.get(shop_id, -STOREFRONT_RECENT_SECONDS) < (
        STOREFRONT_RECENT_SECONDS
    ):
        return
    try:
        if not _storefront_claim(shop_id):
            return
        sync_storefront.send_with_options(args=(shop_id,), delay=delay_ms)
    except Exception:  # noqa: BLE001 - the rows stay stale; the minute job sends it
        logger.warning("broker unavailable; storefront sync of shop %s waits", shop_id)
        return
    if delay_ms / 1000 > STOREFRONT_RECENT_SECONDS:
        _storefront_sent_at[shop_id] = now


def _storefront_key(shop_id: int, *, running: bool) -> str:
    return f"perennial:storefront-sync{'-running' if running else ''}:{shop_id}"


def _storefront_claim(shop_id: int, *, running: bool = False) -> bool:
    """Take the shop's pending-job guard (or, `running`, its run lock): True if it was free.

    With Redis, across every process; with the in-process broker (or RabbitMQ), per
    process."""
    seconds = STOREFRONT_RUN_SECONDS + 60 if running else STOREFRONT_GUARD_SECONDS
    client = getattr(broker, "client", None)
    if client is not None:
        return bool(client.set(_storefront_key(shop_id, running=running), 1, nx=True, ex=seconds))
    key = _storefront_key(shop_id, running=running)
    with _storefront_lock:
        now = time.monotonic()
        if _storefront_pending.get(key, 0.0) > now:
            return False
        _storefront_pending[key] = now + seconds
        return True


def _storefront_release(shop_id: int, *, running: bool = False) -> None:
    if not running:
        _storefront_sent_at.pop(shop_id, None)
    key = _storefront_key(shop_id, running=running)
    client = getattr(broker, "client", None)
    if client is not None:
        client.delete(key)
        return
    with _storefront_lock:
        _storefront_pending.pop(key, None)


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


@cron("7 * * * *")
@dramatiq.actor(broker=broker, max_retries=0, time_limit=60 * 60 * 1000)
def run_daily_jobs() -> None:
    # Hourly, so each shop's day starts within the hour after its own midnight; the jobs
    # are idempotent, so the other 23 runs of a day change nothing (docs/dates.md).
    report = daily_jobs_run()
    if report.failed:
        logger.warning("daily jobs failed for %d shops; the next hour retries", len(report.failed))


@cron("37 * * * *")
@dramatiq.actor(broker=broker, max_retries=0, time_limit=55 * 60 * 1000)
def reconcile_orders() -> None:
    # Hourly: orders whose webhooks never arrived are credited (or reversed) within about
    # an hour, and each run reads only the hour or so since the last (docs/reconciliation.md).
    runs = orders_reconcile_all()
    repaired = sum(run.repaired for run in runs)
    if repaired:
        logger.info("reconciliation applied %d orders whose webhooks never arrived", repaired)


@cron("*/5 * * * *")
@dramatiq.actor(broker=broker, max_retries=0, time_limit=10 * 60 * 1000)
def send_notifications() -> None:
    # Every five minutes: an event waits at most that long for its email, and the rows a
    # run leaves (over its limit) go out with the next.
    sent = notifications_send(limit=2000)
    if sent:
        logger.info("emailed %d shopper notifications", sent)
