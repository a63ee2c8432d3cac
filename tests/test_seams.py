"""Where the parts of issue 12 meet: a VIP tier's multiplier scales only orders' points;
bonuses (reviews, referrals, birthdays, entry points) restart the expiry clock but count
nothing towards tiers; expiry and redemptions leave the tier measure alone."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.daily import daily_jobs_run
from loyalty.models import LedgerEntry, Member, Reason, Tier, TierTally
from loyalty.selectors import tier_progress
from loyalty.services.integrations import integration_secret_for
from loyalty.services.programs import program_for
from loyalty.services.redemptions import reward_redeem
from loyalty.services.referrals import referral_code_ensure, referral_visit
from loyalty.services.rewards import reward_create
from standin.reviews import generic_review, review_request
from tests import factories
from tests.factories import order_payload, order_settled

pytestmark = pytest.mark.django_db
SCARF = 7001


@pytest.fixture
def clock(monkeypatch):
    def set_time(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_time


def review(client, shop, review_id):
    body = generic_review(shop=shop.domain, review_id=review_id, product_id=SCARF, customer_id=1001)
    signed = review_request(
        source="generic", review=body, secret=integration_secret_for(shop=shop), shop=shop.domain
    )
    response = client.post(
        signed.path, data=signed.body, content_type="application/json", headers=signed.headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def points_of(member, reason):
    return [
        e.points + e.pending_points
        for e in LedgerEntry.objects.filter(member=member, reason=reason).order_by("sequence")
    ]


def test_a_tier_members_bonuses_are_not_multiplied_restart_expiry_and_count_nothing_to_tiers(
    client, clock
):
    shop = factories.shop(
        review_points=50,
        birthday_points=25,
        referral_advocate_points=40,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        expiry_days=30,
        expiry_reminder_days=7,
    )
    Tier.objects.create(shop=shop, name="Gold", threshold=100, multiplier="3", entry_points=11)
    clock("2026-03-01T12:00:00+00:00")
    order_settled(shop, order_payload(5001, 1001, "100.00", product_id=SCARF))
    ada = Member.objects.get(shop=shop, customer_id=1001)
    assert ada.tier.name == "Gold"
    Member.objects.filter(pk=ada.pk).update(birthday_month=3, birthday_day=10)

    # Each bonus on its own day: each moves the expiry clock, none is tripled.
    clock("2026-03-05T12:00:00+00:00")
    assert review(client, shop, "r-1")["points"] == 50
    assert Member.objects.get(pk=ada.pk).last_activity_at == timezone.now()
    clock("2026-03-08T12:00:00+00:00")
    referral = referral_visit(shop=shop, code=referral_code_ensure(member=ada), ip="192.0.2.7")
    order_settled(shop, order_payload(6001, 2002, "30.00", discount_codes=[referral.code]))
    assert Member.objects.get(pk=ada.pk).last_activity_at == timezone.now()
    clock("2026-03-10T12:00:00+00:00")
    daily_jobs_run(day=datetime(2026, 3, 10).date(), shop_domain=shop.domain)
    ada = Member.objects.get(pk=ada.pk)
    assert ada.last_activity_at == timezone.now()
    assert points_of(ada, Reason.REVIEW_REWARDED) == [50]
    assert points_of(ada, Reason.REFERRAL_REWARDED) == [40]
    assert points_of(ada, Reason.BIRTHDAY_BONUS) == [25]
    assert points_of(ada, Reason.TIER_ENTRY) == [11]
    # Only the first order counts: 100 points earned, none of the 126 in bonuses.
    program = program_for(shop=shop)
    assert tier_progress(member=ada, program=program, day=datetime(2026, 3, 10).date()) == 100
    # The next order earns at Gold's rate: 3 × 20.
    order_settled(shop, order_payload(5002, 1001, "20.00"))
    assert points_of(ada, Reason.ORDER_EARNED) == [100, 60]

    # A redemption and then expiry take points, never the tier measure.
    five_off = reward_create(shop=shop, kind="amount_off", points_cost=200, value=Decimal("5.00"))
    reward_redeem(shop=shop, customer_id=1001, reward=five_off)
    clock("2026-05-01T12:00:00+00:00")
    daily_jobs_run(day=datetime(2026, 5, 1).date(), shop_domain=shop.domain)
    ada = Member.objects.get(pk=ada.pk)
    assert points_of(ada, Reason.POINTS_EXPIRED) == [-(100 + 50 + 40 + 25 + 11 + 60 - 200)]
    assert ada.balance == 0
    assert sum(TierTally.objects.filter(member=ada).values_list("points", flat=True)) == 160
    assert ada.tier.name == "Gold"
