"""The embedded admin's program API: read the program's settings, change some of them."""

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from loyalty.earning.orders import order_facts
from loyalty.models import Member, Program
from loyalty.services.orders import order_settle
from tests.factories import order_payload
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


DEFAULTS = {
    "points_per_unit": "1",
    "rounding": "down",
    "pos_orders_earn": True,
    "hold_days": 0,
    "signup_points": 0,
    "birthday_points": 0,
    "review_points": 0,
    "review_photo_bonus_points": 0,
    "referral_advocate_points": 0,
    "referral_friend_reward": None,
    "referral_monthly_cap": 10,
    "expiry_days": None,
    "expiry_reminder_days": 30,
    "expired_code_points_return": False,
    "tier_basis": "points_earned",
    "tier_window": "lifetime",
    "tiers": [],
}


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def read(client, shop=ALICE) -> dict:
    response = client.get("/api/admin/program", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def change(client, body, shop=ALICE):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.put(
        "/api/admin/program", data=data, content_type="application/json", headers=as_merchant(shop)
    )


def test_a_new_shop_reads_the_default_program(client, shops):
    assert read(client) == DEFAULTS
    assert Program.objects.filter(shop__domain=ALICE).count() == 1


def test_a_put_changes_only_the_keys_it_sends_and_answers_the_whole_program(client, shops):
    response = change(client, {"points_per_unit": "2.5000", "hold_days": 14})
    assert response.status_code == 200, response.content
    assert response.json() == DEFAULTS | {"points_per_unit": "2.5", "hold_days": 14}

    response = change(client, {"rounding": "nearest", "pos_orders_earn": False})
    assert response.status_code == 200, response.content
    assert response.json() == DEFAULTS | {
        "points_per_unit": "2.5",
        "rounding": "nearest",
        "pos_orders_earn": False,
        "hold_days": 14,
    }

    change(client, {"signup_points": 1_000_000, "points_per_unit": 1000})
    assert read(client) == DEFAULTS | {
        "points_per_unit": "1000",
        "rounding": "nearest",
        "pos_orders_earn": False,
        "hold_days": 14,
        "signup_points": 1_000_000,
    }
    program = Program.objects.get(shop__domain=ALICE)
    assert program.points_per_unit == Decimal("1000")
    assert program.signup_points == 1_000_000


def test_the_rate_may_be_a_json_number_with_up_to_four_decimals(client, shops):
    assert change(client, {"points_per_unit": 0.0001}).json()["points_per_unit"] == "0.0001"
    assert change(client, {"points_per_unit": 2.675}).json()["points_per_unit"] == "2.675"
    assert change(client, {"points_per_unit": "10"}).json()["points_per_unit"] == "10"
    assert change(client, {"points_per_unit": "1.50000"}).json()["points_per_unit"] == "1.5"
    assert change(client, {}).json()["points_per_unit"] == "1.5"


@pytest.mark.parametrize(
    "field, bad_values",
    [
        (
            "points_per_unit",
            ["0", 0, "-1", -1, "1000.0001", 1001, "2.00001", 0.00001, "abc", "", " 2", "1e2",
             "1_000", "NaN", "Infinity", "١", True, None, [1], {"v": 1}, 1e999999999],
        ),
        ("rounding", ["up", "DOWN", "", None, 1, True, ["down"]]),
        ("pos_orders_earn", ["true", 1, 0, None, "yes"]),
        ("hold_days", [-1, 366, 1.5, "14", True, None, 10**30]),
        ("signup_points", [-1, 1_000_001, 2.0, "100", False, None]),
        ("birthday_points", [-1, 1_000_001, 2.5, "200", True, None, [200]]),
        ("review_points", [-1, 1_000_001, 2.0, "50", False, None]),
        ("review_photo_bonus_points", [-1, 1_000_001, 1.5, "25", True, None]),
        ("referral_advocate_points", [-1, 1_000_001, 9.9, "500", False, None]),
        ("referral_monthly_cap", [0, -1, 10_001, 2.5, "10", True, [3]]),
        ("expiry_days", [0, -1, 3651, 365.5, "365", True, {}]),
        ("expiry_reminder_days", [0, -1, 366, 7.5, "30", False]),
        ("tier_basis", ["points", "POINTS_EARNED", "", None, 1, ["amount_spent"]]),
        ("tier_window", ["12_months", "Lifetime", "", None, True, {"v": 1}]),
        ("referral_friend_reward", ["amount_off", 5, True, ["amount_off"]]),
        ("tiers", [None, "Gold", {"name": "Gold"}, 3, True]),
    ],
)  # fmt: skip
def test_each_invalid_setting_is_named_and_nothing_is_saved(client, shops, field, bad_values):
    for bad in bad_values:
        response = change(client, {"hold_days": 7, field: bad})
        assert response.status_code == 400, (field, bad)
        errors = response.json()["errors"]
        assert list(errors) == [field], (field, bad)
        assert errors[field] and all(isinstance(m, str) and m for m in errors[field])
    assert read(client) == DEFAULTS


def test_a_rate_too_large_or_too_small_to_hold_is_named(client, shops):
    for body in ['{"points_per_unit": 1e999999999}', '{"points_per_unit": 1e-999999999}']:
        response = change(client, body)
        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == ["points_per_unit"], body
    assert read(client) == DEFAULTS


def test_every_field_at_fault_is_named_at_once(client, shops):
    response = change(
        client,
        {
            "points_per_unit": "0",
            "rounding": "up",
            "pos_orders_earn": "yes",
            "hold_days": 400,
            "signup_points": -5,
            "birthday_points": 50,
            "review_points": -1,
            "tiers": [{"name": "Gold", "threshold": 500, "multiplier": "0.5"}],
            "lifetime_points": 50,
        },
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == [
        "hold_days",
        "lifetime_points",
        "points_per_unit",
        "pos_orders_earn",
        "review_points",
        "rounding",
        "signup_points",
        "tiers[0].multiplier",
    ]
    assert "not a program setting" in errors["lifetime_points"][0]
    assert read(client) == DEFAULTS


def test_an_unknown_key_spoils_the_valid_ones_beside_it(client, shops):
    response = change(client, {"hold_days": 30, "colour": "red"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["colour"]
    assert read(client) == DEFAULTS


def test_a_body_that_is_not_a_json_object_is_named_body(client, shops):
    for body in ["", "not json", "[]", '"down"', "3", "null", b"\xff\xfe"]:
        response = change(client, body)
        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == ["body"], body
    assert read(client) == DEFAULTS


def test_one_shops_changes_never_reach_another_shops_program(client, shops):
    change(client, {"points_per_unit": "3", "signup_points": 250}, shop=ALICE)

    response = change(client, {"points_per_unit": "0.5", "hold_days": 30}, shop=BOB)
    assert response.status_code == 200
    assert response.json() == DEFAULTS | {"points_per_unit": "0.5", "hold_days": 30}
    assert read(client, shop=ALICE) == DEFAULTS | {"points_per_unit": "3", "signup_points": 250}
    assert read(client, shop=BOB) == DEFAULTS | {"points_per_unit": "0.5", "hold_days": 30}


def test_without_a_session_token_the_program_asks_for_a_new_one(client, shops):
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        answers = [
            client.get("/api/admin/program", headers=headers),
            client.put(
                "/api/admin/program",
                data=json.dumps({"hold_days": 30}),
                content_type="application/json",
                headers=headers,
            ),
        ]
        for response in answers:
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert read(client) == DEFAULTS


def test_other_methods_are_not_allowed(client, shops):
    response = client.post("/api/admin/program", data="{}", content_type="application/json",
                           headers=as_merchant())  # fmt: skip
    assert response.status_code == 405


def test_orders_paid_after_a_change_earn_by_the_new_rules(client, shops):
    alice, _ = shops
    response = change(client, {"points_per_unit": "2.5", "rounding": "nearest"})
    assert response.status_code == 200

    # 10.30 x 2.5 = 25.75 points, rounded to nearest: 26.
    order_settle(shop=alice, facts=order_facts(order_payload(subtotal="10.30")))

    ada = Member.objects.get(shop=alice, customer_id=1001)
    assert ada.balance == 26
    assert ada.pending == 0


def test_the_new_ways_to_earn_and_their_limits_are_saved(client, shops):
    response = change(
        client,
        {
            "birthday_points": 200,
            "review_points": 50,
            "review_photo_bonus_points": 25,
            "referral_advocate_points": 500,
            "referral_monthly_cap": None,
            "expiry_days": 365,
            "expiry_reminder_days": 14,
            "tier_basis": "amount_spent",
            "tier_window": "rolling_12_months",
        },
    )
    assert response.status_code == 200, response.content
    expected = DEFAULTS | {
        "birthday_points": 200,
        "review_points": 50,
        "review_photo_bonus_points": 25,
        "referral_advocate_points": 500,
        "referral_monthly_cap": None,
        "expiry_days": 365,
        "expiry_reminder_days": 14,
        "tier_basis": "amount_spent",
        "tier_window": "rolling_12_months",
    }
    assert response.json() == expected
    assert read(client) == expected

    # Points never expire again; the reminder stays set for when they do.
    assert change(client, {"expiry_days": None}).json() == expected | {"expiry_days": None}
    program = Program.objects.get(shop__domain=ALICE)
    assert (program.expiry_days, program.expiry_reminder_days) == (None, 14)
    assert program.referral_monthly_cap is None


def test_the_reminder_must_come_before_points_expire(client, shops):
    # The default reminder is 30 days ahead, so 30-day expiry needs a shorter one.
    response = change(client, {"expiry_days": 30})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["expiry_reminder_days"]
    assert "30 days" in response.json()["errors"]["expiry_reminder_days"][0]
    assert read(client) == DEFAULTS

    assert change(client, {"expiry_days": 30, "expiry_reminder_days": 29}).status_code == 200
    response = change(client, {"expiry_reminder_days": 30})
    assert list(response.json()["errors"]) == ["expiry_reminder_days"]
    both = change(client, {"expiry_days": 10, "expiry_reminder_days": None})
    assert both.status_code == 200
    assert (both.json()["expiry_days"], both.json()["expiry_reminder_days"]) == (10, None)


def test_the_friends_reward_is_a_reward_without_a_points_cost(client, shops):
    reward = {
        "kind": "amount_off",
        "value": "5",
        "minimum_subtotal": "20",
        "expires_after_days": 30,
    }
    response = change(client, {"referral_friend_reward": reward})
    assert response.status_code == 200, response.content
    assert response.json()["referral_friend_reward"] == {
        "kind": "amount_off",
        "value": "5.00",
        "minimum_subtotal": "20.00",
        "expires_after_days": 30,
    }

    # A new definition replaces the old one whole: unsent terms are gone.
    response = change(client, {"referral_friend_reward": {"kind": "percent_off", "value": 12.5}})
    assert response.json()["referral_friend_reward"] == {
        "kind": "percent_off",
        "value": "12.5",
        "minimum_subtotal": None,
        "expires_after_days": None,
    }
    response = change(client, {"referral_friend_reward": {"kind": "free_shipping"}})
    assert response.json()["referral_friend_reward"]["value"] == "0.00"

    # Other settings leave it alone; null takes it away.
    assert change(client, {"hold_days": 3}).json()["referral_friend_reward"]["kind"] == (
        "free_shipping"
    )
    assert change(client, {"referral_friend_reward": None}).json() == DEFAULTS | {"hold_days": 3}
    program = Program.objects.get(shop__domain=ALICE)
    assert program.referral_friend_reward_kind == ""
    assert program.referral_friend_reward_value == 0
    assert program.referral_friend_reward_minimum_subtotal is None
    assert program.referral_friend_reward_expires_after_days is None


@pytest.mark.parametrize(
    "reward, fields",
    [
        ({"kind": "percent_off", "value": "150"}, ["referral_friend_reward.value"]),
        ({"kind": "amount_off", "value": "0"}, ["referral_friend_reward.value"]),
        ({"kind": "amount_off"}, ["referral_friend_reward.value"]),
        ({"kind": "amount_off", "value": "4.999"}, ["referral_friend_reward.value"]),
        ({"kind": "free_shipping", "value": "5.00"}, ["referral_friend_reward.value"]),
        ({"kind": "free_product", "value": "0"}, ["referral_friend_reward.kind"]),
        ({"kind": "store_credit", "value": "5"}, ["referral_friend_reward.kind"]),
        ({"value": "5"}, ["referral_friend_reward.kind"]),
        (
            {"kind": "amount_off", "value": "5", "points_cost": 100},
            ["referral_friend_reward.points_cost"],
        ),
        (
            {"kind": "amount_off", "value": "5", "minimum_subtotal": "-1", "expires_after_days": 0},
            ["referral_friend_reward.expires_after_days",
             "referral_friend_reward.minimum_subtotal"],
        ),
        (
            {"kind": "gift", "value": "x", "colour": "red"},
            ["referral_friend_reward.colour", "referral_friend_reward.kind",
             "referral_friend_reward.value"],
        ),
        ("amount_off", ["referral_friend_reward"]),
    ],
)  # fmt: skip
def test_a_bad_friends_reward_names_each_part_at_fault(client, shops, reward, fields):
    response = change(client, {"hold_days": 7, "referral_friend_reward": reward})
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert sorted(errors) == fields
    assert all(errors[field] and errors[field][0] for field in fields)
    assert read(client) == DEFAULTS


def test_the_database_refuses_a_program_that_breaks_its_rules(shops):
    alice, _ = shops
    program = Program.objects.create(shop=alice)
    bad_settings = [
        {"expiry_days": 30, "expiry_reminder_days": 30},
        {"expiry_days": 0, "expiry_reminder_days": None},
        {"referral_monthly_cap": 0},
        {"tier_basis": "visits"},
        {"tier_window": "forever"},
        {"referral_friend_reward_kind": "percent_off", "referral_friend_reward_value": 101},
        {"referral_friend_reward_kind": "free_product"},
        {"referral_friend_reward_kind": "free_shipping", "referral_friend_reward_value": 5},
        {"referral_friend_reward_kind": "", "referral_friend_reward_expires_after_days": 7},
    ]
    for settings in bad_settings:
        with pytest.raises(IntegrityError), transaction.atomic():
            Program.objects.filter(pk=program.pk).update(**settings)
    program.refresh_from_db()
    assert (program.expiry_days, program.referral_monthly_cap, program.tier_basis) == (
        None,
        10,
        "points_earned",
    )
