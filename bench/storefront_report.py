"""The report of bench/storefront.py: its section of docs/PERFORMANCE.md, from the
figures it measured and the plans of the account answer's statements."""

from __future__ import annotations

import argparse
import re
import statistics
from dataclasses import dataclass, field

import harness

TARGET_P99_MS = 30.0
MAX_RSS_MB = 200
# Tables whose sequential scan would be a read of millions of rows per answer.
BIG_TABLES = ("loyalty_member", "loyalty_ledgerentry", "loyalty_tiertally", "loyalty_redemption")
SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan)")


@dataclass
class Served:
    """One app under gunicorn and what it did: timings one at a time, wrk's figures with
    8 connections, and the memory of its processes."""

    name: str
    path: str
    serial_ms: list[float] = field(default_factory=list)
    wrk: dict = field(default_factory=dict)
    peaks_kb: dict[int, int] = field(default_factory=dict)
    hwm_kb: dict[int, int] = field(default_factory=dict)
    master: int = 0
    samples: int = 0
    answer_bytes: int = 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.serial_ms)
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class Plan:
    member: str
    sql: str
    lines: list[str]

    @property
    def full_scans(self) -> list[str]:
        return [
            line.strip()
            for line in self.lines
            if "Seq Scan on" in line and any(f" {table} " in f"{line} " for table in BIG_TABLES)
        ]


def plan_summary(plan: Plan) -> list[str]:
    """The scan nodes, their buffers and the execution time of a plan."""
    kept: list[str] = []
    for line in plan.lines:
        text = line.rstrip()
        scan_buffers = "Buffers:" in text and kept and SCAN.search(kept[-1])
        if SCAN.search(text) or "Execution Time" in text or scan_buffers:
            kept.append(text)
    return kept


def statement_text(sql: str) -> str:
    """A statement in one short line: what it selects from, and where."""
    tables = re.findall(r'FROM "(\w+)"', sql)
    where = sql.partition(" WHERE ")[2].partition(" ORDER BY ")[0]
    return f"{', '.join(tables)}: WHERE {where[:120]}"


def report(
    served: dict[str, Served],
    plans: list[Plan],
    writes: list[str],
    summary: dict,
    args: argparse.Namespace,
    machine: str,
) -> tuple[str, bool]:
    account, noop = served["account"], served["noop"]
    p99 = account.percentile(0.99)
    extras = summary["extras"]
    seconds = ", ".join(f"{step} {value:.0f} s" for step, value in summary["seconds"].items())
    lines = [
        "## The storefront's account answer at scale (`bench/storefront.py`)",
        "",
        f"`bench/storefront.py --requests {args.requests} --duration {args.duration} "
        f"--connections {args.connections}`; {machine}.",
        "",
        f"One shop of {summary['shop_members']:,} members and {summary['shop_entries']:,} "
        f"ledger entries (bench/admin_seed.py; {summary['members']:,} members and "
        f"{summary['entries']:,} entries with two smaller shops), and what the answer reads "
        f"besides (bench/storefront_seed.py): the program with expiry, birthdays and "
        f"referrals on, {extras['tiers']} tiers over a rolling 12 months "
        f"({extras['tallies']:,} daily tier tallies, {extras['in_a_tier']:,} members in a "
        f"tier), {extras['rewards']} rewards, {extras['codes']:,} redeemed codes, "
        f"{extras['birthdays']:,} birthdays and a referral code for every member. Seeding: "
        f"{seconds}. The app runs as the Procfile's `web:` (gunicorn, {args.web_workers} "
        "sync workers, DEBUG off); every request is for a different member drawn at random, "
        "signed as Shopify's app proxy signs it. The no-op view is Django answering 200 "
        "with nothing done (bench/noop_settings.py) under the same gunicorn, asked the same "
        "signed queries.",
        "",
        f"One request at a time ({args.requests:,} after {args.warmup} to warm up), "
        "measured at the client on loopback:",
        "",
        "| view | median | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for one in (account, noop):
        lines.append(
            f"| {one.name} | {statistics.median(one.serial_ms):.1f} ms | "
            f"{one.percentile(0.95):.1f} ms | {one.percentile(0.99):.1f} ms | "
            f"{max(one.serial_ms):.1f} ms |"
        )
    lines += [
        "",
        f"p99 under {TARGET_P99_MS:.0f} ms: **{harness.verdict(p99 < TARGET_P99_MS)}** "
        f"({p99:.1f} ms); answers of about {account.answer_bytes:,} bytes.",
        "",
        f"With {args.connections} connections (`wrk`, {args.wrk_threads} threads, "
        f"{args.duration} s, every request a different member's pre-signed query):",
        "",
        "| view | requests/s | p50 | p90 | p99 | max | not 200 | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    valid = True
    for one in (account, noop):
        figures = one.wrk
        errors = sum(
            figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        )
        valid &= figures["bad"] == 0 and errors == 0
        lines.append(
            f"| {one.name} | {figures['completed'] / (figures['duration_us'] / 1e6):,.0f} | "
            + " | ".join(
                f"{figures[k] / 1000:.1f} ms" for k in ("p50_us", "p90_us", "p99_us", "max_us")
            )
            + f" | {figures['bad']} | {errors} |"
        )
    rate = {
        one.name: one.wrk["completed"] / (one.wrk["duration_us"] / 1e6) for one in (account, noop)
    }
    lines += [
        "",
        f"The account answer serves {rate['account'] / rate['noop']:.0%} of the no-op "
        f"view's throughput{'' if account.wrk['wrapped'] == 0 else ' (members repeated)'}.",
        "",
        f"Resident memory of each gunicorn process, sampled from /proc every second over "
        f"its whole run ({account.samples} and {noop.samples} samples), and the kernel's "
        f"peak (VmHWM), against {MAX_RSS_MB} MB per web process:",
        "",
        "| view | process | peak sampled | VmHWM |",
        "| --- | --- | ---: | ---: |",
    ]
    worst = 0
    for one in (account, noop):
        for pid in sorted(one.peaks_kb):
            role = "master" if pid == one.master else "worker"
            if role == "worker":
                worst = max(worst, one.hwm_kb[pid], one.peaks_kb[pid])
            lines.append(
                f"| {one.name} | {role} | {one.peaks_kb[pid] / 1024:.0f} MB | "
                f"{one.hwm_kb[pid] / 1024:.0f} MB |"
            )
    memory_ok = worst < MAX_RSS_MB * 1024
    full_scans = [f"{plan.member}: {scan}" for plan in plans for scan in plan.full_scans]
    per_member = {plan.member for plan in plans}
    lines += [
        "",
        f"Peak of a worker under {MAX_RSS_MB} MB: **{harness.verdict(memory_ok)}** "
        f"({worst / 1024:.0f} MB).",
        "",
        f"The statements of one answer, EXPLAIN (ANALYZE, BUFFERS), for {len(per_member)} "
        f"members ({', '.join(sorted(per_member))}); scan nodes and times kept, the whole "
        "plans are printed by the benchmark. A sequential scan of the members, the ledger, "
        f"the tallies or the codes: **{'none' if not full_scans else 'FOUND'}**"
        + (f" ({'; '.join(full_scans)})" if full_scans else "")
        + (f". Writes: {'; '.join(writes)}" if writes else "; no writes")
        + ".",
        "",
        "```",
    ]
    for label in sorted(per_member):
        mine = [plan for plan in plans if plan.member == label]
        lines.append(f"{label}: {len(mine)} statements")
        for plan in mine:
            lines.append(f"  {statement_text(plan.sql)}")
            lines.extend(f"      {line.strip()}" for line in plan_summary(plan))
    lines.append("```")
    passed = valid and p99 < TARGET_P99_MS and memory_ok and not full_scans
    return "\n".join(lines), passed
