import re

from django.db import models

SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")


def is_shop_domain(value: str) -> bool:
    return bool(value) and bool(SHOP_DOMAIN.fullmatch(value))


class Shop(models.Model):
    """A Shopify store that installed the app; the tenant every other row belongs to."""

    domain = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC")
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # Fernet-encrypted (loyalty.shopify.tokens); never stored or logged in clear.
    access_token_encrypted = models.TextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_encrypted = models.TextField(blank=True, default="")
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True, default="")
    # Signs review deliveries from review apps (loyalty.services.integrations); Fernet-
    # encrypted like the tokens, empty until first needed.
    integration_secret_encrypted = models.TextField(blank=True, default="")
    # The key Judge.me signs this shop's review webhooks with: the merchant's Judge.me
    # private API token (or an OAuth app's secret), which Perennial cannot choose.
    judgeme_key_encrypted = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain__regex=r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$"),
                name="shop_domain_is_myshopify",
            )
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_installed(self) -> bool:
        return self.uninstalled_at is None
