"""App Bridge session tokens (ID tokens): the proof that a request comes from Shopify admin.

Shopify signs each token with the app's client secret (HS256). ShopifyAPI's
`shopify.session_token` checks the signature, `aud`, `exp`/`nbf` (10 s leeway) and that
`iss` and `dest` name the same host; we add the checks it leaves out: the host must be a
`*.myshopify.com` domain by our own pattern, `exp` must be present, and while the client
secret is being rotated a token signed with the previous secret is accepted too.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from shopify import session_token as shopify_session_token

from loyalty.models import is_shop_domain


class InvalidSessionToken(Exception):
    """The token is missing, malformed, expired, or not signed for this app."""


@dataclass(frozen=True)
class SessionToken:
    shop: str
    user_id: str
    session_id: str
    # The encoded token, kept for token exchange; never logged.
    raw: str = field(repr=False)


def decode_session_token(token: str) -> SessionToken:
    """Verify an App Bridge session token and say which shop and staff user it is for.

    Raises InvalidSessionToken for any token that should not be trusted.
    """
    if not token:
        raise InvalidSessionToken("no session token")
    claims = _verified_claims(token)
    if "exp" not in claims:
        raise InvalidSessionToken("session token has no expiry")
    shop = _shop_from_claims(claims)
    return SessionToken(
        shop=shop, user_id=str(claims["sub"]), session_id=str(claims["sid"]), raw=token
    )


def _secrets() -> list[str]:
    secrets = [settings.SHOPIFY_API_SECRET]
    if settings.SHOPIFY_API_SECRET_PREVIOUS:
        secrets.append(settings.SHOPIFY_API_SECRET_PREVIOUS)
    return secrets


def _verified_claims(token: str) -> dict:
    last_error: Exception | None = None
    for secret in _secrets():
        try:
            return shopify_session_token.decode_from_header(
                f"Bearer {token}", settings.SHOPIFY_API_KEY, secret
            )
        except shopify_session_token.SessionTokenError as exc:
            last_error = exc
            # Only a bad signature is worth another secret: every other check (audience,
            # expiry, issuer) would fail the same way whichever secret signed it.
            if not isinstance(exc.__cause__, jwt.InvalidSignatureError):
                break
    raise InvalidSessionToken(str(last_error)) from last_error


def _shop_from_claims(claims: dict) -> str:
    dest_host = urlsplit(str(claims["dest"])).hostname or ""
    iss_host = urlsplit(str(claims["iss"])).hostname or ""
    if dest_host != iss_host:
        raise InvalidSessionToken("session token iss and dest name different shops")
    if not is_shop_domain(dest_host):
        raise InvalidSessionToken("session token is not for a myshopify.com shop")
    return dest_host
