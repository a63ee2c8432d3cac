"""A shop's offline access token: stored encrypted, refreshed before it expires.

Expiring offline tokens live an hour and their refresh token is replaced on every use, so
two processes refreshing one shop at once would leave one of them holding a spent refresh
token. Refreshing therefore happens under a row lock on the shop, and the expiry is checked
again once the lock is held: whoever waited finds the fresh token and uses it.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.models import Shop
from loyalty.shopify import oauth
from loyalty.shopify.crypto import decrypt_token, encrypt_token

# Refresh this long before expiry so a token never dies in the middle of a job.
REFRESH_MARGIN = timedelta(minutes=5)

_TOKEN_FIELDS = [
    "access_token_encrypted",
    "access_token_expires_at",
    "refresh_token_encrypted",
    "refresh_token_expires_at",
    "scopes",
]


class AccessTokenUnavailable(Exception):
    """The shop has no token we can use or refresh: the merchant must open the app again."""


def store_offline_token(*, shop: Shop, token: oauth.OfflineToken) -> None:
    """Save a new token pair on `shop`, encrypted, in one UPDATE (both or neither)."""
    shop.access_token_encrypted = encrypt_token(token.access_token)
    shop.access_token_expires_at = token.expires_at
    shop.refresh_token_encrypted = encrypt_token(token.refresh_token)
    shop.refresh_token_expires_at = token.refresh_token_expires_at
    shop.scopes = token.scope
    shop.save(update_fields=_TOKEN_FIELDS)


def forget_tokens(*, shop: Shop) -> None:
    """Drop both tokens (after an uninstall Shopify has revoked them anyway)."""
    shop.access_token_encrypted = ""
    shop.access_token_expires_at = None
    shop.refresh_token_encrypted = ""
    shop.refresh_token_expires_at = None
    shop.save(update_fields=_TOKEN_FIELDS)


def has_usable_token(shop: Shop) -> bool:
    """True if access_token_for(shop) can answer without the merchant opening the app."""
    return bool(shop.access_token_encrypted) and (not _needs_refresh(shop) or _can_refresh(shop))


def access_token_for(shop: Shop) -> str:
    """A working offline access token for `shop`, refreshed first if it expires within 5 minutes.

    Raises AccessTokenUnavailable when there is none and it cannot be refreshed, and
    oauth.TokenRequestError when Shopify could not be asked.
    """
    if not shop.access_token_encrypted:
        raise AccessTokenUnavailable(f"{shop.domain} has no access token")
    if not _needs_refresh(shop):
        return decrypt_token(shop.access_token_encrypted)
    return _refresh(shop, rejected=None)


def access_token_after_rejection(shop: Shop, *, rejected: str) -> str:
    """A token to retry with after Shopify answered 401 to `rejected`.

    If another process already replaced `rejected`, its token is returned; otherwise the
    token is refreshed now, whatever its recorded expiry.
    """
    return _refresh(shop, rejected=rejected)


def _refresh(shop: Shop, *, rejected: str | None) -> str:
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        current = decrypt_token(locked.access_token_encrypted)
        refreshed_meanwhile = current and (
            current != rejected if rejected is not None else not _needs_refresh(locked)
        )
        if refreshed_meanwhile:
            _copy_tokens(locked, shop)
            return current
        if not _can_refresh(locked):
            raise AccessTokenUnavailable(
                f"{shop.domain} has no refresh token that is still valid; "
                "the merchant must open Perennial in Shopify admin again"
            )
        try:
            token = oauth.refresh_offline_token(
                shop_domain=locked.domain,
                refresh_token=decrypt_token(locked.refresh_token_encrypted),
            )
        except oauth.InvalidGrant as exc:
            raise AccessTokenUnavailable(f"{shop.domain}: {exc}") from exc
        # If this commit is lost, Shopify keeps the old refresh token valid until the new
        # access token is first used, so the next attempt can still refresh.
        store_offline_token(shop=locked, token=token)
    _copy_tokens(locked, shop)
    return token.access_token


def _needs_refresh(shop: Shop) -> bool:
    expires_at = shop.access_token_expires_at
    return expires_at is not None and expires_at - REFRESH_MARGIN <= timezone.now()


def _can_refresh(shop: Shop) -> bool:
    expires_at = shop.refresh_token_expires_at
    return bool(shop.refresh_token_encrypted) and (
        expires_at is None or expires_at > timezone.now()
    )


def _copy_tokens(source: Shop, target: Shop) -> None:
    # The caller's Shop instance should see the tokens now in the database.
    for name in _TOKEN_FIELDS:
        setattr(target, name, getattr(source, name))
