"""List, replay and dismiss stored webhook deliveries.

manage.py deliveries list [--status failed] [--shop x.myshopify.com]
manage.py deliveries replay ID [ID …] | --all-failed
manage.py deliveries dismiss ID [ID …] --why "…"
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webhooks.models import Delivery, Status
from webhooks.processing import delivery_dismiss, delivery_replay
from webhooks.tasks import delivery_enqueue


class Command(BaseCommand):
    help = "List, replay or dismiss stored webhook deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="deliveries not yet processed (or --status)")
        listing.add_argument("--status", choices=[s.value for s in Status])
        listing.add_argument("--shop")
        listing.add_argument("--limit", type=int, default=50)
        replay = actions.add_parser("replay", help="process deliveries again")
        replay.add_argument("ids", nargs="*", type=int)
        replay.add_argument("--all-failed", action="store_true")
        dismiss = actions.add_parser("dismiss", help="give up on failed deliveries")
        dismiss.add_argument("ids", nargs="+", type=int)
        dismiss.add_argument("--why", required=True)

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict) -> None:
        deliveries = Delivery.objects.order_by("received_at")
        if options["status"]:
            deliveries = deliveries.filter(status=options["status"])
        else:
            deliveries = deliveries.filter(status__in=[Status.RECEIVED, Status.FAILED])
        if options["shop"]:
            deliveries = deliveries.filter(shop_domain=options["shop"])
        deliveries = deliveries.defer("body")[: options["limit"]]
        for d in deliveries:
            error = d.last_error.strip().splitlines()[-1] if d.last_error.strip() else ""
            self.stdout.write(
                f"{d.pk}\t{d.status}\t{d.topic}\t{d.shop_domain}\t"
                f"attempts={d.attempts}\treceived={d.received_at:%Y-%m-%d %H:%M:%S}\t{error}"
            )

    def _replay(self, options: dict) -> None:
        ids = list(options["ids"])
        if options["all_failed"]:
            ids += Delivery.objects.filter(status=Status.FAILED).values_list("pk", flat=True)
        if not ids:
            raise CommandError("name delivery ids, or --all-failed")
        for delivery in Delivery.objects.filter(pk__in=ids):
            delivery_replay(delivery=delivery, send=delivery_enqueue)
            self.stdout.write(f"{delivery.pk}\tsent for processing")

    def _dismiss(self, options: dict) -> None:
        for delivery in Delivery.objects.filter(pk__in=options["ids"]):
            delivery_dismiss(delivery=delivery, why=options["why"])
            self.stdout.write(f"{delivery.pk}\tdismissed")
