"""`manage.py send_webhook`: send one signed webhook delivery to a running app.

The delivery is built and signed by the stand-in's sender, exactly as Shopify signs one,
so it exercises the real intake (HMAC check, inbox, dedupe) over HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from standin import payloads
from standin.sender import send_webhook


class Command(BaseCommand):
    help = "Send one Shopify-signed webhook delivery (a sample, or a JSON file) to the app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True, help="e.g. orders/create")
        parser.add_argument("--shop", required=True, help="e.g. demo.myshopify.com")
        parser.add_argument("--url", help="default: APP_URL + /webhooks")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--file", type=Path, help="a JSON payload to send as is")
        source.add_argument(
            "--sample", help=f"a sample topic's payload (default: --topic's): {payloads.TOPICS}"
        )
        parser.add_argument("--webhook-id", help="default: a new UUID (reuse one to retry)")
        parser.add_argument("--event-id", help="default: a new UUID")
        parser.add_argument("--secret", help="default: SHOPIFY_API_SECRET")
        parser.add_argument("--api-version", help="default: SHOPIFY_API_VERSION")

    def handle(self, *args, **options) -> None:
        url = options["url"] or settings.APP_URL.rstrip("/") + "/webhooks"
        payload = self._payload(options)
        try:
            answer = send_webhook(
                url,
                topic=options["topic"],
                shop=options["shop"],
                payload=payload,
                secret=options["secret"] or settings.SHOPIFY_API_SECRET,
                webhook_id=options["webhook_id"],
                event_id=options["event_id"],
                api_version=options["api_version"] or settings.SHOPIFY_API_VERSION,
            )
        except requests.RequestException as error:
            raise CommandError(f"could not reach {url}: {error}") from error
        summary = f"{options['topic']} for {options['shop']} -> {url}: {answer.status_code}"
        if not answer.ok:
            raise CommandError(f"{summary} {answer.text[:500]}")
        self.stdout.write(self.style.SUCCESS(summary))

    @staticmethod
    def _payload(options: dict) -> bytes | dict:
        if options["file"]:
            try:
                # Sent byte for byte, so a file can carry exactly what Shopify sent once.
                body = options["file"].read_bytes()
                json.loads(body)
            except (OSError, ValueError) as error:
                raise CommandError(
                    f"{options['file']}: not a readable JSON file ({error})"
                ) from error
            return body
        topic = options["sample"] or options["topic"]
        try:
            return payloads.sample(topic)
        except KeyError as error:
            raise CommandError(
                f"no sample for {topic}; pass --file or one of --sample {payloads.TOPICS}"
            ) from error
