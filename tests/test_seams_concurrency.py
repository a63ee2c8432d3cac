"""Order settlement, refunds and the daily jobs of one member at once, on PostgreSQL with
real row locks: every path takes the member's lock before the rows it shares with the
others (the tier tallies, the daily figures), so none waits on another for ever."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from loyalty.daily import daily_jobs_run
from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import LedgerEntry, Member, Program, Reason, Referral, Tier, TierTally
from loyalty.selectors import ledger_drift
from loyalty.services import tiers
from loyalty.services.orders import order_settle, refund_record
from loyalty.services.redemptions import reward_redeem
from loyalty.services.referrals import referral_code_ensure, referral_visit
from loyalty.services.rewards import reward_create
from loyalty.stats.counters import shop_day
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload, order_settled, refund_payload
from tests.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_refunds_orders_and_daily_jobs_of_one_member_at_once_all_finish():
    shop = factories.shop()
    Program.objects.filter(shop=shop).update(expiry_days=365)
    for n in range(1, 6):
        order_settle(shop=shop, facts=order_facts(order_payload(order_id=n, subtotal="100.00")))
    refunds = [
        refund_facts(refund_payload(order_id=n, refund_id=900 + n, lines=(("10.00", "0.00"),)))
        for n in range(1, 6)
    ]
    orders = [order_facts(order_payload(order_id=n, subtotal="20.00")) for n in range(6, 11)]
    jobs = [lambda r=r: refund_record(shop=shop, facts=r) for r in refunds]
    jobs += [lambda o=o: order_settle(shop=shop, facts=o) for o in orders]
    jobs += [lambda: daily_jobs_run(shop_domain=shop.domain, now=timezone.now())]

    in_threads(jobs, workers=11)

    member = Member.objects.get(shop=shop, customer_id=1001)
    # Five orders of 100 less 10 each, five of 20: every point and unit counted once.
    assert member.balance == 5 * 90 + 5 * 20
    tally = TierTally.objects.get(member=member)
    assert (tally.points, tally.amount) == (550, 550)
    assert member.last_activity_at > timezone.now() - timedelta(minutes=5)


def test_friends_and_their_advocate_refunds_a_redemption_and_the_daily_jobs_at_once():
    shop = factories.shop(
        referral_advocate_points=50,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        referral_monthly_cap=None,
        birthday_points=25,
        expiry_days=365,
    )
    Tier.objects.create(shop=shop, name="Silver", threshold=150, multiplier="2", entry_points=7)
    advocate = factories.member(shop, 1001)
    today = shop_day(timezone.now(), shop.timezone)
    Member.objects.filter(pk=advocate.pk).update(birthday_month=today.month, birthday_day=today.day)
    order_settle(shop=shop, facts=order_facts(order_payload(order_id=1, subtotal="100.00")))
    code = referral_code_ensure(member=advocate)
    friends = []
    for n in range(6):
        referral = referral_visit(shop=shop, code=code, ip=f"192.0.2.{n}")
        friends.append(order_payload(8000 + n, 4000 + n, discount_codes=[referral.code]))
    five_off = reward_create(shop=shop, kind="amount_off", points_cost=60, value=Decimal("5.00"))
    # The friends' orders (two deliveries each), the advocate's own orders crossing Silver,
    # a refund of the advocate's first order, a redemption and the day's jobs, all at once.
    jobs = [lambda p=p: order_settled(shop, p) for p in friends * 2]
    jobs += [
        lambda n=n: order_settled(shop, order_payload(7000 + n, 1001, "20.00")) for n in range(4)
    ]
    jobs += [
        lambda: refund_record(
            shop=shop, facts=refund_facts(refund_payload(1, 901, lines=(("10.00", "0.00"),)))
        ),
        lambda: reward_redeem(shop=shop, customer_id=1001, reward=five_off),
        lambda: daily_jobs_run(shop_domain=shop.domain, now=timezone.now()),
    ]

    in_threads(jobs, workers=len(jobs))

    advocate = Member.objects.get(pk=advocate.pk)
    assert set(Referral.objects.filter(shop=shop).values_list("state", flat=True)) == {"rewarded"}
    reasons = LedgerEntry.objects.filter(member=advocate).values_list("reason", "points")
    by_reason = {}
    for reason, points in reasons:
        by_reason[reason] = by_reason.get(reason, 0) + points
    assert by_reason[Reason.REFERRAL_REWARDED] == 6 * 50
    assert by_reason[Reason.BIRTHDAY_BONUS] == 25
    assert by_reason[Reason.REWARD_REDEEMED] == -60
    assert by_reason[Reason.ORDER_REFUNDED] == -10
    # Orders only count towards the tier: 100 - 10 + 4 x 20 = 170 units at most (an order
    # after the crossing earns 2x points, but spends the same).
    assert TierTally.objects.get(member=advocate).amount == 170
    assert advocate.tier.name == "Silver"
    assert by_reason[Reason.TIER_ENTRY] == 7
    assert ledger_drift(shop=shop) == []


def test_friends_of_two_advocates_ordering_at_once_never_deadlock_on_the_daily_figures():
    shop = factories.shop(
        referral_advocate_points=50,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        referral_monthly_cap=None,
    )
    payloads = []
    for advocate_id in (1001, 1002):
        code = referral_code_ensure(member=factories.member(shop, advocate_id))
        for n in range(8):
            referral = referral_visit(shop=shop, code=code, ip=f"192.0.{advocate_id % 10}.{n}")
            friend = advocate_id * 10 + n
            payloads.append(order_payload(friend, friend, discount_codes=[referral.code]))
    # Each friend's transaction counts the friend's entry and then the advocate's: the daily
    # figures' slot rows of members of both advocates, in either order.
    in_threads([lambda p=p: order_settled(shop, p) for p in payloads], workers=16)

    assert set(Referral.objects.filter(shop=shop).values_list("state", flat=True)) == {"rewarded"}
    for advocate_id in (1001, 1002):
        assert Member.objects.get(shop=shop, customer_id=advocate_id).balance == 8 * 50
    assert ledger_drift(shop=shop) == []


def test_moving_a_member_down_leaves_the_shops_other_members_free_to_earn(monkeypatch):
    shop = factories.shop(tier_window="rolling_12_months")
    gold = Tier.objects.create(shop=shop, name="Gold", threshold=100)
    ada = factories.member(shop, 1001)
    bob = factories.member(shop, 1002)
    Member.objects.filter(pk=ada.pk).update(tier=gold)
    today = shop_day(timezone.now(), shop.timezone)
    TierTally.objects.create(member=ada, day=today - timedelta(days=400), points=150)
    answers = []

    def earn_for_bob():
        # Another connection, while Ada's move is open: it must not wait for it.
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            order_settle(shop=shop, facts=order_facts(order_payload(5002, 1002, "20.00")))
            answers.append("earned")
        except OperationalError as error:
            answers.append(str(error))
        finally:
            connection.close()

    def moving(*, member):
        thread = threading.Thread(target=earn_for_bob)
        thread.start()
        thread.join()

    monkeypatch.setattr(tiers, "storefront_member_changed", moving)
    assert tiers.tiers_daily(shop=shop, day=today) == 1

    assert answers == ["earned"]
    assert Member.objects.get(pk=bob.pk).balance == 20
    assert Member.objects.get(pk=ada.pk).tier is None
