"""What a review says that its reward depends on, read the same way from every source.

The rating is deliberately absent: rewarding a review must never depend on its rating or
sentiment (the FTC's rule on consumer reviews forbids incentives conditioned on them).
"""

from __future__ import annotations

import math
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


# The scale every review app sending here uses (Judge.me's stars, the generic format's).
HIGHEST_RATING = 5


def shown_rating(value: Any) -> int | float | None:
    """A review's rating as the merchant's admin shows it: a number from 0 to 5 as sent,
    None for anything else. Only shown; nothing that decides points may call this."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not (math.isfinite(value) and 0 <= value <= HIGHEST_RATING):
        return None
    return int(value) if value == int(value) else value
