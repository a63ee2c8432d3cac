"""The daily figures recomputed from the source rows (ledger, members, orders), to fill
them for data written before they existed and to check the live counters against.

This reads a shop's whole ledger (aggregated by the database) and its counted orders, so
it is for `manage.py figures_rebuild`, never for a request.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, F, Sum, Value, When
from django.db.models.functions import TruncDate

from loyalty.models import BuyerFirstOrder, DailyFigures, LedgerEntry, Member, Order, Reason, Shop

from .counters import FIGURES, REASON_FIGURES, figure_zero, shop_day, shop_zone
from .orders import buyer_key

Figures = dict[date, dict[str, int | Decimal]]


def figures_computed(*, shop: Shop) -> tuple[Figures, dict[str, tuple[datetime, int]]]:
    """Every day's figures of `shop` from its source rows, and each buyer's first order
    (buyer -> (placed at, order id))."""
    figures: Figures = defaultdict(lambda: {name: figure_zero(name) for name in FIGURES})
    zone = shop_zone(shop.timezone)
    _ledger_figures(shop, zone, figures)
    members = (
        Member.objects.filter(shop=shop)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(joined=Count("id"))
    )
    for row in members:
        figures[row["day"]]["members_joined"] += row["joined"]
    firsts = _order_figures(shop, figures)
    return dict(figures), firsts


def figures_live(*, shop: Shop) -> Figures:
    """Every day's figures of `shop` as the live counters hold them (slots summed)."""
    rows = (
        DailyFigures.objects.filter(shop=shop)
        .values("day")
        .annotate(**{name: Sum(name) for name in FIGURES})
    )
    return {row.pop("day"): row for row in rows}


def figures_differences(*, computed: Figures, live: Figures) -> list[str]:
    """What the live counters get wrong, one line per day and figure; [] when exact."""
    lines = []
    for day in sorted(set(computed) | set(live)):
        want = computed.get(day, {})
        have = live.get(day, {})
        for name in FIGURES:
            expected, found = want.get(name, figure_zero(name)), have.get(name, figure_zero(name))
            if expected != found:
                lines.append(f"{day} {name}: counted {found}, should be {expected}")
    return lines


def figures_rebuild(*, shop: Shop) -> Figures:
    """Replace the shop's daily figures (and first orders) with recomputed ones.

    First gives orders stored before the Dashboard existed their facts (see
    `orders_backfill`). Run it with the worker stopped: a count written while it runs is
    lost.
    """
    with transaction.atomic():
        orders_backfill(shop=shop)
        figures, firsts = figures_computed(shop=shop)
        DailyFigures.objects.filter(shop=shop).delete()
        DailyFigures.objects.bulk_create(
            DailyFigures(shop=shop, day=day, slot=0, **counts) for day, counts in figures.items()
        )
        BuyerFirstOrder.objects.filter(shop=shop).delete()
        BuyerFirstOrder.objects.bulk_create(
            BuyerFirstOrder(shop=shop, buyer=buyer, order_id=order_id, placed_at=placed_at)
            for buyer, (placed_at, order_id) in firsts.items()
        )
    return figures


def orders_backfill(*, shop: Shop) -> int:
    """Give paid, non-test orders stored before the Dashboard existed the facts it counts,
    from what was kept of them: placed when first stored, revenue the earning base (the
    subtotal after discounts; their total was not kept), the buyer their customer (guest
    emails were not kept). Returns how many orders it filled in."""
    stale = Order.objects.filter(
        shop=shop, placed_at__isnull=True, paid=True, test=False
    ).select_related("member")
    filled = 0
    for order in stale.iterator():
        member = order.member
        Order.objects.filter(pk=order.pk).update(
            placed_at=order.created_at,
            revenue=order.earning_base or Decimal(0),
            member_order=member is not None and member.created_at < order.created_at,
            buyer=buyer_key(customer_id=member.customer_id, email="") if member else "",
        )
        filled += 1
    return filled


def _ledger_figures(shop: Shop, zone, figures: Figures) -> None:
    total = F("points") + F("pending_points")
    rows = (
        LedgerEntry.objects.filter(shop=shop)
        .annotate(day=TruncDate("created_at", tzinfo=zone), total=total)
        .values("day", "reason")
        .annotate(
            adds=Sum(Case(When(total__gt=0, then=F("total")), default=Value(0))),
            takes=Sum(Case(When(total__lt=0, then=-F("total")), default=Value(0))),
            pending_added=Sum(
                Case(When(pending_points__gt=0, then=F("pending_points")), default=Value(0))
            ),
            points_change=Sum("points"),
            pending_change=Sum("pending_points"),
        )
    )
    for row in rows:
        day = figures[row["day"]]
        adds, takes = REASON_FIGURES[row["reason"]]
        if adds == takes:
            # One figure both ways: what the reason took less what it gave back.
            day[takes] += row["takes"] - row["adds"]
        else:
            day[adds] += row["adds"]
            day[takes] += row["takes"]
        day["pending_added"] += row["pending_added"]
        day["points_change"] += row["points_change"]
        day["pending_change"] += row["pending_change"]
        if row["reason"] == Reason.POINTS_RELEASED:
            day["pending_released"] -= row["pending_change"]


def _order_figures(shop: Shop, figures: Figures) -> dict[str, tuple[datetime, int]]:
    counted = (
        Order.objects.filter(shop=shop, placed_at__isnull=False)
        .values_list("order_id", "placed_at", "member_order", "buyer", "revenue", "used_reward")
        .order_by()
    )
    # buyer -> (placed at, order id, day, member's or not) of their earliest order
    firsts: dict[str, tuple[datetime, int, date, str]] = {}
    for order_id, placed_at, member_order, buyer, revenue, used_reward in counted.iterator():
        day = figures[shop_day(placed_at, shop.timezone)]
        who = "member" if member_order else "nonmember"
        day[f"{who}_orders"] += 1
        day["order_revenue"] += revenue
        if used_reward:
            day["reward_orders"] += 1
            day["reward_order_revenue"] += revenue
        if not buyer:
            continue
        # Every order of a buyer is a repeat but the earliest: count it as one, then
        # take back the earliest's at the end.
        day[f"{who}_repeat_orders"] += 1
        placed = (placed_at, order_id, shop_day(placed_at, shop.timezone), who)
        if buyer not in firsts or placed[:2] < firsts[buyer][:2]:
            firsts[buyer] = placed
    for _placed_at, _order_id, day, who in firsts.values():
        figures[day][f"{who}_repeat_orders"] -= 1
    return {buyer: (first[0], first[1]) for buyer, first in firsts.items()}
