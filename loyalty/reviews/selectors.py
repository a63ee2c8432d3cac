"""Reads of the stored reviews for the merchant's admin (docs/reviews.md, "In the admin")."""

from __future__ import annotations

import json
from dataclasses import dataclass

from loyalty.models import ReviewDelivery, Shop
from loyalty.replica import admin_reads

from .facts import ReviewPayloadError
from .sources import ADAPTERS

REVIEWS_PAGE_SIZE = 50


@dataclass(frozen=True)
class ReviewShown:
    """A stored review with what its body says that the admin shows: the rating (never
    read for points) and whether it has a photo; None where the body does not say."""

    delivery: ReviewDelivery
    rating: int | float | None
    has_photo: bool | None


def reviews_list(
    *, shop: Shop, status: str = "", source: str = "", before_id: int | None = None
) -> tuple[list[ReviewShown], bool]:
    """The shop's stored reviews, newest first, 50 to a page, optionally of one `status`
    and one `source`; answers the page and whether more follow (continue with `before_id`
    = the last one's id). Each body is read once here, for its rating and photo."""
    # Lag-tolerant, like the referrals list: the replica when there is one (loyalty.replica).
    found = ReviewDelivery.objects.using(admin_reads()).filter(shop=shop).select_related("member")
    if status:
        found = found.filter(status=status)
    if source:
        found = found.filter(source=source)
    if before_id is not None:
        found = found.filter(pk__lt=before_id)
    page = list(found.order_by("-pk")[: REVIEWS_PAGE_SIZE + 1])
    return [_shown(delivery) for delivery in page[:REVIEWS_PAGE_SIZE]], len(
        page
    ) > REVIEWS_PAGE_SIZE


def _shown(delivery: ReviewDelivery) -> ReviewShown:
    adapter = ADAPTERS.get(delivery.source)
    try:
        payload = json.loads(bytes(delivery.body))
    except ValueError:
        payload = None
    if adapter is None or payload is None:
        return ReviewShown(delivery=delivery, rating=None, has_photo=None)
    try:
        has_photo: bool | None = adapter.review_facts(payload).has_photo
    except ReviewPayloadError:
        # A review refused for a missing field: whether it had a photo is not known.
        has_photo = None
    return ReviewShown(
        delivery=delivery, rating=adapter.review_rating(payload), has_photo=has_photo
    )
