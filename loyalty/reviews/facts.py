"""What a review says that its reward depends on, read the same way from every source.

The rating is deliberately absent: rewarding a review must never depend on its rating or
sentiment (the FTC's rule on consumer reviews forbids incentives conditioned on them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SHOPIFY_GID = re.compile(r"^gid://shopify/\w+/(\d+)$")


class ReviewPayloadError(ValueError):
    """A review lacks, or garbles, a field its reward needs; the message says which."""


@dataclass(frozen=True)
class ReviewFacts:
    review_id: str
    product_id: int
    # Either names the reviewer; a customer id is preferred when both are sent.
    customer_id: int | None
    email: str
    has_photo: bool


def shopify_id(value: Any, field: str) -> int:
    """A Shopify id sent as a number, a numeric string or a GraphQL id (gid://shopify/…)."""
    if isinstance(value, bool) or value is None:
        raise ReviewPayloadError(f"{field} is missing or is not a Shopify id")
    text = str(value).strip()
    found = SHOPIFY_GID.match(text)
    if found:
        text = found.group(1)
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise ReviewPayloadError(f"{field} is not a Shopify id: {value!r}")
    return int(text)


def review_key(value: Any) -> str:
    """A review id as stored (at most 128 characters), or "" when none was sent."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()[:128]
