"""The storefront's balance through Shopify's app proxy signature."""

import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from loyalty.models import Reason
from loyalty.services.ledger import points_record
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


def test_uninstalled_or_unknown_shop_gets_404(client: Client):
    shop = factories.shop()
    shop.uninstalled_at = "2026-11-01T00:00:00Z"
    shop.save()
    assert account(client).status_code == 404
    assert account(client, shop="nobody.myshopify.com").status_code == 404
