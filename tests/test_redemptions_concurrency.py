"""Fifty redemptions at once on one balance, on PostgreSQL with real row locks: a double
click, two tabs and a script never spend more than the member holds."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Min
from django.test import Client

from loyalty.models import LedgerEntry, Reason, Redemption, RedemptionStatus
from loyalty.selectors import ledger_drift
from tests import redeeming
from tests.conftest import needs_postgres
from tests.redeeming import discounts, install, member_with, redeem, reward

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]
shopify = redeeming.shopify


def test_fifty_redemptions_at_once_on_a_balance_for_five(shopify, settings):
    # The row lock is what is tested here; the rate limit (a second line, docs/abuse.md)
    # would refuse most of fifty requests from one shopper before they reach it.
    for limit in ("RATE_LIMIT_PROXY", "RATE_LIMIT_PROXY_WRITES", "RATE_LIMIT_PROXY_IP"):
        setattr(settings, limit, (1000, 60))
    shop = install()
    member = member_with(shop, 2500)
    five_off = reward(shop, points_cost=500)

    def attempt():
        try:
            return redeem(Client(), {"reward_id": five_off.pk})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = [f.result() for f in [pool.submit(attempt) for _ in range(50)]]

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 5, 409: 45}
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {answer["code"] for answer in refused} == {"not_enough_points"}
    assert all("costs 500 points" in answer["error"] for answer in refused)
    member.refresh_from_db()
    assert member.balance == 0
    debits = LedgerEntry.objects.filter(member=member, reason=Reason.REWARD_REDEEMED)
    assert debits.count() == 5
    assert LedgerEntry.objects.filter(member=member).aggregate(low=Min("balance_after")) == {
        "low": 0
    }
    ready = Redemption.objects.filter(member=member, status=RedemptionStatus.READY)
    assert ready.count() == 5
    codes = sorted(r.json()["code"] for r in responses if r.status_code == 201)
    assert codes == sorted(ready.values_list("code", flat=True))
    assert sorted(d["code"] for d in discounts(shopify)) == codes
    assert ledger_drift(shop=shop) == []
