"""Integrations: the per-shop secret that review apps sign their deliveries with.

Review apps (and a merchant's own tools) send reviews to `/integrations/reviews/<source>`
signed with the shop's integration secret (base64 HMAC-SHA256 of the body). The secret is
made the first time it is asked for and kept encrypted like the shop's access token, so a
database dump cannot be used to forge reviews.
"""

import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings

from loyalty.models import Shop
from loyalty.shopify.crypto import decrypt_token, encrypt_token

logger = logging.getLogger(__name__)

# The review sources that have an endpoint, in the order the admin lists them.
REVIEW_SOURCES = ("judgeme", "generic")
SECRET_BYTES = 32


def integration_secret_for(*, shop: Shop) -> str:
    """The shop's integration secret, made now if the shop has none yet.

    Two first requests at once agree on one secret: only an UPDATE that finds the column
    still empty stores its secret, and the other reads the stored one.
    """
    if not shop.integration_secret_encrypted:
        made = encrypt_token(secrets.token_urlsafe(SECRET_BYTES))
        Shop.objects.filter(pk=shop.pk, integration_secret_encrypted="").update(
            integration_secret_encrypted=made
        )
        shop.refresh_from_db(fields=["integration_secret_encrypted"])
    return decrypt_token(shop.integration_secret_encrypted)


def integration_secret_rotate(*, shop: Shop) -> str:
    """Replace the shop's integration secret with a new one and answer it.

    Only the new secret is valid from now on: the merchant pastes it into each review app.
    """
    secret = secrets.token_urlsafe(SECRET_BYTES)
    shop.integration_secret_encrypted = encrypt_token(secret)
    Shop.objects.filter(pk=shop.pk).update(
        integration_secret_encrypted=shop.integration_secret_encrypted
    )
    logger.info("integration secret of %s rotated", shop.domain)
    return secret


def review_source_url(*, shop: Shop, source: str) -> str:
    """Where the review source `source` (one of REVIEW_SOURCES) sends a shop's reviews.

    Judge.me's body does not name the shop, so its address does (docs/reviews.md); the
    generic format carries `shop` in its body.
    """
    url = f"{settings.APP_URL}/integrations/reviews/{source}"
    return f"{url}?{urlencode({'shop': shop.domain})}" if source == "judgeme" else url
