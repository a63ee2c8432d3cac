"""The embedded admin's Dashboard figures: GET /api/admin/stats?from=&to=."""

from datetime import datetime

import pytest
from django.utils import timezone

from loyalty.earning.orders import Customer, order_facts
from loyalty.models import Reward
from loyalty.services.members import member_adjust, member_from_customer
from loyalty.services.orders import order_settle
from tests.factories import order_payload
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob", currency="EUR")


@pytest.fixture
def clock(monkeypatch):
    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_time


def stats(client, shop=ALICE, **params):
    return client.get("/api/admin/stats", params, headers=as_merchant(shop))


def settle(shop, **kwargs):
    kwargs.setdefault("created_at", timezone.now().isoformat())
    return order_settle(shop=shop, facts=order_facts(order_payload(**kwargs)))


def test_figures_for_a_range_with_totals_and_every_day(client, shops, clock):
    alice, _ = shops
    Reward.objects.create(shop=alice, kind="amount_off", value="5.00", points_cost=500)
    clock("2026-11-02T10:00:00+00:00")
    ada = member_from_customer(shop=alice, customer=Customer(customer_id=1001))
    member_adjust(member=ada, points=250, reason="Welcome", actor="staff", key="k1")
    clock("2026-11-03T10:00:00+00:00")
    settle(alice, order_id=5001, customer_id=1001, subtotal="80.00", shipping="4.50")
    settle(alice, order_id=5002, customer_id=1001, subtotal="20.00")
    settle(alice, order_id=5003, customer_id=None, subtotal="15.00", email="g@example.com")

    response = stats(client, **{"from": "2026-11-03", "to": "2026-11-04"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["timezone"], body["currency"]) == (
        "2026-11-03",
        "2026-11-04",
        "UTC",
        "USD",
    )
    assert (body["point_value"], body["notes"]) == ("0.0100", [])
    totals = body["totals"]
    assert totals["members_joined"] == 0
    assert totals["members"] == 1
    assert (totals["points_issued"], totals["points_earned"], totals["points_removed"]) == (
        100,
        100,
        0,
    )
    assert (totals["points_outstanding"], totals["outstanding_value"]) == (350, "3.50")
    assert totals["redemption_rate"] == "0.0000"
    assert (totals["member_orders"], totals["member_repeat_orders"]) == (2, 1)
    assert totals["member_repeat_rate"] == "0.5000"
    assert (totals["nonmember_orders"], totals["nonmember_repeat_rate"]) == (1, "0.0000")
    assert (totals["order_revenue"], totals["reward_order_revenue"]) == ("119.50", "0.00")
    assert [day["date"] for day in body["days"]] == ["2026-11-03", "2026-11-04"]
    quiet = body["days"][1]
    assert (quiet["points_issued"], quiet["member_orders"], quiet["order_revenue"]) == (
        0,
        0,
        "0.00",
    )
    assert (quiet["points_outstanding"], quiet["member_repeat_rate"]) == (350, None)


def test_without_dates_the_last_30_days_of_the_shop_end_today_in_its_timezone(client, shops, clock):
    alice, _ = shops
    alice.timezone = "Pacific/Auckland"
    alice.save()
    # 11:30 UTC on the 25th is already the 26th in Auckland.
    clock("2026-11-25T11:30:00+00:00")
    body = stats(client).json()
    assert (body["from"], body["to"], len(body["days"])) == ("2026-10-28", "2026-11-26", 30)
    assert body["totals"]["outstanding_value"] is None
    assert body["point_value"] is None
    assert "no enabled amount-off or store-credit reward" in body["notes"][0]


def test_one_shops_token_sees_only_its_own_figures(client, shops, clock):
    alice, bob = shops
    clock("2026-11-03T10:00:00+00:00")
    settle(alice, order_id=5001, customer_id=1001, subtotal="80.00")

    alices = stats(client, ALICE, **{"from": "2026-11-03", "to": "2026-11-03"}).json()
    bobs = stats(client, BOB, **{"from": "2026-11-03", "to": "2026-11-03"}).json()
    assert alices["totals"]["points_earned"] == 80
    assert (bobs["totals"]["points_earned"], bobs["totals"]["nonmember_orders"]) == (0, 0)
    assert (bobs["totals"]["members"], bobs["currency"]) == (0, "EUR")


def test_without_a_session_token_there_are_no_figures(client, shops):
    response = client.get("/api/admin/stats")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter from as a date like 2026-11-01."),
        ({"from": "1/11/2026"}, "from", "Enter from as a date like 2026-11-01."),
        ({"to": "２０２６-11-01"}, "to", "Enter to as a date like 2026-11-30."),
        ({"to": "2026-11-01\x00"}, "to", "Enter to as a date like 2026-11-30."),
        (
            {"from": "2026-11-02", "to": "2026-11-01"},
            "from",
            "Choose a from date on or before the to date.",
        ),
        (
            {"from": "2025-01-01", "to": "2026-01-02"},
            "to",
            "Choose at most 366 days; from 2025-01-01 to 2026-01-02 is 367 days.",
        ),
    ],
)
def test_a_bad_range_is_refused_with_what_to_change(client, shops, params, field, message):
    response = stats(client, **params)
    assert response.status_code == 400, response.content
    assert response.json() == {"errors": {field: [message]}}


def test_a_leap_year_of_366_days_is_answered(client, shops):
    body = stats(client, **{"from": "2024-01-01", "to": "2024-12-31"}).json()
    assert (len(body["days"]), body["days"][59]["date"]) == (366, "2024-02-29")
