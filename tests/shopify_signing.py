"""Mint App Bridge session tokens the way Shopify does, for tests (PyJWT, HS256)."""

import time
import uuid

import jwt

# Long enough for HS256 (RFC 7518 asks for at least 32 bytes), as Shopify's secrets are.
API_KEY = "perennial-test-api-key"
API_SECRET = "perennial-test-api-secret-0123456789abcdef"
PREVIOUS_API_SECRET = "perennial-test-previous-secret-0123456789ab"
OTHER_SECRET = "someone-elses-secret-0123456789abcdef0123"


def session_token(
    *,
    shop: str = "alice.myshopify.com",
    api_key: str = API_KEY,
    secret: str = API_SECRET,
    sub: str = "42",
    lifetime: int = 60,
    now: float | None = None,
    **overrides: object,
) -> str:
    """A signed session token for `shop`; `overrides` replace or (with None) drop claims."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": api_key,
        "sub": sub,
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "sid": f"session-{uuid.uuid4().hex[:12]}",
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm="HS256")


ALICE = "alice.myshopify.com"
BOB = "bob.myshopify.com"


def as_merchant(shop: str = ALICE, sub: str = "42") -> dict[str, str]:
    """The Authorization header App Bridge sends for a staff member of `shop`."""
    return {"Authorization": f"Bearer {session_token(shop=shop, sub=sub)}"}
