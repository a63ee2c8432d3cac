"""Shopify made the discount but its answer never came back: the points are never given
back for a discount that exists, and an order using the code before the app heard of it
still counts."""

import time
from datetime import timedelta

import pytest

from loyalty.models import LedgerEntry, Program, Reason, Redemption, RedemptionStatus
from loyalty.services.redemptions import MAX_ATTEMPTS, redemption_deliver, redemptions_expire
from tests import redeeming
from tests.factories import order_payload
from tests.redeeming import discounts, install, knobs, member_with, redeem, reward
from tests.test_redemptions_failures import enqueued, run_jobs_until_settled  # noqa: F401
from tests.test_redemptions_lifecycle import deliver

# The app's job messages are kept in a list (tests.test_redemptions_failures), not sent.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enqueued")]
shopify = redeeming.shopify


def refunds(member) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(
            member=member,
            reason__in=[Reason.REDEMPTION_REFUNDED, Reason.CODE_EXPIRED_REFUND],
        )
    )


def pending_on_its_last_try(client, shopify, settings) -> Redemption:
    """A $5-off redemption that Shopify's outage kept pending through every try but one."""
    settings.REDEMPTION_SHOPIFY_TIMEOUT = 0.3
    shop = install()
    member_with(shop, 1000)
    five_off = reward(shop, points_cost=400, expires_after_days=30)
    knobs(shopify, fail_status=503, fail_count=1000)
    response = redeem(client, {"reward_id": five_off.pk})
    assert response.status_code == 202, response.content
    Redemption.objects.filter(pk=response.json()["id"]).update(attempts=MAX_ATTEMPTS - 1)
    return Redemption.objects.get(pk=response.json()["id"])


def wait_for_discounts(shopify, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(discounts(shopify)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_last_try_whose_answer_is_lost_never_refunds_the_discount_it_made(
    client, shopify, settings
):
    redemption = pending_on_its_last_try(client, shopify, settings)
    # The last try: Shopify holds the call past our limit, then makes the discount anyway.
    knobs(shopify, fail_count=0, hang_count=1, hang_seconds=1.0)

    after, tried = redemption_deliver(
        redemption_id=redemption.pk, timeout=0.3, now=redemption.retry_at + timedelta(seconds=1)
    )
    wait_for_discounts(shopify, 1)
    settled = run_jobs_until_settled(redemption.pk)

    assert tried and after.status == RedemptionStatus.PENDING
    [made] = discounts(shopify)
    assert made["code"] == redemption.code
    assert settled.status == RedemptionStatus.READY
    assert settled.discount_id.startswith("gid://shopify/DiscountCodeNode/")
    assert refunds(settled.member) == []
    settled.member.refresh_from_db()
    assert settled.member.balance == 600


def test_after_the_last_try_the_points_come_back_once_shopify_says_no_such_discount(
    client, shopify, settings
):
    redemption = pending_on_its_last_try(client, shopify, settings)
    redemption_deliver(
        redemption_id=redemption.pk, timeout=0.3, now=redemption.retry_at + timedelta(seconds=1)
    )
    knobs(shopify, fail_count=0)  # Shopify answers again

    settled = run_jobs_until_settled(redemption.pk)

    assert settled.status == RedemptionStatus.FAILED
    # Asking whether the code exists makes nothing.
    assert discounts(shopify) == []
    [refund] = refunds(settled.member)
    assert refund.points == 400
    assert f"in {MAX_ATTEMPTS} tries" in refund.note
    settled.member.refresh_from_db()
    assert settled.member.balance == 1000


def test_an_order_using_a_code_still_pending_marks_it_used_once_it_is_ready(
    client, shopify, settings
):
    # The shopper saw the pending code in the account answer; Shopify had made it (its answer
    # to the app was lost) and the shopper used it before the app's next try.
    redemption = pending_on_its_last_try(client, shopify, settings)
    knobs(shopify, fail_count=0)
    Program.objects.update_or_create(
        shop=redemption.shop, defaults={"expired_code_points_return": True}
    )
    order = order_payload(order_id=9001, subtotal="40.00", discount_codes=[redemption.code])
    deliver(client, "orders/create", order)
    deliver(client, "orders/create", order)

    settled = run_jobs_until_settled(redemption.pk)
    expired = redemptions_expire(now=redemption.expires_at + timedelta(days=2))

    assert settled.status == RedemptionStatus.USED
    assert settled.used_order_id == 9001
    assert expired == 0
    assert refunds(settled.member) == []
    settled.member.refresh_from_db()
    # 1000 - 400 spent + 40 the $40 order earned; nothing came back.
    assert settled.member.balance == 640
