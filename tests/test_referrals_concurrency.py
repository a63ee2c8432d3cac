"""Many friends' orders at once for one advocate, on PostgreSQL with real row locks: the
monthly cap holds and nothing is rewarded twice."""

from decimal import Decimal

import pytest

from loyalty.earning.orders import refund_facts
from loyalty.models import LedgerEntry, Member, Reason, Referral
from loyalty.selectors import ledger_drift
from loyalty.services.orders import refund_record
from loyalty.services.referrals import referral_code_ensure, referral_visit
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload, order_settled, refund_payload
from tests.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]
NOVEMBER = "2026-11-20T12:00:00Z"


def test_ten_friends_ordering_at_once_reward_exactly_the_monthly_cap():
    shop = factories.shop(
        referral_advocate_points=500,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        referral_monthly_cap=3,
    )
    advocate = factories.member(shop, 1001)
    code = referral_code_ensure(member=advocate)
    payloads = []
    for n in range(10):
        referral = referral_visit(shop=shop, code=code, ip=f"192.0.2.{n}")
        payloads.append(
            order_payload(
                8000 + n,
                4000 + n,
                discount_codes=[referral.code],
                created_at="2026-11-20T12:00:00Z",
            )
        )
    # Each order delivered twice (orders/create and orders/paid), all at once.
    in_threads([lambda p=p: order_settled(shop, p) for p in payloads * 2])

    states = sorted(Referral.objects.filter(shop=shop).values_list("state", "refusal_reason"))
    assert states == [("refused", "monthly_cap")] * 7 + [("rewarded", "")] * 3
    advocate = Member.objects.get(pk=advocate.pk)
    assert (advocate.balance, advocate.pending) == (1500, 0)
    assert LedgerEntry.objects.filter(member=advocate, reason=Reason.REFERRAL_REWARDED).count() == 3
    assert ledger_drift(shop=shop) == []


def test_friends_refunds_and_the_advocates_own_orders_at_once_never_deadlock():
    shop = factories.shop(
        referral_advocate_points=500,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        referral_monthly_cap=None,
        hold_days=14,
    )
    advocate = factories.member(shop, 1001)
    code = referral_code_ensure(member=advocate)
    for n in range(8):
        referral = referral_visit(shop=shop, code=code, ip=f"192.0.2.{n}")
        order_settled(shop, order_payload(8000 + n, 4000 + n, discount_codes=[referral.code]))
    # Every friend's order refunded in full while the advocate places orders of their own:
    # each job locks both members, the other's only one.
    jobs = [
        lambda n=n: refund_record(
            shop=shop,
            facts=refund_facts(refund_payload(8000 + n, 9000 + n, lines=[("100.00", "0.00")])),
        )
        for n in range(8)
    ]
    jobs += [lambda n=n: order_settled(shop, order_payload(7000 + n, 1001)) for n in range(8)]
    in_threads(jobs)

    assert set(Referral.objects.filter(shop=shop).values_list("state", flat=True)) == {"reversed"}
    advocate = Member.objects.get(pk=advocate.pk)
    # Only the advocate's own 8 orders of 100 remain, on hold.
    assert (advocate.balance, advocate.pending) == (0, 800)
    assert ledger_drift(shop=shop) == []
