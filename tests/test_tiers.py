"""Given a shop with VIP tiers, when orders, refunds and the nightly job come, then members
move between tiers exactly as docs/tiers.md says, and earn at their tier's rate."""

import importlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.apps import apps

from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import LedgerEntry, Member, Reason, Tier, TierChange, TierTally
from loyalty.services.orders import order_settle, refund_record
from loyalty.services.programs import program_preview
from loyalty.services.tiers import tiers_daily
from tests import factories
from tests.factories import order_payload, refund_payload

pytestmark = pytest.mark.django_db

NOON = datetime.fromisoformat("2026-10-01T12:00:00+00:00")


def settle(shop, order_id, subtotal, now=NOON, placed="2026-10-01T10:00:00+00:00"):
    payload = order_payload(order_id=order_id, subtotal=subtotal, created_at=placed)
    return order_settle(shop=shop, facts=order_facts(payload), now=now)


def refund(shop, order_id, refund_id, amount):
    facts = refund_facts(refund_payload(order_id, refund_id, lines=((amount, "0.00"),)))
    return refund_record(shop=shop, facts=facts, now=NOON)


def member_of(shop) -> Member:
    return Member.objects.select_related("tier").get(shop=shop, customer_id=1001)


def earned(shop, order_id) -> int:
    return LedgerEntry.objects.get(shop=shop, order_id=order_id, reason=Reason.ORDER_EARNED).points


def moves(member) -> list[tuple[str, str, str, int]]:
    return [
        (change.from_name, change.to_name, change.cause, change.measure)
        for change in TierChange.objects.filter(member=member).order_by("id")
    ]


def tiered_shop(**program):
    shop = factories.shop(**program)
    Tier.objects.create(shop=shop, name="Silver", threshold=100, multiplier="1.5")
    Tier.objects.create(shop=shop, name="Gold", threshold=500, multiplier="2", entry_points=50)
    return shop


def test_the_order_that_crosses_a_threshold_earns_at_the_old_rate_and_the_next_at_the_new():
    shop = tiered_shop()

    settle(shop, 1, "99.00")
    assert (member_of(shop).tier, earned(shop, 1)) == (None, 99)

    settle(shop, 2, "10.00")  # 109 points from orders: Silver, this order still at 1×
    member = member_of(shop)
    assert (member.tier.name, earned(shop, 2)) == ("Silver", 10)
    assert moves(member) == [("", "Silver", "earned", 109)]

    settle(shop, 3, "10.00")  # Silver's 1.5×
    assert earned(shop, 3) == 15
    assert member_of(shop).balance == 99 + 10 + 15


def test_crediting_agrees_with_the_programs_preview():
    shop = tiered_shop(rounding="nearest")
    preview = program_preview(shop=shop, changes={}, subtotal=Decimal("33.33"), source="web")
    assert preview.by_tier == (("Silver", 50), ("Gold", 67))

    settle(shop, 1, "150.00")
    settle(shop, 2, "33.33")
    assert earned(shop, 2) == 50


def test_a_tier_reached_gives_its_entry_points_once_ever():
    shop = tiered_shop()
    settle(shop, 1, "520.00")  # straight past Silver to Gold: Gold's entry points only

    member = member_of(shop)
    assert member.tier.name == "Gold"
    assert member.balance == 520 + 50
    entry = LedgerEntry.objects.get(member=member, reason=Reason.TIER_ENTRY)
    assert (entry.points, entry.note) == (50, "Gold")

    refund(shop, 1, 11, "100.00")  # 420 points left, below Gold
    assert tiers_daily(shop=shop, day=date(2026, 10, 2)) == 1
    assert member_of(shop).tier.name == "Silver"
    settle(shop, 2, "100.00", now=datetime.fromisoformat("2026-10-03T12:00:00+00:00"))

    member = member_of(shop)
    assert member.tier.name == "Gold"
    assert LedgerEntry.objects.filter(member=member, reason=Reason.TIER_ENTRY).count() == 1
    # 520 - 100 refunded + 150 (Silver's 1.5× on the order that crossed) + 50 once.
    assert member.balance == 520 - 100 + 150 + 50


def test_a_refund_below_the_threshold_moves_down_at_night_not_at_once():
    shop = tiered_shop()
    settle(shop, 1, "120.00")
    refund(shop, 1, 11, "30.00")  # keeps 90 points: below Silver's 100

    member = member_of(shop)
    assert (member.tier.name, member.balance) == ("Silver", 90)
    tally = TierTally.objects.get(member=member)
    assert (tally.points, tally.amount) == (90, Decimal("90.00"))

    assert tiers_daily(shop=shop, day=date(2026, 10, 1)) == 1
    member = member_of(shop)
    assert member.tier is None
    assert moves(member) == [("", "Silver", "earned", 120), ("Silver", "", "window", 90)]


def test_the_nightly_job_moves_a_member_down_at_most_once_a_day():
    shop = tiered_shop()
    settle(shop, 1, "600.00")
    refund(shop, 1, 11, "200.00")  # 400: Silver's range
    assert tiers_daily(shop=shop, day=date(2026, 10, 1)) == 1
    assert member_of(shop).tier.name == "Silver"

    refund(shop, 1, 12, "350.00")  # 50: below every tier, the same day
    assert tiers_daily(shop=shop, day=date(2026, 10, 1)) == 0
    assert member_of(shop).tier.name == "Silver"

    assert tiers_daily(shop=shop, day=date(2026, 10, 2)) == 1
    assert member_of(shop).tier is None
    assert [m[:3] for m in moves(member_of(shop))] == [
        ("", "Gold", "earned"),
        ("Gold", "Silver", "window"),
        ("Silver", "", "window"),
    ]


def test_a_rolling_window_drops_an_order_365_days_after_the_day_it_was_placed():
    shop = tiered_shop(tier_window="rolling_12_months", tier_basis="amount_spent")
    march = datetime.fromisoformat("2025-03-11T12:00:00+00:00")
    settle(shop, 1, "150.00", now=march, placed="2025-03-10T23:30:00-04:00")  # 11th in UTC
    september = datetime.fromisoformat("2025-09-01T12:00:00+00:00")
    settle(shop, 2, "20.00", now=september, placed="2025-09-01T10:00:00+00:00")
    assert member_of(shop).tier.name == "Silver"

    assert tiers_daily(shop=shop, day=date(2026, 3, 10)) == 0
    assert member_of(shop).tier.name == "Silver"
    # Order 1's day (2025-03-11, the shop's timezone is UTC) leaves the window.
    assert tiers_daily(shop=shop, day=date(2026, 3, 11)) == 1
    member = member_of(shop)
    assert member.tier is None
    assert moves(member)[-1] == ("Silver", "", "window", 20)


def test_amount_spent_counts_whole_units_of_the_earning_base():
    shop = tiered_shop(tier_basis="amount_spent", points_per_unit=Decimal("0.1"))
    settle(shop, 1, "99.99")
    assert member_of(shop).tier is None
    settle(shop, 2, "10.00")  # 109.99 spent: Silver
    member = member_of(shop)
    assert (member.tier.name, member.balance) == ("Silver", 9 + 1)
    assert moves(member) == [("", "Silver", "earned", 109)]


def test_a_cancelled_order_takes_back_what_it_counted():
    shop = tiered_shop(tier_basis="amount_spent")
    settle(shop, 1, "300.00")
    refund(shop, 1, 11, "50.00")
    payload = order_payload(
        order_id=1, subtotal="300.00", created_at="2026-10-01T10:00:00+00:00", cancelled=True
    )
    order_settle(shop=shop, facts=order_facts(payload), now=NOON)

    tally = TierTally.objects.get(member=member_of(shop))
    assert (tally.points, tally.amount) == (0, Decimal("0.00"))


def test_the_migration_files_what_existing_orders_count():
    shop = tiered_shop(tier_basis="amount_spent")
    settle(shop, 1, "120.00")
    refund(shop, 1, 11, "20.00")
    settle(shop, 2, "50.00", placed="2026-09-30T23:00:00-04:00")  # Oct 1 in UTC
    settle(shop, 3, "70.00", placed="2026-08-01T10:00:00+00:00")
    cancelled = order_payload(
        order_id=3, subtotal="70.00", created_at="2026-08-01T10:00:00+00:00", cancelled=True
    )
    order_settle(shop=shop, facts=order_facts(cancelled), now=NOON)
    filed = sorted(TierTally.objects.values_list("day", "points", "amount"))
    TierTally.objects.all().delete()

    migration = importlib.import_module("loyalty.migrations.0016_tiers")
    migration.tallies_from_orders(apps, None)

    assert sorted(TierTally.objects.values_list("day", "points", "amount")) == filed
    assert filed == [
        (date(2026, 8, 1), 0, Decimal("0.00")),
        # 120 - 20 refunded, then order 2 at Silver's 1.5×: 75 points on 50.00.
        (date(2026, 10, 1), 100 + 75, Decimal("150.00")),
    ]
