"""What the fault drills share: the app's processes as the Procfile runs them (optionally
behind a TCP proxy to PostgreSQL or Redis), the Shopify stand-in, signed deliveries, the
compressed scheduler tick, and the exact checks every drill ends with."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import harness
import requests

SHOP = "drills.myshopify.com"
API_KEY = "perennial-drills-api-key"
LOG_DIR = Path(__file__).with_name("logs")
PG_PORT = 5432
REDIS_PORT = 6379
# The scheduler enqueues the sweeper every minute and the sweeper waits 60 s before it
# sends a delivery again; the drills compress both so that a drill takes seconds.
TICK_SECONDS = 2.0
SWEEP_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Delivery:
    """One signed webhook as Shopify would send it (and resend it, byte for byte)."""

    topic: str
    body: bytes
    webhook_id: str
    event_id: str
    shop: str = SHOP

    def send(self, app_url: str, *, timeout: float = 10.0) -> tuple[int, float]:
        """POST it with the stand-in's sender; (status, seconds). Status 0: no answer."""
        from standin.sender import send_webhook

        started = time.monotonic()
        try:
            answer = send_webhook(
                f"{app_url}/webhooks",
                topic=self.topic,
                shop=self.shop,
                payload=self.body,
                secret=harness.APP_SECRET,
                webhook_id=self.webhook_id,
                event_id=self.event_id,
                timeout=timeout,
            )
        except requests.RequestException:
            return 0, time.monotonic() - started
        return answer.status_code, time.monotonic() - started


def order_delivery(
    order_id: int, customer_id: int | None, subtotal: str, *, topic: str = "orders/paid", **opts
) -> Delivery:
    import json

    from standin import payloads

    body = json.dumps(payloads.order(order_id, customer_id, subtotal, **opts)).encode()
    return Delivery(topic, body, f"wh-{topic}-{order_id}", f"ev-{topic}-{order_id}")


def points_of(subtotal: str | Decimal) -> int:
    """What an order earns with the drills' program: 1 point per unit, rounded down."""
    return int(Decimal(subtotal).to_integral_value(rounding=ROUND_FLOOR))


def send_all(
    app_url: str, deliveries: Sequence[Delivery], *, threads: int = 8
) -> list[tuple[int, float, float]]:
    """Send concurrently; per delivery (status, seconds, monotonic time of the answer)."""

    def one(delivery: Delivery) -> tuple[int, float, float]:
        status, seconds = delivery.send(app_url)
        return status, seconds, time.monotonic()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, deliveries))


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait_until(check: Callable[[], bool], *, within: float, poll: float = 0.1) -> float | None:
    """Seconds until `check()` held, or None if it did not within `within` s."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            return None
        time.sleep(poll)


@dataclass
class Stack:
    """gunicorn and a dramatiq worker as the Procfile runs them, each reaching PostgreSQL
    and Redis at the given ports (a drill's proxy, or the real servers)."""

    processes: harness.Processes
    pg_port: int = PG_PORT
    redis_port: int = REDIS_PORT
    web_port: int = field(default_factory=harness.free_port)
    standin_url: str = ""
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    worker_starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        return harness.app_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{self.pg_port}/{harness.BENCH_DB}",
            DRAMATIQ_BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/{harness.BENCH_REDIS_DB}",
            APP_URL=self.url,
            SHOPIFY_API_KEY=API_KEY,
            SHOPIFY_ADMIN_ORIGIN=f"{self.standin_url}/shops/{{shop}}",
            WEBHOOK_SWEEP_AFTER_SECONDS=str(SWEEP_AFTER_SECONDS),
        )

    def start(self) -> None:
        self.start_web()
        self.start_worker()

    def start_web(self) -> None:
        argv = harness.gunicorn_argv("config.wsgi:application", port=self.web_port, workers=2)
        self.web = self.processes.start("drill-web", argv, self.env())
        harness.wait_for_port(self.web_port, self.web)

    def start_worker(self) -> None:
        self.worker_starts += 1
        name = f"drill-worker-{self.worker_starts}"
        argv = harness.dramatiq_argv(processes=1, threads=8)
        self.worker = self.processes.start(name, argv, self.env())
        harness.wait_for_log(self.processes, name, harness.WORKER_READY)

    def worker_log_lines(self) -> list[str]:
        """Every line the workers of this stack logged (each start has its own log)."""
        return [
            line
            for n in range(1, self.worker_starts + 1)
            for line in self.processes.log_text(f"drill-worker-{n}").splitlines()
        ]

    def sweeper_resends(self) -> tuple[int, int]:
        """(sweeps that re-sent something, deliveries re-sent in all), from the workers' logs."""
        counts = [
            int(line.split("re-sent", 1)[1].split()[0])
            for line in self.worker_log_lines()
            if "sweeper re-sent" in line
        ]
        return len(counts), sum(counts)

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None:
                self.processes.stop(process)


class Ticker:
    """The scheduler's job, compressed: enqueue the delivery sweeper every `period` s
    through the given Redis port (failures are counted, as the scheduler would log them)."""

    def __init__(self, redis_port: int, *, period: float = TICK_SECONDS) -> None:
        import redis
        from dramatiq.brokers.redis import RedisBroker

        client = redis.Redis.from_url(
            f"redis://127.0.0.1:{redis_port}/{harness.BENCH_REDIS_DB}",
            socket_timeout=1,
            socket_connect_timeout=1,
        )
        self.broker = RedisBroker(client=client)
        self.broker.declare_queue("default")
        self.period = period
        self.sent = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-ticker", daemon=True)

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from webhooks.tasks import sweep_deliveries

        while not self._stop.wait(self.period):
            try:
                self.broker.enqueue(sweep_deliveries.message())
                self.sent += 1
            except Exception:  # noqa: BLE001 - Redis may be cut on purpose: count and go on
                self.failed += 1


# Exact checks


def program_set() -> None:
    """The drills' shop and program: 1 point per unit, rounded down, no hold."""
    from tests.factories import shop

    shop(SHOP, points_per_unit=Decimal("1"), rounding="down", hold_days=0)


_watcher = None


def db():
    """The drill's own connection, straight to PostgreSQL (never through a drill's proxy),
    kept open: the drills poll often, on a machine they share."""
    global _watcher
    if _watcher is None or _watcher.closed:
        _watcher = harness.bench_db()
    return _watcher


def status_counts() -> dict[str, int]:
    return dict(db().execute("SELECT status, count(*) FROM webhooks_delivery GROUP BY status"))


def rows_with_ids(webhook_ids: Iterable[str]) -> int:
    return (
        db()
        .execute(
            "SELECT count(*) FROM webhooks_delivery WHERE webhook_id = ANY(%s)",
            [list(webhook_ids)],
        )
        .fetchone()[0]
    )


def balances(shop: str = SHOP) -> dict[int, int]:
    return dict(
        db().execute(
            "SELECT m.customer_id, m.balance FROM loyalty_member m "
            "JOIN loyalty_shop s ON s.id = m.shop_id WHERE s.domain = %s",
            [shop],
        )
    )


def earned_entries(shop: str = SHOP) -> dict[str, int]:
    """Ledger entries per idempotency key kind (earned, refund, cancelled …) of a shop."""
    rows = (
        db()
        .execute(
            "SELECT e.idempotency_key FROM loyalty_ledgerentry e "
            "JOIN loyalty_shop s ON s.id = e.shop_id WHERE s.domain = %s",
            [shop],
        )
        .fetchall()
    )
    counts: dict[str, int] = {}
    for (key,) in rows:
        kind = key.split(":")[2] if key.startswith("order:") else key.split(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def balances_match(expected: dict[int, int], shop: str = SHOP) -> tuple[bool, str]:
    """Every member's balance equals `expected` (absent: 0), and nobody else holds points."""
    held = {customer: points for customer, points in balances(shop).items() if points}
    wanted = {customer: points for customer, points in expected.items() if points}
    wrong = sorted(c for c in set(held) | set(wanted) if held.get(c, 0) != wanted.get(c, 0))
    detail = (
        f"{sum(held.values()):,} points in {len(held)} members, expected "
        f"{sum(wanted.values()):,} in {len(wanted)}; {len(wrong)} wrong"
    )
    if wrong:
        sample = ", ".join(f"{c}: {held.get(c, 0)} not {wanted.get(c, 0)}" for c in wrong[:3])
        detail += f" ({sample})"
    return not wrong, detail


def watcher_close() -> None:
    """Close the drill's connection (before the database is dropped)."""
    if _watcher is not None:
        _watcher.close()


def ledger_check() -> tuple[bool, str]:
    """`manage.py check_ledger` on the drills' database: (no drift, its last line)."""
    check = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=harness.ROOT,
        env=harness.app_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = (check.stdout + check.stderr).strip().splitlines()
    return check.returncode == 0, lines[-1] if lines else "(no output)"


def manage(*args: str) -> str:
    """Run a management command against the drills' database; its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=harness.ROOT,
        env=harness.app_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (done.stdout + done.stderr).strip()


def account_balance(standin_url: str, customer_id: int) -> int | None:
    """The balance the storefront widget shows, read through the stand-in's signed app
    proxy (`/apps/loyalty/api/account` → the app's `/proxy/api/account`)."""
    try:
        answer = requests.get(
            f"{standin_url}/shops/{SHOP}/apps/loyalty/api/account",
            cookies={"standin_customer_id": str(customer_id)},
            timeout=5,
        )
    except requests.RequestException:
        return None
    return answer.json()["balance"] if answer.status_code == 200 else None
