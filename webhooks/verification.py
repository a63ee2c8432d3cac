import base64
import hashlib
import hmac

from django.conf import settings


def app_secrets() -> list[str]:
    """The app's client secret and, during a rotation, the previous one."""
    return [s for s in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS) if s]


def webhook_signature_valid(body: bytes, signature: str) -> bool:
    """True when `signature` is the base64 HMAC-SHA256 of the raw body with an app secret.

    Compared in constant time; every secret is tried so the timing does not tell which.
    """
    if not signature:
        return False
    given = signature.strip().encode()
    valid = False
    for secret in app_secrets():
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        valid |= hmac.compare_digest(base64.b64encode(digest), given)
    return valid
