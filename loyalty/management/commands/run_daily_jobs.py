"""Run the daily jobs (birthdays, points expiry) of every shop for a day: what the hourly
scheduler does, and how operators and tests replay a day (docs/dates.md)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.daily import daily_jobs_run
from loyalty.models import Shop


class Command(BaseCommand):
    help = (
        "Run every installed shop's daily jobs for a day (default: each shop's today in its "
        "timezone), catching up the days missed since the last run first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD; default: each shop's today")
        parser.add_argument("--shop", help="a myshopify domain; default: every shop")

    def handle(self, *args, **options) -> None:
        day = None
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date {options['date']!r} is not a date; write it as YYYY-MM-DD."
                ) from None
        if options["shop"] and not Shop.objects.filter(domain=options["shop"]).exists():
            raise CommandError(f"no shop {options['shop']}")
        report = daily_jobs_run(day=day, shop_domain=options["shop"])
        for domain, ran in report.ran:
            self.stdout.write(f"{domain}\t{ran.isoformat()}\tdone")
        for domain, why in report.failed.items():
            self.stderr.write(f"{domain}\tfailed\t{why}")
        if report.failed:
            raise CommandError(f"the daily jobs of {len(report.failed)} shops failed")
