"""Orders of one member settling at once, on PostgreSQL with real row locks: exactly one
moves the member up, and only the orders after it earn at the new rate."""

import pytest

from loyalty.earning.orders import order_facts
from loyalty.models import LedgerEntry, Member, Reason, Tier, TierChange, TierTally
from loyalty.services.orders import order_settle
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload
from tests.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_concurrent_orders_cross_a_threshold_once_and_the_rest_earn_at_the_new_rate():
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Silver", threshold=100, multiplier="2", entry_points=7)
    order_settle(shop=shop, facts=order_facts(order_payload(order_id=1, subtotal="95.00")))
    orders = [order_facts(order_payload(order_id=n, subtotal="10.00")) for n in range(2, 12)]

    in_threads([lambda o=o: order_settle(shop=shop, facts=o) for o in orders], workers=10)

    member = Member.objects.get(shop=shop, customer_id=1001)
    earned = sorted(
        LedgerEntry.objects.filter(member=member, reason=Reason.ORDER_EARNED)
        .exclude(order_id=1)
        .values_list("points", flat=True)
    )
    # Whichever order came first crossed at 1×; the nine after it waited and earned 2×.
    assert earned == [10] + [20] * 9
    assert member.balance == 95 + 10 + 9 * 20 + 7
    assert TierChange.objects.filter(member=member).count() == 1
    assert TierTally.objects.get(member=member).points == 95 + 10 + 9 * 20
