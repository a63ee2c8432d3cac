"""Shopify's OAuth endpoints: token exchange, refresh, and the authorization-code grant.

Every grant asks for an *expiring* offline token (`expiring=1`): public apps must use them
(Shopify, "Use expiring offline access tokens"). The answer carries the access token
(valid an hour), a refresh token, and both lifetimes. This module only talks HTTP; storing
what comes back is `loyalty.shopify.tokens`' job.
"""

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

import requests
import shopify
from django.conf import settings
from django.utils import timezone

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


class TokenRequestError(Exception):
    """Shopify refused a token request, or could not be reached (status is None then)."""

    def __init__(self, message: str, *, status: int | None = None, error: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class InvalidSubjectToken(TokenRequestError):
    """Token exchange refused the session token: App Bridge must fetch a fresh one."""


class InvalidGrant(TokenRequestError):
    """The refresh token or authorization code is no longer valid."""


@dataclass(frozen=True)
class OfflineToken:
    access_token: str = field(repr=False)
    scope: str
    # None for a non-expiring token (legacy grants); expiring ones always have both.
    expires_at: datetime | None
    refresh_token: str = field(repr=False, default="")
    refresh_token_expires_at: datetime | None = None


def shop_origin(shop_domain: str) -> str:
    """Where Shopify answers for a shop: https://<shop>, or the local stand-in."""
    return settings.SHOPIFY_ADMIN_ORIGIN.format(shop=shop_domain).rstrip("/")


def exchange_session_token(*, shop_domain: str, session_token: str) -> OfflineToken:
    """Trade a verified session token for an expiring offline access token.

    Raises InvalidSubjectToken when Shopify rejects the session token, TokenRequestError
    for anything else.
    """
    return _request_token(
        shop_domain,
        {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": session_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": OFFLINE_TOKEN_TYPE,
            "expiring": "1",
        },
    )


def refresh_offline_token(*, shop_domain: str, refresh_token: str) -> OfflineToken:
    """Get a new access token and a new refresh token; the old refresh token is spent.

    Raises InvalidGrant when the refresh token is dead, TokenRequestError otherwise.
    """
    return _request_token(
        shop_domain, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def exchange_authorization_code(*, shop_domain: str, code: str) -> OfflineToken:
    """Finish the authorization-code grant: trade `code` for an expiring offline token."""
    return _request_token(shop_domain, {"code": code, "expiring": "1"})


def authorize_url(*, shop_domain: str, state: str) -> str:
    """The page where the merchant approves Perennial's scopes (offline access)."""
    query = urlencode(
        {
            "client_id": settings.SHOPIFY_API_KEY,
            "scope": ",".join(settings.SHOPIFY_SCOPES),
            "redirect_uri": f"{settings.APP_URL}/auth/callback",
            "state": state,
        }
    )
    return f"{shop_origin(shop_domain)}/admin/oauth/authorize?{query}"


def is_valid_oauth_hmac(params: dict[str, str]) -> bool:
    """Check the `hmac` Shopify adds to the OAuth callback, with the current or previous secret."""
    if not params.get("hmac"):
        return False
    secrets = [settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS]
    # ShopifyAPI reads the secret from a class attribute; a throwaway subclass per secret
    # keeps concurrent requests from seeing each other's secret.
    return any(
        type("_OAuthSession", (shopify.Session,), {"secret": secret}).validate_hmac(params)
        for secret in secrets
        if secret
    )


def states_match(expected: str, received: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), received.encode())


def _request_token(shop_domain: str, grant: dict[str, str]) -> OfflineToken:
    body = {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        **grant,
    }
    try:
        response = requests.post(
            f"{shop_origin(shop_domain)}/admin/oauth/access_token",
            json=body,
            headers={"Accept": "application/json"},
            timeout=settings.SHOPIFY_HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise TokenRequestError(f"could not reach Shopify for {shop_domain}: {exc}") from exc
    answer = _json_or_empty(response)
    if response.status_code != 200 or not answer.get("access_token"):
        raise _error_for(shop_domain, response.status_code, answer)
    return _offline_token(answer)


def _json_or_empty(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _error_for(shop_domain: str, status: int, answer: dict) -> TokenRequestError:
    error = str(answer.get("error", ""))
    message = (
        f"Shopify refused a token request for {shop_domain}: HTTP {status} "
        f"{error} {answer.get('error_description', '')}".strip()
    )
    if error == "invalid_subject_token":
        return InvalidSubjectToken(message, status=status, error=error)
    if error == "invalid_grant":
        return InvalidGrant(message, status=status, error=error)
    return TokenRequestError(message, status=status, error=error)


def _offline_token(answer: dict) -> OfflineToken:
    now = timezone.now()

    def after(seconds: object) -> datetime | None:
        return now + timedelta(seconds=int(seconds)) if seconds is not None else None

    return OfflineToken(
        access_token=str(answer["access_token"]),
        scope=str(answer.get("scope", "")),
        expires_at=after(answer.get("expires_in")),
        refresh_token=str(answer.get("refresh_token") or ""),
        refresh_token_expires_at=after(answer.get("refresh_token_expires_in")),
    )
