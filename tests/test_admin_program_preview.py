"""The Program page's live preview: what an example order earns under unsaved settings."""

import json

import pytest

from loyalty.earning.orders import order_facts
from loyalty.models import Member
from loyalty.services.orders import order_settle
from tests.factories import order_payload
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_admin_program_api import DEFAULTS, change, read
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

GOLD = {"name": "Gold", "threshold": 1000, "multiplier": "1.25"}
PLATINUM = {"name": "Platinum", "threshold": 5000, "multiplier": "2"}


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def preview(client, body, shop=ALICE):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        "/api/admin/program/preview",
        data=data,
        content_type="application/json",
        headers=as_merchant(shop),
    )


def earned(client, body, shop=ALICE) -> dict:
    response = preview(client, body, shop)
    assert response.status_code == 200, response.content
    return response.json()


def test_unsaved_rate_rounding_and_tiers_show_what_an_order_earns(client, shops):
    draft = {
        "points_per_unit": "1.5",
        "rounding": "nearest",
        "tiers": [PLATINUM, GOLD],
        "hold_days": 14,
    }
    # 101.50 x 1.5 = 152.25 -> 152; x 1.25 = 190.3125 -> 190; x 2 = 304.5 -> 305 (half up).
    assert earned(client, {"program": draft, "order": {"subtotal": "101.50"}}) == {
        "points": 152,
        "pending_days": 14,
        "by_tier": [{"tier": "Gold", "points": 190}, {"tier": "Platinum", "points": 305}],
    }
    # Rounding down, Platinum's 304.5 keeps 304.
    down = earned(
        client, {"program": draft | {"rounding": "down"}, "order": {"subtotal": "101.50"}}
    )
    assert down["by_tier"] == [{"tier": "Gold", "points": 190}, {"tier": "Platinum", "points": 304}]
    # Nothing was saved.
    assert read(client) == DEFAULTS


def test_without_draft_changes_the_saved_program_and_tiers_answer(client, shops):
    change(client, {"points_per_unit": "2", "hold_days": 7, "tiers": [GOLD]})
    # 19.99 x 2 = 39.98 -> 39 rounded down; Gold 49.975 -> 49.
    assert earned(client, {"order": {"subtotal": "19.99", "source": "web"}}) == {
        "points": 39,
        "pending_days": 7,
        "by_tier": [{"tier": "Gold", "points": 49}],
    }
    # Draft tiers replace the saved ones in the preview; [] shows none.
    assert (
        earned(client, {"program": {"tiers": []}, "order": {"subtotal": "19.99"}})["by_tier"] == []
    )
    assert earned(client, {"program": {}, "order": {"subtotal": 0}})["points"] == 0


def test_point_of_sale_orders_earn_only_when_the_program_says_so(client, shops):
    order = {"subtotal": "80.00", "source": "pos"}
    assert earned(client, {"program": {"tiers": [GOLD]}, "order": order}) == {
        "points": 80,
        "pending_days": 0,
        "by_tier": [{"tier": "Gold", "points": 100}],
    }
    assert earned(
        client, {"program": {"pos_orders_earn": False, "tiers": [GOLD]}, "order": order}
    ) == {"points": 0, "pending_days": 0, "by_tier": [{"tier": "Gold", "points": 0}]}
    web = earned(client, {"program": {"pos_orders_earn": False}, "order": {"subtotal": "80"}})
    assert web["points"] == 80


def test_the_preview_agrees_with_what_a_paid_order_earns(client, shops):
    alice, _ = shops
    change(client, {"points_per_unit": "1.5", "rounding": "nearest", "hold_days": 3})
    shown = earned(client, {"order": {"subtotal": "101.50"}})

    order_settle(shop=alice, facts=order_facts(order_payload(subtotal="101.50")))

    ada = Member.objects.get(shop=alice, customer_id=1001)
    assert (shown["points"], shown["pending_days"]) == (152, 3)
    assert (ada.balance, ada.pending) == (0, shown["points"])


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"program": {"hold_days": 400}, "order": {"subtotal": "10"}}, ["program.hold_days"]),
        ({"program": {"tiers": [GOLD, {**PLATINUM, "multiplier": "0.5"}]},
          "order": {"subtotal": "10"}}, ["program.tiers[1].multiplier"]),
        ({"program": {"tiers": [GOLD, {**PLATINUM, "name": "gold"}]},
          "order": {"subtotal": "10"}}, ["program.tiers[1].name"]),
        ({"program": {"expiry_days": 10}, "order": {"subtotal": "10"}},
         ["program.expiry_reminder_days"]),
        ({"program": {"referral_friend_reward": {"kind": "percent_off", "value": "101"}},
          "order": {"subtotal": "10"}}, ["program.referral_friend_reward.value"]),
        ({"program": {"colour": "red"}, "order": {"subtotal": "10"}}, ["program.colour"]),
        ({"program": [], "order": {"subtotal": "10"}}, ["program"]),
        ({"program": {}}, ["order"]),
        ({"order": "100.00"}, ["order"]),
        ({"order": {}}, ["order.subtotal"]),
        ({"order": {"subtotal": "-1"}}, ["order.subtotal"]),
        ({"order": {"subtotal": "1.005"}}, ["order.subtotal"]),
        ({"order": {"subtotal": "abc"}}, ["order.subtotal"]),
        ({"order": {"subtotal": "1e3"}}, ["order.subtotal"]),
        ({"order": {"subtotal": "1000000000.01"}}, ["order.subtotal"]),
        ({"order": {"subtotal": True}}, ["order.subtotal"]),
        ({"order": {"subtotal": None}}, ["order.subtotal"]),
        ({"order": {"subtotal": "10", "source": "online"}}, ["order.source"]),
        ({"order": {"subtotal": "10", "currency": "EUR"}}, ["order.currency"]),
        ({"order": {"subtotal": "10"}, "customer": 1001}, ["customer"]),
        ({"program": {"rounding": "up"}, "order": {"subtotal": "x", "source": "pos2"}},
         ["order.source", "order.subtotal", "program.rounding"]),
    ],
)  # fmt: skip
def test_each_fault_is_named_by_its_path(client, shops, body, fields):
    response = preview(client, body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert sorted(errors) == fields
    assert all(errors[field] and errors[field][0] for field in fields)


def test_a_body_that_is_not_a_json_object_is_named_body(client, shops):
    for body in ["", "not json", "[]", "null", b"\xff"]:
        response = preview(client, body)
        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == ["body"]


def test_each_shop_previews_its_own_program(client, shops):
    change(client, {"points_per_unit": "3", "tiers": [GOLD]}, shop=ALICE)
    change(client, {"points_per_unit": "0.5"}, shop=BOB)
    order = {"order": {"subtotal": "10.00"}}
    assert earned(client, order, shop=ALICE) == {
        "points": 30,
        "pending_days": 0,
        "by_tier": [{"tier": "Gold", "points": 37}],
    }
    assert earned(client, order, shop=BOB) == {"points": 5, "pending_days": 0, "by_tier": []}


def test_the_preview_needs_a_session_token_and_a_post(client, shops):
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        response = client.post(
            "/api/admin/program/preview",
            data=json.dumps({"order": {"subtotal": "10"}}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 401
        assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    response = client.get("/api/admin/program/preview", headers=as_merchant())
    assert response.status_code == 405
