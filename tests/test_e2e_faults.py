"""PostgreSQL unreachable while deliveries arrive, over HTTP: the app under gunicorn and a
real dramatiq worker reach the database through a TCP proxy the test cuts (the server
itself is never touched). bench/drills.py runs this and the other fault drills at scale.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings

from bench.drill_proxy import TcpProxy
from loyalty.models import LedgerEntry, Member
from standin import payloads
from tests.conftest import needs_postgres_and_redis
from tests.test_e2e import SHOP, app_env, deliver, free_port, spawn, stop, wait_until
from webhooks.models import Delivery, Status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), needs_postgres_and_redis]


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(int(settings.DATABASES["default"].get("PORT") or 5432))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def app_behind_proxy(database_proxy: TcpProxy) -> Iterator[tuple[str, object]]:
    """gunicorn and a worker whose every database connection goes through the proxy."""
    import redis
    import requests

    redis.Redis.from_url(settings.DRAMATIQ_BROKER_URL).flushdb()
    port = free_port()
    db = settings.DATABASES["default"]
    env = app_env(port, settings.DRAMATIQ_BROKER_URL)
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{database_proxy.port}/{db['NAME']}"
    web = spawn(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env,
    )
    worker = spawn(
        [sys.executable, "-m", "dramatiq", "config.worker", "--processes", "1", "--threads", "4"],
        env,
    )
    try:
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok,
            within=30,
            what="gunicorn answers /healthz",
        )
        yield f"http://127.0.0.1:{port}", worker
    finally:
        stop(worker)
        stop(web)


def _balance(customer_id: int) -> int:
    member = Member.objects.filter(shop__domain=SHOP, customer_id=customer_id).first()
    return member.balance if member else 0


def test_postgres_unreachable_gets_503_and_no_row_then_shopifys_resend_credits_once(
    app_behind_proxy, database_proxy
):
    app, worker = app_behind_proxy
    first = payloads.order(8101, 51, subtotal="40.00")
    assert deliver(app, "orders/paid", first, webhook_id="pg-1", event_id="pg-ev-1").ok
    wait_until(lambda: _balance(51) == 40, within=20, what="the first order is credited")

    database_proxy.cut()
    second = payloads.order(8102, 51, subtotal="25.00")
    started = time.monotonic()
    refused = deliver(app, "orders/paid", second, webhook_id="pg-2", event_id="pg-ev-2")
    answered_in = time.monotonic() - started

    # Not stored, so not acknowledged: Shopify retries a non-2xx answer (5 s timeout).
    assert refused.status_code == 503
    assert answered_in < 5
    assert not Delivery.objects.filter(webhook_id="pg-2").exists()

    database_proxy.restore()
    # Shopify's retries resend the same bytes under the same webhook id. A gunicorn worker
    # whose pooled connection was cut may fail one more request; the next retry gets in.
    answers = []
    for _ in range(4):
        answers.append(
            deliver(app, "orders/paid", second, webhook_id="pg-2", event_id="pg-ev-2").status_code
        )
        if answers[-1] == 200:
            break
    assert answers[-1] == 200, answers
    assert deliver(app, "orders/paid", second, webhook_id="pg-2", event_id="pg-ev-2").ok

    wait_until(lambda: _balance(51) == 65, within=30, what="the resent order is credited")
    time.sleep(1)  # a second job for the same delivery would have run by now
    assert _balance(51) == 65
    assert Delivery.objects.get(webhook_id="pg-2").status == Status.PROCESSED
    assert LedgerEntry.objects.filter(shop__domain=SHOP, order_id=8102).count() == 1
    # The same worker process went on once the database was back.
    assert worker.poll() is None
