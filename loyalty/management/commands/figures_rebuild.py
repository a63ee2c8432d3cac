"""Recompute the Dashboard's daily figures from the ledger, members and orders."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import Shop
from loyalty.stats.rebuild import (
    figures_computed,
    figures_differences,
    figures_live,
    figures_rebuild,
)


class Command(BaseCommand):
    help = (
        "Recompute each shop's daily figures from its ledger, members and orders and store "
        "them (run it with the worker stopped), or with --check only report where the live "
        "counters differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="a myshopify domain; default: every shop")
        parser.add_argument(
            "--check", action="store_true", help="compare with the live counters; change nothing"
        )

    def handle(self, *args, **options) -> None:
        shops = Shop.objects.order_by("domain")
        if options["shop"]:
            shops = shops.filter(domain=options["shop"])
            if not shops.exists():
                raise CommandError(f"no shop {options['shop']}")
        wrong = 0
        for shop in shops:
            if not options["check"]:
                figures = figures_rebuild(shop=shop)
                self.stdout.write(f"{shop.domain}: {len(figures)} days of figures rebuilt")
                continue
            computed, _ = figures_computed(shop=shop)
            lines = figures_differences(computed=computed, live=figures_live(shop=shop))
            wrong += len(lines)
            for line in lines:
                self.stdout.write(f"{shop.domain}\t{line}")
            self.stdout.write(f"{shop.domain}: {len(lines)} figures differ")
        if wrong:
            raise CommandError(f"{wrong} daily figures differ from the ledger, members and orders")
