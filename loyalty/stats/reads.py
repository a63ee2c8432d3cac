"""The Dashboard's figures for a range of days, read from the daily figures alone.

A range of N days reads at most N × 16 slot rows, plus one sum over the days before it
(the running totals: members and outstanding points at the start), plus the rewards
catalogue: never the ledger, members or orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from loyalty.models import DailyFigures, Reward, RewardKind, Shop
from loyalty.replica import admin_reads

from .counters import FIGURES, POINTS_ISSUED, POINTS_REMOVED, figure_zero

CENT = Decimal("0.01")
# Rewards whose value is money the shop owes: the liability of a point is the best of them.
LIABILITY_KINDS = (RewardKind.AMOUNT_OFF, RewardKind.STORE_CREDIT)


@dataclass
class DayFigures:
    """One day's counters (or a range's sums), with the running totals at its end."""

    day: date | None
    counts: dict[str, int | Decimal]
    members: int = 0
    points_balance: int = 0
    points_pending: int = 0

    @property
    def points_issued(self) -> int:
        return sum(self.counts[name] for name in POINTS_ISSUED)

    @property
    def points_removed(self) -> int:
        return sum(self.counts[name] for name in POINTS_REMOVED)

    @property
    def points_outstanding(self) -> int:
        return self.points_balance + self.points_pending


@dataclass
class Stats:
    shop: Shop
    first: date
    last: date
    days: list[DayFigures]
    totals: DayFigures
    # Shop money one point is worth at most (None when no reward gives money).
    point_value: Decimal | None
    notes: list[str] = field(default_factory=list)


def stats_for_range(*, shop: Shop, first: date, last: date) -> Stats:
    """Every day from `first` to `last` (the shop's days, both included) with its figures,
    zeros for days without any, and the sums over the range."""
    rows = (
        DailyFigures.objects.using(admin_reads())
        .filter(shop=shop, day__gte=first, day__lte=last)
        .values("day")
        .annotate(**{name: Sum(name) for name in FIGURES})
    )
    by_day = {row.pop("day"): row for row in rows}
    before = (
        DailyFigures.objects.using(admin_reads())
        .filter(shop=shop, day__lt=first)
        .aggregate(
            members=Sum("members_joined"),
            balance=Sum("points_change"),
            pending=Sum("pending_change"),
        )
    )
    members = before["members"] or 0
    balance = before["balance"] or 0
    pending = before["pending"] or 0
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        found = by_day.get(day, {})
        counts = {name: _or_zero(found.get(name), name) for name in FIGURES}
        members += counts["members_joined"]
        balance += counts["points_change"]
        pending += counts["pending_change"]
        days.append(DayFigures(day, counts, members, balance, pending))
    totals = DayFigures(
        None,
        {name: sum((d.counts[name] for d in days), figure_zero(name)) for name in FIGURES},
        members,
        balance,
        pending,
    )
    point_value, notes = point_value_of(shop=shop)
    return Stats(shop, first, last, days, totals, point_value, notes)


def point_value_of(*, shop: Shop) -> tuple[Decimal | None, list[str]]:
    """The most shop money one point can turn into among the enabled amount-off and
    store-credit rewards (the worst case for the shop's liability), and notes for the
    merchant when there is none."""
    rewards = Reward.objects.filter(
        shop=shop, enabled=True, deleted_at__isnull=True, kind__in=LIABILITY_KINDS
    ).values_list("value", "points_cost")
    rates = [value / points_cost for value, points_cost in rewards if value > 0]
    if not rates:
        return None, [
            "Outstanding points have no value in money: the rewards catalogue has no enabled "
            "amount-off or store-credit reward. Add one to see the program's liability."
        ]
    return max(rates), []


def money_value(points: int, point_value: Decimal | None) -> Decimal | None:
    """`points` at `point_value`, to the cent (half up); None without a value."""
    if point_value is None:
        return None
    return (points * point_value).quantize(CENT, rounding=ROUND_HALF_UP)


def _or_zero(value: int | Decimal | None, name: str) -> int | Decimal:
    return value if value is not None else figure_zero(name)
