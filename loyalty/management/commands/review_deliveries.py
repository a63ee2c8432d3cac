"""List and replay the reviews review apps sent.

manage.py review_deliveries list [--status failed|refused|…] [--shop x.myshopify.com]
manage.py review_deliveries replay ID [ID …] | --all-failed
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import ReviewDelivery, ReviewStatus
from loyalty.reviews.services import review_delivery_process


class Command(BaseCommand):
    help = "List stored reviews with their outcome, or decide them again."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="the newest reviews (or of one --status)")
        listing.add_argument("--status", choices=[s.value for s in ReviewStatus])
        listing.add_argument("--shop")
        listing.add_argument("--limit", type=int, default=50)
        replay = actions.add_parser(
            "replay", help="decide failed or refused reviews again (a rewarded one stays)"
        )
        replay.add_argument("ids", nargs="*", type=int)
        replay.add_argument("--all-failed", action="store_true")

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict) -> None:
        reviews = ReviewDelivery.objects.select_related("shop").order_by("-received_at")
        if options["status"]:
            reviews = reviews.filter(status=options["status"])
        if options["shop"]:
            reviews = reviews.filter(shop__domain=options["shop"])
        for r in reviews.defer("body")[: options["limit"]]:
            self.stdout.write(
                f"{r.pk}\t{r.status}\t{r.shop.domain}\t{r.source}:{r.review_id}\t"
                f"product={r.product_id}\tpoints={r.points}\t"
                f"received={r.received_at:%Y-%m-%d %H:%M:%S}\t{r.outcome}"
            )

    def _replay(self, options: dict) -> None:
        ids = list(options["ids"])
        if options["all_failed"]:
            ids += ReviewDelivery.objects.filter(status=ReviewStatus.FAILED).values_list(
                "pk", flat=True
            )
        if not ids:
            raise CommandError("name review delivery ids, or --all-failed")
        for pk in sorted(set(ids)):
            try:
                review = review_delivery_process(delivery_id=pk, again=True)
            except ReviewDelivery.DoesNotExist:
                self.stderr.write(f"{pk}\tno such review delivery")
                continue
            self.stdout.write(f"{pk}\t{review.status}\tpoints={review.points}\t{review.outcome}")
