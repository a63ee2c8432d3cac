"""Judge.me's review webhooks (`review/created`, `review/updated`).

What was found of Judge.me's published description (help.judge.me "Verifying Webhooks
from Judge.me", and integrations that verify its webhooks): each request carries a
`JUDGEME-HMAC-SHA256` header, the hex HMAC-SHA256 of the raw body, keyed with the secret
of whatever registered the webhook (an OAuth app's secret, or the shop's private API
token). The body holds a `review` object with `id`, `rating`, `reviewer.email`,
`product_external_id` (the Shopify product id) and `pictures`. Judge.me's full webhook
reference could not be read here. The key is the one the merchant keeps in the admin (their
private API token) or the shop's integration secret (loyalty.services.integrations
.review_signing_keys), and the shop is named by `?shop=<domain>` on the URL, since the body
does not name it (docs/reviews.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .facts import ReviewFacts, ReviewPayloadError, review_key, shopify_id, shown_rating

SIGNATURE_HEADER = "JUDGEME-HMAC-SHA256"


def shop_domain(*, query: Mapping[str, str], payload: Any) -> str:
    """The shop a delivery is for: the `shop` query parameter of the registered URL."""
    return (query.get("shop") or "").strip().lower()


def signature(body: bytes, secret: str) -> str:
    """The `JUDGEME-HMAC-SHA256` value of `body` (lowercase hex)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    return bool(header) and hmac.compare_digest(signature(body, secret), header.strip().lower())


def delivery_review_id(payload: Any) -> str:
    review = _review(payload)
    return review_key(review.get("id")) if review is not None else ""


def review_facts(payload: Any) -> ReviewFacts:
    """Read a Judge.me review; raises ReviewPayloadError naming the field that is wrong."""
    review = _review(payload)
    if review is None:
        raise ReviewPayloadError("the webhook has no review object")
    review_id = review_key(review.get("id"))
    if not review_id:
        raise ReviewPayloadError("review.id is missing")
    reviewer = review.get("reviewer")
    email = reviewer.get("email") if isinstance(reviewer, dict) else None
    if not isinstance(email, str) or not email.strip():
        raise ReviewPayloadError("review.reviewer.email is missing")
    pictures = review.get("pictures")
    if not isinstance(pictures, list):
        pictures = []
    return ReviewFacts(
        review_id=review_id,
        product_id=shopify_id(review.get("product_external_id"), "review.product_external_id"),
        customer_id=None,
        email=email.strip()[:320],
        # A picture the merchant hid from the storefront still counts: the reviewer sent it.
        has_photo=any(isinstance(picture, dict) for picture in pictures),
    )


def review_rating(payload: Any) -> int | float | None:
    """`review.rating`, for the admin's list only (facts.shown_rating)."""
    review = _review(payload)
    return shown_rating(review.get("rating")) if review is not None else None


def _review(payload: Any) -> dict | None:
    # Judge.me wraps the review in `review`; a bare review object is read the same way.
    if not isinstance(payload, dict):
        return None
    review = payload.get("review", payload)
    return review if isinstance(review, dict) else None
