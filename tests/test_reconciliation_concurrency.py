"""Reconciliation racing the webhooks it repairs, and another run, on PostgreSQL with real
row locks: every order earns and refunds once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import LedgerEntry, Member, Reason
from loyalty.selectors import ledger_drift
from loyalty.services.orders import order_settle, refund_record
from loyalty.services.reconciliation import orders_reconcile
from standin.orders import order_record
from tests.conftest import needs_postgres
from tests.factories import refund_payload
from tests.test_oauth_and_tokens import shopify  # noqa: F401
from tests.test_reconciliation import ALICE, installed, later, order

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def in_threads(jobs, workers=8):
    def run(job):
        try:
            return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def test_two_runs_and_the_late_webhooks_at_once_apply_each_order_once(shopify):  # noqa: F811
    shop = installed(shopify)
    orders = {5001 + n: order(5001 + n, 1001 + n % 4, f"{10 + n}.00") for n in range(12)}
    refunds = {order_id: refund_payload(order_id, 9001 + n) for n, order_id in enumerate(orders)}
    for order_id, payload in orders.items():
        # Every webhook lost: both orders/create and refunds/create.
        order_record(shopify.state, ALICE, "orders/create", payload)
        order_record(shopify.state, ALICE, "refunds/create", refunds[order_id])
    now = later()
    jobs = [lambda: orders_reconcile(shop=shop, now=now) for _ in range(2)]
    jobs += [lambda p=p: order_settle(shop=shop, facts=order_facts(p)) for p in orders.values()]
    jobs += [lambda r=r: refund_record(shop=shop, facts=refund_facts(r)) for r in refunds.values()]

    in_threads(jobs)

    earned = LedgerEntry.objects.filter(reason=Reason.ORDER_EARNED)
    refunded = LedgerEntry.objects.filter(reason=Reason.ORDER_REFUNDED)
    assert sorted(earned.values_list("order_id", flat=True)) == sorted(orders)
    assert sorted(refunded.values_list("order_id", flat=True)) == sorted(orders)
    # Each order of 10+n dollars keeps all but the refund's 10.00.
    expected = {1001 + c: sum(n for n in range(12) if n % 4 == c) for c in range(4)}
    assert dict(Member.objects.values_list("customer_id", "balance")) == expected
    assert ledger_drift(shop=shop) == []
