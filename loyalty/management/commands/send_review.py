"""`manage.py send_review`: send one signed review, as a review app would, to a running app.

The review is built and signed by the stand-in (standin/reviews.py) in the chosen source's
format, with the shop's integration secret read from this app's database unless --secret
names another, so it exercises the real intake (signature, store, reward) over HTTP.
"""

from __future__ import annotations

import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.models import Shop
from loyalty.services.integrations import REVIEW_SOURCES, integration_secret_for
from standin.reviews import generic_review, judgeme_review, review_request, send_review


class Command(BaseCommand):
    help = "Send one signed product review (generic or Judge.me format) to the app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="e.g. demo.myshopify.com")
        parser.add_argument("--product", type=int, required=True, help="Shopify product id")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--customer", type=int, help="the reviewer's Shopify customer id")
        who.add_argument("--email", help="the reviewer's email")
        parser.add_argument("--source", choices=REVIEW_SOURCES, default="generic")
        parser.add_argument("--review-id", help="default: a new one (reuse one to resend)")
        parser.add_argument("--rating", type=int, default=5, help="1 to 5; never changes points")
        parser.add_argument("--photo", action="store_true", help="the review has a photo")
        parser.add_argument("--url", help="default: APP_URL")
        parser.add_argument("--secret", help="default: the shop's integration secret")

    def handle(self, *args, **options) -> None:
        secret = options["secret"] or self._secret(options["shop"])
        review_id = options["review_id"] or uuid.uuid4().hex[:12]
        if options["source"] == "judgeme":
            if not options["email"]:
                raise CommandError("Judge.me names the reviewer by email: pass --email")
            if not review_id.isdigit():
                review_id = str(uuid.uuid4().int % 10**9)
            review = judgeme_review(
                review_id=int(review_id),
                product_id=options["product"],
                email=options["email"],
                rating=options["rating"],
                pictures=1 if options["photo"] else 0,
            )
        else:
            review = generic_review(
                shop=options["shop"],
                review_id=review_id,
                product_id=options["product"],
                customer_id=options["customer"],
                email=options["email"] or "",
                rating=options["rating"],
                has_photo=options["photo"],
            )
        signed = review_request(
            source=options["source"], review=review, secret=secret, shop=options["shop"]
        )
        url = options["url"] or settings.APP_URL
        try:
            answer = send_review(url, signed)
        except requests.RequestException as error:
            raise CommandError(f"could not reach {url}: {error}") from error
        summary = (
            f"{options['source']} review {review_id} -> {url}{signed.path}: {answer.status_code}"
        )
        if not answer.ok:
            raise CommandError(f"{summary} {answer.text[:500]}")
        self.stdout.write(self.style.SUCCESS(f"{summary} {answer.text}"))

    @staticmethod
    def _secret(domain: str) -> str:
        shop = Shop.objects.filter(domain=domain).first()
        if shop is None:
            raise CommandError(f"no shop {domain} in this database: pass --secret")
        return integration_secret_for(shop=shop)
