"""Refuse to deploy with the demo's published secrets."""

from django.conf import settings
from django.core.checks import Error, register

DEMO_SECRETS = {
    "SECRET_KEY": "perennial-insecure-development-key-change-me",
    "SHOPIFY_API_SECRET": "perennial-demo-api-secret-0123456789abcdef",
}


@register()
def demo_secrets_not_in_production(app_configs, **kwargs) -> list[Error]:
    """Served over https (a real deploy), the demo defaults would let anyone forge
    webhooks, app proxy requests and session tokens: stop the release step instead."""
    if not settings.APP_URL.startswith("https://"):
        return []
    return [
        Error(
            f"{name} still has the demo default, which is public.",
            hint=f"Set {name} in the environment (README, Environment).",
            id="perennial.E001",
        )
        for name, demo in DEMO_SECRETS.items()
        if getattr(settings, name) == demo
    ]
