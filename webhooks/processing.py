"""Turning a stored delivery into its effect, once, and keeping failures visible."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from config.jobs import outstanding_messages
from loyalty.models import Shop, is_shop_domain

from .handlers import ALWAYS_PROCESSED, HANDLERS
from .models import Delivery, Status

logger = logging.getLogger(__name__)

QUEUE = "deliveries"


class DeliveryError(Exception):
    """A delivery that cannot be processed as it is (its error is kept on the row)."""


def delivery_process(delivery_id: int, *, now: datetime | None = None) -> str:
    """Process one stored delivery and return its new status.

    The delivery's row is locked for the whole transaction and marked processed in it, so
    concurrent or repeated jobs for one delivery have its effect exactly once. A handler
    error rolls back the handler's writes only; the failure is recorded with a time for
    the next attempt.
    """
    now = now or timezone.now()
    # Inside a caller's transaction (tests), put the constraint mode back afterwards.
    nested = connection.in_atomic_block
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in (
            Status.PROCESSED,
            Status.DISMISSED,
            Status.SKIPPED,
        ):
            return delivery.status if delivery else "missing"
        delivery.attempts += 1
        delivery.last_error = ""
        # Check the ledger's chain keys at each statement rather than at commit, so a
        # violation fails the handler's savepoint and is recorded on the delivery like any
        # other failure. (Deleting a whole shop needs them deferred.)
        immediate = connection.vendor == "postgresql" and delivery.topic != "shop/redact"
        if immediate:
            _constraints("IMMEDIATE")
        try:
            with transaction.atomic():
                delivery.status = _dispatch(delivery)
        except Exception as error:  # noqa: BLE001 - every failure is kept, visible, retried
            _record_failure(delivery, error, now=now)
        else:
            delivery.processed_at = now
            delivery.next_attempt_at = None
        if immediate and nested:
            _constraints("DEFERRED")
        delivery.save(update_fields=_OUTCOME_FIELDS)
        return delivery.status


def _constraints(mode: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS ALL {mode}")


_OUTCOME_FIELDS = [
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "processed_at",
    "customer_id",
    "order_id",
]


def _dispatch(delivery: Delivery) -> str:
    try:
        payload = json.loads(bytes(delivery.body))
    except (ValueError, UnicodeDecodeError) as error:
        raise DeliveryError(f"the body is not valid JSON: {error}") from error
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        delivery.last_error = f"no handler for topic {delivery.topic!r}; stored only"
        return Status.PROCESSED
    if not is_shop_domain(delivery.shop_domain):
        raise DeliveryError(f"X-Shopify-Shop-Domain is not a shop: {delivery.shop_domain!r}")
    shop = Shop.objects.select_related("program").filter(domain=delivery.shop_domain).first()
    if shop is None:
        shop, _ = Shop.objects.get_or_create(domain=delivery.shop_domain)
    uninstalled_first = (
        shop.uninstalled_at is not None and delivery.received_at > shop.uninstalled_at
    )
    if uninstalled_first and delivery.topic not in ALWAYS_PROCESSED:
        delivery.last_error = "the shop had uninstalled the app; not processed"
        return Status.SKIPPED
    handler(shop=shop, payload=payload, delivery=delivery)
    return Status.PROCESSED


def _record_failure(delivery: Delivery, error: Exception, *, now: datetime) -> None:
    delivery.status = Status.FAILED
    if isinstance(error, DeliveryError | ValueError | KeyError | TypeError):
        delivery.last_error = f"{type(error).__name__}: {error}"
    else:
        delivery.last_error = "".join(traceback.format_exception(error))[-4000:]
    if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        # 1, 2, 4 … minutes, at most 6 hours apart: about a day of retries in all.
        delay = min(timedelta(minutes=2 ** (delivery.attempts - 1)), timedelta(hours=6))
        delivery.next_attempt_at = now + delay
    else:
        delivery.next_attempt_at = None
    logger.warning(
        "delivery %s (%s) failed, attempt %d: %s",
        delivery.webhook_id,
        delivery.topic,
        delivery.attempts,
        delivery.last_error.splitlines()[-1] if delivery.last_error else "",
    )


def deliveries_sweep(
    *, send: Callable[[int], object], now: datetime | None = None, limit: int = 10_000
) -> int:
    """Send again the deliveries a job should have processed and did not. Returns how many.

    A failed delivery whose retry time has come is always sent. A received one is sent
    again when its job message must have been lost (a crash between commit and broker, a
    broker restart): it is older than WEBHOOK_SWEEP_AFTER_SECONDS and either the delivery
    queue is empty, or the workers, taking the queue first in first out, are already
    processing deliveries received more than that long after it (after its last re-send,
    for one sent again before). One merely waiting behind a backlog is left alone, so a
    backlog is never multiplied by re-sends.
    """
    now = now or timezone.now()
    failed = list(
        Delivery.objects.filter(status=Status.FAILED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    # Until the job records its outcome, don't send a failed one again on the next sweep.
    Delivery.objects.filter(pk__in=failed).update(next_attempt_at=now + timedelta(minutes=10))
    after = timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    horizon = now - after
    if outstanding_messages(QUEUE) > 0:
        # Where the workers are in the queue: the newest delivery they have processed.
        newest = (
            Delivery.objects.filter(processed_at__isnull=False)
            .order_by("-processed_at")
            .values_list("received_at", flat=True)
            .first()
        )
        horizon = min(horizon, newest - after) if newest else None
    lost: list[int] = []
    if horizon is not None:
        # A job sent again joins the back of the queue: it is lost only once the workers
        # are past what was received after it was sent, not after the delivery came in.
        lost = list(
            Delivery.objects.filter(
                Q(resent_at__isnull=True) | Q(resent_at__lte=horizon),
                status=Status.RECEIVED,
                received_at__lte=horizon,
            )
            .order_by("received_at")
            .values_list("pk", flat=True)[: max(limit - len(failed), 0)]
        )
        Delivery.objects.filter(pk__in=lost).update(resent_at=now)
    for pk in failed + lost:
        send(pk)
    return len(failed) + len(lost)


def delivery_replay(*, delivery: Delivery, send: Callable[[int], object]) -> None:
    """An operator asks for a delivery to be processed again (failed, skipped or dismissed)."""
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Status.PROCESSED).update(
        status=Status.RECEIVED, next_attempt_at=None, resent_at=timezone.now()
    )
    send(delivery.pk)


def delivery_dismiss(*, delivery: Delivery, why: str) -> None:
    """An operator decides a failed delivery will never be processed, and says why."""
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Status.PROCESSED).update(
        status=Status.DISMISSED, next_attempt_at=None, last_error=f"dismissed: {why}"
    )
