"""Fault drills against the real processes: gunicorn and a dramatiq worker as the Procfile
runs them, PostgreSQL, Redis and the Shopify stand-in. One command runs them all:

    .venv/bin/python bench/drills.py [--only NAME] [--orders 200] [--no-write]

Each drill prints what it did, what it measured and PASS/FAIL, and replaces its section of
docs/RELIABILITY.md. Needs PostgreSQL and Redis on 127.0.0.1; owns the database
PERENNIAL_BENCH_DB and the Redis DB PERENNIAL_BENCH_REDIS_DB (as the benchmarks do:
created, flushed, dropped). PostgreSQL and Redis themselves are never stopped: a drill
that needs one unreachable puts a TCP proxy between it and the app and cuts that.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import drill_faults
import drill_storm
import harness
import requests
from drill_report import INTRO, RELIABILITY_MD, Drill
from drill_support import (
    API_KEY,
    LOG_DIR,
    SHOP,
    Delivery,
    Stack,
    account_balance,
    balances,
    balances_match,
    earned_entries,
    ledger_check,
    manage,
    order_delivery,
    percentile,
    points_of,
    program_set,
    rows_with_ids,
    send_all,
    status_counts,
    wait_until,
    watcher_close,
)

VISIBLE_CEILING_SECONDS = 10.0


@contextmanager
def running(processes: harness.Processes, **ports: int) -> Iterator[Stack]:
    """The app's processes and a stand-in pointed at them; everything stopped afterwards."""
    from standin import server

    stack = Stack(processes, **ports)
    standin = server.start(api_key=API_KEY, api_secret=harness.APP_SECRET, app_url=stack.url)
    stack.standin_url = standin.url
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        standin.stop()


def end_to_end(drill: Drill, processes: harness.Processes, args: argparse.Namespace) -> None:
    rng = random.Random(13)
    customers = [7000 + n for n in range(40)]
    deliveries, expected = [], dict.fromkeys(customers, 0)
    for n in range(args.orders):
        customer, subtotal = customers[n % len(customers)], f"{rng.randint(100, 30000) / 100:.2f}"
        deliveries.append(order_delivery(100_000 + n, customer, subtotal))
        expected[customer] += points_of(subtotal)
    with running(processes) as stack:
        admin = _admin_session(stack)
        drill.step(
            f"gunicorn (2 workers) and one dramatiq worker process (8 threads) on PostgreSQL "
            f"and Redis; the shop installed by token exchange with the stand-in "
            f"(admin API answered {admin.status})"
        )
        answers = send_all(stack.url, deliveries, threads=8)
        last_ack = max(at for _, _, at in answers)
        statuses = {status for status, _, _ in answers}
        latencies = [seconds * 1000 for _, seconds, _ in answers]
        drill.step(
            f"{len(deliveries)} signed `orders/paid` deliveries for {len(customers)} customers "
            f"sent by 8 concurrent senders: answers {sorted(statuses)}, acknowledgement "
            f"median {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f}"
            f" ms, max {max(latencies):.0f} ms"
        )
        drill.check(
            "every delivery of the burst acknowledged", f"answers {sorted(statuses)}", "all 200",
            statuses == {200},
        )  # fmt: skip
        visible = _all_visible(stack, expected, since=last_ack, within=60)
        drill.check(
            "last acknowledgement → every customer's points shown through the app proxy",
            f"{visible:.2f} s" if visible is not None else "not within 60 s",
            f"≤ {VISIBLE_CEILING_SECONDS:.0f} s",
            visible is not None and visible <= VISIBLE_CEILING_SECONDS,
        )
        _duplicates(drill, stack)
        _forged(drill, stack)
        _malformed(drill, stack, admin)
        ok, detail = balances_match({**expected, 7999: 77})
        drill.check("every balance exact", detail, "exactly the orders' points", ok)
        ok, line = ledger_check()
        drill.check("`manage.py check_ledger`", line, "no drift", ok)


def _all_visible(stack: Stack, expected: dict[int, int], *, since: float, within: float):
    """Seconds from `since` until every customer's balance read through the app proxy is
    exact. The database is watched first (a cheap query) so the proxy is not flooded; then
    every customer is read through the proxy, 8 at a time, until all show their points:
    the figure is when the last read showed it, an upper bound of when it became visible."""
    from concurrent.futures import ThreadPoolExecutor

    wait_until(lambda: balances_equal(balances(), expected), within=within, poll=0.02)
    waiting = dict(expected)

    def check() -> bool:
        with ThreadPoolExecutor(8) as pool:
            shown = dict(
                zip(
                    waiting,
                    pool.map(lambda c: account_balance(stack.standin_url, c), list(waiting)),
                    strict=True,
                )
            )
        for customer, balance in shown.items():
            if balance == waiting[customer]:
                del waiting[customer]
        return not waiting

    if wait_until(check, within=within, poll=0.05) is None:
        return None
    return time.monotonic() - since


def balances_equal(held: dict[int, int], expected: dict[int, int]) -> bool:
    return all(held.get(customer, 0) == points for customer, points in expected.items())


def _duplicates(drill: Drill, stack: Stack) -> None:
    order = order_delivery(200_001, 7999, "77.50")
    answers = [order.send(stack.url)[0] for _ in range(5)]
    renamed = Delivery(order.topic, order.body, "wh-renamed-200001", order.event_id)
    answers.append(renamed.send(stack.url)[0])
    shown = wait_until(lambda: account_balance(stack.standin_url, 7999) == 77, within=60)
    # Let any second job run its course before looking again.
    wait_until(lambda: not _open_deliveries(), within=60)
    time.sleep(0.5)
    balance = account_balance(stack.standin_url, 7999)
    rows = rows_with_ids([order.webhook_id, renamed.webhook_id])
    drill.step(
        "one order sent five times under one webhook id, then under a new webhook id with "
        f"the same `X-Shopify-Event-Id`: answers {answers}, {rows} delivery stored, balance "
        f"{balance} (shown after {shown or 0:.2f} s)"
    )
    drill.check(
        "five resends + the same event under a new webhook id",
        f"{rows} row, balance {balance}, {earned_entries().get('earned', 0)} earned entries "
        f"in all", "all 200, 1 row, balance 77 (credited once)",
        set(answers) == {200} and rows == 1 and balance == 77,
    )  # fmt: skip


def _open_deliveries() -> int:
    return status_counts().get("received", 0)


def _forged(drill: Drill, stack: Stack) -> None:
    from standin.signing import webhook_headers

    body = order_delivery(200_002, 7998, "500.00").body
    headers = webhook_headers(
        topic="orders/paid", shop=SHOP, body=body, secret="not-the-app-secret",
        webhook_id="wh-forged-1", event_id="ev-forged-1",
    )  # fmt: skip
    answer = requests.post(f"{stack.url}/webhooks", data=body, headers=headers, timeout=10)
    rows = rows_with_ids(["wh-forged-1"])
    drill.step(f"a delivery signed with another secret: {answer.status_code}, {rows} rows")
    drill.check(
        "forged delivery (bad HMAC)", f"{answer.status_code}, {rows} rows stored",
        "401, no row", answer.status_code == 401 and rows == 0,
    )  # fmt: skip


@dataclass
class AdminSession:
    url: str
    token: str
    status: int

    def call(self, method: str, path: str) -> requests.Response:
        return requests.request(
            method, f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )  # fmt: skip


def _admin_session(stack: Stack) -> AdminSession:
    """The merchant's embedded admin: a session token as App Bridge would send it (the
    first call installs the shop by token exchange with the stand-in)."""
    from standin.signing import session_token

    token = session_token(shop=SHOP, api_key=API_KEY, secret=harness.APP_SECRET, lifetime=3600)
    session = AdminSession(stack.url, token, 0)
    session.status = session.call("GET", "/api/admin/deliveries?status=failed").status_code
    return session


def _malformed(drill: Drill, stack: Stack, admin: AdminSession) -> None:
    body = b'{"greeting": "this is not an order"}'
    malformed = Delivery("orders/paid", body, "wh-malformed-1", "ev-malformed-1")
    status, _ = malformed.send(stack.url)
    failed = _failed_in_admin(admin, attempts=1)
    listed = manage("deliveries", "list", "--status", "failed")
    drill.step(
        f"a signed delivery whose body is not an order: {status}; admin API shows "
        f"{_describe(failed)}; `manage.py deliveries list --status failed` shows "
        f"`{listed.splitlines()[0] if listed else '(nothing)'}`"
    )
    replayed = (
        admin.call("POST", f"/api/admin/deliveries/{failed['id']}/replay") if failed else None
    )
    again = _failed_in_admin(admin, attempts=2) if replayed is not None else None
    drill.step(
        f"Retry through the admin API: {replayed.status_code if replayed else '-'}, then "
        f"{_describe(again)}"
    )
    drill.check(
        "malformed delivery (signed, not an order)",
        f"{status}; kept and shown failed: {'yes' if failed and listed else 'no'}; retried: "
        f"{'attempt 2 failed again' if again else 'no'}",
        "200, kept, shown failed, retry possible",
        status == 200 and failed is not None and again is not None
        and str(failed["id"]) in listed,
    )  # fmt: skip


def _failed_in_admin(admin: AdminSession, *, attempts: int) -> dict | None:
    """The malformed delivery as the merchant's Sync page lists it, once it has failed
    `attempts` times (waits up to 15 s)."""
    found: dict = {}

    def check() -> bool:
        answer = admin.call("GET", "/api/admin/deliveries?status=failed")
        for delivery in answer.json().get("deliveries", []) if answer.ok else []:
            if delivery["attempts"] >= attempts:
                found.update(delivery)
                return True
        return False

    return found if wait_until(check, within=60, poll=0.2) is not None else None


def _describe(delivery: dict | None) -> str:
    if not delivery:
        return "nothing"
    return (
        f"delivery {delivery['id']} {delivery['status']} after {delivery['attempts']} "
        f'attempt(s): "{delivery["last_error"]}"'
    )


DrillRun = Callable[[Drill, harness.Processes, argparse.Namespace], None]
# name: (title, what it proves, how it runs), in the order they run.
DRILLS: dict[str, tuple[str, str, DrillRun]] = {
    "end_to_end": (
        "1. End to end",
        "signed deliveries sent as Shopify sends them are acknowledged, credited and shown "
        "to the shopper through the signed app proxy within seconds; retries and the same "
        "event under a new webhook id credit once; a forged delivery stores nothing; a "
        "malformed one is kept, shown failed to the merchant and can be retried.",
        end_to_end,
    ),
    "worker_killed": drill_faults.WORKER_KILLED,
    "worker_killed_quiet": drill_faults.WORKER_KILLED_QUIET,
    "redis_down": drill_faults.REDIS_DOWN,
    "postgres_down": drill_faults.POSTGRES_DOWN,
    "storm": drill_storm.STORM,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=list(DRILLS), action="append", help="repeatable")
    parser.add_argument("--orders", type=int, default=200, help="the end-to-end burst")
    parser.add_argument("--backlog", type=int, default=10000, help="worker_killed's backlog")
    parser.add_argument(
        "--worker-nice",
        type=int,
        help="the workers' WORKER_NICE (default: the app's, 10); 0 on a machine so busy "
        "that a niced worker starves",
    )
    parser.add_argument("--no-write", action="store_true", help="leave RELIABILITY.md alone")
    args = parser.parse_args()
    if args.worker_nice is not None:
        # harness.app_env passes this process's environment on to the app's processes.
        os.environ["WORKER_NICE"] = str(args.worker_nice)
    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    results: list[Drill] = []
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary() + (
                f"; WORKER_NICE={args.worker_nice}" if args.worker_nice is not None else ""
            )
            harness.database_create()
            harness.django_setup()
            for name in args.only or list(DRILLS):
                harness.truncate_app_tables()
                harness.redis_flush()
                program_set()
                print(f"\n{name}", flush=True)
                title, proves, run = DRILLS[name]
                drill = Drill(name, title, proves)
                started, load = time.monotonic(), os.getloadavg()[0]
                try:
                    run(drill, processes, args)
                except Exception as error:  # noqa: BLE001 - a drill that breaks is a FAIL
                    drill.failed(error)
                drill.seconds = time.monotonic() - started
                drill.loads = (load, os.getloadavg()[0])
                print(f"{name}: {harness.verdict(drill.passed)} in {drill.seconds:.0f} s")
                results.append(drill)
        finally:
            watcher_close()
            harness.cleanup(processes)
    for drill in results:
        harness.publish(
            f"drill-{drill.name}", drill.section(machine), write=not args.no_write,
            document=RELIABILITY_MD, intro=INTRO,
        )  # fmt: skip
    print("\n" + ", ".join(f"{d.name} {harness.verdict(d.passed)}" for d in results))
    sys.exit(0 if results and all(d.passed for d in results) else 1)


if __name__ == "__main__":
    main()
