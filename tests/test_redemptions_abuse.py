"""Bodies a script (not the widget) may send to the redemption endpoint: each is a clear 4xx
that changes nothing, never a 500."""

from decimal import Decimal

import pytest

from loyalty.models import LedgerEntry, Redemption
from tests import redeeming
from tests.redeeming import install, member_with, proxy_query, reward

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify


def post(client, body: str, content_type: str = "application/json"):
    return client.post(
        "/proxy/api/redemptions?" + proxy_query(), data=body, content_type=content_type
    )


def test_json_nested_deeper_than_the_parser_goes_is_a_422(client, shopify):
    shop = install()
    member_with(shop, 1000)

    response = post(client, "[" * 100_000 + "]" * 100_000)

    assert (response.status_code, response.json()["code"]) == (422, "bad_request")
    assert not Redemption.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_declared_json_is_a_415(client, shopify, content_type):
    # A page on another site can post text/plain or a form without asking the shop first
    # (no CORS preflight); only the widget's JSON request may spend points.
    shop = install()
    member_with(shop, 1000)
    five_off = reward(shop, points_cost=100)

    response = post(client, f'{{"reward_id": {five_off.pk}}}', content_type)

    assert (response.status_code, response.json()["code"]) == (415, "bad_content_type")
    assert not Redemption.objects.exists()
    assert LedgerEntry.objects.filter(member__shop=shop).count() == 1


@pytest.mark.parametrize("points", ["1e400", "-100", "100.0", "100.5", "10" * 400, '"100"'])
def test_odd_points_for_a_variable_reward_are_4xx_and_spend_nothing(client, shopify, points):
    shop = install()
    member = member_with(shop, 5000)
    steps = reward(
        shop,
        points_cost=100,
        variable=True,
        points_step=100,
        value_step=Decimal("1.00"),
        maximum_points=2000,
    )

    response = post(client, f'{{"reward_id": {steps.pk}, "points": {points}}}')

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] in {"bad_request", "invalid_points"}
    member.refresh_from_db()
    assert member.balance == 5000
    assert not Redemption.objects.exists()
