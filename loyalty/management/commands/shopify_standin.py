"""`manage.py shopify_standin`: run the Shopify stand-in in the foreground, with the app's
own key, secret, scopes and APP_URL, so the two sides agree without extra configuration.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from standin.server import create, serve_in_foreground


class Command(BaseCommand):
    help = "Run the local Shopify stand-in (docs/standin.md) for this app's settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9000)

    def handle(self, *args, **options) -> None:
        standin = create(
            api_key=settings.SHOPIFY_API_KEY,
            api_secret=settings.SHOPIFY_API_SECRET,
            app_url=settings.APP_URL,
            host=options["host"],
            port=options["port"],
            scopes=settings.SHOPIFY_SCOPES,
        )
        serve_in_foreground(standin, api_key=settings.SHOPIFY_API_KEY)
