"""docs/PERFORMANCE.md's crediting section, from what bench/crediting.py measured."""

from __future__ import annotations

import argparse
import os
import statistics

import harness
from crediting_latency import percentile

MIN_ORDERS_PER_SECOND = 150.0
MAX_MEDIAN_VISIBLE_MS = 1000.0
MAX_RSS_BYTES = 200_000_000
COMPONENTS = ("worker", "PostgreSQL", "Redis", "other")


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def rss_text(peaks: list[tuple[int, bool, int]], leader: str, child: str) -> str:
    """ "main 40 MB; worker processes 120 MB, 118 MB" from RssMeter.peak_by_process."""
    leaders = [megabytes(peak) for _, is_leader, peak in peaks if is_leader]
    children = [megabytes(peak) for _, is_leader, peak in peaks if not is_leader]
    return f"{leader} {', '.join(leaders) or '?'}; {child} {', '.join(children) or '?'}"


def cpu_text(cores: dict[str, float], names: tuple[str, ...], rate: float) -> str:
    """Cores per component, and CPU ms per order when `rate` (orders/s) is given."""
    parts = []
    for name in names:
        used = cores.get(name, 0.0)
        per_order = f" ({used * 1000 / rate:.1f} ms)" if rate > 0 else ""
        parts.append(f"{name} {used:.2f}{per_order}")
    return ", ".join(parts)


def ceiling_lines(ceiling: list, args: argparse.Namespace) -> list[str]:
    if not ceiling:
        return []
    lines = [
        "",
        f"PostgreSQL's ceiling here: `pgbench -i -s {args.pgbench_scale}` in the same "
        f"database, then {ceiling[0].seconds} s of each script with `-c {ceiling[0].clients} "
        "-j 2` (as many clients as a worker process has threads); each tpcb-like transaction "
        "is 5 statements and a commit, a credited order 24–29 and a commit.",
        "",
        "| pgbench script | transactions/s | mean latency | CPU in cores: PostgreSQL, pgbench, "
        "other |",
        "|---|---:|---:|---|",
    ]
    for run in ceiling:
        cpu = ", ".join(f"{run.cores.get(n, 0):.2f}" for n in ("PostgreSQL", "pgbench", "other"))
        lines.append(f"| {run.script} | {run.tps:,.0f} | {run.latency_ms:.1f} ms | {cpu} |")
    return lines


def drain_lines(drains: list, orders, args: argparse.Namespace) -> list[str]:
    lines = [
        "",
        f"Draining {drains[0].orders:,} stored `orders/create` deliveries "
        f"({orders.guest_orders:,} guest orders, the others from "
        f"{len(orders.points_by_customer):,} customers, a fifth of the orders from 50 "
        "regulars; program 1 point per unit, no hold), the same inbox each time (tables "
        "emptied, deliveries stored again, `VACUUM ANALYZE`), `dramatiq config.worker "
        f"--processes P --threads {args.threads}`; timed from the first job sent until no "
        "delivery is left unprocessed. CPU in cores of "
        f"{os.cpu_count()} (and CPU ms per order); RSS is the peak of each process, sampled "
        "every second from /proc:",
        "",
        "| P | orders/s | per process | time (sending took) | CPU: worker, PostgreSQL, Redis, "
        "other | peak RSS |",
        "|---:|---:|---:|---|---|---|",
    ]
    for run in drains:
        rate = run.orders_per_second
        lines.append(
            f"| {run.processes} | {rate:,.0f} | {rate / run.processes:,.0f} | "
            f"{run.seconds:,.1f} s ({run.send_seconds:.1f} s) | "
            f"{cpu_text(run.cores, COMPONENTS, rate)} | "
            f"{rss_text(run.rss, 'main', 'worker processes')} |"
        )
    # Whether the machine, rather than the worker, set the pace: every core busy means
    # that another process could only take CPU from the ones already there.
    busy = "; ".join(
        f"P={run.processes}: {sum(run.cores.values()):.2f} busy, "
        f"{sum(run.cores.get(n, 0) for n in COMPONENTS[:3]) * 1000 / run.orders_per_second:.1f} "
        "ms of worker, PostgreSQL and Redis CPU per order"
        for run in drains
        if run.orders_per_second > 0
    )
    lines += ["", f"Cores of {os.cpu_count()} in use, all processes counted: {busy}."]
    return lines


def visible_lines(visible) -> list[str]:
    if visible is None:
        return []
    latency = visible.latency
    shown = latency.visible
    ms = [(o.visible - o.acknowledged) * 1000 for o in shown]
    committed = [(o.committed - o.acknowledged) * 1000 for o in shown]
    asked = [(o.asked - o.acknowledged) * 1000 for o in shown]
    acks = [(o.acknowledged - o.sent) * 1000 for o in latency.acknowledged]
    if not ms:
        return ["", "Ack to visible: no order became visible (see bench/logs/visible-*.log)."]
    return [
        "",
        f"Ack to visible: gunicorn `--workers {visible.web_workers}` and one worker process "
        f"(`--processes 1`), on the shop the drains left; {len(latency.orders):,} new orders "
        f"sent over HTTP to `/webhooks` at {latency.sent_rate():.1f}/s for "
        f"{latency.seconds:.0f} s (target rate {latency.rate:.0f}/s, sends late by at most "
        f"{latency.max_lateness_ms():.0f} ms), each of a random customer among "
        f"{latency.customers:,} with no order in flight. An order is visible when "
        "`GET /proxy/api/account`, signed as the app proxy signs it, answers with its new "
        "balance; the bench learns when to ask by reading the member's balance in the "
        "database every 20 ms (committed), so the figure includes up to 20 ms of that "
        f"watch and one proxy request ({latency.proxy_requests:,} in all). "
        f"{len(shown):,} of {len(latency.acknowledged):,} acknowledged orders became "
        f"visible; {len(latency.refused)} sends refused or failed. Acknowledgement itself: "
        f"median {statistics.median(acks):.1f} ms, p99 {percentile(acks, 0.99):.1f} ms.",
        "",
        "| from acknowledgement to | median | p90 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        _row("committed (seen in the database)", committed),
        _row("the proxy request that showed it sent", asked),
        _row("**visible through the app proxy**", ms),
        "",
        f"CPU in cores during it: {cpu_text(visible.cores, ('web', *COMPONENTS), 0)}. Peak "
        f"RSS: gunicorn {rss_text(visible.rss['web'], 'master', 'workers')}; worker "
        f"{rss_text(visible.rss['worker'], 'main', 'worker process')}.",
    ]


def _row(label: str, values: list[float]) -> str:
    figures = [statistics.median(values), percentile(values, 0.90), percentile(values, 0.99)]
    cells = " | ".join(f"{value:,.0f} ms" for value in [*figures, max(values)])
    return f"| {label} | {cells} |"


def verdict_rows(drains: list, visible) -> list[str]:
    rows = []
    by_count = {run.processes: run for run in drains}
    one, two = by_count.get(1), by_count.get(2)
    if one:
        rows.append(
            f"| one worker process | {one.orders_per_second:,.0f} orders/s | "
            f"≥ {MIN_ORDERS_PER_SECOND:.0f} orders/s | "
            f"{harness.verdict(one.orders_per_second >= MIN_ORDERS_PER_SECOND)} |"
        )
    if one and two:
        ratio = two.orders_per_second / one.orders_per_second
        rows.append(
            f"| two worker processes against one | {two.orders_per_second:,.0f} against "
            f"{one.orders_per_second:,.0f} orders/s: ×{ratio:.2f} | faster than one (> ×1) | "
            f"{harness.verdict(ratio > 1)} |"
        )
    for run in drains:
        statuses = ", ".join(f"{n:,} {status}" for status, n in sorted(run.statuses.items()))
        ledger = "no drift" if run.ledger_ok else run.ledger_output.splitlines()[-1]
        ok = run.all_processed and run.ledger_ok and run.points_ok
        rows.append(
            f"| P={run.processes}: deliveries, `check_ledger`, points per member | {statuses}; "
            f"{ledger}; {run.points_detail} | all processed, no drift, exact | "
            f"{harness.verdict(ok)} |"
        )
    worker_peaks = [peak for run in drains for _, _, peak in run.rss]
    if visible is not None and visible.latency.visible:
        latency = visible.latency
        ms = [(o.visible - o.acknowledged) * 1000 for o in latency.visible]
        median = statistics.median(ms)
        every = len(latency.visible) == len(latency.orders) and not latency.refused
        rows.append(
            f"| ack to visible at {latency.rate:.0f} orders/s, median | {median:,.0f} ms "
            f"({len(latency.visible):,} of {len(latency.orders):,} orders visible) | "
            f"< {MAX_MEDIAN_VISIBLE_MS:.0f} ms, every order | "
            f"{harness.verdict(median < MAX_MEDIAN_VISIBLE_MS and every)} |"
        )
        ledger = "no drift" if visible.ledger_ok else visible.ledger_output.splitlines()[-1]
        rows.append(
            f"| `check_ledger` after it | {ledger} | no drift | "
            f"{harness.verdict(visible.ledger_ok)} |"
        )
        worker_peaks += [peak for _, _, peak in visible.rss["worker"]]
        web = [peak for _, _, peak in visible.rss["web"]]
        if web:
            rows.append(
                f"| peak RSS, any gunicorn process | {megabytes(max(web))} | "
                f"< {megabytes(MAX_RSS_BYTES)} | {harness.verdict(max(web) < MAX_RSS_BYTES)} |"
            )
    if worker_peaks:
        rows.append(
            f"| peak RSS, any worker process | {megabytes(max(worker_peaks))} | "
            f"< {megabytes(MAX_RSS_BYTES)} | "
            f"{harness.verdict(max(worker_peaks) < MAX_RSS_BYTES)} |"
        )
    return rows


def report(
    *,
    orders,
    ceiling: list,
    drains: list,
    visible,
    args: argparse.Namespace,
    machine: str,
    load_after: float,
) -> str:
    return "\n".join(
        [
            "## Crediting (`bench/crediting.py`)",
            "",
            f"`bench/crediting.py --orders {args.orders} --threads {args.threads} "
            f"--worker-processes {args.worker_processes}`, `WORKER_NICE` "
            f"{os.environ.get('WORKER_NICE', 'unset (10)')}; {machine}; load average "
            f"{load_after:.2f} at the end. PostgreSQL, Redis, the workers and this script "
            "share the machine; other is the rest of its busy time, this script included.",
            *ceiling_lines(ceiling, args),
            *drain_lines(drains, orders, args),
            *visible_lines(visible),
            "",
            "| figure | measured | target | verdict |",
            "|---|---|---|---|",
            *verdict_rows(drains, visible),
        ]
    )
