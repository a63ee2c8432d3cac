"""`/admin/oauth/access_token` (three grants) and `/admin/oauth/authorize`.

Sources (shopify.dev page titles): "Exchange a session token for an access token",
"Use expiring offline access tokens", "Implement authorization code grant manually",
changelog "More resilient refreshes for expiring offline access tokens"; error bodies as
Shopify's own libraries expect them (shopify-app-python `exchange/`, shopify-api-js
`auth/oauth` tests).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from . import signing
from .state import (
    AUTHORIZATION_CODE_LIFETIME,
    REFRESH_RECOVERY_WINDOW,
    AccessToken,
    AuthorizationCode,
    RefreshToken,
    State,
)
from .web import Request, Response, json_response, redirect

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


def _error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true")


def _token_body(state: State, access: AccessToken, refresh: RefreshToken | None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access.value, "scope": access.scope}
    if access.expires_at is not None:
        body["expires_in"] = int(round(access.expires_at - state.now()))
    if refresh is not None:
        body["refresh_token"] = refresh.value
        body["refresh_token_expires_in"] = int(round(refresh.expires_at - state.now()))
    if access.mode == "online":
        user_id = int(access.user_id) if (access.user_id or "").isdigit() else access.user_id
        body["associated_user_scope"] = access.scope
        body["associated_user"] = {
            "id": user_id,
            "first_name": "Staff",
            "last_name": f"Member {access.user_id}",
            "email": f"staff{access.user_id}@{access.shop.removesuffix('.myshopify.com')}.example",
            "email_verified": True,
            "account_owner": access.user_id == "1",
            "locale": "en",
            "collaborator": False,
        }
    return body


def _issue(
    state: State, shop: str, *, expiring: bool, online: bool, user_id: str, scope: str = ""
) -> Response:
    if online:
        access = state.issue_access_token(shop, expiring=True, mode="online", user_id=user_id)
        refresh = None
    else:
        access = state.issue_access_token(shop, expiring=expiring)
        refresh = state.issue_refresh_token(shop) if expiring else None
    if scope:
        # The code grant hands out what the merchant approved, not the app's whole list.
        access.scope = scope
        if refresh is not None:
            refresh.scope = scope
    return json_response(200, _token_body(state, access, refresh))


def access_token(state: State, request: Request) -> Response:
    """POST /shops/<shop>/admin/oauth/access_token."""
    shop = request.params["shop"]
    fields = request.fields()
    if fields.get("client_id") != state.api_key or fields.get("client_secret") != state.api_secret:
        # RFC 6749 section 5.2 allows 401 for failed client authentication.
        return _error(401, "invalid_client", "Client authentication failed.")
    state.shop(shop)
    grant_type = fields.get("grant_type", "")
    if grant_type == TOKEN_EXCHANGE:
        return _token_exchange(state, shop, fields)
    if grant_type == "refresh_token":
        return _refresh(state, shop, fields)
    if not grant_type and "code" in fields:
        return _authorization_code(state, shop, fields)
    return _error(400, "unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")


def _token_exchange(state: State, shop: str, fields: dict[str, Any]) -> Response:
    subject = fields.get("subject_token")
    if not subject:
        return _error(400, "missing_subject_token", "The subject token is missing.")
    if fields.get("subject_token_type") != ID_TOKEN_TYPE:
        return _error(400, "invalid_request", "The subject token type is not supported.")
    requested = fields.get("requested_token_type", OFFLINE_TOKEN_TYPE)
    if requested not in (OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE):
        return _error(400, "invalid_request", "The requested token type is not supported.")
    try:
        claims = signing.decode_session_token(
            subject, api_key=state.api_key, secret=state.api_secret, now=state.now()
        )
    except jwt.InvalidTokenError:
        return _error(400, "invalid_subject_token", "Subject token is invalid")
    if claims.get("dest") != f"https://{shop}":
        return _error(400, "invalid_subject_token", "Subject token is invalid")
    with state.lock:
        return _issue(
            state,
            shop,
            expiring=_truthy(fields.get("expiring", "0")),
            online=requested == ONLINE_TOKEN_TYPE,
            user_id=str(claims.get("sub", "")),
        )


def _refresh(state: State, shop: str, fields: dict[str, Any]) -> Response:
    invalid = _error(400, "invalid_grant", "The refresh token is invalid or expired")
    with state.lock:
        now = state.now()
        current = state.refresh_tokens.get(fields.get("refresh_token", ""))
        if current is None or current.shop != shop or current.retired or now >= current.expires_at:
            return invalid
        if current.first_used_at is None:
            current.first_used_at = now
        elif now - current.first_used_at > REFRESH_RECOVERY_WINDOW:
            return invalid
        # Using a replacement retires the token it replaced.
        if current.predecessor and current.predecessor in state.refresh_tokens:
            state.refresh_tokens[current.predecessor].retired = True
        # A retry of this token means its earlier answer was lost: that pair is void.
        if current.replacement:
            lost = state.refresh_tokens.get(current.replacement)
            if lost is not None:
                lost.retired = True
            for token in state.access_tokens.values():
                if token.minted_by_refresh == current.value:
                    token.revoked = True
        refresh = state.issue_refresh_token(shop, predecessor=current.value)
        access = state.issue_access_token(shop, expiring=True, minted_by_refresh=current.value)
        access.scope = refresh.scope = current.scope
        current.replacement = refresh.value
        return json_response(200, _token_body(state, access, refresh))


def _authorization_code(state: State, shop: str, fields: dict[str, Any]) -> Response:
    with state.lock:
        code = state.codes.get(str(fields.get("code", "")))
        if code is None or code.used or code.shop != shop or state.now() >= code.expires_at:
            return _error(
                400, "invalid_request", "The authorization code was not found or was already used"
            )
        code.used = True
        return _issue(
            state,
            shop,
            expiring=_truthy(fields.get("expiring", "0")),
            online=code.online,
            user_id=code.user_id,
            scope=code.scope,
        )


def authorize(state: State, request: Request) -> Response:
    """GET /shops/<shop>/admin/oauth/authorize: the merchant approves at once."""
    shop = request.params["shop"]
    if request.arg("client_id") != state.api_key:
        return _error(400, "invalid_request", "The client_id is not a known app.")
    redirect_uri = request.arg("redirect_uri")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _error(400, "invalid_request", "The redirect_uri is missing or not a URL.")
    state.shop(shop)
    online = "per-user" in request.query.get("grant_options[]", [])
    code = AuthorizationCode(
        value=secrets.token_hex(16),
        shop=shop,
        scope=request.arg("scope"),
        online=online,
        user_id="1",
        expires_at=state.now() + AUTHORIZATION_CODE_LIFETIME,
    )
    with state.lock:
        state.codes[code.value] = code
    params = {
        "code": code.value,
        "host": signing.admin_host(shop),
        "shop": shop,
        "state": request.arg("state"),
        "timestamp": str(int(state.now())),
    }
    params["hmac"] = signing.oauth_hmac(params, state.api_secret)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}")
