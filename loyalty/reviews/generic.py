"""The generic review format: one documented JSON object any review app, or a merchant's
own tool, can send (docs/reviews.md), signed with the shop's integration secret.

    {"shop": "alice.myshopify.com", "customer_id": 1001 | "email": "ada@example.com",
     "product_id": 7001, "review_id": "r-1", "rating": 5, "has_photo": true}

Signature: `X-Perennial-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .facts import ReviewFacts, ReviewPayloadError, review_key, shopify_id, shown_rating

SIGNATURE_HEADER = "X-Perennial-Hmac-Sha256"


def shop_domain(*, query: Mapping[str, str], payload: Any) -> str:
    """The shop a delivery is for: its `shop` field."""
    if isinstance(payload, dict) and isinstance(payload.get("shop"), str):
        return payload["shop"].strip().lower()
    return ""


def signature(body: bytes, secret: str) -> str:
    """The `X-Perennial-Hmac-Sha256` value of `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    return bool(header) and hmac.compare_digest(signature(body, secret), header.strip())


def delivery_review_id(payload: Any) -> str:
    return review_key(payload.get("review_id")) if isinstance(payload, dict) else ""


def review_facts(payload: Any) -> ReviewFacts:
    """Read a generic review; raises ReviewPayloadError naming the field that is wrong."""
    if not isinstance(payload, dict):
        raise ReviewPayloadError("the review is not a JSON object")
    review_id = delivery_review_id(payload)
    if not review_id:
        raise ReviewPayloadError("review_id is missing")
    customer_id = payload.get("customer_id")
    email = payload.get("email")
    email = email.strip() if isinstance(email, str) else ""
    if customer_id in (None, "") and not email:
        raise ReviewPayloadError("send customer_id or email to say who wrote the review")
    has_photo = payload.get("has_photo", False)
    if not isinstance(has_photo, bool):
        raise ReviewPayloadError("has_photo must be true or false")
    return ReviewFacts(
        review_id=review_id,
        product_id=shopify_id(payload.get("product_id"), "product_id"),
        customer_id=None if customer_id in (None, "") else shopify_id(customer_id, "customer_id"),
        email=email[:320],
        has_photo=has_photo,
    )


def review_rating(payload: Any) -> int | float | None:
    """`rating`, for the admin's list only (facts.shown_rating)."""
    return shown_rating(payload.get("rating")) if isinstance(payload, dict) else None
