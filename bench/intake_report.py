"""What bench/intake.py measured and how it is judged: its cases, their one-window figures,
the targets, and the docs/PERFORMANCE.md section it writes."""

from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import dataclass

import harness
import measure

# What the intake must reach (issue 13).
MIN_SHARE_OF_FLOOR = 0.60
MAX_P99_MS = 50.0
MAX_RSS_MB = 200
# A held case degrades if its last window is worse than its first by more than this.
# Quiet runs of this benchmark differ by about ±5% in throughput, so a drop of twice that
# is the app slowing down, not noise; 5 ms of p99 is a tenth of the 50 ms target, and
# more than the spread of the first-minute p99s measured so far (10–19 ms).
MAX_THROUGHPUT_DROP = 0.10
MAX_P99_RISE_MS = 5.0


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    wsgi_app: str
    # Table whose new rows count the stored deliveries; None for the no-op view.
    table: str | None
    settings_module: str = "config.settings"
    # Held for --hold s; the others, the baselines, for --baseline s.
    held: bool = False
    # The Procfile's `worker:` and `scheduler:` run beside it.
    worker: bool = False
    # The inbox holds --backlog stored, unprocessed deliveries before it starts.
    backlog: bool = False


CASES = [
    Case("noop", "No-op Django view", "config.wsgi:application", None,
         settings_module="bench.noop_settings"),
    Case("floor", "Minimal durable intake", "bench.floor_app:application", "bench_delivery"),
    Case("app_alone", "App intake, no worker, empty inbox", "config.wsgi:application",
         "webhooks_delivery"),
    Case("app_worker", "App intake held, worker running", "config.wsgi:application",
         "webhooks_delivery", held=True, worker=True),
    Case("app_backlog", "App intake held, workers stopped, backlog", "config.wsgi:application",
         "webhooks_delivery", held=True, backlog=True),
]  # fmt: skip


@dataclass
class Window:
    """One wrk run: a window of a case."""

    start: float
    seconds: float
    completed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    sent: int
    acknowledged: int
    refused: int
    refused_status: int
    socket_errors: int
    exhausted: bool
    # Cores each component kept busy during the window, and the 1-minute load average
    # at its end.
    cores: dict[str, float]
    load: float
    # The sweeper's queries run once at the window's start (backlog case): ms, and how
    # many deliveries it would have sent.
    sweep_ms: float | None = None
    swept: int | None = None

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.seconds

    @property
    def web_cpu_ms(self) -> float:
        """gunicorn's CPU milliseconds per request: it grows if the app itself slows down,
        not when it merely waits for cores that something else is using."""
        return self.cores.get("web", 0.0) * 1000 / self.requests_per_second


def window_from(wrk: dict, *, start: float, cores: dict[str, float], load: float) -> Window:
    return Window(
        start=start,
        seconds=wrk["duration_us"] / 1e6,
        completed=wrk["completed"],
        p50_ms=wrk["p50_us"] / 1000,
        p99_ms=wrk["p99_us"] / 1000,
        max_ms=wrk["max_us"] / 1000,
        sent=wrk["sent"],
        acknowledged=wrk["ok"],
        refused=wrk["bad"],
        refused_status=wrk["bad_status"],
        socket_errors=sum(
            wrk[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        exhausted=bool(wrk["exhausted"]),
        cores=cores,
        load=load,
    )


@dataclass
class Result:
    case: Case
    windows: list[Window]
    # Deliveries of the run found in the table afterwards; None for the no-op view.
    stored: int | None
    # Cores each component kept busy on average over the whole case (CPU s / wall s).
    cores: dict[str, float]
    memory: dict[str, measure.GroupMemory]
    # Deliveries the worker had processed, and had failed, when the run ended.
    processed: int | None = None
    failed: int | None = None
    # Unprocessed deliveries in the inbox before and after the run (app cases).
    waiting_before: int = 0
    waiting_after: int | None = None
    backlog_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(w.seconds for w in self.windows)

    @property
    def requests_per_second(self) -> float:
        return sum(w.completed for w in self.windows) / self.seconds

    @property
    def p50_ms(self) -> float:
        """The median of the windows' medians (wrk's percentiles cannot be merged)."""
        return statistics.median(w.p50_ms for w in self.windows)

    @property
    def p99_ms(self) -> float:
        """The worst window's p99: the target must hold in every minute."""
        return max(w.p99_ms for w in self.windows)

    @property
    def max_ms(self) -> float:
        return max(w.max_ms for w in self.windows)

    def total(self, name: str) -> int:
        return sum(getattr(w, name) for w in self.windows)

    @property
    def refused_status(self) -> int:
        return next((w.refused_status for w in self.windows if w.refused_status), 0)

    @property
    def exhausted(self) -> bool:
        return any(w.exhausted for w in self.windows)

    @property
    def all_stored(self) -> bool:
        # A delivery wrk sent but stopped waiting for at the end of a window may be stored
        # or not; one acknowledged must be stored, and nothing can be stored unsent.
        if self.stored is None:
            return True
        return self.total("acknowledged") <= self.stored <= self.total("sent")

    @property
    def clean(self) -> bool:
        return (
            self.total("refused") == 0
            and self.total("socket_errors") == 0
            and not self.exhausted
            and self.all_stored
        )

    @property
    def serving_cpu_ms(self) -> float:
        """CPU milliseconds gunicorn, PostgreSQL and Redis spent per acknowledged request."""
        serving = sum(self.cores.get(name, 0.0) for name in ("web", "PostgreSQL", "Redis"))
        return serving * 1000 / self.requests_per_second

    def degradation(self) -> tuple[bool, str]:
        """Whether the last window kept up with the first, and the figures that say so."""
        first, last = self.windows[0], self.windows[-1]
        change = last.requests_per_second / first.requests_per_second - 1
        rise = last.p99_ms - first.p99_ms
        held = change >= -MAX_THROUGHPUT_DROP and rise <= MAX_P99_RISE_MS
        text = (
            f"{first.requests_per_second:,.0f} → {last.requests_per_second:,.0f} req/s "
            f"({change:+.0%}), p99 {first.p99_ms:.1f} → {last.p99_ms:.1f} ms ({rise:+.1f}); "
            f"web CPU per request {first.web_cpu_ms:.2f} → {last.web_cpu_ms:.2f} ms, "
            f"other {first.cores.get('other', 0):.2f} → {last.cores.get('other', 0):.2f} cores"
        )
        return held, text


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f}"


def report(
    results: list[Result],
    args: argparse.Namespace,
    *,
    machine: str,
    load_after: float,
    body_bytes: int,
) -> str:
    by_name = {r.case.name: r for r in results}
    floor = by_name["floor"].requests_per_second
    noop = by_name["noop"].requests_per_second
    app = [r for r in results if r.case.name.startswith("app")]
    lines = [
        "## Webhook intake (`bench/intake.py`)",
        "",
        f"- Run: {machine}; {load_after:.2f} at the end.",
        f"- Configuration: gunicorn `--workers {args.web_workers}` (sync, as the Procfile), "
        f"DEBUG off; wrk {args.wrk_threads} threads, {args.connections} connections, in "
        f"back-to-back windows of {args.window} s (one wrk each, carrying on where the last "
        f"stopped) after {args.warmup} warm-up deliveries; the baselines {args.baseline} s "
        f"each, the held cases {args.hold} s. Worker case: `dramatiq config.worker "
        "--processes 1 --threads 8` and the scheduler (`manage.py crontab`, which runs the "
        "sweeper every minute) on the same machine, as the Procfile runs them. Backlog "
        f"case: no worker, {args.backlog:,} unprocessed `orders/create` deliveries stored "
        "in the inbox beforehand. Every request is a new signed `orders/create` delivery "
        f"(tests.factories.order_payload, {body_bytes:,} bytes of body on average).",
        "- p50 of a case is the median of its windows' p50s; p99 and max are its worst "
        "window's (the target holds in every minute or not at all).",
        "",
        "| case | seconds | req/s | of floor | of no-op | p50 ms | p99 ms | max ms "
        "| sent / acked / stored | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        stored = "n/a" if r.stored is None else f"{r.stored}"
        errors = r.total("refused") + r.total("socket_errors")
        lines.append(
            f"| {r.case.label} | {r.seconds:.0f} | {r.requests_per_second:,.0f} | "
            f"{r.requests_per_second / floor:.0%} | {r.requests_per_second / noop:.0%} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.0f} | "
            f"{r.total('sent')} / {r.total('acknowledged')} / {stored} | {errors} |"
        )
    for r in results:
        if r.case.held:
            lines += ["", *_windows_table(r)]
    lines += ["", *_cpu_table(results)]
    lines += ["", *_memory_table(app, args)]
    lines += ["", *_targets(results, args, floor=by_name["floor"])]
    return "\n".join(lines)


def _windows_table(r: Result) -> list[str]:
    sweep = r.case.backlog
    intro = f"**{r.case.label}**, window by window"
    if r.case.worker:
        intro += (
            f": the worker processed {r.processed:,} deliveries "
            f"({r.processed / r.seconds:.0f}/s) while sharing the cores, {r.failed} failed "
            f"(bench/logs/{r.case.name}-worker.log), and left {r.waiting_after:,} waiting "
            "in the inbox at the end."
        )
    if r.case.backlog:
        intro += (
            f": the inbox held {r.waiting_before:,} unprocessed deliveries at the start "
            f"(stored by COPY, then VACUUM ANALYZE, in {r.backlog_seconds:.0f} s) and "
            f"{r.waiting_after:,} at the end. Sweep: the sweeper's queries "
            "(`deliveries_sweep`), run by this script at the start of each window as a "
            "worker's sweeper job would run them; ms, and how many deliveries it would "
            "have sent (none: nothing is lost while the delivery queue holds messages)."
        )
    lines = [
        intro + " Cores: web, worker, PostgreSQL and the rest of the machine (other) "
        "during the window; load: the 1-minute load average at its end; web CPU ms/req: "
        "gunicorn's CPU per request, which grows if the app slows down and not when it "
        "only waits for a core.",
        "",
        "| window | req/s | p50 ms | p99 ms | max ms | web | worker | PostgreSQL | other "
        "| load | web CPU ms/req |" + (" sweep |" if sweep else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if sweep else ""),
    ]
    for w in r.windows:
        cores = " | ".join(f"{w.cores.get(n, 0):.2f}" for n in ("web", "worker", "PostgreSQL"))
        row = (
            f"| {w.start:.0f}–{w.start + w.seconds:.0f} s | {w.requests_per_second:,.0f} | "
            f"{w.p50_ms:.1f} | {w.p99_ms:.1f} | {w.max_ms:.0f} | {cores} | "
            f"{w.cores.get('other', 0):.2f} | {w.load:.1f} | {w.web_cpu_ms:.2f} |"
        )
        if sweep:
            row += " — |" if w.sweep_ms is None else f" {w.sweep_ms:.1f} ms, {w.swept} |"
        lines.append(row)
    return lines


def _cpu_table(results: list[Result]) -> list[str]:
    components = ["web", "worker", "PostgreSQL", "Redis", "wrk", "other"]
    rows = [
        f"| {r.case.label} | "
        + " | ".join(f"{r.cores.get(name, 0):.2f}" for name in components)
        + f" | {sum(r.cores.values()):.2f} | "
        + ("— |" if r.case.worker else f"{r.serving_cpu_ms:.2f} |")
        for r in results
    ]
    return [
        f"CPU in use during each case, in cores (of {os.cpu_count()}): gunicorn (web), "
        "the dramatiq worker, PostgreSQL (its background processes and the backends of "
        "the bench database), Redis, wrk, and everything else on the machine (other: the "
        "scheduler, this script, and whatever else shares the machine); and the CPU "
        "milliseconds web, PostgreSQL and Redis spent per acknowledged delivery (not with "
        "the worker running: PostgreSQL then also serves the worker).",
        "",
        "| case | web | worker | PostgreSQL | Redis | wrk | other | total | CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def _memory_table(app: list[Result], args: argparse.Namespace) -> list[str]:
    rows = []
    for r in app:
        web = r.memory["web"]
        worker = r.memory.get("worker")
        dramatiq = (
            f"{_mb(worker.leader_kb)} | {_mb(worker.largest_child_kb)}" if worker else "— | —"
        )
        rows.append(
            f"| {r.case.label} | {_mb(web.leader_kb)} | {_mb(web.largest_child_kb)} "
            f"({web.children} workers) | {_mb(web.sum_kb)} | {dramatiq} |"
        )
    return [
        "Peak resident memory (MB), sampled every second from /proc (VmRSS, and each "
        "process's VmHWM, the kernel's own peak); a sum counts pages a forked worker "
        "shares with its master twice, so it is an upper bound.",
        "",
        "| case | gunicorn master | largest gunicorn worker | gunicorn, all processes "
        "(sum) | dramatiq main | dramatiq worker process |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ]


def _targets(results: list[Result], args: argparse.Namespace, *, floor: Result) -> list[str]:
    # What other programs took says whether two figures were measured alike: a share of
    # the floor compares two moments of a machine that may be shared.
    rows = []
    rate = floor.requests_per_second
    for r in results:
        if not r.case.name.startswith("app"):
            continue
        share = r.requests_per_second / rate
        rows.append(
            f"| {r.case.label}: throughput ≥ {MIN_SHARE_OF_FLOOR:.0%} of the minimal durable "
            f"intake | {share:.0%} ({r.requests_per_second:,.0f} of {rate:,.0f} req/s; "
            f"worst window {min(w.requests_per_second for w in r.windows) / rate:.0%}; other "
            f"programs took {r.cores.get('other', 0):.2f} cores, during the floor's run "
            f"{floor.cores.get('other', 0):.2f}) | {harness.verdict(share >= MIN_SHARE_OF_FLOOR)} |"
        )
        worst = max(r.windows, key=lambda w: w.p99_ms)
        rows.append(
            f"| {r.case.label}: p99 < {MAX_P99_MS:.0f} ms at {args.connections} connections, "
            f"every window | {r.p99_ms:.1f} ms (other programs took "
            f"{worst.cores.get('other', 0):.2f} cores in that window) | "
            f"{harness.verdict(r.p99_ms < MAX_P99_MS)} |"
        )
        if r.case.held:
            held, text = r.degradation()
            rows.append(
                f"| {r.case.label}: no degradation (last window ≥ "
                f"{1 - MAX_THROUGHPUT_DROP:.0%} of the first's req/s, p99 at most "
                f"{MAX_P99_RISE_MS:.0f} ms above it) | {text} | {harness.verdict(held)} |"
            )
        largest = max(r.memory["web"].leader_kb, r.memory["web"].largest_child_kb)
        rows.append(
            f"| {r.case.label}: peak RSS of each web process < {MAX_RSS_MB} MB | "
            f"{_mb(largest)} MB | {harness.verdict(largest < MAX_RSS_MB * 1024)} |"
        )
        if "worker" in r.memory:
            worker = max(r.memory["worker"].leader_kb, r.memory["worker"].largest_child_kb)
            rows.append(
                f"| {r.case.label}: peak RSS of each worker process < {MAX_RSS_MB} MB | "
                f"{_mb(worker)} MB | {harness.verdict(worker < MAX_RSS_MB * 1024)} |"
            )
    for r in results:
        detail = f"{r.total('refused')} non-2xx, {r.total('socket_errors')} socket errors"
        if r.total("refused"):
            detail += f" (one was {r.refused_status})"
        if r.stored is not None:
            detail += f", {r.stored} stored of {r.total('acknowledged')} acknowledged"
        if r.exhausted:
            detail += ", POOL EXHAUSTED (run invalid: raise --pool-rate)"
        rows.append(
            f"| {r.case.label}: every delivery acknowledged 2xx and stored | {detail} | "
            f"{harness.verdict(r.clean)} |"
        )
    return ["| target | measured | verdict |", "|---|---|---|", *rows]
