"""`make run`: the app, its in-process worker and the Shopify stand-in, with a demo shop.

The demo goes through the same doors as a real store: the shop is installed by token
exchange when "Shopify admin" first opens the app, and points arrive as signed webhooks
over HTTP, are processed by the job runner, and are read back through the app proxy.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from config.jobs import start_in_process_runner
from loyalty.models import Shop
from standin import payloads, server, signing
from standin.admin import launch_url
from standin.sender import send_webhook

SHOP = "demo.myshopify.com"
DEMO_REWARDS = [
    {"kind": "amount_off", "points_cost": 100, "value": "5.00"},
    {"kind": "free_shipping", "points_cost": 150, "value": "0"},
]
SHOPPERS = [
    (1001, "ada@example.com", "Ada", "Lovelace"),
    (1002, "grace@example.com", "Grace", "Hopper"),
    (1003, "alan@example.com", "Alan", "Turing"),
]


class Command(BaseCommand):
    help = "Run the app with the Shopify stand-in and a demo shop that receives a few orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--standin-port", type=int, default=9000)

    def handle(self, *args, **options) -> None:
        port = options["port"]
        app_url = f"http://127.0.0.1:{port}"
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        settings.APP_URL = app_url
        # The stand-in starts afresh every run and knows none of the tokens a previous run
        # stored: forget them, so opening the admin installs the shop again by token exchange.
        Shop.objects.filter(domain=SHOP).update(
            access_token_encrypted="", refresh_token_encrypted=""
        )
        shopify = server.start(
            api_key=settings.SHOPIFY_API_KEY,
            api_secret=settings.SHOPIFY_API_SECRET,
            app_url=app_url,
            port=options["standin_port"],
        )
        # Every Admin API and OAuth call of this process now goes to the stand-in, and the
        # pages load its App Bridge and Polaris in place of Shopify's CDN (offline).
        settings.SHOPIFY_ADMIN_ORIGIN = shopify.origin_template
        settings.SHOPIFY_APP_BRIDGE_URL = f"{shopify.url}/_standin/cdn/app-bridge.js"
        settings.SHOPIFY_POLARIS_URL = f"{shopify.url}/_standin/cdn/polaris.js"
        start_in_process_runner()
        threading.Thread(
            target=self._seed, args=(app_url, shopify), name="demo-seed", daemon=True
        ).start()
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            shopify.stop()

    def _seed(self, app_url: str, shopify: server.Standin) -> None:
        try:
            self._wait_for(f"{app_url}/healthz")
            requests.post(
                f"{shopify.url}/_standin/shops",
                json={"shop": SHOP, "name": "Demo Shop", "currency": "USD"},
                timeout=10,
            ).raise_for_status()
            # What Shopify admin does when the merchant opens the app: load it with a fresh
            # session token. The app installs the shop by token exchange before answering.
            install = requests.get(launch_url(shopify.state, SHOP), timeout=30)
            install.raise_for_status()
            self._send_orders(app_url)
            self._set_up_storefront(app_url, shopify)
            time.sleep(2)
            self._report(app_url, shopify)
        except Exception as error:  # noqa: BLE001 - the server keeps running; say what failed
            self.stderr.write(self.style.ERROR(f"demo seeding failed: {error!r}"))

    def _send_orders(self, app_url: str) -> None:
        def deliver(topic: str, payload: dict, key: str) -> None:
            # Fixed webhook ids: running the demo again sends duplicates, which credit nothing.
            send_webhook(
                f"{app_url}/webhooks",
                topic=topic,
                shop=SHOP,
                payload=payload,
                secret=settings.SHOPIFY_API_SECRET,
                webhook_id=f"demo-{key}",
            ).raise_for_status()

        for customer_id, email, first, last in SHOPPERS:
            customer = payloads.customer(customer_id, email, first, last)
            deliver("customers/create", customer, f"customer-{customer_id}")

        def order(order_id: int, shopper: int, subtotal: str, **options) -> dict:
            # The order's customer is the shopper, names included: an order's customer
            # details update the member, as Shopify's do.
            customer_id, email, first, last = SHOPPERS[shopper]
            return payloads.order(
                order_id,
                customer_id,
                subtotal,
                email=email,
                first_name=first,
                last_name=last,
                **options,
            )

        deliver("orders/paid", order(5001, 0, "120.00"), "o1")
        deliver("orders/paid", order(5002, 1, "64.90"), "o2")
        deliver("orders/paid", order(5003, 0, "35.50"), "o3")
        deliver("refunds/create", payloads.refund(5002, 9001, [("20.00", "0.00")]), "r1")
        deliver("orders/paid", order(5004, 2, "80.00", test=True), "o4-test")

    def _set_up_storefront(self, app_url: str, shopify: server.Standin) -> None:
        """Two rewards, added as a merchant would on the Rewards page (through the admin API
        with a session token), and the widget's app embed switched on in the demo theme, so
        the storefront shows a widget a shopper can redeem in."""
        token = signing.session_token(
            shop=SHOP, api_key=settings.SHOPIFY_API_KEY, secret=settings.SHOPIFY_API_SECRET
        )
        catalogue = requests.get(
            f"{app_url}/api/admin/rewards", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        catalogue.raise_for_status()
        # A second run of the demo keeps the catalogue the first (or the merchant) made.
        for reward in DEMO_REWARDS if not catalogue.json()["rewards"] else []:
            requests.post(
                f"{app_url}/api/admin/rewards",
                json=reward,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).raise_for_status()
        requests.post(
            f"{shopify.url}/_standin/app-embed", json={"shop": SHOP, "enabled": True}, timeout=10
        ).raise_for_status()

    def _report(self, app_url: str, shopify: server.Standin) -> None:
        shop_url = shopify.shop_url(SHOP)
        lines = [
            "",
            self.style.SUCCESS("Perennial is running with a demo shop."),
            f"  Embedded admin (opened as Shopify admin would):"
            f" {shop_url}/admin/apps/{settings.SHOPIFY_API_KEY}",
            f"    its members: {shop_url}/admin/apps/{settings.SHOPIFY_API_KEY}/members",
            "  Shoppers' balances through the storefront app proxy:",
        ]
        for customer_id, email, *_ in SHOPPERS:
            account = requests.get(
                f"{shop_url}/apps/loyalty/api/account",
                cookies={"standin_customer_id": str(customer_id)},
                timeout=10,
            ).json()
            login = (
                f"{shopify.url}/_standin/customer-login?customer_id={customer_id}"
                f"&next={quote(f'/shops/{SHOP}/apps/loyalty/api/account')}"
            )
            lines.append(
                f"    {email:<20} balance {account['balance']:>4}  pending {account['pending']}"
                f"  -> {login}"
            )
        customer_id, email, *_ = SHOPPERS[0]
        lines += [
            "  The storefront with the rewards widget (two rewards to redeem):",
            f"    as a guest: {shop_url}/",
            f"    signed in as {email}: {shopify.url}/_standin/customer-login"
            f"?customer_id={customer_id}&next={quote(f'/shops/{SHOP}/')}",
            # The demo switched the widget's app embed on; off, the onboarding checklist shows
            # that step undone and the storefront has no widget.
            "  Switch the widget off in the demo theme (and on again with true):",
            f"    curl -X POST {shopify.url}/_standin/app-embed"
            f""" -d '{{"shop": "{SHOP}", "enabled": false}}'""",
            "  Send another order (then reload a balance):",
            f"    .venv/bin/python manage.py send_webhook --topic orders/paid --shop {SHOP}"
            f" --url {app_url}/webhooks",
            "",
        ]
        self.stdout.write("\n".join(lines))

    @staticmethod
    def _wait_for(url: str) -> None:
        for _ in range(100):
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not answer")
