"""Many writers at once on one member or one order, on PostgreSQL with real row locks."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import LedgerEntry, Member, Reason
from loyalty.selectors import ledger_drift
from loyalty.services.ledger import points_record
from loyalty.services.orders import order_settle, refund_record
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload, refund_payload

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def in_threads(jobs, workers=16):
    def run(job):
        try:
            return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def test_many_writers_to_one_member_never_lose_or_double_an_entry():
    shop = factories.shop()
    member = factories.member(shop)
    # 200 operations, each sent twice (a retried job): 400 concurrent calls.
    jobs = [
        (
            lambda n=n: points_record(
                member=Member.objects.get(pk=member.pk),
                points=n % 7 + 1,
                reason=Reason.MANUAL_ADJUSTMENT,
                idempotency_key=f"op-{n}",
            )
        )
        for n in list(range(200)) * 2
    ]
    in_threads(jobs)
    member.refresh_from_db()
    assert member.balance == sum(n % 7 + 1 for n in range(200))
    assert LedgerEntry.objects.filter(member=member).count() == 200
    assert member.last_sequence == 200
    assert ledger_drift(shop=shop) == []


def test_concurrent_deliveries_for_one_order_earn_once_and_refund_exactly():
    shop = factories.shop()
    paid = order_facts(order_payload(subtotal="300.00"))
    refunds = [
        refund_facts(refund_payload(refund_id=r, lines=[("50.00", "0.00")])) for r in (1, 2, 3)
    ]
    jobs = [lambda: order_settle(shop=shop, facts=paid) for _ in range(10)]
    jobs += [lambda r=r: refund_record(shop=shop, facts=r) for r in refunds for _ in range(3)]
    in_threads(jobs)
    member = Member.objects.get(shop=shop, customer_id=1001)
    assert member.balance == 150  # floor(300 * (300 - 150) / 300)
    assert LedgerEntry.objects.filter(member=member, reason=Reason.ORDER_EARNED).count() == 1
    assert ledger_drift(shop=shop) == []
