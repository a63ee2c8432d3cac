"""Drills 2 to 4: a worker killed mid-backlog, Redis unreachable, PostgreSQL unreachable.

Each ends with the exact checks: every delivery processed, every member's balance equal
to what their orders earn, one earned entry per earning order, `manage.py check_ledger`.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import crediting_orders as crediting
import harness
from drill_proxy import TcpProxy
from drill_report import Drill
from drill_support import (
    PG_PORT,
    REDIS_PORT,
    SWEEP_AFTER_SECONDS,
    TICK_SECONDS,
    Stack,
    Ticker,
    balances_match,
    earned_entries,
    ledger_check,
    order_delivery,
    percentile,
    points_of,
    rows_with_ids,
    send_all,
    status_counts,
    wait_until,
)

COMPRESSED = (
    f"the scheduler's minute compressed to {TICK_SECONDS:.0f} s and "
    f"`WEBHOOK_SWEEP_AFTER_SECONDS` to {SWEEP_AFTER_SECONDS} (production: 60 and 60)"
)
RECOVERY_CEILING_SECONDS = 60.0
QUIET_BACKLOG = 100
QUIET_WAIT_SECONDS = 90.0
OUTAGE_SECONDS = 5.0


def _exact(drill: Drill, expected: dict[int, int], orders: int):
    statuses = status_counts()
    drill.check(
        "every delivery processed", ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        f"all {orders} processed", statuses == {"processed": orders},
    )  # fmt: skip
    ok, detail = balances_match(expected)
    earned = earned_entries().get("earned", 0)
    drill.check(
        "every order credited exactly once", f"{detail}; {earned} earned entries",
        f"exact balances, {orders} earned entries", ok and earned == orders,
    )  # fmt: skip
    ok, line = ledger_check()
    drill.check("`manage.py check_ledger`", line, "no drift", ok)


def _batch(first: int, count: int, expected: dict[int, int], *, customers: int = 30):
    """`count` paid orders from `first` on, spread over `customers` customers; adds what
    each earns to `expected`."""
    deliveries = []
    for n in range(first, first + count):
        customer, subtotal = 8000 + n % customers, f"{10 + (n * 37) % 400}.{n % 100:02d}"
        deliveries.append(order_delivery(300_000 + n, customer, subtotal))
        expected[customer] = expected.get(customer, 0) + points_of(subtotal)
    return deliveries


def _all_processed(total: int) -> bool:
    return status_counts().get("processed", 0) >= total


# 2. Worker killed


def worker_killed(drill: Drill, processes: harness.Processes, args: argparse.Namespace) -> None:
    _worker_killed(drill, processes, backlog=args.backlog, within=240)


def worker_killed_quiet(drill: Drill, processes: harness.Processes, _: argparse.Namespace):
    # A quiet shop: no traffic behind the lost jobs to show the sweeper they were lost.
    _worker_killed(drill, processes, backlog=QUIET_BACKLOG, within=QUIET_WAIT_SECONDS)


def _worker_killed(drill: Drill, processes: harness.Processes, *, backlog: int, within: float):
    from tests.factories import shop

    shop(harness.SHOP, points_per_unit=Decimal("1"), rounding="down", hold_days=0)
    orders = crediting.orders_build(backlog)
    # As if they had arrived at 100 a second: the sweeper tells a lost job by how far the
    # workers have got past it in arrival order.
    start = datetime.now(UTC) - timedelta(seconds=backlog / 100)
    orders.rows = [
        (*row[:7], start + timedelta(milliseconds=10 * n)) for n, row in enumerate(orders.rows)
    ]
    ids = crediting.deliveries_store(orders)
    from django.db import connection

    from webhooks.tasks import process_delivery

    connection.close()
    stack = Stack(processes)
    try:
        with Ticker(REDIS_PORT):
            stack.start_worker()
            for delivery_id in ids:
                process_delivery.send(delivery_id)
            drill.step(
                f"{len(ids):,} order deliveries stored as received (as if arriving at 100/s), "
                f"sent to one worker process (8 threads); {COMPRESSED}"
            )
            half = len(ids) // 2
            wait_until(lambda: _all_processed(half), within=300, poll=0.05)
            os.killpg(stack.worker.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            done_at_kill = status_counts().get("processed", 0)
            processes.stop(stack.worker)
            stack.start_worker()
            ready = time.monotonic() - killed_at
            drill.step(
                f"worker SIGKILLed (its whole process group) with {done_at_kill:,} processed; "
                f"a new one ready {ready:.1f} s later"
            )
            recovered = wait_until(lambda: _all_processed(len(ids)), within=within, poll=0.2)
    finally:
        stack.stop()
    total = time.monotonic() - killed_at
    sweeps, resent = stack.sweeper_resends()
    drill.step(
        f"the sweeper re-sent {resent} deliveries in {sweeps} sweeps (the jobs the killed "
        "worker had taken stay with it; dramatiq hands them back only after a 60 s "
        "heartbeat timeout, on a random maintenance pass)"
    )
    drill.check(
        "kill → every delivery processed", f"{total:.1f} s" if recovered is not None else
        f"not within {within:.0f} s", f"≤ {RECOVERY_CEILING_SECONDS:.0f} s",
        recovered is not None and total <= RECOVERY_CEILING_SECONDS,
    )  # fmt: skip
    statuses = status_counts()
    drill.check(
        "every delivery processed", ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        f"all {len(ids):,} processed", statuses == {"processed": len(ids)},
    )  # fmt: skip
    ok, detail = crediting.points_check(orders)
    drill.check("every order credited exactly once", detail, "exact", ok)
    ok, line = ledger_check()
    drill.check("`manage.py check_ledger`", line, "no drift", ok)


# 3. Redis unreachable


def redis_down(drill: Drill, processes: harness.Processes, args: argparse.Namespace) -> None:
    expected: dict[int, int] = {}
    before, during, after = _batch(0, 60, expected), _batch(60, 100, expected), []
    proxy = TcpProxy(REDIS_PORT)
    stack = Stack(processes, redis_port=proxy.port)
    try:
        stack.start()
        drill.step(
            "gunicorn and one worker process reach Redis through a TCP proxy the drill "
            f"controls; {COMPRESSED}"
        )
        with Ticker(proxy.port) as ticker:
            send_all(stack.url, before)
            wait_until(lambda: _all_processed(len(before)), within=120)
            proxy.cut()
            answers = send_all(stack.url, during, threads=4)
            stored = status_counts()
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()
            back_at = time.monotonic()
            after = _batch(160, 20, expected)
            late = send_all(stack.url, after, threads=4)
            total = len(before) + len(during) + len(after)
            caught = wait_until(lambda: _all_processed(total), within=120, poll=0.2)
            caught_up = time.monotonic() - back_at
            resending, resent = stack.sweeper_resends()
            sweeps = (
                f"{ticker.sent} sweeps enqueued ({ticker.failed} could not be while cut), "
                f"{resending} of them re-sent {resent} deliveries"
            )
        worker_alive = stack.worker.poll() is None and stack.worker_starts == 1
    finally:
        stack.stop()
        proxy.close()
    codes = sorted({status for status, _, _ in answers})
    slowest = max(seconds for _, seconds, _ in answers) * 1000
    drill.step(
        f"{len(before)} orders credited, then Redis cut (open connections closed, new ones "
        f"refused) for {OUTAGE_SECONDS:.0f} s while {len(during)} more arrived: answers "
        f"{codes}, median {percentile([s for _, s, _ in answers], 0.5) * 1000:.0f} ms, slowest "
        f"{slowest:.0f} ms; stored {stored}"
    )
    drill.step(
        f"Redis back; {len(after)} more arrived at once (answers "
        f"{sorted({s for s, _, _ in late})}); {sweeps}; the same worker process "
        f"{'kept running' if worker_alive else 'was restarted'}"
    )
    drill.check(
        "deliveries while Redis is unreachable", f"answers {codes}, slowest {slowest:.0f} ms, "
        f"{stored.get('received', 0)} stored", f"all 200 within 5 s (Shopify's timeout), all "
        f"{len(during)} stored", codes == [200] and slowest < 5000
        and stored.get("received", 0) == len(during),
    )  # fmt: skip
    drill.check(
        "Redis back → every delivery credited (sweeper)",
        f"{caught_up:.1f} s" if caught is not None else "not within 120 s",
        f"≤ {RECOVERY_CEILING_SECONDS:.0f} s, no worker restart",
        caught is not None and caught_up <= RECOVERY_CEILING_SECONDS and worker_alive,
    )
    _exact(drill, expected, len(before) + len(during) + len(after))


# 4. PostgreSQL unreachable


def postgres_down(drill: Drill, processes: harness.Processes, args: argparse.Namespace) -> None:
    expected: dict[int, int] = {}
    before, in_flight = _batch(0, 60, expected), _batch(60, 60, expected)
    during = _batch(120, 60, expected)
    proxy = TcpProxy(PG_PORT)
    stack = Stack(processes, pg_port=proxy.port)
    try:
        stack.start()
        drill.step(
            "gunicorn and one worker process reach PostgreSQL through a TCP proxy the drill "
            f"controls; {COMPRESSED}"
        )
        with Ticker(REDIS_PORT):
            send_all(stack.url, before)
            wait_until(lambda: _all_processed(len(before)), within=120)
            send_all(stack.url, in_flight)
            proxy.cut()
            answers = send_all(stack.url, during, threads=4)
            half_stored = _rows_now(during)
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()
            back_at = time.monotonic()
            rounds, answered = _resend_until_acknowledged(stack.url, during)
            total = len(before) + len(in_flight) + len(during)
            caught = wait_until(lambda: _all_processed(total), within=120, poll=0.2)
            caught_up = time.monotonic() - back_at
        worker_alive = stack.worker.poll() is None and stack.worker_starts == 1
        retried = sum("Retrying message" in line for line in stack.worker_log_lines())
        resending, resent = stack.sweeper_resends()
    finally:
        stack.stop()
        proxy.close()
    codes = sorted({status for status, _, _ in answers})
    slowest = max(seconds for _, seconds, _ in answers) * 1000
    drill.step(
        f"{len(before)} orders credited; {len(in_flight)} more acknowledged, then PostgreSQL "
        f"cut at once (the worker busy with them) for {OUTAGE_SECONDS:.0f} s while "
        f"{len(during)} more arrived: answers {codes}, median "
        f"{percentile([s for _, s, _ in answers], 0.5) * 1000:.0f} ms, slowest "
        f"{slowest:.0f} ms; rows of those stored: {half_stored}"
    )
    drill.step(
        f"PostgreSQL back; the {len(during)} refused deliveries resent byte for byte, as "
        f"Shopify's retries are: {rounds} round(s), answers {answered}; {retried} jobs "
        f"that met the cut database retried by dramatiq, {resent} deliveries re-sent by "
        f"the sweeper in {resending} sweeps; the same worker process "
        f"{'kept running' if worker_alive else 'was restarted'}"
    )
    drill.check(
        "deliveries while PostgreSQL is unreachable",
        f"answers {codes}, slowest {slowest:.0f} ms, {half_stored} rows",
        "an error status (not 2xx) within 5 s, no row", 200 not in codes and 0 not in codes
        and slowest < 5000 and half_stored == 0,
    )  # fmt: skip
    drill.check(
        "PostgreSQL back → resent deliveries and in-flight jobs credited",
        f"{caught_up:.1f} s" if caught is not None else "not within 120 s",
        f"≤ {RECOVERY_CEILING_SECONDS:.0f} s, no worker restart",
        caught is not None and caught_up <= RECOVERY_CEILING_SECONDS and worker_alive,
    )
    _exact(drill, expected, len(before) + len(in_flight) + len(during))


def _rows_now(deliveries) -> int:
    return rows_with_ids([d.webhook_id for d in deliveries])


def _resend_until_acknowledged(app_url: str, deliveries, *, rounds: int = 5):
    """Resend every delivery not yet acknowledged, a second apart, as Shopify retries."""
    waiting, answers = list(deliveries), set()
    for round_ in range(1, rounds + 1):
        results = send_all(app_url, waiting, threads=4)
        answers |= {status for status, _, _ in results}
        waiting = [d for d, (status, _, _) in zip(waiting, results, strict=True) if status != 200]
        if not waiting:
            return round_, sorted(answers)
        time.sleep(1)
    return rounds, sorted(answers)


WORKER_KILLED = (
    "2. Worker killed mid-backlog",
    "a worker killed with SIGKILL while draining a backlog (its jobs in progress and the "
    "messages it had fetched are lost with it) loses nothing and doubles nothing once a "
    "new worker runs: the sweeper re-sends the lost deliveries, a re-sent job for a "
    "delivery already processed changes nothing.",
    worker_killed,
)
WORKER_KILLED_QUIET = (
    "2b. Worker killed in a quiet shop",
    f"the same with a backlog of {QUIET_BACKLOG} and nothing arriving after it: the lost "
    "jobs must still be found by the sweeper (it has no later deliveries to compare them "
    f"with); the drill waits at most {QUIET_WAIT_SECONDS:.0f} s.",
    worker_killed_quiet,
)
REDIS_DOWN = (
    "3. Redis unreachable",
    "while the broker cannot be reached, deliveries are still stored and acknowledged "
    "within Shopify's timeout; once it is back, the worker reconnects by itself and the "
    "sweeper sends the stored deliveries on, each credited once.",
    redis_down,
)
POSTGRES_DOWN = (
    "4. PostgreSQL unreachable",
    "while the database cannot be reached, intake answers an error at once (so Shopify "
    "retries) and stores nothing by halves; jobs that were running fail and are retried; "
    "once it is back, Shopify's resends are credited once and the worker goes on without "
    "a restart.",
    postgres_down,
)
