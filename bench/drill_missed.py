"""Drill: missed webhooks. Orders happen at the stand-in, which loses a share of their
webhooks; the app credits what arrives; then one reconciliation run must bring every
member's balance to what Shopify's orders say, a second run must change nothing, and the
lost webhooks arriving late (Shopify's retries) must change nothing either.

    .venv/bin/python bench/drill_missed.py [--orders 200] [--lose 0.10] [--seed 13]

Everything is real but the clock: the app is served over HTTP (Django's WSGI app in a
thread), the stand-in delivers signed webhooks to it and answers the Admin API with its
rate limit (a 2,000-point bucket, 100 points a second, as a standard plan), deliveries are
processed as the worker does (`delivery_process`), and the run is `orders_reconcile`, asked
as it would run 15 minutes later (a run leaves the last 10 minutes to the webhooks).
Expected balances are computed here without the app's code: every order is a whole
number of dollars at 1 point per dollar, so an order keeps its subtotal less its refunds,
and nothing if cancelled. Uses the database PERENNIAL_BENCH_DB (dropped and created, then
dropped) and Redis DB PERENNIAL_BENCH_REDIS_DB (flushed at the end), as the benchmarks do.
Exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import harness
import requests

SHOP = "drill.myshopify.com"
API_KEY = "perennial-drill-api-key"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--lose", type=float, default=0.10, help="share of webhooks lost")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    from standin import server

    harness.database_create()
    app_port = harness.free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    standin = server.start(api_key=API_KEY, api_secret=harness.APP_SECRET, app_url=app_url, port=0)
    app = None
    try:
        harness.django_setup(
            SHOPIFY_API_KEY=API_KEY,
            SHOPIFY_ADMIN_ORIGIN=standin.origin_template,
            APP_URL=app_url,
            SHOPIFY_HTTP_TIMEOUT="10",
        )
        from django.core.wsgi import get_wsgi_application

        app = make_server(
            "127.0.0.1", app_port, get_wsgi_application(), _Server, handler_class=_Quiet
        )
        threading.Thread(target=app.serve_forever, daemon=True).start()
        return drill(standin, app_url, args)
    finally:
        if app is not None:
            app.shutdown()
            app.server_close()
        standin.stop()
        for step in (harness.redis_flush, harness.django_close, harness.database_drop):
            try:
                step()
            except Exception as error:  # noqa: BLE001 - report it and go on cleaning up
                print(f"cleanup: {step.__name__} failed: {error}", file=sys.stderr)


def drill(standin, app_url: str, args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.utils import timezone

    from loyalty.models import LedgerEntry, Member
    from loyalty.services.reconciliation import orders_reconcile
    from loyalty.services.shops import shop_install_with_session_token
    from loyalty.shopify import admin_api
    from loyalty.shopify.session_tokens import decode_session_token
    from standin import payloads, sender, signing
    from webhooks.models import Delivery, Status
    from webhooks.processing import delivery_process

    machine = harness.machine_summary()
    token = signing.session_token(shop=SHOP, api_key=API_KEY, secret=harness.APP_SECRET)
    shop = shop_install_with_session_token(session_token=decode_session_token(token))
    rng = random.Random(args.seed)
    customers = max(1, args.orders // 4)
    expected: Counter[int] = Counter()
    lost: list[tuple[str, dict]] = []
    sent: Counter[str] = Counter()
    placed = datetime.now(UTC).replace(microsecond=0).isoformat()

    def happen(topic: str, payload: dict, key: int | None = None) -> None:
        lose = rng.random() < args.lose
        answer = requests.post(
            f"{standin.url}/_standin/orders",
            json={"shop": SHOP, "topic": topic, "payload": payload, "lose": lose},
            timeout=30,
        ).json()
        if answer.get("status") not in (None, 200) or answer.get("error"):
            raise RuntimeError(f"{topic}: the app answered {answer}")
        sent[topic] += 1
        if lose:
            body = copy.deepcopy(standin.state.orders[(SHOP, key)]) if key else payload
            lost.append((topic, body))

    started = time.monotonic()
    for n in range(args.orders):
        order_id, customer_id = 100001 + n, 5001 + n % customers
        subtotal = rng.randint(10, 200)
        payload = payloads.order(
            order_id, customer_id, f"{subtotal}.00", email=f"c{customer_id}@example.com"
        )
        payload["created_at"] = payload["processed_at"] = placed
        happen("orders/create", payload, key=order_id)
        kept = subtotal
        if rng.random() < 0.2:
            refunded = rng.randint(1, subtotal)
            refund = payloads.refund(order_id, 900001 + n, ((f"{refunded}.00", "0.00"),))
            happen("refunds/create", refund)
            kept -= refunded
        if rng.random() < 0.05:
            cancelled = copy.deepcopy(standin.state.orders[(SHOP, order_id)])
            cancelled.update(cancelled_at=placed, cancel_reason="customer")
            happen("orders/cancelled", cancelled, key=order_id)
            kept = 0
        expected[customer_id] += kept

    def process() -> None:
        for pk in Delivery.objects.filter(status=Status.RECEIVED).values_list("pk", flat=True):
            delivery_process(pk)

    def wrong() -> int:
        balances = dict(Member.objects.filter(shop=shop).values_list("customer_id", "balance"))
        ids = set(balances) | set(expected)
        return sum(balances.get(c, 0) != expected.get(c, 0) for c in ids)

    process()
    sending = time.monotonic() - started
    wrong_before = wrong()
    with standin.state.lock:
        standin.state.calls.clear()
    waited: list[float] = []
    sleep = admin_api._sleep

    def counted_sleep(seconds: float) -> None:
        # The client's waits for the rate limit (and backoffs), slept for real.
        waited.append(seconds)
        sleep(seconds)

    admin_api._sleep = counted_sleep
    now = timezone.now() + timedelta(minutes=15)
    started = time.monotonic()
    run = orders_reconcile(shop=shop, now=now)
    took = time.monotonic() - started
    with standin.state.lock:
        calls = Counter(
            (call["root_fields"] or ["?"])[0] + ("" if call["status"] == 200 else " refused")
            for call in standin.state.calls
        )
    wrong_after = wrong()
    run_waits = list(waited)
    second = orders_reconcile(shop=shop, now=now + timedelta(hours=1))
    second_waits = waited[len(run_waits) :]
    entries = LedgerEntry.objects.filter(shop=shop).count()
    for topic, body in lost:
        sender.send_webhook(
            f"{app_url}/webhooks", topic=topic, shop=SHOP, payload=body, secret=harness.APP_SECRET
        )
    process()
    late_entries = LedgerEntry.objects.filter(shop=shop).count() - entries
    ledger_ok = True
    try:
        call_command("check_ledger", "--shop", SHOP, stdout=open("/dev/null", "w"))  # noqa: SIM115
    except Exception as error:  # noqa: BLE001 - a drifting ledger is a FAIL, with its cause
        print(f"check_ledger: {error}", file=sys.stderr)
        ledger_ok = False
    failed = Delivery.objects.exclude(status=Status.PROCESSED).count()

    passed = (
        wrong_after == 0
        and run.complete
        and run.errors == 0
        and second.repaired == 0
        and late_entries == 0
        and ledger_ok
        and failed == 0
        and wrong() == 0
    )
    lost_by_topic = Counter(topic for topic, _ in lost)
    print(
        "\n".join(
            [
                f"Missed-webhook drill: {harness.verdict(passed)}",
                f"  machine: {machine}",
                f"  {args.orders} orders for {customers} customers (seed {args.seed}): "
                + ", ".join(f"{n} {t}" for t, n in sorted(sent.items()))
                + f" sent in {sending:.1f} s",
                f"  lost at the stand-in ({args.lose:.0%} asked): {len(lost)} of "
                f"{sum(sent.values())} webhooks ("
                + ", ".join(f"{n} {t}" for t, n in sorted(lost_by_topic.items()))
                + f"); members with a wrong balance before the run: {wrong_before}",
                f"  run: {run.orders_read} orders read, {run.repaired} repaired, "
                f"+{run.points_credited} / -{run.points_reversed} points, "
                f"{run.errors} errors, {'complete' if run.complete else 'INCOMPLETE'}, "
                f"{took:.1f} s; Admin API calls: "
                + ", ".join(f"{n} {f}" for f, n in sorted(calls.items()))
                + f"; {len(run_waits)} waits for the rate limit, {sum(run_waits):.1f} s in all",
                f"  after the run: {wrong_after} members wrong of "
                f"{len(set(expected))}; second run: {second.orders_read} read, "
                f"{second.repaired} repaired, {len(second_waits)} waits "
                f"({sum(second_waits):.1f} s)",
                f"  the {len(lost)} lost webhooks delivered late: {late_entries} ledger entries "
                f"added; deliveries not processed: {failed}; check_ledger "
                f"{'clean' if ledger_ok else 'DRIFT'}",
            ]
        )
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
