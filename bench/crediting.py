"""Crediting: how fast the workers turn stored order deliveries into points, beside what
PostgreSQL alone does on this machine, and how soon a shopper sees an order's points.

    .venv/bin/python bench/crediting.py [--orders 100000]

One command, in one run, on one database (its own, dropped at the end):

1. pgbench in that database (`pgbench -i`, then tpcb-like and select-only runs with as
   many clients as a worker process has threads): the database's ceiling here;
2. N signed `orders/create` deliveries stored straight in the inbox (status received,
   bodies from tests.factories.order_payload: varying customers, some of them regulars, a
   few guest orders) and drained by ONE worker process as the Procfile starts it
   (`dramatiq config.worker --processes 1 --threads 8`), then the same inbox again (the
   tables emptied and the same deliveries stored) by TWO (`--processes 2`): orders/s,
   orders/s per process, CPU per component, peak RSS of each worker process; after each,
   every delivery processed, `manage.py check_ledger` finds no drift and each member holds
   exactly the points their orders earn;
3. gunicorn (the Procfile's `web:`) and one worker process, new orders sent over HTTP at a
   steady rate, and the time from each acknowledgement to the new balance shown by
   `GET /proxy/api/account` (bench/crediting_latency.py), with the peak RSS of the
   gunicorn and worker processes.

Writes docs/PERFORMANCE.md's section (bench/crediting_report.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import crediting_latency
import crediting_orders
import crediting_report
import harness
import measure
import pgbench_ceiling

LOG_DIR = Path(__file__).with_name("logs")
# Give up when nothing has been processed for this long (a stuck worker) ...
STALL_SECONDS = 60.0
POLL_SECONDS = 0.25
PROFILE = LOG_DIR / "crediting-worker.py-spy.txt"


@dataclass
class Drain:
    """One drain of the stored inbox by `processes` worker processes."""

    processes: int
    orders: int
    seconds: float
    send_seconds: float
    statuses: dict[str, int]
    ledger_ok: bool
    ledger_output: str
    points_ok: bool
    points_detail: str
    cores: dict[str, float]
    # (pid, is dramatiq's main process, peak RSS in bytes) of each process of the worker.
    rss: list[tuple[int, bool, int]]

    @property
    def orders_per_second(self) -> float:
        return self.statuses.get("processed", 0) / self.seconds

    @property
    def all_processed(self) -> bool:
        return self.statuses == {"processed": self.orders}


def ledger_check(env: dict[str, str]) -> tuple[bool, str]:
    """`manage.py check_ledger`: (no drift, what it printed)."""
    check = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return check.returncode == 0, (check.stdout + check.stderr).strip()


def inbox_fill(orders: crediting_orders.Orders) -> list[int]:
    """Empty the app's tables and the broker, then store the bench shop and the deliveries
    afresh, so that every drain starts from the same inbox."""
    from django.db import connection

    from tests.factories import shop

    harness.truncate_app_tables()
    harness.redis_flush()
    # Spelled out rather than left to the defaults, so the expected points are certain.
    shop(harness.SHOP, points_per_unit=Decimal("1"), rounding="down", hold_days=0)
    ids = crediting_orders.deliveries_store(orders)
    with harness.bench_db() as conn:
        conn.execute("VACUUM ANALYZE")
    # The workers get every database connection they want; ours stays out of their way.
    connection.close()
    return ids


def drain(
    orders: crediting_orders.Orders,
    *,
    worker_processes: int,
    args: argparse.Namespace,
    processes: harness.Processes,
) -> Drain:
    """Store the inbox, start `worker_processes` worker processes, send every delivery to
    them (webhooks.tasks.process_delivery) and time until none is left unprocessed."""
    from webhooks.tasks import process_delivery

    ids = inbox_fill(orders)
    env = harness.app_env()
    name = f"crediting-worker-{worker_processes}"
    argv = harness.dramatiq_argv(processes=worker_processes, threads=args.threads)
    worker = processes.start(name, argv, env)
    harness.wait_for_log(processes, name, harness.WORKER_READY)
    print(f"{worker_processes} worker process(es) ready; sending {len(ids):,} ...", flush=True)
    meter = measure.CpuMeter({"worker": worker.pid})
    memory = measure.RssMeter({"worker": worker.pid})
    memory.sample()
    if args.profile and worker_processes == 1:
        measure.profile_start(
            processes, "profile", pid=worker.pid, seconds=args.profile, output=PROFILE, gil=True
        )
    started = time.monotonic()
    for delivery_id in ids:
        process_delivery.send(delivery_id)
    send_seconds = time.monotonic() - started
    deadline = started + args.timeout
    last_progress, last_left, last_memory = time.monotonic(), len(ids), 0.0
    while True:
        statuses = crediting_orders.status_counts()
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
        if now - last_memory >= 1.0:
            memory.sample()
            last_memory = now
        time.sleep(POLL_SECONDS)
    seconds = time.monotonic() - started
    cores = meter.cores()
    memory.sample()
    processes.stop(worker)
    ledger_ok, ledger_output = ledger_check(env)
    points_ok, points_detail = crediting_orders.points_check(orders)
    result = Drain(
        processes=worker_processes,
        orders=len(ids),
        seconds=seconds,
        send_seconds=send_seconds,
        statuses=crediting_orders.status_counts(),
        ledger_ok=ledger_ok,
        ledger_output=ledger_output,
        points_ok=points_ok,
        points_detail=points_detail,
        cores=cores,
        rss=memory.peak_by_process("worker"),
    )
    print(
        f"{worker_processes} process(es): {result.orders_per_second:,.0f} orders/s, "
        f"ledger {'ok' if ledger_ok else 'DRIFT'}, points {'ok' if points_ok else 'WRONG'}",
        flush=True,
    )
    return result


@dataclass
class Visible:
    """The ack-to-visible run and what was measured around it."""

    latency: crediting_latency.Latency
    web_workers: int
    cores: dict[str, float]
    rss: dict[str, list[tuple[int, bool, int]]]
    ledger_ok: bool
    ledger_output: str


def visible_run(args: argparse.Namespace, processes: harness.Processes) -> Visible:
    """Gunicorn and one worker process on the drained shop; orders at a steady rate."""
    env = harness.app_env(WEB_CONCURRENCY=str(args.web_workers))
    harness.redis_flush()
    worker = processes.start("visible-worker", harness.dramatiq_argv(threads=args.threads), env)
    harness.wait_for_log(processes, "visible-worker", harness.WORKER_READY)
    port = harness.free_port()
    web_argv = harness.gunicorn_argv("config.wsgi", port=port, workers=args.web_workers)
    web = processes.start("visible-web", web_argv, env)
    harness.wait_for_port(port, web)
    with harness.bench_db() as conn:
        shop_id = conn.execute(
            "SELECT id FROM loyalty_shop WHERE domain = %s", [harness.SHOP]
        ).fetchone()[0]
    crediting_latency.warm_up(port=port, shop_id=shop_id)
    groups = {"web": web.pid, "worker": worker.pid}
    meter = measure.CpuMeter(groups)
    memory = measure.RssMeter(groups)

    def sample() -> None:
        meter.sample()
        memory.sample()

    print(f"sending {args.rate:.0f} orders/s for {args.latency_seconds:.0f} s ...", flush=True)
    latency = crediting_latency.ack_to_visible(
        port=port,
        shop_id=shop_id,
        rate=args.rate,
        seconds=args.latency_seconds,
        customers=args.customers,
        sample=sample,
    )
    cores = meter.cores()
    processes.stop(web)
    processes.stop(worker)
    ledger_ok, ledger_output = ledger_check(env)
    return Visible(
        latency=latency,
        web_workers=args.web_workers,
        cores=cores,
        rss={name: memory.peak_by_process(name) for name in groups},
        ledger_ok=ledger_ok,
        ledger_output=ledger_output,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8, help="worker threads (Procfile: 8)")
    parser.add_argument(
        "--worker-processes",
        default="1,2",
        help="the drains to run, by worker process count (default 1,2)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="give up a drain after s")
    parser.add_argument("--pgbench-seconds", type=int, default=30, help="each; 0 skips it")
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="ack-to-visible orders/s")
    parser.add_argument(
        "--latency-seconds", type=float, default=60.0, help="ack-to-visible duration; 0 skips it"
    )
    parser.add_argument("--customers", type=int, default=3000, help="ack-to-visible customers")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn (Procfile: 2)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="sample the one-process worker with py-spy for the first SECONDS",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if not 1 <= args.orders <= 1_000_000:
        parser.error("--orders must be 1..1000000")
    try:
        counts = [int(n) for n in args.worker_processes.split(",")]
    except ValueError:
        parser.error("--worker-processes takes counts separated by commas, such as 1,2")
    if not counts or not all(1 <= n <= 8 for n in counts):
        parser.error("--worker-processes: each count must be 1..8")
    if args.latency_seconds and not 1 <= args.rate <= 1000:
        parser.error("--rate must be 1..1000 orders/s")

    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    ceiling, visible = [], None
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary()
            harness.database_create()
            harness.redis_flush()
            harness.django_setup()
            if args.pgbench_seconds:
                print(f"pgbench, {args.threads} clients, {args.pgbench_seconds} s each", flush=True)
                ceiling = pgbench_ceiling.pgbench_ceiling(
                    clients=args.threads, seconds=args.pgbench_seconds, scale=args.pgbench_scale
                )
            print(f"building {args.orders:,} signed order deliveries ...", flush=True)
            orders = crediting_orders.orders_build(args.orders)
            drains = [
                drain(orders, worker_processes=count, args=args, processes=processes)
                for count in counts
            ]
            if args.latency_seconds:
                visible = visible_run(args, processes)
            load_after = os.getloadavg()[0]
        finally:
            harness.cleanup(processes)
    text = crediting_report.report(
        orders=orders,
        ceiling=ceiling,
        drains=drains,
        visible=visible,
        args=args,
        machine=machine,
        load_after=load_after,
    )
    if args.profile:
        print(measure.profile_summary(PROFILE, within="process_delivery"))
    harness.publish("crediting", text, write=not args.no_write)


if __name__ == "__main__":
    main()
