"""Check that every member's balances equal the sums of their ledger entries."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import Shop
from loyalty.selectors import ledger_drift


class Command(BaseCommand):
    help = "Report members whose balance or pending points differ from their ledger's sums."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="a myshopify domain; default: every shop")

    def handle(self, *args, **options) -> None:
        shops = Shop.objects.order_by("domain")
        if options["shop"]:
            shops = shops.filter(domain=options["shop"])
            if not shops.exists():
                raise CommandError(f"no shop {options['shop']}")
        drifted = 0
        for shop in shops:
            rows = ledger_drift(shop=shop)
            drifted += len(rows)
            for row in rows:
                self.stdout.write(
                    f"{shop.domain}\tcustomer {row['customer_id']}\t"
                    f"balance {row['balance']} vs ledger {row['ledger_balance']}\t"
                    f"pending {row['pending']} vs ledger {row['ledger_pending']}\t"
                    f"last_sequence {row['last_sequence']} vs {row['entries']} entries"
                )
            self.stdout.write(f"{shop.domain}: {len(rows)} members drifted")
        if drifted:
            raise CommandError(f"{drifted} members' balances differ from their ledgers")
