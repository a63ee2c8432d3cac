"""Installing and uninstalling a shop.

A shop counts as installed once it holds an offline token *and* we have read its name,
currency and timezone: `installed_at` is set (and `uninstalled_at` cleared) only then, so a
half-finished install is simply tried again on the next load from Shopify admin. A
reinstall reuses the shop's row, bringing back its members and ledger.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from loyalty.models import Shop
from loyalty.shopify import oauth, tokens
from loyalty.shopify.admin_api import admin_graphql
from loyalty.shopify.session_tokens import SessionToken

logger = logging.getLogger(__name__)

SHOP_DETAILS_QUERY = "query ShopDetails { shop { name currencyCode ianaTimezone } }"


def shop_needs_install(shop: Shop | None) -> bool:
    """True if the next embedded load must get a token and (re)install the shop."""
    return (
        shop is None
        or shop.installed_at is None
        or shop.uninstalled_at is not None
        or not tokens.has_usable_token(shop)
    )


def shop_install_with_session_token(*, session_token: SessionToken) -> Shop:
    """Install (or reinstall) the shop a verified session token names, by token exchange.

    Raises oauth.InvalidSubjectToken if Shopify rejects the session token (App Bridge must
    fetch a new one), oauth.TokenRequestError or AdminApiError if Shopify cannot be asked.
    """
    token = oauth.exchange_session_token(
        shop_domain=session_token.shop, session_token=session_token.raw
    )
    return _install(shop_domain=session_token.shop, token=token)


def shop_install_with_authorization_code(*, shop_domain: str, code: str) -> Shop:
    """Install (or reinstall) a shop from the OAuth callback's authorization code.

    Raises oauth.TokenRequestError or AdminApiError if Shopify refuses or cannot be asked.
    """
    token = oauth.exchange_authorization_code(shop_domain=shop_domain, code=code)
    return _install(shop_domain=shop_domain, token=token)


def shop_sync_details(*, shop: Shop) -> Shop:
    """Read the shop's name, currency and IANA timezone from the Admin API and store them."""
    details = admin_graphql(shop, SHOP_DETAILS_QUERY)["shop"]
    shop.name = details["name"]
    shop.currency = details["currencyCode"]
    shop.timezone = details["ianaTimezone"]
    shop.save(update_fields=["name", "currency", "timezone"])
    return shop


def shop_uninstalled(*, shop: Shop, occurred_at: datetime | None = None) -> None:
    """Record that the app was removed from `shop` and drop its (already revoked) tokens.

    `occurred_at` (the webhook's X-Shopify-Triggered-At) lets a late app/uninstalled
    delivery that predates a reinstall be ignored instead of wiping the new tokens. The
    shop's members and ledger stay: a reinstall brings them back, and shop/redact erases
    them when Shopify asks.
    """
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        if occurred_at and locked.installed_at and locked.installed_at > occurred_at:
            logger.info("ignoring an uninstall of %s from before its reinstall", shop.domain)
            return
        tokens.forget_tokens(shop=locked)
        if locked.uninstalled_at is None:
            locked.uninstalled_at = timezone.now()
            locked.save(update_fields=["uninstalled_at"])
    shop.refresh_from_db()
    logger.info("shop uninstalled: %s", shop.domain)


def _install(*, shop_domain: str, token: oauth.OfflineToken) -> Shop:
    with transaction.atomic():
        shop, created = Shop.objects.select_for_update().get_or_create(domain=shop_domain)
        tokens.store_offline_token(shop=shop, token=token)
    shop_sync_details(shop=shop)
    if shop.installed_at is None or shop.uninstalled_at is not None:
        shop.installed_at = timezone.now()
        shop.uninstalled_at = None
        shop.save(update_fields=["installed_at", "uninstalled_at"])
        logger.info("shop installed: %s (%s)", shop.domain, "new" if created else "returning")
    return shop
