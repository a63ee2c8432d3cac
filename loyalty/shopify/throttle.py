"""What this process knows of each shop's GraphQL Admin API bucket.

Shopify limits each app and store by query cost with a leaky bucket, and every answer
reports the bucket (`extensions.cost.throttleStatus`: `maximumAvailable`,
`currentlyAvailable`, `restoreRate`) ("GraphQL Admin API rate limits"). Kept in process: each
answer corrects the estimate, and a wrong guess costs one THROTTLED answer, which Shopify
does not charge, and the wait it names (docs/shopify-sync.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class BucketEstimate:
    maximum: float
    available: float
    restore_rate: float
    # time.monotonic() of the answer that reported it
    observed_at: float

    def available_at(self, moment: float) -> float:
        elapsed = max(0.0, moment - self.observed_at)
        return min(self.maximum, self.available + elapsed * self.restore_rate)


# Shopify rounds `currentlyAvailable`: wait for one point more than the cost, so a wait
# computed from a rounded-up figure is not a few milliseconds short.
MARGIN = 1.0

_lock = threading.Lock()
_buckets: dict[str, BucketEstimate] = {}
# (shop domain, operation name) -> the requested cost Shopify last reported for it
_costs: dict[tuple[str, str], float] = {}


def wait_before(domain: str, operation: str) -> float:
    """Seconds to wait before sending `operation`, and reserve its expected cost.

    0 when nothing is known yet. Reserving (taking the cost from the estimate now) keeps
    threads of one process that call the same shop at once from all spending the same
    points.
    """
    with _lock:
        bucket = _buckets.get(domain)
        cost = _costs.get((domain, operation), 0.0)
        if bucket is None or cost <= 0 or bucket.restore_rate <= 0:
            return 0.0
        now = time.monotonic()
        available = bucket.available_at(now)
        wait = max(0.0, (cost + MARGIN - available) / bucket.restore_rate)
        bucket.available = available - cost
        bucket.observed_at = now
        return wait


def observe(domain: str, operation: str, cost: object) -> dict | None:
    """Remember the bucket and requested cost an answer's `extensions.cost` reports.

    Returns the throttle status it read (None when the answer had none).
    """
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    requested = cost.get("requestedQueryCost")
    if not isinstance(status, dict):
        return None
    try:
        estimate = BucketEstimate(
            maximum=float(status["maximumAvailable"]),
            available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
            observed_at=time.monotonic(),
        )
    except (KeyError, TypeError, ValueError):
        return None
    with _lock:
        _buckets[domain] = estimate
        if isinstance(requested, int | float) and requested > 0:
            _costs[(domain, operation)] = float(requested)
    return status


def refill_wait(requested: object, status: object) -> float | None:
    """Seconds until a bucket reported as `status` holds `requested` points (None if the
    answer does not say)."""
    try:
        missing = float(requested) + MARGIN - float(status["currentlyAvailable"])  # type: ignore[index]
        rate = float(status["restoreRate"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
    if rate <= 0:
        return None
    return max(0.0, missing / rate)


def forget() -> None:
    """Drop every estimate (tests start from a process that knows nothing)."""
    with _lock:
        _buckets.clear()
        _costs.clear()
