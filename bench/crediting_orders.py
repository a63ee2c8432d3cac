"""The stored inbox the crediting benchmark drains: N signed `orders/create` deliveries,
what crediting them must give each customer, and the check that it did."""

from __future__ import annotations

import collections
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

import harness


@dataclass
class Orders:
    """The deliveries to store and what crediting them must give each customer."""

    rows: list[tuple] = field(default_factory=list)
    points_by_customer: dict[int, int] = field(default_factory=dict)
    earning_orders: int = 0
    guest_orders: int = 0

    @property
    def expected_points(self) -> int:
        return sum(self.points_by_customer.values())


def orders_build(count: int, *, seed: int = 7) -> Orders:
    """`count` signed orders/create deliveries: 5% guests, 20% from 50 regulars (several
    orders each, so jobs for one member meet), the rest from count/2 customers."""
    from standin.signing import webhook_headers
    from tests.factories import order_payload

    rng = random.Random(seed)
    orders = Orders()
    points: collections.Counter[int] = collections.Counter()
    received_at = datetime.now(UTC)
    for n in range(count):
        roll = rng.random()
        if roll < 0.05:
            customer_id = None
        elif roll < 0.25:
            customer_id = rng.randint(1, 50)
        else:
            customer_id = rng.randint(51, 51 + count // 2)
        subtotal = Decimal(rng.randint(100, 40000)) / 100
        order_id = 50_000_000 + n
        body = json.dumps(order_payload(order_id, customer_id, str(subtotal))).encode()
        headers = webhook_headers(
            topic="orders/create",
            shop=harness.SHOP,
            body=body,
            secret=harness.APP_SECRET,
            webhook_id=f"credit-{n}",
            event_id=f"credit-event-{n}",
            triggered_at=received_at,
        )
        orders.rows.append(
            (
                harness.SHOP,
                "orders/create",
                headers["X-Shopify-Webhook-Id"],
                headers["X-Shopify-Event-Id"],
                headers["X-Shopify-Triggered-At"],
                headers["X-Shopify-API-Version"],
                body,
                received_at,
            )
        )
        if customer_id is None:
            orders.guest_orders += 1
        else:
            # The shop's program below: 1 point per unit of currency, rounded down.
            points[customer_id] += int(subtotal.to_integral_value(rounding=ROUND_FLOOR))
            orders.earning_orders += 1
    orders.points_by_customer = dict(points)
    return orders


def deliveries_store(orders: Orders) -> list[int]:
    """Store the deliveries as the intake would have (status received); return their ids."""
    columns = (
        "shop_domain, topic, webhook_id, event_id, triggered_at, api_version, body, "
        "received_at, status, attempts, last_error"
    )
    with harness.bench_db() as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY webhooks_delivery ({columns}) FROM STDIN") as copy:
            for row in orders.rows:
                copy.write_row((*row, "received", 0, ""))
        cursor.execute("SELECT id FROM webhooks_delivery ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def status_counts() -> dict[str, int]:
    with harness.bench_db() as conn:
        return dict(conn.execute("SELECT status, count(*) FROM webhooks_delivery GROUP BY status"))


def points_check(orders: Orders) -> tuple[bool, str]:
    """Does every member hold exactly what their orders earn, and nobody else anything?"""
    with harness.bench_db() as conn:
        balances = dict(
            conn.execute("SELECT customer_id, balance FROM loyalty_member WHERE balance <> 0")
        )
        total, pending = conn.execute(
            "SELECT coalesce(sum(balance), 0), coalesce(sum(pending), 0) FROM loyalty_member"
        ).fetchone()
        entries = conn.execute("SELECT count(*) FROM loyalty_ledgerentry").fetchone()[0]
    wrong = {
        customer: (balances.get(customer, 0), points)
        for customer, points in orders.points_by_customer.items()
        if balances.get(customer, 0) != points
    }
    strangers = set(balances) - set(orders.points_by_customer)
    ok = (
        total == orders.expected_points
        and pending == 0
        and entries == orders.earning_orders
        and not wrong
        and not strangers
    )
    detail = (
        f"{total:,} points in {len(balances):,} members (expected {orders.expected_points:,} "
        f"in {len(orders.points_by_customer):,}), {entries:,} ledger entries (expected "
        f"{orders.earning_orders:,}), {len(wrong)} members with a wrong balance"
    )
    return ok, detail
