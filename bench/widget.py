"""The storefront widget's weight and the account answer's speed.

    .venv/bin/python bench/widget.py [--members 20000] [--requests 2000] [--web-workers 2]

1. Gzips the theme app extension's script and stylesheet (extensions/loyalty-widget/assets,
   level 9 as a CDN would) and checks their sum against the 12 KB budget of issue 11.
2. Seeds a PostgreSQL database (its own, dropped at the end): one shop with tiers and a
   rewards catalogue, N members each with a history of ledger entries; starts the app as
   the Procfile's `web:` does (gunicorn) and times `GET /proxy/api/account` for random
   members, each request signed as Shopify's app proxy signs it (fresh timestamp, HMAC
   checked by the app). One client at a time after a warm-up: the latency a shopper opening
   the panel waits for, not a throughput figure.

Writes its section of docs/PERFORMANCE.md (`--no-write` to leave it alone).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import harness
import requests

BUDGET_BYTES = 12 * 1024
ASSETS = harness.ROOT / "extensions" / "loyalty-widget" / "assets"
WIDGET_FILES = ("loyalty-widget.js", "loyalty-widget.css")
LOG_DIR = Path(__file__).with_name("logs")
# Its own database, so it can run beside the other benchmarks, which drop theirs.
DATABASE = "perennial_bench_widget"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
ENTRIES_PER_MEMBER = 12
# The answer is fine at the scale a shop lives at; past this, opening the panel feels slow.
MAX_MEDIAN_MS = 50.0


def app_env() -> dict[str, str]:
    return harness.app_env(DATABASE_URL=DATABASE_URL)


def database_connection(url: str = DATABASE_URL):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)


def database_create() -> None:
    """Drop and create this benchmark's database, then migrate it as the Procfile's release
    does."""
    database_drop()
    with database_connection(harness.PG_ADMIN_URL) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=harness.ROOT, env=app_env(), check=True, timeout=300)


def database_drop() -> None:
    with database_connection(harness.PG_ADMIN_URL) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def django_setup() -> None:
    """Django in this process, on this benchmark's database (to seed it)."""
    os.environ.update(app_env())
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def gzipped_sizes() -> dict[str, tuple[int, int]]:
    """file -> (bytes, gzipped bytes)."""
    sizes = {}
    for name in WIDGET_FILES:
        raw = (ASSETS / name).read_bytes()
        sizes[name] = (len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0)))
    return sizes


def seed(members: int, *, seed_value: int = 11) -> None:
    """One installed shop, 3 tiers, 12 rewards and `members` members with
    ENTRIES_PER_MEMBER ledger entries each, the chain as points_record writes it."""
    from django.db import transaction

    from loyalty.models import LedgerEntry, Member, Reason, Reward, Shop, Tier

    rng = random.Random(seed_value)
    shop = Shop.objects.create(domain=harness.SHOP, name="Bench", currency="USD")
    tiers = [
        Tier.objects.create(shop=shop, name=name, threshold=threshold, multiplier=multiplier)
        for name, threshold, multiplier in (
            ("Silver", 500, Decimal("1.25")),
            ("Gold", 2000, Decimal("1.5")),
            ("Platinum", 5000, Decimal("2")),
        )
    ]
    for n in range(12):
        Reward.objects.create(
            shop=shop,
            kind="amount_off",
            points_cost=250 * (n + 1),
            value=Decimal(5 * (n + 1)),
        )
    batch = 2000
    for start in range(0, members, batch):
        people = []
        chains = []
        for customer_id in range(start + 1, min(start + batch, members) + 1):
            earned = [rng.randint(5, 400) for _ in range(ENTRIES_PER_MEMBER)]
            balance = sum(earned)
            tier = next((t for t in reversed(tiers) if balance >= t.threshold), None)
            people.append(
                Member(
                    shop=shop,
                    customer_id=customer_id,
                    email=f"c{customer_id}@example.com",
                    balance=balance,
                    last_sequence=ENTRIES_PER_MEMBER,
                    tier=tier,
                )
            )
            chains.append(earned)
        entries = []
        for member, earned in zip(people, chains, strict=True):
            before = 0
            for sequence, points in enumerate(earned, start=1):
                entries.append(
                    LedgerEntry(
                        shop=shop,
                        member=member,
                        sequence=sequence,
                        points=points,
                        prev_sequence=sequence - 1 if sequence > 1 else None,
                        prev_balance=before,
                        balance_after=before + points,
                        pending_after=0,
                        reason=Reason.ORDER_EARNED,
                        idempotency_key=f"bench:{member.customer_id}:{sequence}",
                        order_id=member.customer_id * 100 + sequence,
                    )
                )
                before += points
        # The member row and its newest entry point at each other (deferred foreign keys):
        # both go in one transaction.
        with transaction.atomic():
            Member.objects.bulk_create(people)
            LedgerEntry.objects.bulk_create(entries)
    with database_connection() as conn:
        conn.execute("ANALYZE")


def signed_account_url(port: int, customer_id: int) -> str:
    from standin.signing import app_proxy_params

    params = app_proxy_params(
        shop=harness.SHOP, logged_in_customer_id=str(customer_id), secret=harness.APP_SECRET
    )
    return f"http://127.0.0.1:{port}/proxy/api/account?{urlencode(params)}"


def time_requests(port: int, members: int, count: int, *, seed_value: int = 5) -> list[float]:
    """Milliseconds per answered request, for `count` random members; each answer checked."""
    rng = random.Random(seed_value)
    session = requests.Session()
    timings = []
    for _ in range(count):
        customer_id = rng.randint(1, members)
        url = signed_account_url(port, customer_id)
        started = time.perf_counter()
        answer = session.get(url, timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200 or answer.json()["customer_id"] != str(customer_id):
            raise RuntimeError(f"bad answer for {customer_id}: {answer.status_code} {answer.text}")
        timings.append(elapsed)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(
    sizes: dict[str, tuple[int, int]],
    timings: list[float],
    args: argparse.Namespace,
    machine: str,
    answer_bytes: int,
) -> str:
    total = sum(gzipped for _, gzipped in sizes.values())
    median = statistics.median(timings)
    lines = [
        "## Storefront widget",
        "",
        f"`bench/widget.py --members {args.members} --requests {args.requests} "
        f"--web-workers {args.web_workers}`; {machine}.",
        "",
        "Weight of the theme app extension's assets (gzip level 9), against issue 11's budget:",
        "",
        "| file | bytes | gzipped |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{name}` | {raw:,} | {gz:,} |" for name, (raw, gz) in sizes.items()]
    lines += [
        f"| **together** | {sum(raw for raw, _ in sizes.values()):,} | **{total:,}** |",
        "",
        f"Budget {BUDGET_BYTES:,} bytes gzipped: **{harness.verdict(total <= BUDGET_BYTES)}** "
        f"({total / BUDGET_BYTES:.0%} of it). Before the shopper opens the panel the widget "
        "adds these two requests and nothing else (the browser test checks it).",
        "",
        f"`GET /proxy/api/account` (what opening the panel asks for), signed as the app proxy "
        f"signs it, under gunicorn ({args.web_workers} workers) on PostgreSQL with "
        f"{args.members:,} members of one shop, {ENTRIES_PER_MEMBER} ledger entries each "
        f"({args.members * ENTRIES_PER_MEMBER:,} rows), 3 tiers and 12 rewards; "
        f"{len(timings):,} requests for random members, one at a time, after "
        f"{args.warmup} to warm up; answers of about {answer_bytes:,} bytes:",
        "",
        "| median | p90 | p99 | max |",
        "| ---: | ---: | ---: | ---: |",
        f"| {median:.1f} ms | {percentile(timings, 0.90):.1f} ms | "
        f"{percentile(timings, 0.99):.1f} ms | {max(timings):.1f} ms |",
        "",
        f"Median at most {MAX_MEDIAN_MS:.0f} ms: **{harness.verdict(median <= MAX_MEDIAN_MS)}**. "
        "Times are measured at the client on loopback (no Shopify proxy hop, which adds "
        "its own).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    sizes = gzipped_sizes()
    for name, (raw, gz) in sizes.items():
        print(f"{name}: {raw:,} bytes, {gz:,} gzipped", flush=True)
    total = sum(gz for _, gz in sizes.values())
    print(f"together {total:,} of {BUDGET_BYTES:,}: {harness.verdict(total <= BUDGET_BYTES)}")

    LOG_DIR.mkdir(exist_ok=True)
    processes = harness.Processes(LOG_DIR)
    with harness.terminated_cleanly():
        try:
            machine = harness.machine_summary()
            harness.redis_flush()
            print("creating and migrating the bench database", flush=True)
            database_create()
            django_setup()
            started = time.monotonic()
            seed(args.members)
            print(f"seeded {args.members:,} members in {time.monotonic() - started:.0f} s")
            harness.django_close()
            port = harness.free_port()
            web = processes.start(
                "widget-web",
                harness.gunicorn_argv("config.wsgi", port=port, workers=args.web_workers),
                app_env(),
            )
            harness.wait_for_port(port, web)
            time_requests(port, args.members, args.warmup, seed_value=1)
            timings = time_requests(port, args.members, args.requests)
            answer_bytes = len(requests.get(signed_account_url(port, 1), timeout=10).content)
        finally:
            processes.stop_all()
            harness.redis_flush()
            harness.django_close()
            database_drop()
    text = report(sizes, timings, args, machine, answer_bytes)
    harness.publish("widget", text, write=not args.no_write)
    if total > BUDGET_BYTES:
        sys.exit(1)


if __name__ == "__main__":
    main()
