"""Drill 5: a duplicate storm, out of order and late. The same order events are delivered
once, cleanly and in order, to one shop, and to another three times each (a retry under
the same webhook id, the same event under a new one), shuffled, with refunds and
cancellations before their orders and stale order snapshots after everything. Both shops
must end with exactly the balances the points rules give (docs/points.md)."""

from __future__ import annotations

import argparse
import json
import random
from decimal import ROUND_FLOOR, Decimal

import harness
from drill_report import Drill
from drill_support import (
    SHOP,
    Delivery,
    Stack,
    balances_match,
    db,
    ledger_check,
    send_all,
    status_counts,
    wait_until,
)

CLEAN_SHOP = "drills-clean.myshopify.com"
ORDERS = 60


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def order_events(order_id: int, customer: int, subtotal: str, kind: int):
    """The natural sequence of (topic, payload) for one order, the stale snapshots among
    them marked, and the points it must end with."""
    from standin import payloads

    def order(**opts):
        return payloads.order(order_id, customer, subtotal, email=f"c{customer}@example.com",
                              **opts)  # fmt: skip

    s = Decimal(subtotal)
    earned = _floor(s)
    events = [("orders/create", order(financial_status="pending" if kind == 4 else "paid"))]
    events.append(("orders/paid", order()))
    stale = None
    refunds = []
    if kind in (1, 2):
        stale = ("orders/updated", order(updated_at="2026-01-02T00:00:00Z"))
        events.append(stale)
        for n in range(kind):
            amount = (s * Decimal("0.3")).quantize(Decimal("0.01"))
            refunds.append(payloads.refund(order_id, order_id * 10 + n + 1, [(str(amount), "0")]))
            events.append(("refunds/create", refunds[-1]))
        events.append(("orders/updated", order(financial_status="partially_refunded",
                                               refunds=refunds,
                                               updated_at="2026-01-03T00:00:00Z")))  # fmt: skip
        refunded = sum((Decimal(r["refund_line_items"][0]["subtotal_set"]["shop_money"]["amount"])
                        for r in refunds), Decimal(0))  # fmt: skip
        keeps = max(0, _floor(earned * (s - refunded) / s))
    elif kind == 3:
        events.append(("orders/cancelled", order(cancelled=True, financial_status="refunded",
                                                 updated_at="2026-01-03T00:00:00Z")))  # fmt: skip
        keeps = 0
    else:
        events.append(("orders/updated", order(updated_at="2026-01-03T00:00:00Z")))
        keeps = earned
    return events, stale, keeps


def order_points(domain: str) -> dict[int, int]:
    """Each order's net points in a shop's ledger (earned less refunds and cancellation)."""
    return dict(
        db().execute(
            "SELECT e.order_id, sum(e.points) FROM loyalty_ledgerentry e "
            "JOIN loyalty_shop s ON s.id = e.shop_id WHERE s.domain = %s "
            "AND e.order_id IS NOT NULL GROUP BY e.order_id",
            [domain],
        )
    )


def storm(drill: Drill, processes: harness.Processes, args: argparse.Namespace) -> None:
    from tests.factories import shop

    shop(CLEAN_SHOP, points_per_unit=Decimal("1"), rounding="down", hold_days=0)
    rng = random.Random(5)
    clean, early, middle, late = [], [], [], []
    expected: dict[int, int] = {}
    per_order: dict[int, int] = {}
    for n in range(ORDERS):
        order_id, customer, kind = 400_000 + n, 9000 + n % 12, n % 5
        subtotal = f"{rng.randint(2000, 30000) / 100:.2f}"
        events, stale, keeps = order_events(order_id, customer, subtotal, kind)
        expected[customer] = expected.get(customer, 0) + keeps
        per_order[order_id] = keeps
        for seq, (topic, payload) in enumerate(events):
            body = json.dumps(payload).encode()
            event_id = f"ev-{order_id}-{seq}"
            clean.append(Delivery(topic, body, f"clean-{event_id}", event_id, CLEAN_SHOP))
            copies = [Delivery(topic, body, f"storm-{event_id}", event_id)] * 2
            copies.append(Delivery(topic, body, f"storm-{event_id}-renamed", event_id))
            if stale is not None and payload is stale[1]:
                late.extend(copies)
            elif topic in ("refunds/create", "orders/cancelled") and n % 2 == 0:
                early.extend(copies)
            else:
                middle.extend(copies)
    rng.shuffle(early)
    rng.shuffle(middle)
    rng.shuffle(late)
    stack = Stack(processes)
    try:
        stack.start()
        clean_answers = [d.send(stack.url)[0] for d in clean]
        storm_answers = []
        for wave in (early, middle, late):
            storm_answers += send_all(stack.url, wave, threads=8)
            # Each wave is processed before the next arrives: refunds really come first.
            wait_until(lambda: not status_counts().get("received", 0), within=180, poll=0.2)
        settled = wait_until(lambda: not status_counts().get("received", 0), within=180)
    finally:
        stack.stop()
    codes = sorted({s for s, _, _ in storm_answers} | set(clean_answers))
    drill.step(
        f"{ORDERS} orders of 12 customers (plain, refunded once, refunded twice, cancelled, "
        f"paid after pending): {len(clean)} events delivered once in order to {CLEAN_SHOP}; "
        f"to {SHOP} {len(early) + len(middle) + len(late)} deliveries (each event three "
        f"times), {len(early)} of them refunds and cancellations sent before their orders, "
        f"the rest shuffled, {len(late)} stale order snapshots last; answers {codes}"
    )
    statuses = status_counts()
    drill.check(
        "every delivery acknowledged and processed; duplicates stored once",
        ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        f"all 200, {2 * len(clean)} rows processed",
        codes == [200] and settled is not None and statuses == {"processed": 2 * len(clean)},
    )  # fmt: skip
    ok, detail = balances_match(expected, SHOP)
    drill.check("storm shop: every balance exact", detail, "the rules' figures exactly", ok)
    ok, detail = balances_match(expected, CLEAN_SHOP)
    drill.check("clean shop: every balance exact", detail, "the rules' figures exactly", ok)
    for domain in (SHOP, CLEAN_SHOP):
        held = order_points(domain)
        wrong = [o for o in per_order if held.get(o, 0) != per_order[o]]
        drill.check(
            f"{'storm' if domain == SHOP else 'clean'} shop: each order's net points in the "
            "ledger", f"{len(per_order) - len(wrong)} of {len(per_order)} orders exact",
            "every order exact", not wrong,
        )  # fmt: skip
    ok, line = ledger_check()
    drill.check("`manage.py check_ledger`", line, "no drift", ok)


STORM = (
    "5. Duplicate storm, out of order, late",
    "whatever Shopify does with the order of deliveries and however often it sends them, "
    "every balance comes out exactly as with one clean delivery of each event.",
    storm,
)
