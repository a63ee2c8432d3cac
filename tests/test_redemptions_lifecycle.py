"""After the code is made: used on an order, expired unused (points back if the program says
so), variable rewards, and what the Dashboard counts of it all."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum

from loyalty.models import DailyFigures, LedgerEntry, Program, Reason, Redemption, RedemptionStatus
from loyalty.services.redemptions import EXPIRY_GRACE, redemptions_expire
from loyalty.services.rewards import RewardInvalid
from loyalty.stats.rebuild import figures_computed, figures_differences, figures_live
from standin.signing import webhook_headers
from tests import redeeming
from tests.factories import order_payload
from tests.redeeming import account, discounts, install, knobs, member_with, redeem, reward
from tests.shopify_signing import ALICE, as_merchant
from webhooks.models import Delivery, Status
from webhooks.processing import delivery_process

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify


def deliver(client, topic: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = webhook_headers(
        topic=topic, shop=ALICE, body=body, secret=settings.SHOPIFY_API_SECRET
    )
    response = client.post(
        "/webhooks",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200, response.content
    for pk in Delivery.objects.filter(status=Status.RECEIVED).values_list("pk", flat=True):
        delivery_process(pk)


def figures(shop, *names):
    sums = DailyFigures.objects.filter(shop=shop).aggregate(**{n: Sum(n) for n in names})
    return tuple(sums[n] for n in names)


def assert_live_equals_rebuilt(shop):
    computed, _ = figures_computed(shop=shop)
    assert figures_differences(computed=computed, live=figures_live(shop=shop)) == []


def test_an_order_with_the_code_marks_it_used_and_counts_reward_revenue_once(client, shopify):
    shop = install()
    member_with(shop, 1000)
    five_off = reward(shop, points_cost=500)
    code = redeem(client, {"reward_id": five_off.pk}).json()["code"]
    # Shopify's checkout accepts a code in any case; the order carries what was typed.
    paid = order_payload(
        order_id=7001, subtotal="45.00", discount_codes=[code.lower()], shipping="5.00"
    )

    deliver(client, "orders/create", paid)
    deliver(client, "orders/paid", paid)

    used = Redemption.objects.get(code=code)
    assert (used.status, used.used_order_id) == (RedemptionStatus.USED, 7001)
    assert used.used_at is not None
    revenue = Decimal(paid["total_price"])
    assert figures(shop, "reward_orders", "reward_order_revenue") == (1, revenue)
    assert figures(shop, "points_redeemed") == (500,)
    assert_live_equals_rebuilt(shop)
    assert account(client)["codes"][0]["status"] == "used"


def test_an_order_with_another_shops_code_or_none_uses_nothing(client, shopify):
    shop = install()
    member_with(shop, 1000)
    five_off = reward(shop, points_cost=500)
    code = redeem(client, {"reward_id": five_off.pk}).json()["code"]

    deliver(client, "orders/create", order_payload(order_id=7002, discount_codes=["SUMMER10"]))

    assert Redemption.objects.get(code=code).status == RedemptionStatus.READY
    assert figures(shop, "reward_orders") == (0,)


@pytest.mark.parametrize("points_back", [False, True])
def test_an_unused_code_expires_a_day_after_its_end_and_returns_points_if_the_program_says(
    client, shopify, points_back
):
    shop = install()
    Program.objects.update_or_create(
        shop=shop, defaults={"expired_code_points_return": points_back}
    )
    member = member_with(shop, 1500)
    week = reward(shop, points_cost=500, expires_after_days=7)
    ready = [redeem(client, {"reward_id": week.pk}).json()["code"] for _ in range(2)]
    used_code = ready[1]
    # The order using the second code earns 40 points of its own.
    deliver(
        client,
        "orders/create",
        order_payload(order_id=7003, subtotal="40.00", discount_codes=[used_code]),
    )
    ends = Redemption.objects.get(code=ready[0]).expires_at

    assert redemptions_expire(now=ends + EXPIRY_GRACE - timedelta(seconds=1)) == 0
    assert redemptions_expire(now=ends + EXPIRY_GRACE) == 1
    assert redemptions_expire(now=ends + EXPIRY_GRACE + timedelta(days=1)) == 0

    assert Redemption.objects.get(code=ready[0]).status == RedemptionStatus.EXPIRED
    assert Redemption.objects.get(code=used_code).status == RedemptionStatus.USED
    returned = LedgerEntry.objects.filter(member=member, reason=Reason.CODE_EXPIRED_REFUND)
    member.refresh_from_db()
    if points_back:
        [entry] = returned
        assert entry.points == 500
        assert ready[0] in entry.note
        assert member.balance == 1040
        assert figures(shop, "points_redeemed") == (500,)
    else:
        assert not returned.exists()
        assert member.balance == 540
        assert figures(shop, "points_redeemed") == (1000,)
    assert_live_equals_rebuilt(shop)
    # A late order with the expired code leaves it expired: its points may be back.
    deliver(client, "orders/create", order_payload(order_id=7004, discount_codes=[ready[0]]))
    assert Redemption.objects.get(code=ready[0]).status == RedemptionStatus.EXPIRED


def test_a_failed_redemption_is_not_counted_as_redeemed(client, shopify):
    shop = install()
    member_with(shop, 900)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, refuse_count=1)

    assert redeem(client, {"reward_id": five_off.pk}).status_code == 502
    assert redeem(client, {"reward_id": five_off.pk}).status_code == 201

    assert figures(shop, "points_redeemed", "points_change") == (500, 400)
    assert_live_equals_rebuilt(shop)


def test_a_variable_reward_spends_the_points_chosen_in_steps(client, shopify):
    shop = install()
    member = member_with(shop, 1000)
    steps = reward(
        shop,
        points_cost=200,
        variable=True,
        points_step=100,
        value_step=Decimal("1.00"),
        maximum_points=800,
        value=None,
    )
    assert steps.value == Decimal("2.00")

    chosen = redeem(client, {"reward_id": steps.pk, "points": 300})
    off_step = redeem(client, {"reward_id": steps.pk, "points": 350})
    too_many = redeem(client, {"reward_id": steps.pk, "points": 900})
    too_few = redeem(client, {"reward_id": steps.pk, "points": 100})
    beyond_balance = redeem(client, {"reward_id": steps.pk, "points": 800})
    least = redeem(client, {"reward_id": steps.pk})

    assert chosen.status_code == 201
    assert [r.status_code for r in (off_step, too_many, too_few)] == [422, 422, 422]
    assert off_step.json() == {
        "error": "Choose from 200 to 800 points in steps of 100.",
        "code": "invalid_points",
    }
    assert (beyond_balance.status_code, beyond_balance.json()["code"]) == (409, "not_enough_points")
    assert least.status_code == 201
    amounts = sorted(
        d["input"]["customerGets"]["value"]["discountAmount"]["amount"] for d in discounts(shopify)
    )
    assert amounts == ["2.00", "3.00"]
    member.refresh_from_db()
    assert member.balance == 500
    values = sorted(Redemption.objects.values_list("points", "value"))
    assert values == [(200, Decimal("2.00")), (300, Decimal("3.00"))]
    [offered] = account(client)["rewards"]
    assert offered["variable"] == {"points_step": 100, "value_step": "1.00", "maximum_points": 800}
    assert (offered["points_cost"], offered["value"], offered["affordable"]) == (200, "2.00", True)


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"kind": "percent_off", "value": "10", "variable": True},
            "variable",
            "Only amount_off and store_credit rewards can be variable.",
        ),
        (
            {"kind": "amount_off", "variable": True, "points_step": 100},
            "value_step",
            "A variable reward needs this: points_step, value_step, maximum_points.",
        ),
        (
            {
                "kind": "amount_off",
                "variable": True,
                "points_step": 300,
                "value_step": "1.00",
                "maximum_points": 900,
            },
            "points_cost",
            "The least a member spends must be a multiple of 300 points.",
        ),
        (
            {
                "kind": "store_credit",
                "variable": True,
                "points_step": 100,
                "value_step": "1.00",
                "maximum_points": 250,
            },
            "maximum_points",
            "Enter a multiple of 100 points, at least the points cost (500).",
        ),
        (
            {"kind": "amount_off", "value": "5", "points_step": 100},
            "points_step",
            "Only a variable reward has steps; send variable: true or leave it out.",
        ),
        (
            {"kind": "amount_off", "variable": True, "value_step": "0"},
            "value_step",
            'Enter what each step is worth, above 0, such as "1.00".',
        ),
    ],
)
def test_the_rewards_api_names_what_a_variable_reward_lacks(client, shopify, body, field, message):
    install()
    response = client.post(
        "/api/admin/rewards",
        data=json.dumps({"points_cost": 500, **body}),
        content_type="application/json",
        headers=as_merchant(),
    )

    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]


def test_the_rewards_api_creates_and_answers_a_variable_reward(client, shopify):
    install()
    response = client.post(
        "/api/admin/rewards",
        data=json.dumps(
            {
                "kind": "store_credit",
                "points_cost": 500,
                "variable": True,
                "points_step": 100,
                "value_step": "0.50",
                "maximum_points": 5000,
            }
        ),
        content_type="application/json",
        headers=as_merchant(),
    )

    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["variable"], answer["points_step"], answer["maximum_points"]) == (
        True,
        100,
        5000,
    )
    assert (answer["value_step"], answer["value"]) == ("0.50", "2.50")
    changed = client.patch(
        f"/api/admin/rewards/{answer['id']}",
        data=json.dumps({"variable": False, "value": "3.00"}),
        content_type="application/json",
        headers=as_merchant(),
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["variable"], changed.json()["points_step"]) == (False, None)


def test_the_database_refuses_a_variable_reward_without_whole_steps(shopify):
    from django.db import IntegrityError, transaction

    shop = install()
    made = reward(shop, points_cost=500)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(made).objects.filter(pk=made.pk).update(
            variable=True, points_step=300, value_step=Decimal("1"), maximum_points=900
        )
    with pytest.raises(RewardInvalid):
        reward(shop, "free_shipping", variable=True)


def test_a_data_request_lists_the_codes_and_a_shop_redact_erases_them(client, shopify):
    from loyalty.services.privacy import customer_data_export, shop_redact

    shop = install()
    member_with(shop, 700)
    five_off = reward(shop, points_cost=500)
    code = redeem(client, {"reward_id": five_off.pk}).json()["code"]

    export = customer_data_export(shop=shop, customer_id=1001, shopify_request_id=None).export
    shop_redact(shop=shop)

    [listed] = export["redemptions"]
    assert (listed["code"], listed["points"], listed["value"], listed["status"]) == (
        code,
        500,
        "5.00",
        "ready",
    )
    assert not Redemption.objects.exists()
