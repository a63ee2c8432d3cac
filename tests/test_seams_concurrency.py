"""Order settlement, refunds and the daily jobs of one member at once, on PostgreSQL with
real row locks: every path takes the member's lock before the rows it shares with the
others (the tier tallies, the daily figures), so none waits on another for ever."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.daily import daily_jobs_run
from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import Member, Program, TierTally
from loyalty.services.orders import order_settle, refund_record
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload, refund_payload
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
