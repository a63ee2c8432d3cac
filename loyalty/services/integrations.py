"""Integrations: the per-shop secrets that review apps sign their deliveries with.

Review apps (and a merchant's own tools) send reviews to `/integrations/reviews/<source>`
signed with the shop's integration secret (base64 HMAC-SHA256 of the body). The secret is
made the first time it is asked for and kept encrypted like the shop's access token, so a
database dump cannot be used to forge reviews.

Judge.me does not let the merchant choose its key: it signs with the merchant's Judge.me
private API token, or with the secret of the OAuth app that registered the webhook
(Judge.me's help, "Verifying Webhooks from Judge.me"). So a shop can also keep that key,
pasted in the admin, and Judge.me deliveries are checked against it as well.
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
# Judge.me's private API tokens are short strings; this only bounds what is stored.
LONGEST_JUDGEME_KEY = 200


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


def judgeme_key_set(*, shop: Shop, key: str) -> None:
    """Keep (or, with "", forget) the key Judge.me signs the shop's review webhooks with."""
    shop.judgeme_key_encrypted = encrypt_token(key) if key else ""
    Shop.objects.filter(pk=shop.pk).update(judgeme_key_encrypted=shop.judgeme_key_encrypted)
    logger.info("Judge.me key of %s %s", shop.domain, "set" if key else "removed")


def judgeme_key_ending(*, shop: Shop) -> str | None:
    """The last four characters of the kept Judge.me key (so the merchant can tell which
    one it is without the admin ever showing it again), or None when none is kept."""
    if not shop.judgeme_key_encrypted:
        return None
    return decrypt_token(shop.judgeme_key_encrypted)[-4:]


def review_signing_keys(*, shop: Shop, source: str) -> list[str]:
    """Every key a delivery from `source` may be signed with: the integration secret (for
    any source, once the shop has one) and, for Judge.me, the kept Judge.me key."""
    keys = []
    if source == "judgeme" and shop.judgeme_key_encrypted:
        keys.append(decrypt_token(shop.judgeme_key_encrypted))
    # A shop that never showed its secret has none, and nothing can be signed with it.
    if shop.integration_secret_encrypted:
        keys.append(decrypt_token(shop.integration_secret_encrypted))
    return keys
