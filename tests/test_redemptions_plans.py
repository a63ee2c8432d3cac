"""The account answer's codes, the sweeper and the expiry job read through their indexes, on
PostgreSQL with a table of many redemptions, not by scanning it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from loyalty.models import Member, Redemption, RedemptionStatus, Reward
from loyalty.services.redemptions import EXPIRY_GRACE
from tests import factories
from tests.conftest import needs_postgres

pytestmark = [pytest.mark.django_db, needs_postgres]

MEMBERS = 1000
REDEMPTIONS = 15_000


@pytest.fixture
def many_redemptions():
    shop = factories.shop()
    Member.objects.bulk_create(Member(shop=shop, customer_id=10_000 + n) for n in range(MEMBERS))
    members = list(Member.objects.filter(shop=shop).values_list("pk", flat=True))
    reward = Reward.objects.create(shop=shop, kind="amount_off", points_cost=100, value=5)
    now = timezone.now()
    statuses = [RedemptionStatus.USED] * 8 + [RedemptionStatus.READY, RedemptionStatus.EXPIRED]
    Redemption.objects.bulk_create(
        (
            Redemption(
                shop=shop,
                member_id=members[n % MEMBERS],
                reward=reward,
                kind="amount_off",
                points=100,
                value=Decimal("5.00"),
                currency="USD",
                code=f"PRN-{n:09d}",
                status=statuses[n % 10],
                discount_id=f"gid://shopify/DiscountCodeNode/{n}",
                used_order_id=n if statuses[n % 10] == RedemptionStatus.USED else None,
                expires_at=now + timedelta(days=30),
            )
            for n in range(REDEMPTIONS)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE loyalty_redemption")
    return shop, members, now


def test_a_members_newest_codes_come_from_their_index(many_redemptions):
    _shop, members, _now = many_redemptions

    plan = (
        Redemption.objects.filter(member_id=members[7])
        .select_related("reward")
        .order_by("-created_at", "-id")[:20]
        .explain()
    )

    assert "redemption_member_newest" in plan
    assert "Seq Scan on loyalty_redemption" not in plan


def test_the_sweeper_and_the_expiry_job_read_only_the_rows_in_play(many_redemptions):
    _shop, _members, now = many_redemptions

    pending = (
        Redemption.objects.filter(
            status=RedemptionStatus.PENDING, retry_at__lt=now - timedelta(minutes=1)
        )
        .order_by("retry_at")
        .values_list("pk", flat=True)[:500]
        .explain()
    )
    expiring = (
        Redemption.objects.filter(status=RedemptionStatus.READY, expires_at__lte=now - EXPIRY_GRACE)
        .values_list("pk", flat=True)[:2000]
        .explain()
    )

    assert "redemption_pending" in pending
    assert "redemption_ready_expiry" in expiring
    assert "Seq Scan" not in pending + expiring
