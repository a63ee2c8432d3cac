"""Review rewards: store a verified review, then reward it once per member and product.

A review earns the program's `review_points`, plus `review_photo_bonus_points` when it
has a photo, only if its writer is a member with a counted paid order containing the
product. The rating is never read. The ledger's idempotency key is made from the member
and the product, so a second review of one product (or the same review sent again)
cannot earn twice, even when two arrive at once.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from loyalty.models import (
    Member,
    OrderProduct,
    Reason,
    ReviewDelivery,
    ReviewStatus,
    Shop,
)
from loyalty.services.ledger import points_record
from loyalty.services.programs import program_for
from loyalty.services.rows import insert_if_absent

from .facts import ReviewFacts, ReviewPayloadError
from .sources import ADAPTERS

logger = logging.getLogger(__name__)


class ReviewRefused(Exception):
    """The review earns nothing; the message tells the merchant why."""


def review_delivery_store(
    *, shop: Shop, source: str, review_id: str, body: bytes, now: datetime | None = None
) -> tuple[ReviewDelivery, bool]:
    """Store a verified delivery; answers it and whether it is new. A review already
    stored (same shop, source and review id) is answered as stored, not stored again."""
    stored = insert_if_absent(
        ReviewDelivery(
            shop=shop,
            source=source,
            review_id=review_id,
            body=body,
            received_at=now or timezone.now(),
        ),
        unique=("shop_id", "source", "review_id"),
    )
    if stored is not None:
        return stored, True
    return ReviewDelivery.objects.get(shop=shop, source=source, review_id=review_id), False


def review_delivery_process(
    *, delivery_id: int, again: bool = False, now: datetime | None = None
) -> ReviewDelivery:
    """Decide a stored review: reward it, refuse it with the reason, or record the failure.

    A decided review (rewarded or refused) is left as it is unless `again`, which decides a
    refused one anew (after the customer's order arrived, say). A failure is recorded on
    the delivery, not raised: `manage.py review_deliveries replay` tries it again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            ReviewDelivery.objects.select_for_update(of=("self",))
            .select_related("shop")
            .get(pk=delivery_id)
        )
        decided = (
            (ReviewStatus.REWARDED,) if again else (ReviewStatus.REWARDED, ReviewStatus.REFUSED)
        )
        if delivery.status in decided:
            return delivery
        delivery.attempts += 1
        delivery.processed_at = now
        try:
            with transaction.atomic():
                delivery.points = _reward(delivery)
            delivery.status = ReviewStatus.REWARDED
            delivery.outcome = ""
        except (ReviewRefused, ReviewPayloadError) as refusal:
            delivery.status = ReviewStatus.REFUSED
            delivery.outcome = str(refusal)
        except Exception as error:  # noqa: BLE001 - kept on the delivery, visible, replayable
            logger.exception("review delivery %s failed", delivery.pk)
            delivery.status = ReviewStatus.FAILED
            delivery.outcome = f"{type(error).__name__}: {error}"[:2000]
        delivery.save()
        return delivery


def _reward(delivery: ReviewDelivery) -> int:
    shop = delivery.shop
    try:
        payload = json.loads(bytes(delivery.body))
    except ValueError as error:
        raise ReviewPayloadError("the review is not JSON") from error
    facts = ADAPTERS[delivery.source].review_facts(payload)
    delivery.product_id = facts.product_id
    member = _writer(shop=shop, facts=facts)
    delivery.member = member
    program = program_for(shop=shop)
    points = program.review_points + (program.review_photo_bonus_points if facts.has_photo else 0)
    if points <= 0:
        raise ReviewRefused("The program gives no points for reviews: set review points first.")
    if not _bought(member=member, product_id=facts.product_id):
        raise ReviewRefused(
            f"Customer {member.customer_id} has no paid order with product "
            f"{facts.product_id}: only buyers of a product earn points for reviewing it."
        )
    note = f"{delivery.source} review {facts.review_id}"
    entry = points_record(
        member=member,
        points=points,
        reason=Reason.REVIEW_REWARDED,
        idempotency_key=f"review:{member.customer_id}:{facts.product_id}",
        note=note,
    )
    if entry.note != note:
        raise ReviewRefused(
            f"Customer {member.customer_id} already earned points for reviewing product "
            f"{facts.product_id} ({entry.note}): one reward per product."
        )
    return points


def _writer(*, shop: Shop, facts: ReviewFacts) -> Member:
    members = Member.objects.filter(shop=shop, redacted_at__isnull=True)
    if facts.customer_id is not None:
        member = members.filter(customer_id=facts.customer_id).first()
        who = f"customer id {facts.customer_id}"
    else:
        # Emails are stored as Shopify sends them: compare lower() with lower(), which the
        # member search's (shop, lower(email)) index serves (migration 0004).
        member = (
            members.annotate(email_lower=Lower("email"))
            .filter(email_lower=facts.email.lower())
            .order_by("pk")
            .first()
        )
        who = f"email {facts.email}"
    if member is None:
        raise ReviewRefused(f"No member with {who}: only members earn points for reviews.")
    # The ledger's daily figures read the shop's timezone from here.
    member.shop = shop
    return member


def _bought(*, member: Member, product_id: int) -> bool:
    # Counted (placed_at set: first seen paid, not a test) and not cancelled.
    return OrderProduct.objects.filter(
        shop_id=member.shop_id,
        product_id=product_id,
        order__member=member,
        order__placed_at__isnull=False,
        order__cancelled=False,
    ).exists()
