"""The storefront's account answer at scale: `GET /proxy/api/account` for a shop with
1,000,000 members and 20,000,000 ledger entries.

    .venv/bin/python bench/storefront.py [--keep] [--reuse] [--requests 2000] [--duration 30]

Seeds its own PostgreSQL database (perennial_bench_store) by SQL: the members and ledger
of bench/admin_seed.py (the big shop and two smaller ones whose members interleave with
its own), then what the account answer reads besides (bench/storefront_seed.py): a
program with expiry, birthdays and referrals on, VIP tiers with each member placed by
their tallies, a rewards catalogue, redeemed codes, birthdays and referral codes.

Starts the app as the Procfile's `web:` does (gunicorn, 2 sync workers, DEBUG off) and
asks for the account of random members, each request signed as Shopify's app proxy signs
it: one at a time (median, p95, p99, max, against a p99 target of 30 ms), then with 8
connections by `wrk` from a file of pre-signed paths (throughput, p50, p99), beside the
no-op Django view under the same gunicorn and load. Samples every gunicorn worker's
resident memory from /proc each second (target: under 200 MB). Prints EXPLAIN (ANALYZE,
BUFFERS) of every statement the answer runs, and fails when one scans the members or the
ledger. Writes docs/PERFORMANCE.md's section (`--no-write` to leave it alone).

Seeding takes about 10 minutes on 2 cores: `--keep` leaves the database in place and
`--reuse` measures the one an earlier run kept, adding what an older seed lacks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import admin_seed
import harness
import requests
import storefront_seed
from storefront_report import Plan, Served, report

# Its own database and Redis DB, so it can be developed beside the other benchmarks;
# PERENNIAL_STORE_BENCH_DB names another database (a small one to try the script).
DATABASE = os.environ.get("PERENNIAL_STORE_BENCH_DB", "perennial_bench_store")
REDIS_URL = "redis://127.0.0.1:6379/13"
OTHER_SHOPS = ("bench-other-1.myshopify.com", "bench-other-2.myshopify.com")
LOG_DIR = Path(__file__).with_name("logs")
LUA_SCRIPT = Path(__file__).with_name("storefront.lua")
MARKER = "bench_store_seeded"
# Members asked for by wrk: more than it gets through in a run, so none is asked twice.
WRK_MEMBERS = 20_000


def app_env() -> dict[str, str]:
    return harness.app_env(
        DATABASE_URL=harness.database_url(DATABASE), DRAMATIQ_BROKER_URL=REDIS_URL
    )


def seeded_summary() -> dict | None:
    """What an earlier run seeded into the database, or None when it holds no full seed."""
    if not harness.database_exists(DATABASE):
        return None
    with harness.bench_db(DATABASE) as conn:
        if conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is None:
            return None
        return conn.execute(f"SELECT summary FROM {MARKER}").fetchone()[0]


def summary_save(summary: dict) -> None:
    with harness.bench_db(DATABASE) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (summary jsonb)")
        conn.execute(f"DELETE FROM {MARKER}")
        conn.execute(f"INSERT INTO {MARKER} VALUES (%s)", [json.dumps(summary)])


def database_seed(args: argparse.Namespace) -> dict:
    """A fresh, migrated database with the three shops and their members and ledgers."""
    harness.database_create(DATABASE)
    harness.django_setup(**app_env())
    from tests.factories import shop

    shops = [shop(harness.SHOP), *(shop(domain) for domain in OTHER_SHOPS)]
    sizes = [admin_seed.ShopSize(shops[0].pk, args.members, args.entries)] + [
        admin_seed.ShopSize(other.pk, args.other_members, args.other_entries) for other in shops[1:]
    ]
    print(f"seeding {args.members:,} members and {args.entries:,} entries ...", flush=True)
    started = time.monotonic()
    with harness.bench_db(DATABASE) as conn:
        seeded = admin_seed.seed(conn, sizes, say=lambda line: print(line, flush=True))
    summary = {
        "members": seeded.members,
        "entries": seeded.entries,
        "shop_members": args.members,
        "shop_entries": args.entries,
        "seconds": {**seeded.seconds, "total": time.monotonic() - started},
    }
    summary_save(summary)
    print(f"seeded in {summary['seconds']['total']:.0f} s", flush=True)
    return summary


def extras_seed(summary: dict) -> None:
    """What the account answer reads besides members and entries, once per database."""
    from loyalty.models import Shop

    if "extras" in summary:
        return
    print("seeding the program, tiers, rewards, codes, birthdays and referrals ...", flush=True)
    started = time.monotonic()
    shop = Shop.objects.get(domain=harness.SHOP)
    made = storefront_seed.catalogue_make(shop)
    with harness.bench_db(DATABASE) as conn:
        made |= storefront_seed.seed(conn, shop.pk, say=lambda line: print(line, flush=True))
    summary["extras"] = made
    summary["seconds"]["account extras"] = time.monotonic() - started
    summary_save(summary)
    print(f"  done in {summary['seconds']['account extras']:.0f} s: {made}", flush=True)


def members_sample(count: int) -> list[int]:
    """Customer ids of `count` members of the big shop drawn at random (the same ones for
    the same seed), members without points included as in a real store."""
    with harness.bench_db(DATABASE) as conn:
        conn.execute("SELECT setseed(0.13)")
        rows = conn.execute(
            "SELECT customer_id FROM loyalty_member WHERE shop_id = "
            "(SELECT id FROM loyalty_shop WHERE domain = %s) ORDER BY random() LIMIT %s",
            [harness.SHOP, count],
        ).fetchall()
    return [row[0] for row in rows]


def signed_query(customer_id: int) -> str:
    """The query Shopify's app proxy adds for a logged-in customer, signed now."""
    from standin.signing import app_proxy_params

    params = app_proxy_params(
        shop=harness.SHOP, logged_in_customer_id=str(customer_id), secret=harness.APP_SECRET
    )
    return urlencode(params, doseq=True)


def gunicorn_workers(master: int) -> list[int]:
    """The live processes gunicorn's master forked (its workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Field 4 is the parent; split after the command name, which may hold spaces.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return sorted(found)


def memory_kb(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) of a process in KiB: VmRSS and VmHWM of proc(5)."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    return figures["VmRSS"], figures["VmHWM"]


class MemorySampler(threading.Thread):
    """Samples the resident memory of every gunicorn worker once a second while it runs;
    `peaks` keeps each worker's highest sample and `hwm` the kernel's own peak."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.peaks: dict[int, int] = {}
        self.hwm: dict[int, int] = {}
        self.samples = 0
        self.finished = threading.Event()

    def sample(self) -> None:
        for pid in [self.master, *gunicorn_workers(self.master)]:
            with contextlib.suppress(OSError, KeyError):
                resident, peak = memory_kb(pid)
                self.peaks[pid] = max(self.peaks.get(pid, 0), resident)
                self.hwm[pid] = peak
        self.samples += 1

    def run(self) -> None:
        while not self.finished.wait(1.0):
            self.sample()

    def stop(self) -> None:
        self.sample()
        self.finished.set()
        self.join()


def time_serial(port: int, served: Served, members: list[int], *, check: bool) -> list[float]:
    """Milliseconds per request, one at a time, each freshly signed; every answer checked."""
    timings = []
    for customer_id in members:
        url = f"http://127.0.0.1:{port}{served.path}?{signed_query(customer_id)}"
        started = time.perf_counter()
        answer = requests.get(url, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200 or (
            check and answer.json()["customer_id"] != str(customer_id)
        ):
            raise RuntimeError(f"{served.name}: {customer_id}: {answer.status_code} {answer.text}")
        timings.append(elapsed)
        served.answer_bytes = len(answer.content)
    return timings


def run_wrk(
    port: int, served: Served, members: list[int], args: argparse.Namespace, processes
) -> dict:
    """wrk with `args.connections` connections for `args.duration` s, each request a
    different member's pre-signed query (signed just before: fresh for 90 s)."""
    wrk = harness.ensure_wrk()
    queries = LOG_DIR / f"store-{served.name}-queries.txt"
    queries.write_text("".join(f"{signed_query(customer_id)}\n" for customer_id in members))
    argv = [
        wrk, "-t", str(args.wrk_threads), "-c", str(args.connections),
        "-d", f"{args.duration}s", "--timeout", "10s", "-s", str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}{served.path}", "--", str(queries),
        served.path, str(args.wrk_threads),
    ]  # fmt: skip
    load = processes.start(f"store-{served.name}-wrk", argv, os.environ)
    load.wait(timeout=args.duration + 120)
    output = processes.log_text(f"store-{served.name}-wrk")
    if load.returncode != 0:
        raise RuntimeError(f"wrk exited with {load.returncode}: {output[-2000:]}")
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")


def serve_and_measure(
    served: Served,
    settings_module: str,
    members: list[int],
    args: argparse.Namespace,
    processes: harness.Processes,
) -> None:
    """Start gunicorn as the Procfile does, warm it up, time it one request at a time and
    then under wrk, sampling its workers' memory throughout."""
    port = harness.free_port()
    env = {**app_env(), "DJANGO_SETTINGS_MODULE": settings_module}
    argv = harness.gunicorn_argv("config.wsgi:application", port=port, workers=args.web_workers)
    server = processes.start(f"store-{served.name}-web", argv, env)
    harness.wait_for_port(port, server)
    sampler = MemorySampler(server.pid)
    sampler.start()
    check = served.name == "account"
    try:
        warm, serial = members[: args.warmup], members[args.warmup : args.warmup + args.requests]
        print(f"{served.name}: {len(warm)} to warm up, {len(serial)} one at a time", flush=True)
        time_serial(port, served, warm, check=check)
        served.serial_ms = time_serial(port, served, serial, check=check)
        print(f"{served.name}: wrk, {args.connections} connections, {args.duration} s", flush=True)
        served.wrk = run_wrk(port, served, members[args.warmup + args.requests :], args, processes)
    finally:
        sampler.stop()
        processes.stop(server)
    served.peaks_kb, served.hwm_kb = sampler.peaks, sampler.hwm
    served.master, served.samples = server.pid, sampler.samples


def account_plans() -> tuple[list[Plan], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT the account answer runs (the request made
    in this process with Django's test client) for three members: one drawn at random, one
    with the most entries, and one with codes in a tier below the top; and any statement
    that is not a SELECT (not explained: ANALYZE would run it)."""
    from django.db import connection
    from django.test import Client

    from loyalty.models import Member

    members = Member.objects.filter(shop__domain=harness.SHOP)
    picked = {
        "a random member": members_sample(1)[0],
        "the member with the most entries": members.order_by("-last_sequence")
        .exclude(last_sequence=None)
        .values_list("customer_id", flat=True)
        .first(),
        "a member with codes, below the top tier": members.filter(
            tier__threshold__lt=storefront_seed.TIERS[-1][1], redemptions__isnull=False
        )
        .values_list("customer_id", flat=True)
        .first(),
    }
    plans, writes = [], []
    client = Client(HTTP_HOST="127.0.0.1")
    for label, customer_id in picked.items():
        statements: list[tuple[str, tuple]] = []

        def catch(execute, sql, params, many, context, statements=statements):
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(catch):
            answer = client.get(f"/proxy/api/account?{signed_query(customer_id)}")
        if answer.status_code != 200:
            raise RuntimeError(f"{label}: {answer.status_code} {answer.content[:500]!r}")
        with connection.cursor() as cursor:
            for sql, params in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    writes.append(f"{label}: {sql[:200]}")
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                lines = [row[0] for row in cursor.fetchall()]
                plans.append(Plan(member=label, sql=sql, lines=lines))
    return plans, writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=20_000_000)
    parser.add_argument("--other-members", type=int, default=50_000, help="per other shop")
    parser.add_argument("--other-entries", type=int, default=500_000, help="per other shop")
    parser.add_argument("--requests", type=int, default=2_000, help="one at a time")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk per view")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="measure an existing seed")
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    parser.add_argument("--seed-only", action="store_true", help="seed (with --keep), no runs")
    parser.add_argument("--no-write", action="store_true", help="do not touch PERFORMANCE.md")
    args = parser.parse_args()
    if args.members < 1000 or args.entries < 2 * args.members:
        parser.error("seed at least 1,000 members and twice as many entries")
    if args.seed_only and not args.keep:
        parser.error("--seed-only needs --keep (else the seed is dropped at once)")

    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(log_dir=LOG_DIR)
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary()
            summary = seeded_summary() if args.reuse else None
            if summary is None:
                summary = database_seed(args)
            else:
                print(f"reusing the seeded {DATABASE} ({summary['members']:,} members)")
                harness.django_setup(**app_env())
            extras_seed(summary)
            if args.seed_only:
                return
            plans, writes = account_plans()
            for plan in plans:
                print(f"\n{plan.member}: {plan.sql}")
                print("\n".join(f"    {line}" for line in plan.lines))
            harness.django_close()
            members = members_sample(args.warmup + args.requests + WRK_MEMBERS)
            served = {
                "account": Served("account", "/proxy/api/account"),
                "noop": Served("noop", "/webhooks"),
            }
            serve_and_measure(served["account"], "config.settings", members, args, processes)
            serve_and_measure(served["noop"], "bench.noop_settings", members, args, processes)
        finally:
            processes.stop_all()
            harness.django_close()
            if not args.keep:
                harness.database_drop(DATABASE)
    text, passed = report(served, plans, writes, summary, args, machine)
    harness.publish("storefront", text, write=not args.no_write)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
