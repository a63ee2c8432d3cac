"""Orders on the Dashboard: each paid, non-test order is counted once, on the day it was
placed, as a member's or a non-member's order, first or repeat, with its revenue.

An order is a *member order* when its customer was a member before it was placed (the
member row's `created_at` is earlier than the order's `processed_at`); guest orders and a
customer's orders from before they became a member are non-member orders. An order is a
*repeat order* when its buyer (the same customer, or for a guest the same email) has an
earlier counted order. The earliest order of each buyer is kept in BuyerFirstOrder, whose
row is looked up (and locked) by its unique key, so counting an order costs one statement
however many orders the buyer has, and an earlier order arriving late makes the former
first order a repeat exactly once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from loyalty.models import BuyerFirstOrder, Order, Shop
from loyalty.models.figures import SLOTS
from loyalty.services.rows import insert_or_lock

from .counters import figures_add, shop_day


def buyer_key(*, customer_id: int | None, email: str) -> str:
    """The hash naming who placed an order: the customer, else a guest's email; "" for a
    guest without an email (never a repeat)."""
    if customer_id is not None:
        name = f"customer:{customer_id}"
    elif email.strip():
        name = f"email:{email.strip().lower()}"
    else:
        return ""
    return hashlib.sha256(name.encode()).hexdigest()


def buyer_first_order_lock(
    *, shop: Shop, buyer: str, order_id: int, placed_at: datetime
) -> BuyerFirstOrder | None:
    """Lock the buyer's first-order row before counting their order `order_id` placed at
    `placed_at` (a new buyer's row names that order); None for no buyer.

    Call it before locking the order's member: every path takes these locks in the order
    order row, buyer row, member row.
    """
    if not buyer:
        return None
    return insert_or_lock(
        BuyerFirstOrder(shop_id=shop.pk, buyer=buyer, order_id=order_id, placed_at=placed_at),
        unique=("shop_id", "buyer"),
    )


def order_count(
    *,
    shop: Shop,
    order: Order,
    first: BuyerFirstOrder | None,
    placed_at: datetime,
    revenue: Decimal,
) -> list[tuple[datetime, int, dict]]:
    """Record on `order` its Dashboard facts and return the counters to add, as (placed at,
    slot, counts), for `figures_order_add` once the order's points are settled.

    `first` is the locked row from `buyer_first_order_lock`. The caller saves the order.
    """
    member = order.member
    order.placed_at = placed_at
    order.revenue = revenue
    order.member_order = member is not None and member.created_at < placed_at
    slot = _slot(order)
    who = "member" if order.member_order else "nonmember"
    counts: dict = {f"{who}_orders": 1, "order_revenue": revenue}
    if order.used_reward:
        counts |= {"reward_orders": 1, "reward_order_revenue": revenue}
    changes = [(placed_at, slot, counts)]
    if first is None:
        return changes
    if first.order_id == order.order_id:
        return changes
    if (placed_at, order.order_id) < (first.placed_at, first.order_id):
        # Placed before the buyer's first order so far, which becomes a repeat order.
        former = Order.objects.get(shop=shop, order_id=first.order_id)
        was = "member" if former.member_order else "nonmember"
        changes.append((former.placed_at, _slot(former), {f"{was}_repeat_orders": 1}))
        BuyerFirstOrder.objects.filter(pk=first.pk).update(
            order_id=order.order_id, placed_at=placed_at
        )
    else:
        counts[f"{who}_repeat_orders"] = 1
    return changes


def figures_order_add(*, shop: Shop, changes: list[tuple[datetime, int, dict]]) -> None:
    """Add what `order_count` returned to the daily figures, earliest day first (one order
    of lock taking for every writer)."""
    for placed_at, slot, counts in sorted(changes, key=lambda change: change[0]):
        figures_add(
            shop_id=shop.pk, day=shop_day(placed_at, shop.timezone), slot=slot, counts=counts
        )


def order_reward_record(*, shop: Shop, order: Order) -> None:
    """Count `order` as one that used a reward (call it, with the order locked, when its
    discount codes include a code this app redeemed). Once per order; an order not counted
    yet has its revenue counted as reward revenue when it is."""
    if order.used_reward:
        return
    order.used_reward = True
    Order.objects.filter(pk=order.pk).update(used_reward=True)
    if order.placed_at is None:
        return
    figures_add(
        shop_id=shop.pk,
        day=shop_day(order.placed_at, shop.timezone),
        slot=_slot(order),
        counts={"reward_orders": 1, "reward_order_revenue": order.revenue},
    )


def _slot(order: Order) -> int:
    # A member's orders share their member's slot (as their ledger entries do), so one
    # crediting transaction writes one slot row a day; guests' orders use the other half.
    if order.member_id is not None:
        return order.member_id % SLOTS
    if order.buyer:
        return SLOTS + int(order.buyer[:8], 16) % SLOTS
    return SLOTS + order.order_id % SLOTS
