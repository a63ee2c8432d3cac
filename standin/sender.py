"""Deliver one signed webhook, as Shopify's HTTPS delivery does."""

from __future__ import annotations

import json
from typing import Any

import requests

from . import signing


def encode_payload(payload: dict[str, Any] | bytes) -> bytes:
    """The exact bytes that are signed and sent."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":")).encode()


def send_webhook(
    url: str,
    *,
    topic: str,
    shop: str,
    payload: dict[str, Any] | bytes,
    secret: str,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = signing.WEBHOOK_API_VERSION,
    timeout: float = 10,
) -> requests.Response:
    """POST the payload to `url` with Shopify's headers, signed with `secret`.

    Bytes are sent as given (to test a tampered body, sign one payload and send another
    with your own request). Raises `requests.RequestException` if the app can't be reached.
    """
    body = encode_payload(payload)
    headers = signing.webhook_headers(
        topic=topic,
        shop=shop,
        body=body,
        secret=secret,
        webhook_id=webhook_id,
        event_id=event_id,
        api_version=api_version,
    )
    return requests.post(url, data=body, headers=headers, timeout=timeout)
