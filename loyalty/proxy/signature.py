"""Shopify app proxy request signatures."""

import hashlib
import hmac
import time

from django.conf import settings
from django.http import QueryDict


def app_proxy_message(query: QueryDict) -> str:
    """What Shopify signs: every parameter but `signature` as `key=value` (several values
    joined by commas), sorted as strings, as Shopify's own example sorts them, and
    concatenated with no separator."""
    return "".join(
        sorted(f"{key}={','.join(query.getlist(key))}" for key in query if key != "signature")
    )


def app_proxy_request_valid(query: QueryDict, *, now: float | None = None) -> bool:
    """True for a request Shopify forwarded: a valid signature and a fresh timestamp."""
    signature = query.get("signature", "")
    if not signature:
        return False
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.APP_PROXY_MAX_AGE_SECONDS:
        return False
    message = app_proxy_message(query).encode()
    valid = False
    for secret in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS):
        if secret:
            expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
            valid |= hmac.compare_digest(expected, signature)
    return valid
