"""The storefront's balance through Shopify's app proxy signature."""

import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from loyalty.models import Member, Reason, Reward, Tier
from loyalty.services.birthdays import birthday_set
from loyalty.services.ledger import points_record
from loyalty.services.redemptions import reward_redeem
from loyalty.services.rewards import reward_create
from loyalty.services.tiers import tier_tally_add
from standin.signing import app_proxy_params
from tests import factories

pytestmark = pytest.mark.django_db


def account(client: Client, *, customer="1001", shop="alice.myshopify.com", **kwargs):
    params = app_proxy_params(
        shop=shop, logged_in_customer_id=customer, secret=settings.SHOPIFY_API_SECRET, **kwargs
    )
    return client.get("/proxy/api/account?" + urlencode(params, doseq=True))


def test_member_sees_available_and_pending_points(client: Client):
    shop = factories.shop()
    member = factories.member(shop, 1001)
    points_record(member=member, points=120, reason=Reason.SIGNUP_BONUS, idempotency_key="a")
    points_record(member=member, pending_points=30, reason=Reason.ORDER_EARNED, idempotency_key="b")
    response = account(client)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["guest"], answer["customer_id"]) == (False, "1001")
    assert (answer["balance"], answer["pending"]) == (120, 30)
    assert [(a["points"], a["pending_points"], a["reason"]) for a in answer["activity"]] == [
        (0, 30, "order_earned"),
        (120, 0, "signup_bonus"),
    ]
    assert "no-store" in response["Cache-Control"]


def test_customer_without_points_sees_zeros(client: Client):
    factories.shop()
    assert account(client, customer="777").json()["balance"] == 0
    assert account(client, customer="777").json()["pending"] == 0


def test_guest_is_not_an_error(client: Client):
    factories.shop()
    response = account(client, customer="")
    assert response.status_code == 200
    assert response.json()["guest"] is True


def test_customer_comes_from_the_signed_query_only(client: Client):
    shop = factories.shop()
    points_record(
        member=factories.member(shop, 1001), points=5, reason="signup_bonus", idempotency_key="x"
    )
    params = app_proxy_params(
        shop="alice.myshopify.com", logged_in_customer_id="2002", secret=settings.SHOPIFY_API_SECRET
    )
    params["logged_in_customer_id"] = "1001"  # the browser tries to read someone else's
    assert client.get("/proxy/api/account?" + urlencode(params)).status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.pop("signature"),
        lambda p: p.update(signature="0" * 64),
        lambda p: p.update(shop="bob.myshopify.com"),
        lambda p: p.pop("timestamp"),
    ],
)
def test_bad_or_missing_signature_gets_401(client: Client, tamper):
    factories.shop()
    params = app_proxy_params(
        shop="alice.myshopify.com", logged_in_customer_id="1", secret=settings.SHOPIFY_API_SECRET
    )
    tamper(params)
    assert client.get("/proxy/api/account?" + urlencode(params)).status_code == 401


def test_stale_timestamp_gets_401(client: Client):
    factories.shop()
    old = int(time.time()) - 600
    assert account(client, timestamp=old).status_code == 401
    assert account(client, timestamp=int(time.time()) - 30).status_code == 200


def test_signature_with_repeated_parameters(client: Client):
    factories.shop()
    response = account(client, extra={"ids": ["1", "2"], "a1": "x", "a": "y"})
    assert response.status_code == 200


def test_one_shops_proxy_never_sees_another_shops_member(client: Client):
    alice = factories.shop("alice.myshopify.com")
    factories.shop("bob.myshopify.com")
    points_record(
        member=factories.member(alice, 1001), points=9, reason="signup_bonus", idempotency_key="x"
    )
    assert account(client, shop="alice.myshopify.com").json()["balance"] == 9
    bobs = account(client, shop="bob.myshopify.com").json()
    assert (bobs["balance"], bobs["activity"], bobs["codes"]) == (0, [], [])


def test_uninstalled_shop_gets_404(client: Client):
    shop = factories.shop()
    shop.uninstalled_at = "2026-11-01T00:00:00Z"
    shop.save()
    assert account(client).status_code == 404


def test_a_shop_whose_first_webhook_has_not_come_yet_answers_zeros_and_no_rewards(
    client: Client,
):
    answer = account(client, shop="newcomer.myshopify.com").json()
    assert (answer["guest"], answer["balance"], answer["pending"]) == (False, 0, 0)
    assert (answer["rewards"], answer["codes"], answer["activity"]) == ([], [], [])
    assert answer["ways_to_earn"] == [{"key": "purchase", "points_per_unit": "1"}]
    assert answer["currency"] == "USD"


def test_the_account_answer_has_every_key_for_a_member(client: Client):
    shop = factories.shop(
        signup_points=100,
        birthday_points=200,
        review_points=50,
        review_photo_bonus_points=25,
        referral_advocate_points=0,
    )
    silver = Tier.objects.create(shop=shop, name="Silver", threshold=0, multiplier="1.25")
    Tier.objects.create(shop=shop, name="Gold", threshold=1000, multiplier="1.5")
    member = factories.member(shop, 1001)
    member.tier = silver
    member.save()
    points_record(member=member, points=600, reason=Reason.ORDER_EARNED, idempotency_key="o1")
    points_record(member=member, points=150, reason=Reason.SIGNUP_BONUS, idempotency_key="s")
    points_record(member=member, points=-100, reason=Reason.ORDER_REFUNDED, idempotency_key="r")
    points_record(member=member, points=90, reason=Reason.MANUAL_ADJUSTMENT, idempotency_key="m")
    # What crediting the order and its refund files towards tiers (loyalty.services.orders).
    today = timezone.now().date()
    tier_tally_add(member=member, day=today, points=600, amount=Decimal("600"))
    tier_tally_add(member=member, day=today, points=-100, amount=Decimal("-100"))
    dear = reward_create(shop=shop, kind="amount_off", points_cost=900, value=Decimal("9"))
    cheap = reward_create(shop=shop, kind="percent_off", points_cost=300, value=Decimal("12.5"))
    mid = reward_create(
        shop=shop, kind="free_shipping", points_cost=740, minimum_subtotal=Decimal("20")
    )
    reward_create(shop=shop, kind="amount_off", points_cost=10, value=Decimal("1"), enabled=False)

    answer = account(client).json()

    assert answer["currency"] == "USD"
    assert (answer["balance"], answer["pending"]) == (740, 0)
    # Gold counts points from orders less refunds: 600 - 100 (not the bonus or the 90 given).
    assert answer["tier"] == {
        "name": "Silver",
        "multiplier": "1.25",
        "next": {"name": "Gold", "threshold": 1000, "remaining": 500},
    }
    assert [r["id"] for r in answer["rewards"]] == [cheap.pk, mid.pk, dear.pk]
    assert answer["rewards"][1] == {
        "id": mid.pk,
        "name": "Free shipping",
        "kind": "free_shipping",
        "points_cost": 740,
        "value": "0.00",
        "minimum_subtotal": "20.00",
        "affordable": True,
        "minimum_tier": None,
        "reason": None,
        "variable": None,
    }
    assert [(r["value"], r["affordable"]) for r in answer["rewards"]] == [
        ("12.5", True),
        ("0.00", True),
        ("9.00", False),
    ]
    assert answer["ways_to_earn"] == [
        {"key": "purchase", "points_per_unit": "1"},
        {"key": "signup", "points": 100},
        {"key": "birthday", "points": 200},
        {"key": "review", "points": 50, "photo_bonus": 25},
    ]
    assert [a["reason"] for a in answer["activity"]] == [
        "manual_adjustment",
        "order_refunded",
        "signup_bonus",
        "order_earned",
    ]
    assert answer["activity"][0]["description"] == "Adjusted by the store"
    assert answer["activity"][0]["at"].endswith("Z")
    assert answer["codes"] == []
    assert (answer["referral_url"], answer["birthday"], answer["expiring"]) == (None, None, None)


def test_the_top_tier_has_no_next_and_a_member_below_every_tier_sees_the_first(
    client: Client,
):
    shop = factories.shop()
    gold = Tier.objects.create(shop=shop, name="Gold", threshold=1000, multiplier="1.5")
    top = factories.member(shop, 1001)
    top.tier = gold
    top.save()
    factories.member(shop, 1002)

    assert account(client).json()["tier"] == {"name": "Gold", "multiplier": "1.5", "next": None}
    assert account(client, customer="1002").json()["tier"] == {
        "name": None,
        "multiplier": "1",
        "next": {"name": "Gold", "threshold": 1000, "remaining": 1000},
    }


def test_a_guest_sees_the_program_and_nothing_of_anyone(client: Client):
    shop = factories.shop(referral_advocate_points=500, points_per_unit=Decimal("2.5"))
    reward_create(shop=shop, kind="amount_off", points_cost=500, value=Decimal("5"))

    answer = account(client, customer="").json()

    assert answer == {
        "guest": True,
        "customer_id": None,
        "currency": "USD",
        "balance": 0,
        "pending": 0,
        "tier": None,
        "rewards": [
            {
                "id": answer["rewards"][0]["id"],
                "name": "5.00 USD off",
                "kind": "amount_off",
                "points_cost": 500,
                "value": "5.00",
                "minimum_subtotal": None,
                "affordable": False,
                "minimum_tier": None,
                "reason": None,
                "variable": None,
            }
        ],
        "codes": [],
        "ways_to_earn": [
            {"key": "purchase", "points_per_unit": "2.5"},
            {"key": "referral", "points": 500},
        ],
        "activity": [],
        "referral_url": None,
        "birthday": None,
        "expiring": None,
    }


def test_codes_are_the_twenty_newest_and_activity_the_ten_newest(client: Client):
    shop = factories.shop()
    member = factories.member(shop, 1001)
    points_record(member=member, points=100_000, reason=Reason.IMPORTED, idempotency_key="i")
    five_off = reward_create(shop=shop, kind="amount_off", points_cost=100, value=Decimal("5"))
    made = [reward_redeem(shop=shop, customer_id=1001, reward=five_off).code for _ in range(25)]

    answer = account(client).json()

    assert [code["code"] for code in answer["codes"]] == made[::-1][:20]
    first = answer["codes"][0]
    assert first == {
        "id": first["id"],
        "code": made[-1],
        "reward_id": five_off.pk,
        "reward_name": "5.00 USD off",
        "status": "pending",
        "value": "5.00",
        "created_at": first["created_at"],
        "expires_at": None,
    }
    assert len(answer["activity"]) == 10
    assert {a["reason"] for a in answer["activity"]} == {"reward_redeemed"}
    assert answer["balance"] == 100_000 - 25 * 100


def test_the_account_answer_costs_a_handful_of_queries(
    client: Client, django_assert_max_num_queries
):
    shop = factories.shop()
    gold = Tier.objects.create(shop=shop, name="Silver", threshold=0)
    Tier.objects.create(shop=shop, name="Gold", threshold=1000)
    member = factories.member(shop, 1001)
    member.tier = gold
    member.save()
    points_record(member=member, points=5000, reason=Reason.ORDER_EARNED, idempotency_key="o")
    for cost in (100, 200, 300):
        reward_create(shop=shop, kind="amount_off", points_cost=cost, value=Decimal("1"))
    five_off = Reward.objects.filter(shop=shop).first()
    for _ in range(5):
        reward_redeem(shop=shop, customer_id=1001, reward=five_off)

    # The shop with its program, the member with its tier, the catalogue, the next tier,
    # the progress sum, the codes with their rewards, the activity.
    with django_assert_max_num_queries(7):
        answer = account(client).json()
    assert len(answer["codes"]) == 5


def test_the_account_answer_with_every_part_on_still_costs_a_handful_of_queries(
    client: Client, django_assert_max_num_queries
):
    shop = factories.shop(
        referral_advocate_points=40,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        birthday_points=25,
        expiry_days=90,
        expiry_reminder_days=7,
    )
    silver = Tier.objects.create(shop=shop, name="Silver", threshold=0)
    Tier.objects.create(shop=shop, name="Gold", threshold=1000, multiplier="2")
    member = factories.member(shop, 1001)
    Member.objects.filter(pk=member.pk).update(tier=silver)
    birthday_set(shop=shop, customer_id=1001, month=2, day=29)
    points_record(member=member, points=700, reason=Reason.ORDER_EARNED, idempotency_key="o")
    tier_tally_add(member=member, day=timezone.now().date(), points=700)
    reward_create(shop=shop, kind="amount_off", points_cost=100, value=Decimal("1"))
    reward_create(
        shop=shop, kind="amount_off", points_cost=50, value=Decimal("2"), minimum_tier="Gold"
    )
    reward_redeem(shop=shop, customer_id=1001, reward=Reward.objects.filter(shop=shop).first())

    # The first answer also draws the member's referral code (a lock, a read, a write).
    first = account(client).json()
    # The shop with its program, the member with its tier, the catalogue, the tiers, the
    # progress sum, the codes with their rewards, the activity: referrals, the birthday
    # and expiry read what those already loaded.
    with django_assert_max_num_queries(7):
        answer = account(client).json()
    assert answer == first
    assert None not in (answer["tier"], answer["referral_url"], answer["birthday"])
    assert answer["expiring"] is not None
    code = Member.objects.get(shop=shop, customer_id=1001).referral_code
    assert answer["referral_url"] == f"https://{shop.domain}/apps/loyalty/r/{code}"
    assert answer["birthday"]["month"] == 2 and answer["birthday"]["day"] == 29
    expires_on = (timezone.now() + timedelta(days=90)).date().isoformat()
    assert answer["expiring"] == {"points": 600, "on": expires_on}
    assert answer["tier"]["name"] == "Silver"
    assert answer["tier"]["next"]["name"] == "Gold"
    # Gold's own reward is cheaper but not for a Silver member: after the one they can take.
    assert [(r["points_cost"], r["affordable"]) for r in answer["rewards"]] == [
        (100, True),
        (50, False),
    ]


@pytest.mark.parametrize("customer", ["0", "9223372036854775808", "١٢٣", "-5"])
def test_a_customer_id_no_shopify_customer_can_have_is_a_400(client: Client, customer):
    factories.shop()
    response = account(client, customer=customer)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
