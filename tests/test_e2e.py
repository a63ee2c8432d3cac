"""End to end over HTTP: the app under gunicorn (as in the Procfile) on PostgreSQL, a real
dramatiq worker on Redis, the Shopify stand-in signing webhooks and app proxy requests.

Signed webhooks in, points out through the signed app proxy endpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

from standin import payloads, server
from standin.sender import send_webhook
from tests.conftest import needs_postgres_and_redis
from webhooks.models import Delivery, Status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), needs_postgres_and_redis]

ROOT = Path(__file__).resolve().parent.parent
SHOP = "e2e-shop.myshopify.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


def app_env(port: int, broker_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DRAMATIQ_BROKER_URL": broker_url,
        "APP_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
        "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET,
        "DEBUG": "false",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def wait_until(check: Callable[[], bool], *, within: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if check():
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what}")


def start_web(port: int, broker_url: str) -> subprocess.Popen:
    web = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        app_env(port, broker_url),
    )
    wait_until(
        lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok,
        within=30,
        what="gunicorn answers /healthz",
    )
    return web


@pytest.fixture
def app() -> Iterator[str]:
    """The web and worker processes as the Procfile runs them, on a free port."""
    redis.Redis.from_url(settings.DRAMATIQ_BROKER_URL).flushdb()
    port = free_port()
    web = start_web(port, settings.DRAMATIQ_BROKER_URL)
    worker = spawn(
        [sys.executable, "-m", "dramatiq", "config.worker", "--processes", "1", "--threads", "4"],
        app_env(port, settings.DRAMATIQ_BROKER_URL),
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(worker)
        stop(web)


@pytest.fixture
def shopify(app: str) -> Iterator[server.Standin]:
    standin = server.start(
        api_key=settings.SHOPIFY_API_KEY, api_secret=settings.SHOPIFY_API_SECRET, app_url=app
    )
    try:
        yield standin
    finally:
        standin.stop()


def deliver(app: str, topic: str, payload, **ids) -> requests.Response:
    return send_webhook(
        f"{app}/webhooks",
        topic=topic,
        shop=SHOP,
        payload=payload,
        secret=settings.SHOPIFY_API_SECRET,
        **ids,
    )


def storefront_account(shopify: server.Standin, customer_id: int | str) -> dict:
    """What the widget sees: /apps/loyalty/api/account on the shop, via the app proxy."""
    response = requests.get(
        f"{shopify.shop_url(SHOP)}/apps/loyalty/api/account",
        cookies={"standin_customer_id": str(customer_id)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_signed_webhooks_in_points_out_through_the_app_proxy(app, shopify):
    order = payloads.order(7001, 42, subtotal="120.00", email="ada@example.com")

    # The same delivery five times (Shopify's retries), then the same event under a new
    # webhook id: all acknowledged, credited once.
    for _ in range(5):
        assert deliver(app, "orders/paid", order, webhook_id="w-1", event_id="ev-1").ok
    assert deliver(app, "orders/paid", order, webhook_id="w-2", event_id="ev-1").ok
    # orders/create and orders/updated of the same paid order: still credited once.
    assert deliver(app, "orders/create", order).ok
    assert deliver(app, "orders/updated", order).ok

    took = wait_until(
        lambda: storefront_account(shopify, 42)["balance"] == 120,
        within=10,
        what="the order's points show through the app proxy",
    )
    assert took < 10
    print(f"\norder's points visible through the app proxy {took:.2f} s after delivery")

    # A refund that arrives before its order, then the order.
    assert deliver(app, "refunds/create", payloads.refund(7002, 9001, [("30.00", "0.00")])).ok
    assert deliver(app, "orders/paid", payloads.order(7002, 42, subtotal="50.00")).ok
    wait_until(
        lambda: storefront_account(shopify, 42)["balance"] == 140,
        within=10,
        what="refund before order: 120 + (50 - 30)",
    )

    # A forged delivery: 401 and no row.
    forged = requests.post(
        f"{app}/webhooks",
        data=b'{"id": 1}',
        headers={
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Hmac-Sha256": "Zm9yZ2Vk",
            "X-Shopify-Webhook-Id": "forged-1",
        },
        timeout=5,
    )
    assert forged.status_code == 401
    assert not Delivery.objects.filter(webhook_id="forged-1").exists()

    # A malformed signed one: acknowledged, kept, failed and visible.
    assert deliver(app, "orders/paid", b"{broken", webhook_id="malformed-1").status_code == 200
    wait_until(
        lambda: Delivery.objects.get(webhook_id="malformed-1").status == Status.FAILED,
        within=10,
        what="the malformed delivery is marked failed",
    )
    assert "not valid JSON" in Delivery.objects.get(webhook_id="malformed-1").last_error

    # Guests and customers without points.
    guest = storefront_account(shopify, "")
    assert (guest["guest"], guest["balance"], guest["pending"]) == (True, 0, 0)
    assert storefront_account(shopify, 999)["balance"] == 0
    assert storefront_account(shopify, 42)["pending"] == 0
    assert Delivery.objects.filter(webhook_id__in=["w-1", "w-2"]).count() == 1


def test_deliveries_are_stored_and_acknowledged_while_the_broker_is_down():
    port = free_port()
    web = start_web(port, "redis://127.0.0.1:1/0")  # nothing listens there
    try:
        started = time.monotonic()
        response = send_webhook(
            f"http://127.0.0.1:{port}/webhooks",
            topic="orders/paid",
            shop=SHOP,
            payload=payloads.order(7003, 43),
            secret=settings.SHOPIFY_API_SECRET,
            webhook_id="broker-down-1",
        )
        elapsed = time.monotonic() - started
    finally:
        stop(web)
    assert response.status_code == 200
    assert elapsed < 5
    assert Delivery.objects.get(webhook_id="broker-down-1").status == Status.RECEIVED
