"""Read back the orders Shopify changed and apply those whose webhooks never arrived: what
the hourly scheduler does, and how an operator catches up after an outage
(docs/reconciliation.md)."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import Shop
from loyalty.services.reconciliation import orders_reconcile


class Command(BaseCommand):
    help = (
        "Read every installed shop's orders updated since its last reconciliation (or since "
        "--since) from the Admin API, and apply those whose webhooks never arrived."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="a myshopify domain; default: every installed shop")
        parser.add_argument(
            "--since",
            help="ISO 8601 time (UTC unless it says otherwise), e.g. 2026-11-20T00:00:00Z; "
            "default: where the shop's last complete run ended, less an hour",
        )

    def handle(self, *args, **options) -> None:
        since = None
        if options["since"]:
            try:
                since = datetime.fromisoformat(options["since"].replace("Z", "+00:00"))
            except ValueError:
                raise CommandError(
                    f"--since {options['since']!r} is not a time; write it as 2026-11-20T00:00:00Z."
                ) from None
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
        shops = Shop.objects.filter(installed_at__isnull=False, uninstalled_at__isnull=True)
        if options["shop"]:
            shops = shops.filter(domain=options["shop"])
            if not shops.exists():
                raise CommandError(f"no installed shop {options['shop']}")
        incomplete = 0
        for shop in shops.order_by("pk"):
            run = orders_reconcile(shop=shop, since=since)
            self.stdout.write(
                f"{shop.domain}\t{run.window_start:%Y-%m-%dT%H:%M:%SZ}…"
                f"{run.window_end:%Y-%m-%dT%H:%M:%SZ}\tread {run.orders_read}\t"
                f"repaired {run.repaired}\t+{run.points_credited} −{run.points_reversed} points"
                f"\t{'complete' if run.complete else 'incomplete'}"
            )
            for line in run.error_text.splitlines():
                self.stderr.write(f"{shop.domain}\t{line}")
            incomplete += not run.complete
        if incomplete:
            raise CommandError(f"{incomplete} shops' runs are incomplete; the next run retries")
