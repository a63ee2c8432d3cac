"""Twenty reviews of one product by one buyer at once, half of them the same review sent
twice, on PostgreSQL with real row locks: the member earns once."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from loyalty.earning.orders import order_facts
from loyalty.models import LedgerEntry, Reason, ReviewDelivery
from loyalty.selectors import ledger_drift
from loyalty.services.integrations import integration_secret_for
from loyalty.services.orders import order_settle
from standin.reviews import generic_review, review_request
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_twenty_reviews_of_one_product_at_once_earn_once():
    shop = factories.shop("alice.myshopify.com", review_points=50)
    order_settle(shop=shop, facts=order_facts(order_payload(order_id=5001, customer_id=1001)))
    secret = integration_secret_for(shop=shop)
    # Ten different reviews, each sent twice.
    requests = [
        review_request(
            source="generic",
            review=generic_review(
                shop=shop.domain, review_id=f"r-{n % 10}", product_id=7001, customer_id=1001
            ),
            secret=secret,
        )
        for n in range(20)
    ]

    def attempt(signed):
        try:
            return Client().post(
                signed.path,
                data=signed.body,
                content_type="application/json",
                headers=signed.headers,
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(attempt, requests))

    assert Counter(r.status_code for r in responses) == {200: 20}
    assert ReviewDelivery.objects.count() == 10
    assert Counter(ReviewDelivery.objects.values_list("status", flat=True)) == {
        "rewarded": 1,
        "refused": 9,
    }
    entries = LedgerEntry.objects.filter(reason=Reason.REVIEW_REWARDED)
    assert [e.points for e in entries] == [50]
    assert ledger_drift(shop=shop) == []
