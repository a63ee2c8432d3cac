"""Webhook intake under load: how fast the app acknowledges signed deliveries, and at what
latency, beside the floors set by Django alone and by the least durable work possible.

    .venv/bin/python bench/intake.py [--duration 30] [--connections 8] [--web-workers 2]

wrk sends signed `orders/create` deliveries (every one new: its own webhook id, event id
and order) to four servers, each started as the Procfile's `web:` line starts the app:

1. a no-op Django view (bench/noop_settings.py), the floor of Django itself;
2. the minimal durable intake (bench/floor_app.py): HMAC, one committed INSERT, one LPUSH;
3. the app's intake with a dramatiq worker running (Procfile `worker:`);
4. the app's intake with no worker.

Prints throughput and acknowledgement latency per case, checks that every acknowledged
delivery was stored and none was refused, and writes docs/PERFORMANCE.md's section.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import harness
import measure

# What the intake must reach.
MIN_SHARE_OF_FLOOR = 0.60
MAX_P99_MS = 50.0
# The pool holds this many deliveries per second of the run, well above the fastest durable
# case on two cores (~1,700/s), so no run should run out; one that does is reported
# invalid, not measured.
POOL_RATE_CEILING = 3000
WARMUP_DELIVERIES = 200
LUA_SCRIPT = Path(__file__).with_name("deliveries.lua")
LOG_DIR = Path(__file__).with_name("logs")
PROFILE = LOG_DIR / "intake-web.py-spy.txt"


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    wsgi_app: str
    # Table whose new rows count the stored deliveries; None for the no-op view.
    table: str | None
    worker: bool = False
    settings_module: str = "config.settings"


CASES = [
    Case("noop", "No-op Django view", "config.wsgi:application", None,
         settings_module="bench.noop_settings"),
    Case("floor", "Minimal durable intake", "bench.floor_app:application", "bench_delivery"),
    Case("app_worker", "App intake, worker running", "config.wsgi:application",
         "webhooks_delivery", worker=True),
    Case("app_alone", "App intake, no worker", "config.wsgi:application", "webhooks_delivery"),
]  # fmt: skip


@dataclass
class Result:
    case: Case
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    sent: int
    acknowledged: int
    refused: int
    refused_status: int
    socket_errors: int
    exhausted: bool
    # Deliveries of the run found in the table afterwards; None for the no-op view.
    stored: int | None
    # Deliveries the worker had processed, and had failed, when the run ended (worker case).
    processed: int | None = None
    failed: int | None = None
    # Cores each component kept busy on average during the run (CPU s / wall s).
    cores: dict[str, float] = field(default_factory=dict)

    @property
    def all_stored(self) -> bool:
        # A delivery wrk sent but stopped waiting for at the end may be stored or not; one
        # acknowledged must be stored, and nothing can be stored that was not sent.
        if self.stored is None:
            return True
        return self.acknowledged <= self.stored <= self.sent

    @property
    def serving_cpu_ms(self) -> float:
        """CPU milliseconds gunicorn, PostgreSQL and Redis spent per acknowledged request."""
        serving = sum(self.cores.get(name, 0.0) for name in ("web", "PostgreSQL", "Redis"))
        return serving * 1000 / self.requests_per_second

    @property
    def clean(self) -> bool:
        return (
            self.refused == 0 and self.socket_errors == 0 and not self.exhausted and self.all_stored
        )


def delivery_lines(count: int, *, prefix: str, first_order_id: int, seed: int) -> list[str]:
    """`count` distinct signed orders/create deliveries as pool lines (see deliveries.lua)."""
    from standin.signing import webhook_headers
    from tests.factories import order_payload

    rng = random.Random(seed)
    lines = []
    for n in range(count):
        subtotal = Decimal(rng.randint(500, 30000)) / 100
        payload = order_payload(
            order_id=first_order_id + n,
            customer_id=rng.randint(1, count // 3 + 1),
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
        lines.append("\t".join([*fields, body.decode()]))
    return lines


def write_pool(lines: list[str], path: Path, threads: int) -> None:
    """One file per wrk thread, dealt round-robin, so no two threads send the same one."""
    for thread in range(threads):
        Path(f"{path}.{thread}").write_text("\n".join(lines[thread::threads]) + "\n")


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
    port = harness.free_port()
    env = harness.app_env(
        DJANGO_SETTINGS_MODULE=case.settings_module, WEB_CONCURRENCY=str(args.web_workers)
    )
    started = []
    try:
        if case.worker:
            worker = processes.start(f"{case.name}-worker", harness.dramatiq_argv(), env)
            started.append(worker)
            harness.wait_for_log(processes, f"{case.name}-worker", harness.WORKER_READY)
        web_argv = harness.gunicorn_argv(case.wsgi_app, port=port, workers=args.web_workers)
        web = processes.start(f"{case.name}-web", web_argv, env)
        started.append(web)
        harness.wait_for_port(port, web)
        warm_up(port, warmup_lines)
        before = count_rows(case.table) if case.table else 0
        done_before = count_rows(case.table, "WHERE status = 'processed'") if case.worker else 0
        groups = {"web": web.pid, **({"worker": started[0].pid} if case.worker else {})}
        # Over the whole window, which includes wrk loading its pool before the run.
        meter = measure.CpuMeter(groups, children="wrk")
        wrk_argv = [
            wrk, "-t", str(args.wrk_threads), "-c", str(args.connections),
            "-d", f"{args.duration}s", "--timeout", "10s", "-s", str(LUA_SCRIPT),
            f"http://127.0.0.1:{port}/webhooks", "--", str(pool),
            "wrap" if case.table is None else "once",
        ]  # fmt: skip
        load = processes.start(f"{case.name}-wrk", wrk_argv, os.environ)
        started.append(load)
        if args.profile and case.name == "app_alone":
            seconds = min(args.profile, args.duration)
            measure.profile_start(
                processes, "profile", pid=web.pid, seconds=seconds, output=PROFILE
            )
        deadline = time.monotonic() + args.duration + 180
        while load.poll() is None and time.monotonic() < deadline:
            meter.sample()
            time.sleep(0.5)
        if load.poll() is None:
            raise RuntimeError(f"wrk still runs {args.duration + 180} s after it started")
        cores = meter.cores()
        if load.returncode != 0:
            log = processes.log_text(f"{case.name}-wrk")
            raise RuntimeError(f"wrk exited with {load.returncode}: {log[-2000:]}")
        figures = parse_wrk(processes.log_text(f"{case.name}-wrk"))
        # Let gunicorn finish what wrk stopped waiting for before counting what was stored.
        time.sleep(1.0)
        stored = count_rows(case.table) - before if case.table else None
        processed = (
            count_rows(case.table, "WHERE status = 'processed'") - done_before
            if case.worker
            else None
        )
        failed = count_rows(case.table, "WHERE status = 'failed'") if case.worker else None
    finally:
        for process in reversed(started):
            processes.stop(process)
    seconds = figures["duration_us"] / 1e6
    return Result(
        case=case,
        requests_per_second=figures["completed"] / seconds,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        sent=figures["sent"],
        acknowledged=figures["ok"],
        refused=figures["bad"],
        refused_status=figures["bad_status"],
        socket_errors=sum(
            figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        exhausted=bool(figures["exhausted"]),
        stored=stored,
        processed=processed,
        failed=failed,
        cores=cores,
    )


def parse_wrk(output: str) -> dict[str, float]:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")


def report(results: list[Result], args: argparse.Namespace, machine: str, body_bytes: int) -> str:
    by_name = {r.case.name: r for r in results}
    floor = by_name["floor"].requests_per_second
    noop = by_name["noop"].requests_per_second
    rows = []
    for r in results:
        stored = "n/a" if r.stored is None else f"{r.stored}"
        rows.append(
            f"| {r.case.label} | {r.requests_per_second:,.0f} | "
            f"{r.requests_per_second / floor:.0%} | {r.requests_per_second / noop:.0%} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.0f} | "
            f"{r.sent} / {r.acknowledged} / {stored} | {r.refused + r.socket_errors} |"
        )
    targets = []
    for name in ("app_worker", "app_alone"):
        r = by_name[name]
        share = r.requests_per_second / floor
        targets.append(
            f"| {r.case.label}: throughput ≥ {MIN_SHARE_OF_FLOOR:.0%} of the minimal durable "
            f"intake | {share:.0%} ({r.requests_per_second:,.0f} of {floor:,.0f} req/s) | "
            f"{harness.verdict(share >= MIN_SHARE_OF_FLOOR)} |"
        )
        targets.append(
            f"| {r.case.label}: p99 < {MAX_P99_MS:.0f} ms at {args.connections} connections | "
            f"{r.p99_ms:.1f} ms | {harness.verdict(r.p99_ms < MAX_P99_MS)} |"
        )
    for r in results:
        detail = f"{r.refused} non-2xx, {r.socket_errors} socket errors"
        if r.refused:
            detail += f" (one was {r.refused_status})"
        if r.stored is not None:
            detail += f", {r.stored} stored of {r.acknowledged} acknowledged"
        if r.exhausted:
            detail += ", POOL EXHAUSTED (run invalid: raise --pool-rate)"
        targets.append(
            f"| {r.case.label}: every delivery acknowledged 2xx and stored | {detail} | "
            f"{harness.verdict(r.clean)} |"
        )
    worker = by_name["app_worker"]
    components = ["web", "worker", "PostgreSQL", "Redis", "wrk", "other"]
    cpu_rows = [
        f"| {r.case.label} | "
        + " | ".join(f"{r.cores.get(name, 0):.2f}" for name in components)
        + f" | {sum(r.cores.values()):.2f} | "
        + ("— |" if r.case.worker else f"{r.serving_cpu_ms:.2f} |")
        for r in results
    ]
    return "\n".join(
        [
            "## Webhook intake (`bench/intake.py`)",
            "",
            f"- Run: {machine}.",
            f"- Configuration: gunicorn `--workers {args.web_workers}` (sync, as the Procfile), "
            f"DEBUG off; wrk {args.wrk_threads} threads, {args.connections} connections, "
            f"{args.duration} s per case after {WARMUP_DELIVERIES} warm-up deliveries; worker "
            "case: `dramatiq config.worker --processes 1 --threads 8` on the same machine. "
            "Every request is a new signed `orders/create` delivery "
            f"(tests.factories.order_payload, {body_bytes:,} bytes of body on average).",
            "",
            "| case | req/s | of floor | of no-op | p50 ms | p99 ms | max ms "
            "| sent / acked / stored | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|",
            *rows,
            "",
            f"The worker processed {worker.processed} deliveries during its run "
            f"({worker.processed / args.duration:.0f}/s) while sharing the cores; "
            f"{worker.failed} failed (see bench/logs/app_worker-worker.log if not 0).",
            "",
            f"CPU in use during each run, in cores (of {os.cpu_count()}): gunicorn (web), "
            "the dramatiq worker, PostgreSQL (its background processes and the backends of "
            "the bench database), Redis, wrk, and everything else on the machine (other: "
            "well above zero means the run shared the machine); and the CPU milliseconds "
            "web, PostgreSQL and Redis spent per acknowledged delivery (not with the worker "
            "running: PostgreSQL then also serves the worker).",
            "",
            "| case | web | worker | PostgreSQL | Redis | wrk | other | total | CPU ms/req |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *cpu_rows,
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
            *targets,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per case")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--pool-rate",
        type=int,
        default=POOL_RATE_CEILING,
        help="distinct deliveries prepared per second of --duration",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="sample the app's gunicorn (no-worker case) with py-spy and print where its "
        "time goes; the sampling slows that case a little",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or args.connections < 1:
        parser.error("--duration must be 1..600 s and --connections at least 1")
    args.wrk_threads = max(1, min(args.wrk_threads, args.connections))

    wrk = harness.ensure_wrk()
    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    with harness.terminated_cleanly(), tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            harness.database_create()
            harness.django_setup()
            with harness.bench_db() as conn:
                conn.execute("CREATE TABLE bench_delivery (LIKE webhooks_delivery INCLUDING ALL)")
            size = args.duration * args.pool_rate
            print(f"signing {size:,} deliveries for the pool ...", flush=True)
            pool = Path(tmp) / "pool"
            lines = delivery_lines(size, prefix="bench", first_order_id=10_000_000, seed=1)
            body_bytes = sum(len(line.rsplit("\t", 1)[1]) for line in lines) // len(lines)
            write_pool(lines, pool, args.wrk_threads)
            del lines
            warmup_lines = delivery_lines(
                WARMUP_DELIVERIES, prefix="warmup", first_order_id=1_000_000, seed=2
            )
            machine = harness.machine_summary()
            results = []
            for case in CASES:
                print(f"{case.label}: {args.duration} s ...", flush=True)
                result = run_case(
                    case,
                    args=args,
                    wrk=wrk,
                    pool=pool,
                    warmup_lines=warmup_lines,
                    processes=processes,
                )
                busy = ", ".join(f"{k} {v:.2f}" for k, v in result.cores.items())
                print(
                    f"  cores busy: {busy}\n"
                    f"  {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                    f"p99 {result.p99_ms:.1f} ms, sent {result.sent}, acknowledged "
                    f"{result.acknowledged}, stored {result.stored}, refused {result.refused}",
                    flush=True,
                )
                results.append(result)
        finally:
            harness.cleanup(processes)
    text = report(results, args, machine, body_bytes)
    if args.profile:
        print(measure.profile_summary(PROFILE, within="intake"))
    harness.publish("intake", text, write=not args.no_write)


if __name__ == "__main__":
    main()
