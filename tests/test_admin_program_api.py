"""The embedded admin's program API: read the program's settings, change some of them."""

import json
from decimal import Decimal

import pytest

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
    assert read(client) == {
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
        },
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == [
        "birthday_points",
        "hold_days",
        "points_per_unit",
        "pos_orders_earn",
        "rounding",
        "signup_points",
    ]
    assert "not a program setting" in errors["birthday_points"][0]
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
