"""The embedded admin's rewards catalogue: list, create, change and delete rewards."""

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from loyalty.models import Reward
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice", currency="EUR"), installed_shop(BOB, "Bob")


def send(client, method, path, body=None, shop=ALICE):
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return getattr(client, method)(
        path, data=data, content_type="application/json", headers=as_merchant(shop)
    )


def create(client, body, shop=ALICE):
    return send(client, "post", "/api/admin/rewards", body, shop)


def patch(client, reward_id, body, shop=ALICE):
    return send(client, "patch", f"/api/admin/rewards/{reward_id}", body, shop)


def delete(client, reward_id, shop=ALICE):
    return send(client, "delete", f"/api/admin/rewards/{reward_id}", shop=shop)


def catalogue(client, shop=ALICE) -> list[dict]:
    response = client.get("/api/admin/rewards", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()["rewards"]


def made(client, body, shop=ALICE) -> dict:
    response = create(client, body, shop)
    assert response.status_code == 201, response.content
    return response.json()


def test_each_kind_is_created_with_normalised_values(client, shops):
    amount = made(
        client,
        {
            "kind": "amount_off",
            "points_cost": 500,
            "value": "5",
            "minimum_subtotal": "20",
            "expires_after_days": 30,
        },
    )
    percent = made(client, {"kind": "percent_off", "points_cost": 800, "value": "10.00"})
    shipping = made(client, {"kind": "free_shipping", "points_cost": 300, "name": "Ship free"})
    product = made(
        client, {"kind": "free_product", "points_cost": 1500, "product_id": "7982003224742"}
    )
    credit = made(client, {"kind": "store_credit", "points_cost": 1000, "value": 10.5})

    assert amount == {
        "id": amount["id"],
        "kind": "amount_off",
        "name": "5.00 EUR off",
        "points_cost": 500,
        "value": "5.00",
        "currency": "EUR",
        "minimum_subtotal": "20.00",
        "expires_after_days": 30,
        "product_id": None,
        "enabled": True,
        "variable": False,
        "points_step": None,
        "value_step": None,
        "maximum_points": None,
        "minimum_tier": None,
    }
    assert (percent["name"], percent["value"]) == ("10% off", "10")
    assert (shipping["name"], shipping["value"]) == ("Ship free", "0.00")
    assert (product["name"], product["value"], product["product_id"]) == (
        "Free product",
        "0.00",
        "7982003224742",
    )
    assert (credit["name"], credit["value"]) == ("10.50 EUR store credit", "10.50")
    saved = Reward.objects.get(pk=credit["id"])
    assert saved.value == Decimal("10.50")
    assert saved.shop == shops[0]


def test_amounts_written_with_a_long_tail_of_zeros_are_stored_to_the_cent(client, shops):
    """PostgreSQL's numeric takes at most 16,383 digits after the point: "5.000…0" and
    "0e-1000000" are exact amounts, stored as 5.00 and 0.00, never sent as written."""
    body = {
        "kind": "amount_off",
        "points_cost": 500,
        "value": "5." + "0" * 20_000,
        "minimum_subtotal": "0e-1000000",
    }
    reward = made(client, body)
    assert (reward["value"], reward["minimum_subtotal"]) == ("5.00", "0.00")
    saved = Reward.objects.get(pk=reward["id"])
    assert (saved.value, saved.minimum_subtotal) == (Decimal("5.00"), Decimal("0.00"))
    # A JSON number too.
    raw = '{"kind": "store_credit", "points_cost": 100, "value": 7.5' + "0" * 20_000 + "}"
    assert made(client, raw)["value"] == "7.50"
    # Minus zero is zero.
    assert made(client, {**body, "minimum_subtotal": "-0"})["minimum_subtotal"] == "0.00"


def test_the_catalogue_is_ordered_by_points_cost_then_id(client, shops):
    dear = made(client, {"kind": "amount_off", "points_cost": 900, "value": "9"})
    cheap = made(client, {"kind": "free_shipping", "points_cost": 100})
    also_cheap = made(client, {"kind": "percent_off", "points_cost": 100, "value": "5"})

    assert [r["id"] for r in catalogue(client)] == [cheap["id"], also_cheap["id"], dear["id"]]


def test_patch_changes_only_the_fields_given(client, shops):
    reward = made(
        client,
        {"kind": "amount_off", "points_cost": 500, "value": "5", "minimum_subtotal": "20"},
    )

    response = patch(client, reward["id"], {"points_cost": 450, "enabled": False})

    assert response.status_code == 200, response.content
    assert response.json() == reward | {"points_cost": 450, "enabled": False}
    assert catalogue(client) == [response.json()]

    cleared = patch(client, reward["id"], {"minimum_subtotal": None, "name": "Five off"})
    assert cleared.json() == reward | {
        "points_cost": 450,
        "enabled": False,
        "minimum_subtotal": None,
        "name": "Five off",
    }


def test_changing_the_kind_keeps_the_rules(client, shops):
    reward = made(client, {"kind": "amount_off", "points_cost": 500, "value": "5"})

    to_product = patch(client, reward["id"], {"kind": "free_product"})
    assert to_product.status_code == 400
    assert set(to_product.json()["errors"]) == {"product_id"}

    to_shipping = patch(client, reward["id"], {"kind": "free_shipping"})
    assert to_shipping.status_code == 200
    assert (to_shipping.json()["value"], to_shipping.json()["name"]) == ("0.00", "Free shipping")

    to_percent = patch(client, reward["id"], {"kind": "percent_off", "value": "150"})
    assert to_percent.json() == {"errors": {"value": ["A percent off can be at most 100."]}}
    assert Reward.objects.get(pk=reward["id"]).kind == "free_shipping"


def test_delete_hides_the_reward_but_keeps_its_row(client, shops):
    kept = made(client, {"kind": "free_shipping", "points_cost": 100})
    gone = made(client, {"kind": "amount_off", "points_cost": 500, "value": "5"})

    response = delete(client, gone["id"])

    assert response.status_code == 204
    assert [r["id"] for r in catalogue(client)] == [kept["id"]]
    assert Reward.objects.get(pk=gone["id"]).deleted_at is not None
    assert delete(client, gone["id"]).status_code == 404
    assert patch(client, gone["id"], {"points_cost": 1}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"kind": "gift", "points_cost": 5, "value": "5"},
            "kind",
            "Choose a kind: amount_off, percent_off, free_shipping, free_product, store_credit.",
        ),
        (
            {"kind": "amount_off", "points_cost": 0, "value": "5"},
            "points_cost",
            "Enter a whole number of points above 0, such as 500.",
        ),
        (
            {"kind": "amount_off", "points_cost": "500", "value": "5"},
            "points_cost",
            "Enter a whole number of points above 0, such as 500.",
        ),
        (
            {"kind": "amount_off", "points_cost": 10_000_001, "value": "5"},
            "points_cost",
            "A reward can cost at most 10,000,000 points.",
        ),
        (
            {"kind": "amount_off", "points_cost": 5, "value": "five"},
            "value",
            'Enter a decimal number as a string, such as "5.00".',
        ),
        (
            {"kind": "amount_off", "points_cost": 5, "value": "4.999"},
            "value",
            'Use at most 2 decimal places, such as "4.99".',
        ),
        ({"kind": "amount_off", "points_cost": 5, "value": "-1"}, "value", "Enter 0 or more."),
        (
            {"kind": "percent_off", "points_cost": 5, "value": "100.01"},
            "value",
            "A percent off can be at most 100.",
        ),
        (
            {"kind": "free_product", "points_cost": 5},
            "product_id",
            "Choose the product this reward gives (its Shopify product id).",
        ),
        (
            {"kind": "free_shipping", "points_cost": 5, "colour": "red"},
            "colour",
            "A reward has no field 'colour'; use one of kind, name, points_cost, value, "
            "minimum_subtotal, expires_after_days, product_id, enabled, variable, points_step, "
            "value_step, maximum_points, minimum_tier.",
        ),
        (
            {"kind": "free_shipping", "points_cost": 5, "expires_after_days": 0},
            "expires_after_days",
            "Enter a whole number of days from 1 to 3,650, or null for codes that never expire.",
        ),
        ([1, 2], "body", 'Send the reward as a JSON object, such as {"kind": …}.'),
        ("{not json", "body", 'Send the reward as a JSON object, such as {"kind": …}.'),
    ],
)
def test_invalid_input_names_the_field_and_saves_nothing(client, shops, body, field, message):
    response = create(client, body)

    assert response.status_code == 400
    assert response.json() == {"errors": {field: [message]}}
    assert not Reward.objects.exists()


def test_every_field_at_fault_is_named(client, shops):
    response = create(client, {"kind": "nope", "points_cost": -1, "value": "x", "enabled": 1})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "points_cost", "value", "enabled"}


def test_invalid_patch_changes_nothing(client, shops):
    reward = made(client, {"kind": "amount_off", "points_cost": 500, "value": "5"})

    response = patch(client, reward["id"], {"points_cost": 600, "value": "-2"})

    assert response.json() == {"errors": {"value": ["Enter 0 or more."]}}
    assert catalogue(client) == [reward]


def test_another_shop_cannot_see_change_or_delete_a_reward(client, shops):
    reward = made(client, {"kind": "amount_off", "points_cost": 500, "value": "5"})

    assert catalogue(client, shop=BOB) == []
    assert patch(client, reward["id"], {"points_cost": 1}, shop=BOB).status_code == 404
    assert delete(client, reward["id"], shop=BOB).status_code == 404
    assert catalogue(client) == [reward]


def test_without_a_session_token_app_bridge_is_told_to_retry(client, shops):
    for response in (
        client.get("/api/admin/rewards"),
        client.post("/api/admin/rewards", data="{}", content_type="application/json"),
        client.delete("/api/admin/rewards/1"),
    ):
        assert response.status_code == 401
        assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_the_database_refuses_a_reward_that_costs_no_points(shops):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.create(shop=shops[0], kind="amount_off", points_cost=0, value=Decimal("5"))


def test_the_database_refuses_a_free_product_without_a_product(shops):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.create(shop=shops[0], kind="free_product", points_cost=100)
