"""The Dashboard's live counters: each ledger entry, new member and counted order adds to
its day's figures in the transaction that writes it.

Every increment is one `INSERT … ON CONFLICT (shop, day, slot) DO UPDATE SET x = x +
excluded.x`, which PostgreSQL and SQLite both speak: atomic, with no read first, so
concurrent writers never lose a count. Days are the shop's (`Shop.timezone`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection

from loyalty.models import DailyFigures, LedgerEntry, Member, Reason, Shop
from loyalty.models.figures import SLOTS

# Where each reason's points go: (the figure of an entry that adds points, the figure of
# one that takes them), counting available and pending points together. A reason with one
# figure both ways counts what it takes less what it gives back: a redemption that failed
# or a code that expired and returned its points was not redeemed after all. A reason
# missing here fails tests/test_stats.py.
REASON_FIGURES: dict[str, tuple[str, str]] = {
    Reason.ORDER_EARNED: ("points_earned", "points_reversed"),
    Reason.ORDER_REFUNDED: ("points_earned", "points_reversed"),
    Reason.ORDER_CANCELLED: ("points_earned", "points_reversed"),
    # Moves pending points to available: the total does not change, nothing is counted.
    Reason.POINTS_RELEASED: ("points_earned", "points_reversed"),
    Reason.SIGNUP_BONUS: ("points_bonus", "points_adjusted_down"),
    Reason.MANUAL_ADJUSTMENT: ("points_adjusted_up", "points_adjusted_down"),
    Reason.IMPORTED: ("points_imported", "points_adjusted_down"),
    Reason.REWARD_REDEEMED: ("points_redeemed", "points_redeemed"),
    Reason.REDEMPTION_REFUNDED: ("points_redeemed", "points_redeemed"),
    Reason.CODE_EXPIRED_REFUND: ("points_redeemed", "points_redeemed"),
    Reason.BIRTHDAY_BONUS: ("points_bonus", "points_adjusted_down"),
    Reason.POINTS_EXPIRED: ("points_adjusted_up", "points_expired"),
    Reason.REVIEW_REWARDED: ("points_bonus", "points_adjusted_down"),
    # A referral's reward is a bonus; taken back (the friend's order undone) it is reversed.
    Reason.REFERRAL_REWARDED: ("points_bonus", "points_reversed"),
    Reason.REFERRAL_REVERSED: ("points_bonus", "points_reversed"),
    Reason.TIER_ENTRY: ("points_bonus", "points_adjusted_down"),
}

# Every counter column; raw SQL below names only these.
FIGURES = tuple(
    f.column
    for f in DailyFigures._meta.concrete_fields
    if f.column not in ("id", "shop_id", "day", "slot")
)
MONEY_FIGURES = ("order_revenue", "reward_order_revenue")
POINTS_ISSUED = ("points_earned", "points_bonus", "points_imported", "points_adjusted_up")
POINTS_REMOVED = ("points_redeemed", "points_expired", "points_reversed", "points_adjusted_down")
# The counts GET /api/admin/stats answers as they are (the others it answers summed).
ANSWERED_COUNTS = (
    "members_joined",
    "points_earned",
    "points_bonus",
    "points_imported",
    "points_adjusted_up",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "points_adjusted_down",
    "pending_added",
    "pending_released",
    "member_orders",
    "member_repeat_orders",
    "nonmember_orders",
    "nonmember_repeat_orders",
    "reward_orders",
)


@lru_cache(maxsize=1024)
def shop_zone(name: str) -> ZoneInfo:
    """The shop's timezone; UTC for a name this machine's timezone database lacks."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def shop_day(moment: datetime, timezone_name: str) -> date:
    """The shop's calendar day at `moment`."""
    return moment.astimezone(shop_zone(timezone_name)).date()


def figure_zero(name: str) -> int | Decimal:
    """A figure's nothing: 0 points or orders, 0.00 in money."""
    return Decimal("0.00") if name in MONEY_FIGURES else 0


def entry_figures(*, reason: str, points: int, pending_points: int) -> dict[str, int]:
    """The counters one ledger entry adds to. Raises KeyError for an unmapped reason."""
    adds, takes = REASON_FIGURES[reason]
    total = points + pending_points
    counts = {"points_change": points, "pending_change": pending_points}
    if adds == takes:
        counts[takes] = -total
    elif total > 0:
        counts[adds] = total
    elif total < 0:
        counts[takes] = -total
    if pending_points > 0:
        counts["pending_added"] = pending_points
    if reason == Reason.POINTS_RELEASED:
        counts["pending_released"] = -pending_points
    return counts


def figures_entry_add(*, member: Member, entry: LedgerEntry) -> None:
    """Count a ledger entry just written (loyalty.services.ledger.points_record)."""
    figures_add(
        shop_id=entry.shop_id,
        day=shop_day(entry.created_at, _timezone_of(member)),
        slot=member.pk % SLOTS,
        counts=entry_figures(
            reason=entry.reason, points=entry.points, pending_points=entry.pending_points
        ),
    )


def figures_member_add(*, member: Member) -> None:
    """Count a member just created."""
    figures_add(
        shop_id=member.shop_id,
        day=shop_day(member.created_at, _timezone_of(member)),
        slot=member.pk % SLOTS,
        counts={"members_joined": 1},
    )


def figures_add(*, shop_id: int, day: date, slot: int, counts: dict[str, int | Decimal]) -> None:
    """Add `counts` (figure name -> amount) to one slot of a shop's day, atomically."""
    columns = tuple(name for name, amount in counts.items() if amount)
    if not columns:
        return
    values = [shop_id, connection.ops.adapt_datefield_value(day), slot]
    values += [_adapted(counts[c]) for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(_increment_sql(columns, connection.vendor), values)


@lru_cache(maxsize=256)
def _increment_sql(columns: tuple[str, ...], vendor: str) -> str:
    # Built once per set of figures (the crediting path uses a handful) and backend.
    unknown = set(columns) - set(FIGURES)
    if unknown:
        raise ValueError(f"not a daily figure: {', '.join(sorted(unknown))}")
    quote = connection.ops.quote_name
    table = quote(DailyFigures._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    placeholders = ", ".join(["%s"] * (3 + len(columns)))
    increments = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in map(quote, columns))
    # Every name spliced in is a quoted column of DailyFigures, checked above.
    return (
        f"INSERT INTO {table} (shop_id, day, slot, {names}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (shop_id, day, slot) DO UPDATE SET {increments}"
    )


def _adapted(amount: int | Decimal) -> int | str:
    # Decimals go as text: exact on PostgreSQL's numeric, and SQLite reads them as numbers.
    return str(amount) if isinstance(amount, Decimal) else amount


def _timezone_of(member: Member) -> str:
    # The crediting path has the shop loaded already; anything else costs one keyed read.
    if Member.shop.is_cached(member):
        return member.shop.timezone
    return Shop.objects.values_list("timezone", flat=True).get(pk=member.shop_id)
