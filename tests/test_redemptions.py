"""Redeeming a reward through the app proxy: the debit, the code, and a real discount made at
the Shopify stand-in with exactly the terms the reward says."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import LedgerEntry, Member, Reason, Redemption, RedemptionStatus
from loyalty.services.ledger import points_record
from loyalty.services.redemptions import CODE_ALPHABET, code_generate
from loyalty.services.rewards import reward_delete, reward_update
from tests import redeeming
from tests.redeeming import (
    account,
    discounts,
    install,
    member_with,
    mutations,
    redeem,
    reward,
)
from tests.shopify_signing import BOB

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify


def balance_of(member: Member) -> int:
    member.refresh_from_db()
    return member.balance


def test_amount_off_makes_a_single_use_discount_for_that_customer_only(client, shopify):
    shop = install()
    member = member_with(shop, 1200)
    five_off = reward(
        shop, points_cost=500, minimum_subtotal=Decimal("20.00"), expires_after_days=30
    )

    before = timezone.now().replace(microsecond=0)
    response = redeem(client, {"reward_id": five_off.pk})

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["balance"] == 700
    assert answer["status"] == "ready"
    redemption = Redemption.objects.get(pk=answer["id"])
    assert answer["code"] == redemption.code
    assert redemption.status == RedemptionStatus.READY
    assert (redemption.points, redemption.value, redemption.attempts) == (500, Decimal("5.00"), 1)
    [made] = discounts(shopify)
    assert made["type"] == "DiscountCodeBasic"
    assert made["code"] == redemption.code
    assert redemption.discount_id.startswith("gid://shopify/DiscountCodeNode/")
    terms = made["input"]
    assert terms["context"] == {"customers": {"add": ["gid://shopify/Customer/1001"]}}
    assert terms["usageLimit"] == 1
    assert terms["appliesOncePerCustomer"] is True
    assert terms["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "20.00"}}
    assert terms["customerGets"] == {
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        "items": {"all": True},
    }
    starts = datetime.strptime(terms["startsAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    ends = datetime.strptime(terms["endsAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= starts <= before + timedelta(seconds=5)
    assert ends - starts == timedelta(days=30)
    # Inputs travel as variables, never spliced into the document.
    [call] = mutations(shopify)
    assert redemption.code not in call["query"]
    entry = LedgerEntry.objects.get(member=member, reason=Reason.REWARD_REDEEMED)
    assert (entry.points, entry.idempotency_key) == (-500, f"redemption:{redemption.pk}:redeemed")
    assert balance_of(member) == 700


def test_percent_off_sends_a_fraction_and_free_shipping_any_destination(client, shopify):
    shop = install()
    member_with(shop, 1000)
    ten_percent = reward(shop, "percent_off", points_cost=300)
    shipping = reward(shop, "free_shipping", points_cost=200)

    assert redeem(client, {"reward_id": ten_percent.pk}).status_code == 201
    assert redeem(client, {"reward_id": shipping.pk}).status_code == 201

    by_type = {d["type"]: d["input"] for d in discounts(shopify)}
    assert by_type["DiscountCodeBasic"]["customerGets"]["value"] == {"percentage": 0.1}
    assert by_type["DiscountCodeFreeShipping"]["destination"] == {"all": True}
    assert "customerGets" not in by_type["DiscountCodeFreeShipping"]
    assert by_type["DiscountCodeFreeShipping"]["endsAt"] is None
    assert account(client)["balance"] == 500


def test_store_credit_credits_the_customer_account_and_answers_the_amount(client, shopify):
    shop = install()
    member = member_with(shop, 600)
    credit = reward(shop, "store_credit", points_cost=500, value=Decimal("7.50"))

    response = redeem(client, {"reward_id": credit.pk})

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer == {
        "id": answer["id"],
        "status": "ready",
        "credited": "7.50",
        "currency": "USD",
        "balance": 100,
    }
    with shopify.state.lock:
        accounts = dict(shopify.state.store_credit)
    account_key = (shop.domain, "gid://shopify/Customer/1001", "USD")
    assert accounts[account_key]["balance"] == Decimal("7.50")
    redemption = Redemption.objects.get(pk=answer["id"])
    assert redemption.store_credit_transaction_id.startswith(
        "gid://shopify/StoreCreditAccountCreditTransaction/"
    )
    assert redemption.expires_at is None
    assert discounts(shopify) == []
    assert balance_of(member) == 100


def test_not_enough_points_is_a_409_and_changes_nothing(client, shopify):
    shop = install()
    member = member_with(shop, 499)
    five_off = reward(shop, points_cost=500)

    response = redeem(client, {"reward_id": five_off.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "not_enough_points"
    assert "earn 1 more" in response.json()["error"]
    assert balance_of(member) == 499
    assert not Redemption.objects.exists()
    assert mutations(shopify) == []


def test_a_customer_with_no_points_yet_is_a_409_not_an_error(client, shopify):
    shop = install()
    five_off = reward(shop, points_cost=500)

    response = redeem(client, {"reward_id": five_off.pk}, customer="4242")

    assert response.status_code == 409
    assert response.json()["code"] == "not_enough_points"
    assert not Member.objects.filter(customer_id=4242).exists()


def test_a_negative_balance_is_a_409_of_its_own(client, shopify):
    shop = install()
    member = member_with(shop, 0)
    points_record(member=member, points=-40, reason=Reason.ORDER_REFUNDED, idempotency_key="r")
    free = reward(shop, points_cost=1)

    response = redeem(client, {"reward_id": free.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "negative_balance"
    assert balance_of(member) == -40


def test_a_disabled_reward_is_a_422_and_a_deleted_one_a_404(client, shopify):
    shop = install()
    member_with(shop, 5000)
    hidden = reward(shop, points_cost=100)
    reward_update(reward=hidden, enabled=False)
    gone = reward(shop, points_cost=100)
    reward_delete(reward=gone)

    disabled = redeem(client, {"reward_id": hidden.pk})
    deleted = redeem(client, {"reward_id": gone.pk})

    assert disabled.status_code == 422
    assert disabled.json()["code"] == "reward_unavailable"
    assert deleted.status_code == 404
    assert deleted.json()["code"] == "unknown_reward"
    assert not Redemption.objects.exists()


def test_guests_unknown_rewards_and_bad_bodies(client, shopify):
    shop = install()
    member_with(shop, 5000)
    five_off = reward(shop)

    guest = redeem(client, {"reward_id": five_off.pk}, customer="")
    unknown = redeem(client, {"reward_id": 999999})
    no_id = redeem(client, {"points": 100})
    boolean = redeem(client, {"reward_id": True})
    fixed_amount = redeem(client, {"reward_id": five_off.pk, "points": 600})

    unknown_shop = redeem(client, {"reward_id": five_off.pk}, shop="newcomer.myshopify.com")

    assert (guest.status_code, guest.json()["code"]) == (403, "guest")
    assert (unknown_shop.status_code, unknown_shop.json()["code"]) == (404, "not_installed")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_reward")
    assert (no_id.status_code, no_id.json()["code"]) == (422, "bad_request")
    assert boolean.status_code == 422
    assert (fixed_amount.status_code, fixed_amount.json()["code"]) == (422, "invalid_points")
    assert not Redemption.objects.exists()


def test_another_shops_reward_is_a_404_and_spends_nothing(client, shopify):
    alice = install()
    bob = install(BOB)
    alices_reward = reward(alice, points_cost=100)
    bobs_member = member_with(bob, 1000)

    response = redeem(client, {"reward_id": alices_reward.pk}, shop=BOB)

    assert response.status_code == 404
    assert balance_of(bobs_member) == 1000
    assert discounts(shopify) == [] and discounts(shopify, BOB) == []


def test_an_unsigned_redemption_is_a_401(client, shopify):
    shop = install()
    member_with(shop, 1000)
    five_off = reward(shop)

    response = client.post(
        "/proxy/api/redemptions?shop=alice.myshopify.com&logged_in_customer_id=1001",
        data=f'{{"reward_id": {five_off.pk}}}',
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not Redemption.objects.exists()


def test_codes_are_unguessable_and_typeable():
    codes = {code_generate() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        prefix, first, second = code.split("-")
        assert prefix == "PRN" and len(first) == len(second) == 4
        assert set(first + second) <= set(CODE_ALPHABET)
        assert not set(first + second) & set("01OIL")
