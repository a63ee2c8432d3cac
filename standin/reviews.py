"""Review apps' deliveries, signed the way each sender signs (no Django).

`generic_review` and `judgeme_review` build bodies in each format; `review_request` signs
one and says where it goes; `send_review` posts it. Used by the tests and by
`manage.py send_review` for the demo. Formats: docs/reviews.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import requests

GENERIC_HEADER = "X-Perennial-Hmac-Sha256"
JUDGEME_HEADER = "JUDGEME-HMAC-SHA256"


@dataclass(frozen=True)
class ReviewRequest:
    path: str  # under the app's URL, with the query string
    body: bytes
    headers: dict[str, str]


def generic_review(
    *,
    shop: str,
    review_id: str,
    product_id: int,
    customer_id: int | None = None,
    email: str = "",
    rating: int = 5,
    has_photo: bool = False,
) -> dict[str, Any]:
    """A review in the generic format: `customer_id` or `email` names the reviewer."""
    review: dict[str, Any] = {"shop": shop, "review_id": review_id, "product_id": product_id}
    if customer_id is not None:
        review["customer_id"] = customer_id
    if email:
        review["email"] = email
    review.update(rating=rating, has_photo=has_photo)
    return review


def judgeme_review(
    *,
    review_id: int,
    product_id: int,
    email: str,
    rating: int = 5,
    pictures: int = 0,
    title: str = "Lovely",
    body: str = "Would buy again.",
) -> dict[str, Any]:
    """A Judge.me review/created body: the review object, wrapped in `review`."""
    return {
        "review": {
            "id": review_id,
            "title": title,
            "body": body,
            "rating": rating,
            "product_external_id": product_id,
            "reviewer": {"email": email, "name": email.split("@")[0]},
            "pictures": [
                {"urls": {"original": f"https://judge.me/pictures/{review_id}-{n}.jpg"}}
                for n in range(pictures)
            ],
            "verified": "buyer",
        }
    }


def review_request(
    *, source: str, review: dict[str, Any] | bytes, secret: str, shop: str = ""
) -> ReviewRequest:
    """Sign `review` as `source` ("generic" or "judgeme") signs; Judge.me names the shop in
    the URL's `shop` parameter."""
    body = review if isinstance(review, bytes) else json.dumps(review).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256)
    if source == "judgeme":
        return ReviewRequest(
            path=f"/integrations/reviews/judgeme?shop={shop}",
            body=body,
            headers={JUDGEME_HEADER: digest.hexdigest(), "Content-Type": "application/json"},
        )
    return ReviewRequest(
        path=f"/integrations/reviews/{source}",
        body=body,
        headers={
            GENERIC_HEADER: base64.b64encode(digest.digest()).decode(),
            "Content-Type": "application/json",
        },
    )


def send_review(app_url: str, request: ReviewRequest, *, timeout: float = 10) -> requests.Response:
    """POST a signed review to a running app."""
    return requests.post(
        app_url.rstrip("/") + request.path,
        data=request.body,
        headers=request.headers,
        timeout=timeout,
    )
