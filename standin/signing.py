"""Shopify's signatures, computed the way Shopify computes them.

Pure functions shared by the stand-in server, the tests and the app's dev tools. Sources
(shopify.dev page titles): "Webhooks delivery structure", "Authenticate app proxies",
"About session tokens", "Implement authorization code grant manually".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

WEBHOOK_API_VERSION = "2026-10"
SESSION_TOKEN_LEEWAY_SECONDS = 10


def webhook_hmac(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body: the `X-Shopify-Hmac-Sha256` header value."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_headers(
    *,
    topic: str,
    shop: str,
    body: bytes,
    secret: str,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = WEBHOOK_API_VERSION,
    triggered_at: datetime | str | None = None,
) -> dict[str, str]:
    """The headers of one HTTPS webhook delivery, signed with the app's client secret.

    `webhook_id` names this delivery (Shopify keeps it on every retry); `event_id` names the
    merchant action behind it. Both default to fresh UUIDs.
    """
    if triggered_at is None:
        triggered_at = datetime.now(UTC)
    if isinstance(triggered_at, datetime):
        triggered_at = triggered_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
    }


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    return [str(value)]


def app_proxy_signature(params: Mapping[str, Any], secret: str) -> str:
    """Hex HMAC-SHA256 over every parameter but `signature`.

    Each parameter is `key=value` (several values joined by `,`), sorted, concatenated with
    no separator. Values may be strings or lists of strings (a repeated query parameter).
    """
    pairs = (f"{key}={','.join(_values(value))}" for key, value in params.items())
    message = "".join(sorted(pair for pair in pairs if not pair.startswith("signature=")))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def app_proxy_params(
    *,
    shop: str,
    path_prefix: str = "/apps/loyalty",
    logged_in_customer_id: str = "",
    extra: Mapping[str, str | list[str]] | None = None,
    secret: str,
    timestamp: int | None = None,
) -> dict[str, str | list[str]]:
    """The query parameters Shopify's app proxy sends: `extra` plus its own five, signed.

    `logged_in_customer_id` is empty for a guest. A list in `extra` stands for a repeated
    query parameter (`?a=1&a=2`).
    """
    params: dict[str, str | list[str]] = dict(extra or {})
    params.update(
        shop=shop,
        logged_in_customer_id=str(logged_in_customer_id),
        path_prefix=path_prefix,
        timestamp=str(int(time.time()) if timestamp is None else timestamp),
    )
    params["signature"] = app_proxy_signature(params, secret)
    return params


def oauth_hmac(params: Mapping[str, Any], secret: str) -> str:
    """Hex HMAC-SHA256 of the other parameters, sorted, `k=v` joined by `&`.

    This signs the OAuth callback and the embedded-app launch query; `hmac` (and the legacy
    `signature`) are left out of the message.
    """
    message = "&".join(
        f"{key}={value}"
        for key, value in sorted(params.items())
        if key not in ("hmac", "signature")
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def session_token(
    *,
    shop: str,
    api_key: str,
    secret: str,
    sub: str = "1",
    lifetime: int = 60,
    now: float | None = None,
    **overrides: Any,
) -> str:
    """An App Bridge session token (ID token): an HS256 JWT signed with the client secret.

    `lifetime` is in seconds (Shopify's is one minute). `overrides` replace or add claims,
    which is how tests forge a bad `aud` or `dest`.
    """
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": api_key,
        "sub": str(sub),
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(32),
    }
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_session_token(
    token: str,
    *,
    api_key: str,
    secret: str,
    now: float | None = None,
    leeway: int = SESSION_TOKEN_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Verify signature, `exp`/`nbf` (with leeway) and `aud`; return the claims.

    Raises `jwt.InvalidTokenError` (or a subclass) for any failure.
    """
    options = {"require": ["exp", "nbf", "iss", "dest", "aud", "sub"]}
    if now is None:
        return jwt.decode(
            token, secret, algorithms=["HS256"], audience=api_key, leeway=leeway, options=options
        )
    # PyJWT checks times against the wall clock; a stand-in with a moved clock checks by hand.
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=api_key,
        options={**options, "verify_exp": False, "verify_nbf": False},
    )
    if now > claims["exp"] + leeway:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if now < claims["nbf"] - leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
    return claims


def admin_host(shop: str) -> str:
    """The `host` query parameter of an embedded app load: unpadded base64 of the admin host."""
    handle = shop.removesuffix(".myshopify.com")
    encoded = base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode()
    return encoded.rstrip("=")
