"""Storefront metafields under a burst: how few metafieldsSet calls, and how soon Shopify
shows every member's balance.

    .venv/bin/python bench/metafields.py [--orders 1000] [--members 200]

Runs everything in this process, as `make run` does: a fresh SQLite database under
bench/logs/, the in-process job runner (the real sync job with its debounce and its
one-job-per-shop guard) and the Shopify stand-in (its 2,000-point bucket restoring 100 a
second). Installs a shop by token exchange, then settles N paid orders round-robin over M
members as fast as crediting goes (each order its own transaction, through
`order_settle`, the service the orders webhooks call). Polls the stand-in until every
member's `balance` and `pending` metafields equal the database, and prints the counts and
times. docs/shopify-sync.md quotes a run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(__file__).with_name("logs")
TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to use (migrated, the bench shop replaced); "
        "default: a fresh SQLite file under bench/logs/",
    )
    options = parser.parse_args()

    LOG_DIR.mkdir(exist_ok=True)
    database = Path(tempfile.mkdtemp(dir=LOG_DIR)) / "metafields.sqlite3"
    os.environ["DATABASE_URL"] = options.database_url or f"sqlite:///{database}"
    os.environ["DRAMATIQ_BROKER_URL"] = ""  # the in-process runner
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from config import jobs
    from loyalty import tasks
    from loyalty.earning.orders import order_facts
    from loyalty.models import Member, Shop
    from loyalty.services.orders import order_settle
    from loyalty.services.shops import shop_install_with_session_token
    from loyalty.shopify.session_tokens import decode_session_token
    from standin import server, signing
    from tests.factories import order_payload

    call_command("migrate", verbosity=0)
    shopify = server.start(
        api_key=settings.SHOPIFY_API_KEY,
        api_secret=settings.SHOPIFY_API_SECRET,
        app_url="http://127.0.0.1:9",
        port=0,
    )
    settings.SHOPIFY_ADMIN_ORIGIN = shopify.origin_template
    domain = "bench-metafields.myshopify.com"
    Shop.objects.filter(domain=domain).delete()
    token = signing.session_token(
        shop=domain, api_key=settings.SHOPIFY_API_KEY, secret=settings.SHOPIFY_API_SECRET
    )
    shop = shop_install_with_session_token(session_token=decode_session_token(token))
    runs: list[float] = []
    sync_run = tasks.storefront_sync_run

    def counted_run(**kwargs):
        runs.append(time.monotonic())
        return sync_run(**kwargs)

    tasks.storefront_sync_run = counted_run
    jobs.start_in_process_runner()
    with shopify.state.lock:
        shopify.state.calls.clear()

    started = time.monotonic()
    for n in range(options.orders):
        customer_id = 1 + n % options.members
        subtotal = f"{10 + (n * 7) % 90}.00"
        order_settle(
            shop=shop, facts=order_facts(order_payload(9_000_000 + n, customer_id, subtotal))
        )
    credited = time.monotonic()

    def behind() -> int:
        expected = {
            (f"gid://shopify/Customer/{customer_id}", key): str(value)
            for customer_id, balance, pending in Member.objects.filter(shop=shop).values_list(
                "customer_id", "balance", "pending"
            )
            for key, value in (("balance", balance), ("pending", pending))
        }
        with shopify.state.lock:
            seen = {
                (owner, key): record["value"]
                for (shop_domain, owner, _, key), record in shopify.state.metafields.items()
                if shop_domain == domain
            }
        return sum(1 for slot, value in expected.items() if seen.get(slot) != value)

    while behind() and time.monotonic() - started < TIMEOUT_SECONDS:
        time.sleep(POLL_SECONDS)
    converged = time.monotonic()
    left = behind()
    with shopify.state.lock:
        calls = [c for c in shopify.state.calls if c.get("root_fields") == ["metafieldsSet"]]
        throttled = sum(1 for c in shopify.state.calls if c.get("status") == 429)
    written = sum(len(c["variables"]["metafields"]) for c in calls)
    jobs._in_process_worker.stop()
    shopify.stop()

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}")
    print(f"orders: {options.orders} for {options.members} members")
    print(f"crediting the burst: {credited - started:.2f} s")
    print(
        f"sync jobs run: {len(runs)}, starting at "
        + ", ".join(f"{at - started:.2f}" for at in runs)
        + " s"
    )
    print(f"metafieldsSet calls: {len(calls)} ({written} metafields, {throttled} answered 429)")
    print(f"calls without batching or coalescing: {options.orders} (one per order)")
    print(
        f"every balance in Shopify: {converged - started:.2f} s after the first order, "
        f"{converged - credited:.2f} s after the last"
    )
    if left:
        print(f"NOT CONVERGED: {left} metafields still behind after {TIMEOUT_SECONDS:.0f} s")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
