"""Webhook intake under load: how fast the app acknowledges signed deliveries, and at what
latency, beside the floors set by Django alone and by the least durable work possible;
held for ten minutes, and again with the workers stopped and a backlog in the inbox.

    .venv/bin/python bench/intake.py [--hold 600] [--baseline 60] [--backlog 100000]
                                     [--window 60] [--connections 8] [--web-workers 2]

wrk sends signed `orders/create` deliveries (every one new: its own webhook id, event id
and order) to five servers in turn, each started as the Procfile's `web:` line starts the
app. The baselines, --baseline s each:

1. a no-op Django view (bench/noop_settings.py), the floor of Django itself;
2. the minimal durable intake (bench/floor_app.py): HMAC, one committed INSERT, one LPUSH;
3. the app's intake with no worker and an empty inbox.

Then the app held for --hold s:

4. with the dramatiq worker and the scheduler running as the Procfile runs them;
5. with the workers stopped and --backlog deliveries stored, unprocessed, in the inbox
   beforehand (by COPY); the sweeper's queries run against it at the start of each window.

Every case is sent in back-to-back windows of --window s, one wrk each, carrying on in the
pool where the last one stopped, and reported window by window so that a slowdown shows.
Prints throughput, acknowledgement latency, CPU per component and the peak resident memory
of each gunicorn and dramatiq process; checks that every acknowledged delivery was stored
and none refused, and that the held cases did not degrade from their first window to their
last; and writes docs/PERFORMANCE.md's section.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import harness
import measure
from intake_report import CASES, Case, Result, Window, report, window_from

# The pool holds this many deliveries per second of the longest case: above the fastest
# durable case on two cores (the floor, ~1,700/s; the app stays below it), so no run
# should run out; one that does is reported invalid, not measured.
POOL_RATE_CEILING = 2000
WARMUP_DELIVERIES = 200
LUA_SCRIPT = Path(__file__).with_name("deliveries.lua")
LOG_DIR = Path(__file__).with_name("logs")
PROFILE = LOG_DIR / "intake-web.py-spy.txt"
DELIVERY_COLUMNS = (
    "shop_domain, topic, webhook_id, event_id, triggered_at, api_version, body, "
    "received_at, status, attempts, last_error"
)


def delivery_lines(
    count: int, *, prefix: str, first_order_id: int, seed: int, customers: int | None = None
) -> Iterator[str]:
    """`count` distinct signed orders/create deliveries as pool lines (see deliveries.lua)."""
    from standin.signing import webhook_headers
    from tests.factories import order_payload

    rng = random.Random(seed)
    customers = customers or count // 3 + 1
    for n in range(count):
        subtotal = Decimal(rng.randint(500, 30000)) / 100
        payload = order_payload(
            order_id=first_order_id + n,
            customer_id=rng.randint(1, customers),
            subtotal=str(subtotal),
        )
        body = json.dumps(payload).encode()
        headers = webhook_headers(
            topic="orders/create",
            shop=harness.SHOP,
            body=body,
            secret=harness.APP_SECRET,
            webhook_id=f"{prefix}-{n}",
            event_id=f"{prefix}-event-{n}",
            triggered_at="2026-11-20T10:00:00Z",
        )
        fields = [f"{name}: {value}" for name, value in headers.items()]
        yield "\t".join([*fields, body.decode()])


def pool_write(path: Path, *, threads: int, per_thread: int) -> int:
    """Sign `per_thread` distinct deliveries into POOL.<thread> for each wrk thread (so no
    two threads send the same one), a process per file; returns the average body size."""
    jobs = [(str(path), thread, threads, per_thread) for thread in range(threads)]
    # Forked, so the children have Django set up as this process has.
    context = multiprocessing.get_context("fork")
    workers = min(threads, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        sizes = list(pool.map(_pool_file_write, jobs))
    return sum(sizes) // len(sizes)


def _pool_file_write(job: tuple[str, int, int, int]) -> int:
    path, thread, threads, count = job
    body_bytes = 0
    lines = delivery_lines(
        count,
        prefix=f"bench-{thread}",
        first_order_id=10_000_000 + thread * count,
        seed=thread + 1,
        # Customers for the whole pool, about three orders each, as a single pool had.
        customers=count * threads // 3 + 1,
    )
    with open(f"{path}.{thread}", "w", newline="\n") as out:
        for line in lines:
            out.write(line + "\n")
            body_bytes += len(line) - line.rindex("\t") - 1
    return body_bytes // max(count, 1)


def backlog_store(count: int) -> float:
    """Store `count` orders/create deliveries in the inbox as intake would have, received
    over the hour before and never processed (status received), in one COPY as
    bench/crediting.py stores its orders; then VACUUM ANALYZE, as autovacuum would have
    done while they came in. Returns the seconds it took."""
    from tests.factories import order_payload

    started = time.monotonic()
    rng = random.Random(3)
    first = datetime.now(UTC) - timedelta(hours=1)
    with harness.bench_db() as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY webhooks_delivery ({DELIVERY_COLUMNS}) FROM STDIN") as copy:
            for n in range(count):
                subtotal = Decimal(rng.randint(500, 30000)) / 100
                payload = order_payload(
                    order_id=50_000_000 + n,
                    customer_id=rng.randint(1, count // 3 + 1),
                    subtotal=str(subtotal),
                )
                received = first + timedelta(seconds=3600 * n / count)
                copy.write_row((
                    harness.SHOP, "orders/create", f"backlog-{n}", f"backlog-event-{n}",
                    received.isoformat(), "2026-10", json.dumps(payload).encode(), received,
                    "received", 0, "",
                ))  # fmt: skip
        cursor.execute("VACUUM ANALYZE webhooks_delivery")
    return time.monotonic() - started


def warm_up(port: int, lines: list[str]) -> None:
    """Send a few deliveries before measuring, so every gunicorn worker has loaded the app
    and opened its connections; each must be acknowledged, or the setup is wrong."""

    def send(line: str) -> None:
        *fields, body = line.split("\t")
        headers = dict(field.split(": ", 1) for field in fields)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", "/webhooks", body=body.encode(), headers=headers)
            response = conn.getresponse()
            text = response.read()[:300]
        finally:
            conn.close()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"warm-up delivery got {response.status}: {text!r}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, lines))


def count_rows(table: str, where: str = "") -> int:
    with harness.bench_db() as conn:
        return conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]


def sweep_timed() -> tuple[float, int]:
    """Run the sweeper's queries once, as the worker's sweeper job would, sending nothing:
    milliseconds taken against the inbox as it stands, and how many it would send."""
    from webhooks.processing import deliveries_sweep

    found: list[int] = []
    started = time.perf_counter()
    deliveries_sweep(send=found.append)
    return (time.perf_counter() - started) * 1000, len(found)


def window_lengths(duration: int, window: int) -> list[int]:
    return [min(window, duration - start) for start in range(0, duration, window)]


def run_window(
    case: Case,
    index: int,
    seconds: int,
    *,
    args: argparse.Namespace,
    wrk: str,
    pool: Path,
    port: int,
    offsets: list[int] | None,
    groups: dict[str, int],
    also_sample: list[measure.CpuMeter | measure.MemoryMeter],
    processes: harness.Processes,
) -> tuple[dict, dict[str, float], tuple[float, int] | None]:
    """Run one wrk for `seconds` from `offsets` in the pool; return what it printed, the
    cores busy meanwhile and, in the backlog case, the sweeper's timing."""
    meter = measure.CpuMeter(groups, children="wrk")
    name = f"{case.name}-wrk-{index + 1}"
    argv = [
        wrk, "-t", str(args.wrk_threads), "-c", str(args.connections),
        "-d", f"{seconds}s", "--timeout", "10s", "-s", str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}/webhooks", "--", str(pool),
        "wrap" if case.table is None else "once",
        *([",".join(map(str, offsets))] if offsets else []),
    ]  # fmt: skip
    load = processes.start(name, argv, os.environ)
    sweep = sweep_timed() if case.backlog else None
    deadline = time.monotonic() + seconds + 180
    while load.poll() is None and time.monotonic() < deadline:
        for sampler in (meter, *also_sample):
            sampler.sample()
        time.sleep(1.0)
    if load.poll() is None:
        raise RuntimeError(f"wrk still runs {seconds + 180} s after it started")
    cores = meter.cores()
    if load.returncode != 0:
        raise RuntimeError(f"wrk exited with {load.returncode}: {processes.log_text(name)[-2000:]}")
    return parse_wrk(processes.log_text(name)), cores, sweep


def run_case(
    case: Case,
    *,
    args: argparse.Namespace,
    wrk: str,
    pool: Path,
    warmup_lines: list[str],
    processes: harness.Processes,
) -> Result:
    harness.truncate_app_tables()
    harness.redis_flush()
    backlog_seconds = backlog_store(args.backlog) if case.backlog and args.backlog else 0.0
    port = harness.free_port()
    env = harness.app_env(
        DJANGO_SETTINGS_MODULE=case.settings_module, WEB_CONCURRENCY=str(args.web_workers)
    )
    started = []
    groups: dict[str, int] = {}
    try:
        if case.worker:
            worker = processes.start(f"{case.name}-worker", harness.dramatiq_argv(), env)
            started.append(worker)
            harness.wait_for_log(processes, f"{case.name}-worker", harness.WORKER_READY)
            groups["worker"] = worker.pid
            scheduler = processes.start(f"{case.name}-scheduler", harness.scheduler_argv(), env)
            started.append(scheduler)
        web_argv = harness.gunicorn_argv(case.wsgi_app, port=port, workers=args.web_workers)
        web = processes.start(f"{case.name}-web", web_argv, env)
        started.append(web)
        groups = {"web": web.pid, **groups}
        harness.wait_for_port(port, web)
        warm_up(port, warmup_lines)
        before = count_rows(case.table) if case.table else 0
        waiting_before = count_rows(case.table, "WHERE status = 'received'") if case.table else 0
        done_before = count_rows(case.table, "WHERE status = 'processed'") if case.worker else 0
        # Over the whole case, which includes the moments between windows.
        meter = measure.CpuMeter(groups, children="wrk")
        memory = measure.MemoryMeter(groups)
        memory.sample()
        if args.profile and case.name == "app_alone":
            seconds = min(args.profile, args.baseline)
            measure.profile_start(
                processes, "profile", pid=web.pid, seconds=seconds, output=PROFILE
            )
        windows: list[Window] = []
        offsets = None
        elapsed = 0.0
        for index, seconds in enumerate(
            window_lengths(args.hold if case.held else args.baseline, args.window)
        ):
            figures, cores, sweep = run_window(
                case, index, seconds, args=args, wrk=wrk, pool=pool, port=port,
                offsets=offsets, groups=groups, also_sample=[meter, memory],
                processes=processes,
            )  # fmt: skip
            window = window_from(figures, start=elapsed, cores=cores, load=os.getloadavg()[0])
            if sweep is not None:
                window.sweep_ms, window.swept = sweep
            windows.append(window)
            elapsed += window.seconds
            offsets = figures["offsets"]
            if case.held:
                print(
                    f"  window {index + 1}: {window.requests_per_second:,.0f} req/s, "
                    f"p50 {window.p50_ms:.1f} ms, p99 {window.p99_ms:.1f} ms, "
                    f"load {window.load:.1f}",
                    flush=True,
                )
            if window.exhausted:
                break
        cores = meter.cores()
        memory.sample()
        # Let gunicorn finish what wrk stopped waiting for before counting what was stored.
        time.sleep(1.0)
        stored = count_rows(case.table) - before if case.table else None
        processed = failed = waiting_after = None
        if case.table and case.name.startswith("app"):
            waiting_after = count_rows(case.table, "WHERE status = 'received'")
        if case.worker:
            processed = count_rows(case.table, "WHERE status = 'processed'") - done_before
            failed = count_rows(case.table, "WHERE status = 'failed'")
    finally:
        for process in reversed(started):
            processes.stop(process)
    return Result(
        case=case,
        windows=windows,
        stored=stored,
        cores=cores,
        memory=memory.peaks(),
        processed=processed,
        failed=failed,
        waiting_before=waiting_before,
        waiting_after=waiting_after,
        backlog_seconds=backlog_seconds,
    )


def parse_wrk(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", type=int, default=600, help="seconds of each held case")
    parser.add_argument("--baseline", type=int, default=60, help="seconds of each baseline case")
    parser.add_argument("--window", type=int, default=60, help="seconds per reported window")
    parser.add_argument(
        "--backlog", type=int, default=100_000, help="deliveries waiting in the backlog case"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--pool-rate",
        type=int,
        default=POOL_RATE_CEILING,
        help="distinct deliveries prepared per second of the longest case",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="sample the app's gunicorn (no-worker baseline) with py-spy and print where "
        "its time goes; the sampling slows that case a little",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if not (1 <= args.hold <= 3600 and 1 <= args.baseline <= 3600):
        parser.error("--hold and --baseline must be 1..3600 s")
    if args.window < 5 or args.connections < 1 or args.backlog < 0:
        parser.error("--window must be at least 5 s, --connections 1, --backlog 0")
    args.wrk_threads = max(1, min(args.wrk_threads, args.connections))
    args.warmup = WARMUP_DELIVERIES
    return args


def main() -> None:
    args = arguments()
    wrk = harness.ensure_wrk()
    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    with harness.terminated_cleanly(), tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            harness.database_create()
            harness.django_setup()
            with harness.bench_db() as conn:
                conn.execute("CREATE TABLE bench_delivery (LIKE webhooks_delivery INCLUDING ALL)")
            longest = max(args.hold, args.baseline)
            per_thread = math.ceil(longest * args.pool_rate / args.wrk_threads)
            print(f"signing {per_thread * args.wrk_threads:,} deliveries for the pool ...")
            pool = Path(tmp) / "pool"
            body_bytes = pool_write(pool, threads=args.wrk_threads, per_thread=per_thread)
            warmup_lines = list(
                delivery_lines(WARMUP_DELIVERIES, prefix="warmup", first_order_id=1_000_000, seed=2)
            )
            machine = harness.machine_summary()
            results = []
            for case in CASES:
                seconds = args.hold if case.held else args.baseline
                print(f"{case.label}: {seconds} s ...", flush=True)
                result = run_case(
                    case, args=args, wrk=wrk, pool=pool, warmup_lines=warmup_lines,
                    processes=processes,
                )  # fmt: skip
                busy = ", ".join(f"{k} {v:.2f}" for k, v in result.cores.items())
                print(
                    f"  cores busy: {busy}\n"
                    f"  {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                    f"p99 {result.p99_ms:.1f} ms, sent {result.total('sent')}, acknowledged "
                    f"{result.total('acknowledged')}, stored {result.stored}, refused "
                    f"{result.total('refused')}",
                    flush=True,
                )
                results.append(result)
            load_after = os.getloadavg()[0]
        finally:
            harness.cleanup(processes)
    text = report(results, args, machine=machine, load_after=load_after, body_bytes=body_bytes)
    if args.profile:
        print(measure.profile_summary(PROFILE, within="intake"))
    harness.publish("intake", text, write=not args.no_write)


if __name__ == "__main__":
    main()
