"""Helpers for the redemption tests: the Shopify stand-in, an installed shop, a member with
points, and requests through the app proxy as Shopify signs them."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from loyalty.earning.orders import Customer
from loyalty.models import Member, Reason, Reward, Shop
from loyalty.services.ledger import points_record
from loyalty.services.members import member_from_customer
from loyalty.services.rewards import reward_create
from loyalty.services.shops import shop_install_with_session_token
from loyalty.shopify.session_tokens import decode_session_token
from standin import server
from standin.signing import app_proxy_params
from tests.shopify_signing import ALICE, API_KEY, API_SECRET, session_token


@pytest.fixture
def shopify(settings):
    """The stand-in, with the app pointed at it; each test starts with a fresh one."""
    standin = server.start(
        api_key=API_KEY, api_secret=API_SECRET, app_url="http://perennial.test", port=0
    )
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    settings.SHOPIFY_ADMIN_ORIGIN = standin.origin_template
    settings.SHOPIFY_HTTP_TIMEOUT = 5.0
    settings.REDEMPTION_SHOPIFY_TIMEOUT = 3.0
    yield standin
    standin.stop()


def install(shop: str = ALICE) -> Shop:
    return shop_install_with_session_token(
        session_token=decode_session_token(session_token(shop=shop))
    )


def member_with(shop: Shop, points: int, customer_id: int = 1001) -> Member:
    member = member_from_customer(shop=shop, customer=Customer(customer_id=customer_id))
    if points:
        points_record(
            member=member,
            points=points,
            reason=Reason.MANUAL_ADJUSTMENT,
            idempotency_key=f"start:{customer_id}:{points}",
        )
    return member


def reward(shop: Shop, kind: str = "amount_off", points_cost: int = 500, **fields) -> Reward:
    if kind in ("amount_off", "store_credit"):
        fields.setdefault("value", Decimal("5.00"))
    elif kind == "percent_off":
        fields.setdefault("value", Decimal("10"))
    return reward_create(shop=shop, kind=kind, points_cost=points_cost, **fields)


def proxy_query(shop: str = ALICE, customer: str = "1001") -> str:
    params = app_proxy_params(
        shop=shop, logged_in_customer_id=customer, secret=settings.SHOPIFY_API_SECRET
    )
    return urlencode(params, doseq=True)


def redeem(client: Client, body: dict, *, shop: str = ALICE, customer: str = "1001"):
    return client.post(
        "/proxy/api/redemptions?" + proxy_query(shop, customer),
        data=json.dumps(body),
        content_type="application/json",
    )


def account(client: Client, *, shop: str = ALICE, customer: str = "1001") -> dict:
    response = client.get("/proxy/api/account?" + proxy_query(shop, customer))
    assert response.status_code == 200, response.content
    return response.json()


def knobs(standin, **values) -> None:
    with standin.state.lock:
        for name, value in values.items():
            setattr(standin.state.knobs, name, value)


def discounts(standin, shop: str = ALICE) -> list[dict]:
    with standin.state.lock:
        return [d for d in standin.state.discounts.values() if d["shop"] == shop]


def mutations(standin, shop: str = ALICE) -> list[dict]:
    with standin.state.lock:
        return [
            c for c in standin.state.calls if c["shop"] == shop and "mutation" in (c["query"] or "")
        ]
