"""The embedded admin's reads at scale: member search, member detail and the dashboard
figures of a shop with 1,000,000 members and 20,000,000 ledger entries.

    .venv/bin/python bench/admin_scale.py [--keep] [--reuse] [--requests 200]

Seeds its own PostgreSQL database (perennial_bench_admin) by SQL (bench/admin_seed.py):
the big shop and two smaller ones whose members interleave with its own, with every index
and constraint the migrations create. Starts the app as the Procfile does (gunicorn, 2
sync workers, DEBUG off) and times signed admin API requests one at a time, as one
merchant's browser makes them: each case's median, p95, p99 and max, against a p99 target
of 100 ms. Prints EXPLAIN (ANALYZE, BUFFERS) of the queries behind search, detail and the
dashboard, and writes docs/PERFORMANCE.md's section.

Seeding takes a while (about 10 minutes on 2 cores, 8 GB on disk): `--keep` leaves the
database in place afterwards and `--reuse` measures the one an earlier run kept, whatever
sizes it was seeded with, without seeding it again.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import admin_explain
import admin_seed
import harness
import measure as measure_cpu

DATABASE = "perennial_bench_admin"
REDIS_URL = "redis://127.0.0.1:6379/9"
API_KEY = "perennial-bench-api-key"
OTHER_SHOPS = ("bench-other-1.myshopify.com", "bench-other-2.myshopify.com")
TARGET_P99_MS = 100.0
LOG_DIR = Path(__file__).with_name("logs")
MARKER = "bench_admin_seeded"


def app_env() -> dict[str, str]:
    return harness.app_env(
        DATABASE_URL=harness.database_url(DATABASE),
        DRAMATIQ_BROKER_URL=REDIS_URL,
        SHOPIFY_API_KEY=API_KEY,
    )


@dataclass
class Case:
    """One request, made many times: a path with its query, and the answer expected."""

    endpoint: str
    label: str
    path: str
    shop: str = harness.SHOP
    status: int = 200
    timings_ms: list[float] = field(default_factory=list)
    answered: str = ""

    def percentile(self, share: float) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def seeded_sizes() -> dict | None:
    """What an earlier run seeded into the database, or None when it holds no full seed."""
    if not harness.database_exists(DATABASE):
        return None
    with harness.bench_db(DATABASE) as conn:
        found = conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0]
        if found is None:
            return None
        return conn.execute(f"SELECT summary FROM {MARKER}").fetchone()[0]


def database_seed(args: argparse.Namespace) -> dict:
    """A fresh, migrated database with the three shops installed and their rows seeded."""
    harness.database_create(DATABASE)
    harness.django_setup(**app_env())
    from tests.factories import shop

    shops = [shop(harness.SHOP), *(shop(domain) for domain in OTHER_SHOPS)]
    sizes = [admin_seed.ShopSize(shops[0].pk, args.members, args.entries)] + [
        admin_seed.ShopSize(other.pk, args.other_members, args.other_entries) for other in shops[1:]
    ]
    print(
        f"seeding {args.members:,} members and {args.entries:,} entries, and "
        f"{len(OTHER_SHOPS)} other shops of {args.other_members:,} and "
        f"{args.other_entries:,} ...",
        flush=True,
    )
    started = time.monotonic()
    with harness.bench_db(DATABASE) as conn:
        seeded = admin_seed.seed(conn, sizes, say=lambda line: print(line, flush=True))
        summary = {
            "members": seeded.members,
            "entries": seeded.entries,
            "shop_members": args.members,
            "shop_entries": args.entries,
            "other_members": args.other_members,
            "other_entries": args.other_entries,
            "seconds": {**seeded.seconds, "total": time.monotonic() - started},
            "restored": len(seeded.restored),
        }
        conn.execute(f"CREATE TABLE {MARKER} (summary jsonb)")
        conn.execute(f"INSERT INTO {MARKER} VALUES (%s)", [json.dumps(summary)])
    print(f"seeded in {summary['seconds']['total']:.0f} s", flush=True)
    return summary


def figures_fill(summary: dict) -> None:
    """Fill the big shop's daily figures from its seeded rows with `manage.py
    figures_rebuild`, timed, when the app has them and they are still empty."""
    from django.apps import apps

    try:
        figures = apps.get_model("loyalty", "DailyFigures")
    except LookupError:
        print("no daily figures in this app yet: the dashboard figures are not seeded")
        return
    # A database seeded before the daily figures existed gets their table first.
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=harness.ROOT, env=app_env(), check=True
    )
    if figures.objects.filter(shop__domain=harness.SHOP).exists():
        return
    print("filling the daily figures with manage.py figures_rebuild ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [*manage, "figures_rebuild", "--shop", harness.SHOP],
        cwd=harness.ROOT,
        env=app_env(),
        check=True,
        timeout=3600,
    )
    summary["seconds"]["daily figures (figures_rebuild)"] = time.monotonic() - started
    with harness.bench_db(DATABASE) as conn:
        conn.execute(f"UPDATE {MARKER} SET summary = %s", [json.dumps(summary)])


def shops_install() -> None:
    """Give every shop a valid offline token, so no request needs a token exchange."""
    from django.utils import timezone

    from loyalty.models import Shop
    from loyalty.shopify import oauth, tokens

    now = timezone.now()
    for shop in Shop.objects.filter(domain__in=[harness.SHOP, *OTHER_SHOPS]):
        tokens.store_offline_token(
            shop=shop,
            token=oauth.OfflineToken(
                access_token=f"shpat_{shop.domain}",
                scope="read_orders,read_customers",
                expires_at=now + timedelta(days=365),
                refresh_token=f"shprt_{shop.domain}",
                refresh_token_expires_at=now + timedelta(days=365),
            ),
        )
        shop.installed_at, shop.uninstalled_at = now, None
        shop.save(update_fields=["installed_at", "uninstalled_at"])


def cases_build() -> list[Case]:
    """The requests to time, with members and prefixes picked from the seeded rows."""
    from loyalty.admin.members import member_cursor
    from loyalty.models import Member, Shop

    shop = Shop.objects.get(domain=harness.SHOP)
    other = Shop.objects.get(domain=OTHER_SHOPS[0])
    members = Member.objects.filter(shop=shop)
    # Members with few entries and the ones with the most.
    few = members.filter(last_sequence__lte=3).order_by("id")[100]
    many = members.exclude(last_sequence=None).order_by("-last_sequence", "id").first()
    never = members.filter(last_sequence__isnull=True).order_by("id")[100]
    rare_name = members.filter(last_name="Lindqvist").order_by("id").first()
    halfway = members.order_by("id")[members.count() // 2]
    search = "/api/admin/members"
    cases = [
        Case("search", f"q={q!r}", f"{search}?{urlencode({'q': q})}")
        for q in ("j", "jo", "john", "smith", "m", "john smith", "sa", "lindq", "zzq", "qqqq")
    ]
    cases += [
        Case("search", "q='' (listing)", search),
        Case("search", "q=<an email>", f"{search}?{urlencode({'q': few.email})}"),
        Case("search", "q=<a customer id>", f"{search}?q={few.customer_id}"),
        Case("search", "q=<digits, no member>", f"{search}?q=123456789"),
        Case("search", "listing, cursor halfway", f"{search}?cursor={member_cursor(halfway.pk)}"),
        Case(
            "search",
            "q='j', cursor halfway",
            f"{search}?{urlencode({'q': 'j', 'cursor': member_cursor(halfway.pk)})}",
        ),
        Case(
            "search",
            "q='lindq', cursor after the first",
            f"{search}?{urlencode({'q': 'lindq', 'cursor': member_cursor(rare_name.pk)})}",
        ),
    ]
    # A small shop among the big one's members: its searches must stay within its own.
    cases += [
        Case("search", f"small shop, q={q!r}", f"{search}?{urlencode({'q': q})}", other.domain)
        for q in ("j", "smith", "zzq")
    ]
    detail = "/api/admin/members/"
    cases += [
        Case("detail", f"member with {few.last_sequence} entries", f"{detail}{few.customer_id}"),
        Case("detail", f"member with {many.last_sequence} entries", f"{detail}{many.customer_id}"),
        Case("detail", "member with no entries", f"{detail}{never.customer_id}"),
        Case("detail", "no such member", f"{detail}999", status=404),
        # Tenant scoping: another shop's token never finds the big shop's member.
        Case("detail", "other shop's token", f"{detail}{many.customer_id}", other.domain, 404),
    ]
    from django.urls import NoReverseMatch, reverse

    try:
        stats = reverse("admin-stats")
    except NoReverseMatch:
        print("no /api/admin/stats in this app yet: the dashboard figures are not measured")
    else:
        today = datetime.now(UTC).date()
        year = {"from": str(today - timedelta(days=364)), "to": str(today)}
        cases += [
            Case("stats", "last 30 days (default)", stats),
            Case("stats", "last 365 days", f"{stats}?{urlencode(year)}"),
        ]
    return cases


def request(port: int, case: Case) -> tuple[float, int, bytes]:
    from standin.signing import session_token

    token = session_token(shop=case.shop, api_key=API_KEY, secret=harness.APP_SECRET)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", case.path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed, response.status, body


def answered(case: Case, body: bytes) -> str:
    """A few words on what the answer held, so a fast empty answer cannot pass unnoticed."""
    if case.status != 200:
        return "404"
    payload = json.loads(body)
    if case.endpoint == "search":
        more = "+ next page" if payload["next_cursor"] else "last page"
        return f"{len(payload['members'])} members {more}"
    if case.endpoint == "detail":
        return f"{len(payload['entries'])} entries"
    totals = payload["totals"]
    return (
        f"{len(payload['days'])} days; at the end {totals['members']:,} members, "
        f"{totals['points_balance']:,} points + {totals['points_pending']:,} pending"
    )


def shop_totals() -> str:
    """The big shop's members and points from the members table, as the stats `answered`
    should say them at the end of today."""
    with harness.bench_db(DATABASE) as conn:
        members, balance, pending = conn.execute(
            "SELECT count(*), sum(balance), sum(pending) FROM loyalty_member "
            "WHERE shop_id = (SELECT id FROM loyalty_shop WHERE domain = %s)",
            [harness.SHOP],
        ).fetchone()
    return f"{members:,} members, {balance:,} points + {pending:,} pending"


def measure(port: int, cases: list[Case], *, rounds: int, web_pid: int) -> dict[str, float]:
    """Warm up, then make every case's request in turn, `rounds` times. Returns the cores
    the web workers and the rest of the machine kept busy meanwhile."""
    for case in cases:
        for _ in range(3):
            _, status, body = request(port, case)
            if status != case.status:
                raise RuntimeError(f"{case.path} answered {status}, expected {case.status}")
        case.answered = answered(case, body)
    meter = measure_cpu.CpuMeter({"web": web_pid})
    for n in range(rounds):
        meter.sample()
        for case in cases:
            elapsed, status, _ = request(port, case)
            if status != case.status:
                raise RuntimeError(f"{case.path} answered {status}, expected {case.status}")
            case.timings_ms.append(elapsed)
        if (n + 1) % 50 == 0:
            print(f"  {n + 1} of {rounds} rounds", flush=True)
    return meter.cores()


def explain(cases: list[Case]) -> tuple[list[str], list[str]]:
    """Plan summaries of the search and detail cases (and stats when there), and any full
    scan of a big table found in them."""
    from standin.signing import session_token

    lines, full_scans = [], []
    for case in cases:
        if case.status != 200:
            continue
        token = session_token(shop=case.shop, api_key=API_KEY, secret=harness.APP_SECRET)
        plans = admin_explain.plans_for(case.path, {"Authorization": f"Bearer {token}"})
        lines.append(f"{case.endpoint} {case.label}:")
        for plan in plans:
            lines.extend(f"    {line.strip()}" for line in plan.summary())
            full_scans.extend(f"{case.endpoint} {case.label}: {scan}" for scan in plan.full_scans)
    return lines, full_scans


def report(
    cases: list[Case], summary: dict, plans: list[str], full_scans: list[str], machine: str
) -> str:
    # Seeding's steps in the order they run (the jsonb marker does not keep key order).
    steps = [*admin_seed.STEPS, "daily figures (figures_rebuild)", "total"]
    seconds = {step: summary["seconds"][step] for step in steps if step in summary["seconds"]}
    cores = summary["cores"]
    others = sum(value for name, value in cores.items() if name != "web")
    seeding = ", ".join(f"{step} {value:.0f} s" for step, value in seconds.items())
    rows = []
    for case in cases:
        rows.append(
            f"| {case.endpoint} | {case.label} | {case.answered} | "
            f"{statistics.median(case.timings_ms):.1f} | {case.percentile(0.95):.1f} | "
            f"{case.percentile(0.99):.1f} | {max(case.timings_ms):.1f} |"
        )
    verdicts = []
    for endpoint, name in (
        ("search", "member search (`GET /api/admin/members`)"),
        ("detail", "member detail (`GET /api/admin/members/<customer id>`)"),
        ("stats", "dashboard figures (`GET /api/admin/stats`)"),
    ):
        timings = [t for case in cases if case.endpoint == endpoint for t in case.timings_ms]
        if not timings:
            verdicts.append(f"| {name}: p99 < {TARGET_P99_MS:.0f} ms | not measured | — |")
            continue
        pooled = Case(endpoint, "", "", timings_ms=timings)
        p99 = pooled.percentile(0.99)
        verdicts.append(
            f"| {name}: p99 < {TARGET_P99_MS:.0f} ms, all its cases pooled | {p99:.1f} ms "
            f"(median {statistics.median(timings):.1f}, {len(timings):,} requests) | "
            f"{harness.verdict(p99 < TARGET_P99_MS)} |"
        )
    stats = [case for case in cases if case.endpoint == "stats"]
    if stats:
        expected = summary["shop_totals"]
        agree = all(case.answered.endswith(f"at the end {expected}") for case in stats)
        verdicts.append(
            f"| the dashboard's running totals equal the members table ({expected}) | "
            f"{'equal' if agree else 'differ: see the answers above'} | "
            f"{harness.verdict(agree)} |"
        )
    verdicts.append(
        f"| no full scan of members or ledger in the plans | "
        f"{len(full_scans)} found | {harness.verdict(not full_scans)} |"
    )
    rounds = len(cases[0].timings_ms)
    return "\n".join(
        [
            "## The admin at scale (`bench/admin_scale.py`)",
            "",
            f"- Run: {machine}.",
            f"- Data: one shop with {summary['shop_members']:,} members and "
            f"{summary['shop_entries']:,} ledger entries over two years (1% of members with "
            "200–800 entries, 5% with none), and two other shops of "
            f"{summary['other_members']:,} members and {summary['other_entries']:,} entries "
            f"each, interleaved with it ({summary['members']:,} members and "
            f"{summary['entries']:,} entries in all); every index and constraint of the "
            f"migrations in place ({summary['restored']} restored after the bulk load and "
            f"checked against the rows), then VACUUM ANALYZE. Seeding: {seeding}.",
            "- Configuration: gunicorn `--workers 2` (sync, as the Procfile), DEBUG off, on "
            "the same machine as PostgreSQL (its settings as installed: shared_buffers "
            f"{summary.get('shared_buffers', '?')}). Requests one at a time with a fresh "
            f"session token each, every case in turn, {rounds} rounds after 3 warm-up "
            "requests per case; times are the client's, connection included.",
            f"- CPU while timing, in cores of {os.cpu_count()}: the web workers "
            f"{cores.get('web', 0):.2f}, everything else {others:.2f} (PostgreSQL, this "
            "client, and whatever else shares the machine: the other helpers' tests and "
            "benchmarks; a request waits for a core whenever the machine is busier than "
            f"its {os.cpu_count()} cores). Load average {os.getloadavg()[0]:.2f} at the end.",
            "",
            "| endpoint | case | answer | median ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---:|---:|---:|---:|",
            *rows,
            "",
            "| target | measured | verdict |",
            "|---|---|---|",
            *verdicts,
            "",
            "Query plans (EXPLAIN (ANALYZE, BUFFERS) of each statement on the big tables, run "
            "once after the timing; scan nodes, their buffers and the execution time):",
            "",
            "```",
            *plans,
            "```",
        ]
    )


def run(args: argparse.Namespace, processes: harness.Processes) -> tuple[list[Case], dict]:
    summary = seeded_sizes() if args.reuse else None
    if summary is None:
        summary = database_seed(args)
    else:
        print(f"reusing the seeded {DATABASE} ({summary['members']:,} members)", flush=True)
        harness.django_setup(**app_env())
    figures_fill(summary)
    shops_install()
    with harness.bench_db(DATABASE) as conn:
        summary["shared_buffers"] = conn.execute("SHOW shared_buffers").fetchone()[0]
    cases = cases_build()
    summary["shop_totals"] = shop_totals()
    from django.db import connection

    connection.close()
    port = harness.free_port()
    argv = harness.gunicorn_argv("config.wsgi:application", port=port, workers=2)
    server = processes.start("admin-web", argv, app_env())
    harness.wait_for_port(port, server)
    print(f"app listening on {port}; timing {len(cases)} cases x {args.requests} ...", flush=True)
    summary["cores"] = measure(port, cases, rounds=args.requests, web_pid=server.pid)
    processes.stop(server)
    return cases, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=20_000_000)
    parser.add_argument("--other-members", type=int, default=50_000, help="per other shop")
    parser.add_argument("--other-entries", type=int, default=500_000, help="per other shop")
    parser.add_argument("--requests", type=int, default=200, help="rounds of every case")
    parser.add_argument("--reuse", action="store_true", help="measure an existing seed")
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if args.members < 1000 or args.entries < 2 * args.members:
        parser.error("seed at least 1,000 members and twice as many entries")

    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary()
            cases, summary = run(args, processes)
            plans, full_scans = explain(cases)
        finally:
            processes.stop_all()
            harness.django_close()
            if not args.keep:
                harness.database_drop(DATABASE)
    text = report(cases, summary, plans, full_scans, machine)
    harness.publish("admin", text, write=not args.no_write)
    sys.exit(0)


if __name__ == "__main__":
    main()
