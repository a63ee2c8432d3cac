"""The minimal durable intake: the least work that acknowledges a delivery only once it is
safely stored. Plain WSGI, the same HMAC check as the app, one INSERT committed with plain
psycopg into a copy of the inbox table (same columns, indexes and constraints), one Redis
LPUSH of the new id; no Django, no ORM, no dramatiq.

Served by the same gunicorn command as the app: `gunicorn bench.floor_app:application`,
configured by DATABASE_URL, DRAMATIQ_BROKER_URL and SHOPIFY_API_SECRET.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import psycopg
import redis

TABLE = "bench_delivery"
# The app's statement (webhooks.views.INSERT_DELIVERY) against the copy of its table.
INSERT = f"""
INSERT INTO {TABLE}
    (shop_domain, topic, webhook_id, event_id, triggered_at, api_version, body,
     received_at, status, attempts, last_error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'received', 0, '')
ON CONFLICT DO NOTHING
RETURNING id
"""
QUEUE_KEY = "bench:floor:deliveries"
SECRET = os.environ.get("SHOPIFY_API_SECRET", "").encode()

# One connection of each kind per gunicorn worker process (sync workers serve one request
# at a time), opened on first use so that none is shared across gunicorn's fork.
_connections: dict[str, object] = {}

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def _database() -> psycopg.Connection:
    conn = _connections.get("db")
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        # Autocommit: the INSERT is one statement, committed (and so durable, with
        # synchronous_commit on) when execute returns; no BEGIN and COMMIT round trips.
        conn = _connections["db"] = psycopg.connect(url, autocommit=True)
    return conn


def _redis() -> redis.Redis:
    client = _connections.get("redis")
    if client is None:
        client = _connections["redis"] = redis.Redis.from_url(
            os.environ["DRAMATIQ_BROKER_URL"], socket_timeout=2, socket_connect_timeout=1
        )
    return client


def _signed(body: bytes, signature: str) -> bool:
    digest = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest())
    return bool(signature) and hmac.compare_digest(digest, signature.strip().encode())


def application(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if not _signed(body, environ.get("HTTP_X_SHOPIFY_HMAC_SHA256", "")):
        start_response("401 Unauthorized", [("Content-Type", "text/plain")])
        return [b"invalid webhook signature"]
    conn = _database()
    row = conn.execute(
        INSERT,
        [
            environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "")[:255],
            environ.get("HTTP_X_SHOPIFY_TOPIC", "")[:128],
            environ.get("HTTP_X_SHOPIFY_WEBHOOK_ID", "")[:128],
            environ.get("HTTP_X_SHOPIFY_EVENT_ID") or None,
            environ.get("HTTP_X_SHOPIFY_TRIGGERED_AT", "")[:64],
            environ.get("HTTP_X_SHOPIFY_API_VERSION", "")[:32],
            body,
            datetime.now(UTC),
        ],
    ).fetchone()
    if row is not None:
        _redis().lpush(QUEUE_KEY, row[0])
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]
