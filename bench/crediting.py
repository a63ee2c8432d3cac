"""Crediting throughput: how many stored order deliveries one worker process turns into points
per second.

    .venv/bin/python bench/crediting.py [--orders 20000]

Stores N signed `orders/create` deliveries straight in the inbox (status received, bodies
from tests.factories.order_payload: varying customers, some of them regulars, a few guest
orders), starts ONE worker process as the Procfile does (`dramatiq config.worker
--processes 1 --threads 8`), sends every delivery to it (webhooks.tasks.process_delivery)
and times until none is left unprocessed. Then checks that every delivery was processed,
that `manage.py check_ledger` finds no drift, and that each member holds exactly the
points their orders earn. Writes docs/PERFORMANCE.md's section.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import harness
import measure

MIN_ORDERS_PER_SECOND = 150.0
LOG_DIR = Path(__file__).with_name("logs")
# Give up when nothing has been processed for this long (a stuck worker) ...
STALL_SECONDS = 60.0
POLL_SECONDS = 0.25
PROFILE = LOG_DIR / "crediting-worker.py-spy.txt"


@dataclass
class Orders:
    """The deliveries to store and what crediting them must give each customer."""

    rows: list[tuple] = field(default_factory=list)
    points_by_customer: dict[int, int] = field(default_factory=dict)
    earning_orders: int = 0
    guest_orders: int = 0

    @property
    def expected_points(self) -> int:
        return sum(self.points_by_customer.values())


def orders_build(count: int, *, seed: int = 7) -> Orders:
    """`count` signed orders/create deliveries: 5% guests, 20% from 50 regulars (several
    orders each, so jobs for one member meet), the rest from count/2 customers."""
    from standin.signing import webhook_headers
    from tests.factories import order_payload

    rng = random.Random(seed)
    orders = Orders()
    points: collections.Counter[int] = collections.Counter()
    received_at = datetime.now(UTC)
    for n in range(count):
        roll = rng.random()
        if roll < 0.05:
            customer_id = None
        elif roll < 0.25:
            customer_id = rng.randint(1, 50)
        else:
            customer_id = rng.randint(51, 51 + count // 2)
        subtotal = Decimal(rng.randint(100, 40000)) / 100
        order_id = 50_000_000 + n
        body = json.dumps(order_payload(order_id, customer_id, str(subtotal))).encode()
        headers = webhook_headers(
            topic="orders/create",
            shop=harness.SHOP,
            body=body,
            secret=harness.APP_SECRET,
            webhook_id=f"credit-{n}",
            event_id=f"credit-event-{n}",
            triggered_at=received_at,
        )
        orders.rows.append(
            (
                harness.SHOP,
                "orders/create",
                headers["X-Shopify-Webhook-Id"],
                headers["X-Shopify-Event-Id"],
                headers["X-Shopify-Triggered-At"],
                headers["X-Shopify-API-Version"],
                body,
                received_at,
            )
        )
        if customer_id is None:
            orders.guest_orders += 1
        else:
            # The shop's program below: 1 point per unit of currency, rounded down.
            points[customer_id] += int(subtotal.to_integral_value(rounding=ROUND_FLOOR))
            orders.earning_orders += 1
    orders.points_by_customer = dict(points)
    return orders


def deliveries_store(orders: Orders) -> list[int]:
    """Store the deliveries as the intake would have (status received); return their ids."""
    columns = (
        "shop_domain, topic, webhook_id, event_id, triggered_at, api_version, body, "
        "received_at, status, attempts, last_error"
    )
    with harness.bench_db() as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY webhooks_delivery ({columns}) FROM STDIN") as copy:
            for row in orders.rows:
                copy.write_row((*row, "received", 0, ""))
        cursor.execute("SELECT id FROM webhooks_delivery ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def status_counts() -> dict[str, int]:
    with harness.bench_db() as conn:
        return dict(conn.execute("SELECT status, count(*) FROM webhooks_delivery GROUP BY status"))


@dataclass
class Run:
    orders: int
    seconds: float
    send_seconds: float
    statuses: dict[str, int]
    ledger_ok: bool
    ledger_output: str
    points_ok: bool
    points_detail: str
    cores: dict[str, float]

    @property
    def orders_per_second(self) -> float:
        return self.statuses.get("processed", 0) / self.seconds

    @property
    def all_processed(self) -> bool:
        return self.statuses == {"processed": self.orders}


def credit(args: argparse.Namespace, processes: harness.Processes) -> tuple[Run, Orders]:
    harness.database_create()
    harness.redis_flush()
    harness.django_setup()
    from tests.factories import shop

    # Spelled out rather than left to the defaults, so the expected points are certain.
    shop(harness.SHOP, points_per_unit=Decimal("1"), rounding="down", hold_days=0)
    print(f"building {args.orders:,} signed order deliveries ...", flush=True)
    orders = orders_build(args.orders)
    ids = deliveries_store(orders)

    from django.db import connection

    from webhooks.tasks import process_delivery

    # The worker gets every database connection it wants; ours stays out of its way.
    connection.close()
    env = harness.app_env()
    argv = harness.dramatiq_argv(processes=1, threads=args.threads)
    worker = processes.start("crediting-worker", argv, env)
    harness.wait_for_log(processes, "crediting-worker", harness.WORKER_READY)
    print(f"worker ready; sending {len(ids):,} deliveries ...", flush=True)
    meter = measure.CpuMeter({"worker": worker.pid})
    if args.profile:
        measure.profile_start(
            processes, "profile", pid=worker.pid, seconds=args.profile, output=PROFILE, gil=True
        )
    started = time.monotonic()
    for delivery_id in ids:
        process_delivery.send(delivery_id)
    send_seconds = time.monotonic() - started
    deadline = started + args.timeout
    last_progress, last_left = time.monotonic(), len(ids)
    while True:
        statuses = status_counts()
        left = statuses.get("received", 0)
        now = time.monotonic()
        if left == 0:
            break
        if left < last_left:
            last_progress, last_left = now, left
        if now > deadline or now - last_progress > STALL_SECONDS:
            print(f"giving up with {left} deliveries unprocessed", flush=True)
            break
        meter.sample()
        time.sleep(POLL_SECONDS)
    seconds = time.monotonic() - started
    cores = meter.cores()
    processes.stop(worker)

    check = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    points_ok, points_detail = points_check(orders)
    run = Run(
        orders=len(ids),
        seconds=seconds,
        send_seconds=send_seconds,
        statuses=status_counts(),
        ledger_ok=check.returncode == 0,
        ledger_output=(check.stdout + check.stderr).strip(),
        points_ok=points_ok,
        points_detail=points_detail,
        cores=cores,
    )
    return run, orders


def points_check(orders: Orders) -> tuple[bool, str]:
    """Does every member hold exactly what their orders earn, and nobody else anything?"""
    with harness.bench_db() as conn:
        balances = dict(
            conn.execute("SELECT customer_id, balance FROM loyalty_member WHERE balance <> 0")
        )
        total, pending = conn.execute(
            "SELECT coalesce(sum(balance), 0), coalesce(sum(pending), 0) FROM loyalty_member"
        ).fetchone()
        entries = conn.execute("SELECT count(*) FROM loyalty_ledgerentry").fetchone()[0]
    wrong = {
        customer: (balances.get(customer, 0), points)
        for customer, points in orders.points_by_customer.items()
        if balances.get(customer, 0) != points
    }
    strangers = set(balances) - set(orders.points_by_customer)
    ok = (
        total == orders.expected_points
        and pending == 0
        and entries == orders.earning_orders
        and not wrong
        and not strangers
    )
    detail = (
        f"{total:,} points in {len(balances):,} members (expected {orders.expected_points:,} "
        f"in {len(orders.points_by_customer):,}), {entries:,} ledger entries (expected "
        f"{orders.earning_orders:,}), {len(wrong)} members with a wrong balance"
    )
    return ok, detail


def report(run: Run, orders: Orders, args: argparse.Namespace, machine: str) -> str:
    customers = len(orders.points_by_customer)
    statuses = ", ".join(f"{count:,} {status}" for status, count in sorted(run.statuses.items()))
    rate = max(run.orders_per_second, 1e-9)
    cpu = ", ".join(
        f"{name} {run.cores.get(name, 0):.2f} ({run.cores.get(name, 0) * 1000 / rate:.1f} ms)"
        for name in ("worker", "PostgreSQL", "Redis", "other")
    )
    ledger = "no drift" if run.ledger_ok else run.ledger_output.splitlines()[-1]
    rows = [
        f"| crediting throughput, one worker process | {run.orders_per_second:,.0f} orders/s "
        f"({run.orders:,} in {run.seconds:.1f} s) | ≥ {MIN_ORDERS_PER_SECOND:.0f} orders/s | "
        f"{harness.verdict(run.orders_per_second >= MIN_ORDERS_PER_SECOND)} |",
        f"| every delivery processed | {statuses} | all {run.orders:,} processed | "
        f"{harness.verdict(run.all_processed)} |",
        f"| `manage.py check_ledger` | {ledger} | no drift | {harness.verdict(run.ledger_ok)} |",
        f"| points credited | {run.points_detail} | exactly the orders' points | "
        f"{harness.verdict(run.points_ok)} |",
    ]
    return "\n".join(
        [
            "## Crediting (`bench/crediting.py`)",
            "",
            f"- Run: {machine}.",
            f"- Configuration: one worker process, `dramatiq config.worker --processes 1 "
            f"--threads {args.threads}`, on the same machine as PostgreSQL and Redis; "
            f"{run.orders:,} `orders/create` deliveries stored in the inbox beforehand, "
            f"{orders.guest_orders:,} of them guest orders, the others from {customers:,} "
            "customers (a fifth of the orders from 50 regulars); program 1 point per unit, "
            "no hold. Timed from the first job sent (sending all took "
            f"{run.send_seconds:.1f} s) until no delivery is left unprocessed.",
            f"- CPU while crediting, in cores of {os.cpu_count()} (and CPU ms per order): "
            f"{cpu}. Other is the rest of the machine, this script sending and polling "
            "included.",
            "",
            "| figure | measured | target | verdict |",
            "|---|---|---|---|",
            *rows,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=8, help="worker threads (Procfile: 8)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many s")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="sample the worker with py-spy for the first SECONDS and print where time goes",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if not 1 <= args.orders <= 1_000_000:
        parser.error("--orders must be 1..1000000")

    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary()
            run, orders = credit(args, processes)
        finally:
            harness.cleanup(processes)
    text = report(run, orders, args, machine)
    if args.profile:
        print(measure.profile_summary(PROFILE, within="process_delivery"))
    harness.publish("crediting", text, write=not args.no_write)


if __name__ == "__main__":
    main()
