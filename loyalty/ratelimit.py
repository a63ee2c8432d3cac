"""Rate limits on what the public can reach (docs/abuse.md).

A limit is a fixed window: at most N requests per key in each window of S seconds, counted
in Django's "default" cache (Redis in production, so every web process shares the counts;
process memory on the embedded default). A request over any of its limits is answered 429
with `Retry-After` before the view runs, so it stores and changes nothing.

Limits are a second line of defence: what a request may do (spend points once, earn once
per order) is already enforced by the services and the database, whatever the rate.
Shopify's webhooks are never limited: they are signed, retried and carry points.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]

# Seconds since the epoch; tests replace it to move time without sleeping.
clock: Callable[[], float] = time.time

# Before Django's own KEY_PREFIX and version: every counter is `perennial:1:ratelimit:…`,
# apart from dramatiq's `dramatiq:…` keys when both share one Redis database.
KEY_PREFIX = "ratelimit"


@dataclass(frozen=True)
class Limit:
    """At most `requests` in each window of `seconds`; 0 requests switches the limit off."""

    requests: int
    seconds: int


def limit_from_setting(name: str) -> Limit:
    """The limit a `(requests, seconds)` setting names (config/settings.py parses them)."""
    requests, seconds = getattr(settings, name)
    return Limit(requests=requests, seconds=seconds)


def limit_hit(*, scope: str, key: str, limit: Limit, now: float | None = None) -> int:
    """Count one request against `limit` for `key` in `scope`.

    Returns 0 when the request is within the limit, else the seconds until the window ends
    (what `Retry-After` says). A cache that fails lets the request through: losing the
    limit for a while is better than refusing every shopper.
    """
    if limit.requests <= 0:
        return 0
    now = clock() if now is None else now
    window = int(now // limit.seconds)
    name = f"{KEY_PREFIX}:{scope}:{key}:{limit.seconds}:{window}"
    try:
        try:
            # Most requests find their window's key: two round trips to Redis.
            count = cache.incr(name)
        except ValueError:
            # The window's first request. The key outlives its window by a second, so a
            # late increment never starts a count that no window would use.
            count = 1 if cache.add(name, 1, timeout=limit.seconds + 1) else cache.incr(name)
    except Exception:  # noqa: BLE001 - any cache failure: fail open, and say so
        logger.warning("rate limit cache unavailable; %s not counted", scope, exc_info=True)
        return 0
    if count <= limit.requests:
        return 0
    return max(1, math.ceil((window + 1) * limit.seconds - now))


def too_many_requests(retry_after: int) -> JsonResponse:
    """The 429 every limit answers: `Retry-After` in seconds and a JSON error a shopper can
    read (the widget shows `error`)."""
    response = JsonResponse(
        {
            "error": f"Too many requests. Please wait {retry_after} seconds and try again.",
            "code": "rate_limited",
            "retry_after": retry_after,
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "private, no-store"
    return response


def limits_check(checks: list[tuple[str, str, str]], *, now: float | None = None) -> int:
    """Count one request against each `(scope, key, setting name)`; the longest wait of
    the limits it is over, or 0. Every limit counts the request, even once one refuses it,
    so a client that keeps trying keeps every window full."""
    waits = [
        limit_hit(scope=scope, key=key, limit=limit_from_setting(name), now=now)
        for scope, key, name in checks
    ]
    return max(waits, default=0)


def client_ip(request: HttpRequest, *, via_shopify: bool = False) -> str:
    """The address of the client, as far as we can trust it.

    `TRUSTED_PROXY_HOPS` of our own proxies (the TLS terminator of README's setup) each
    appended the address that connected to them to X-Forwarded-For; the entry the outermost
    one added is the client's. Anything left of it was sent by the client and is not
    trusted. For app proxy requests (`via_shopify`, after their signature is checked) that
    client is Shopify, whose proxy put the shopper's address just before it.
    """
    hops = settings.TRUSTED_PROXY_HOPS + (1 if via_shopify else 0)
    if hops <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) >= hops:
        return forwarded[-hops]
    # Fewer proxies than configured (a local run): the oldest address there is.
    return forwarded[0] if forwarded else request.META.get("REMOTE_ADDR", "")


def proxy_rate_limited(*, writes: bool = False) -> Callable[[View], View]:
    """For app proxy views, below `app_proxy` (the signature is checked and `request.shop`
    and `request.customer_id` set): a limit per shop and signed-in customer (per shop and
    address for a guest), `writes` a tighter one for spending points or saving a birthday,
    and a ceiling per shopper address over every shop."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            # The signed `shop`, not request.shop: a shop not installed yet is counted too.
            shop = request.GET.get("shop", "")
            ip = client_ip(request, via_shopify=True)
            shopper = (
                f"customer:{request.customer_id}"
                if request.customer_id is not None
                else f"guest:{ip}"
            )
            checks = [
                ("proxy", f"{shop}:{shopper}", "RATE_LIMIT_PROXY"),
                ("proxy-ip", ip, "RATE_LIMIT_PROXY_IP"),
            ]
            if writes:
                checks.append(("proxy-writes", f"{shop}:{shopper}", "RATE_LIMIT_PROXY_WRITES"))
            retry_after = limits_check(checks)
            if retry_after:
                return too_many_requests(retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def ip_rate_limited(scope: str, setting: str) -> Callable[[View], View]:
    """A limit per client address, for endpoints that know nothing else about the caller
    before doing work (OAuth entry points, review intake before its signature is checked)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            retry_after = limits_check([(scope, client_ip(request), setting)])
            if retry_after:
                return too_many_requests(retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def shop_limit_response(scope: str, setting: str, shop_domain: str) -> HttpResponse | None:
    """For a view that has just authenticated a shop: the 429 to answer when the shop is
    over `setting`, else None (and the request is counted)."""
    retry_after = limits_check([(scope, shop_domain, setting)])
    return too_many_requests(retry_after) if retry_after else None
