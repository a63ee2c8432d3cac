"""The account answer's progress toward the first tier, for a member below every tier
(docs/tiers.md, "Progress"): the same shape as a tier member's, with `name` null and the
base multiplier, so the widget can say how far the first tier is."""

from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import Reason, Shop, Tier, TierBasis, TierWindow
from loyalty.services.ledger import points_record
from loyalty.services.tiers import tier_tally_add
from tests import factories
from tests.test_app_proxy import account

pytestmark = pytest.mark.django_db


def test_a_member_below_every_tier_sees_how_far_the_lowest_is(client: Client):
    shop = factories.shop()
    # Listed out of order: the lowest threshold is the first tier, whatever was made first.
    Tier.objects.create(shop=shop, name="Gold", threshold=2000, multiplier="2")
    Tier.objects.create(shop=shop, name="Silver", threshold=500, multiplier="1.25")
    member = factories.member(shop, 1001)
    points_record(member=member, points=380, reason=Reason.ORDER_EARNED, idempotency_key="o")
    points_record(member=member, points=100, reason=Reason.SIGNUP_BONUS, idempotency_key="s")
    today = timezone.now().date()
    # What the order and a partial refund counted: 380 - 45 = 335 (the bonus counts nothing).
    tier_tally_add(member=member, day=today, points=380, amount=Decimal("380"))
    tier_tally_add(member=member, day=today, points=-45, amount=Decimal("-45"))

    assert account(client).json()["tier"] == {
        "name": None,
        "multiplier": "1",
        "next": {"name": "Silver", "threshold": 500, "remaining": 165},
    }


def test_money_spent_in_a_rolling_year_counts_toward_the_first_tier(client: Client):
    shop = factories.shop(
        tier_basis=TierBasis.AMOUNT_SPENT, tier_window=TierWindow.ROLLING_12_MONTHS
    )
    Shop.objects.filter(pk=shop.pk).update(timezone="America/New_York")
    Tier.objects.create(shop=shop, name="Insider", threshold=300)
    member = factories.member(shop, 1001)
    # Still 2026-03-10 in New York (23:00, UTC-4), so the 365 days counted are 2025-03-11
    # to 2026-03-10: the shop's day decides, not UTC's 2026-03-11.
    now = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    tier_tally_add(member=member, day=date(2025, 3, 11), amount=Decimal("120"))
    tier_tally_add(member=member, day=date(2025, 3, 10), amount=Decimal("999"))
    tier_tally_add(member=member, day=date(2026, 3, 9), amount=Decimal("75"))

    with mock.patch("django.utils.timezone.now", return_value=now):
        tier = account(client).json()["tier"]

    assert tier == {
        "name": None,
        "multiplier": "1",
        "next": {"name": "Insider", "threshold": 300, "remaining": 105},
    }


def test_a_member_past_the_first_threshold_not_yet_placed_has_nothing_remaining(
    client: Client,
):
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Silver", threshold=100)
    member = factories.member(shop, 1001)
    # Counted, but the member is not placed yet (a recompute still to run): never below 0.
    tier_tally_add(member=member, day=timezone.now().date(), points=250)

    assert account(client).json()["tier"]["next"] == {
        "name": "Silver",
        "threshold": 100,
        "remaining": 0,
    }


def test_the_tier_stays_null_when_the_shop_has_no_tiers(client: Client):
    shop = factories.shop()
    member = factories.member(shop, 1001)
    tier_tally_add(member=member, day=timezone.now().date(), points=250)
    other = factories.shop(domain="bob.myshopify.com")
    Tier.objects.create(shop=other, name="Gold", threshold=100)

    answer = account(client).json()

    # Another shop's tiers are not this shop's.
    assert answer["tier"] is None
    assert answer["guest"] is False
