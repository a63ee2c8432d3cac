"""The stand-in's orders: the `orders` connection (search, sort, pages, the 60-day reach)
and `order(id:)` as the GraphQL Admin API answers them, and orders whose webhooks are lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from loyalty.shopify import admin_api, throttle
from loyalty.shopify.admin_api import AdminApiError
from standin.orders import order_record
from tests.factories import order_payload, refund_payload
from tests.test_oauth_and_tokens import graphql_calls, install, shopify  # noqa: F401

pytestmark = pytest.mark.django_db

ALICE = "alice.myshopify.com"
LIST = """
query List($first: Int, $last: Int, $after: String, $before: String, $query: String,
           $sortKey: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, last: $last, after: $after, before: $before, query: $query,
         sortKey: $sortKey, reverse: $reverse) {
    nodes { legacyResourceId updatedAt displayFinancialStatus }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture(autouse=True)
def no_throttle_memory():
    throttle.forget()
    yield
    throttle.forget()


def placed(days_ago=0):
    return (timezone.now() - timedelta(days=days_ago)).replace(microsecond=0).isoformat()


def record(shopify, order_id, *, updated_at=None, days_ago=0, **options):  # noqa: F811
    payload = order_payload(order_id, 1001, "10.00", created_at=placed(days_ago), **options)
    order_record(shopify.state, ALICE, "orders/create", payload)
    if updated_at:
        with shopify.state.lock:
            shopify.state.orders[(ALICE, order_id)]["updated_at"] = updated_at


def ids(data) -> list[str]:
    return [node["legacyResourceId"] for node in data["orders"]["nodes"]]


def test_orders_are_paged_with_opaque_cursors_in_the_order_asked(shopify):  # noqa: F811
    shop = install(ALICE)
    for order_id, minute in ((7003, 1), (7001, 3), (7002, 2)):
        record(shopify, order_id, updated_at=f"2026-11-26T08:0{minute}:00Z")

    first = admin_api.admin_graphql(shop, LIST, {"first": 2, "sortKey": "UPDATED_AT"})
    cursor = first["orders"]["pageInfo"]["endCursor"]
    rest = admin_api.admin_graphql(
        shop, LIST, {"first": 2, "after": cursor, "sortKey": "UPDATED_AT"}
    )
    by_id = admin_api.admin_graphql(shop, LIST, {"first": 5, "reverse": True})

    assert ids(first) == ["7003", "7002"]
    assert first["orders"]["pageInfo"]["hasNextPage"] is True
    assert not cursor.isdigit()
    assert ids(rest) == ["7001"]
    assert rest["orders"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": rest["orders"]["pageInfo"]["endCursor"],
        "endCursor": rest["orders"]["pageInfo"]["endCursor"],
    }
    assert ids(by_id) == ["7003", "7002", "7001"]
    assert first["orders"]["nodes"][0] == {
        "legacyResourceId": "7003",
        "updatedAt": "2026-11-26T08:01:00Z",
        "displayFinancialStatus": "PAID",
    }


def test_the_search_query_filters_by_updated_at_ranges(shopify):  # noqa: F811
    shop = install(ALICE)
    record(shopify, 7001, updated_at="2026-11-26T07:59:59Z")
    record(shopify, 7002, updated_at="2026-11-26T08:00:00Z")
    record(shopify, 7003, updated_at="2026-11-26T09:00:00Z")

    found = admin_api.admin_graphql(
        shop,
        LIST,
        {
            "first": 10,
            "query": "updated_at:>='2026-11-26T08:00:00Z' updated_at:<'2026-11-26T09:00:00Z'",
        },
    )

    assert ids(found) == ["7002"]


def test_orders_older_than_60_days_are_out_of_reach_without_read_all_orders(shopify):  # noqa: F811
    shop = install(ALICE)
    record(shopify, 7001, days_ago=61)
    record(shopify, 7002, days_ago=59)
    one = "query One($id: ID!) { order(id: $id) { legacyResourceId } }"

    listed = admin_api.admin_graphql(shop, LIST, {"first": 10})
    old = admin_api.admin_graphql(shop, one, {"id": "gid://shopify/Order/7001"})
    with shopify.state.lock:
        shopify.state.scopes = (*shopify.state.scopes, "read_all_orders")
    everything = admin_api.admin_graphql(shop, LIST, {"first": 10})

    assert ids(listed) == ["7002"]
    assert old == {"order": None}
    assert ids(everything) == ["7001", "7002"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 251}, "first must be between 0 and 250"),
        ({}, "you must provide one of first or last"),
        ({"first": 1, "query": "status:open"}, "does not filter by status"),
        ({"first": 1, "sortKey": "TOTAL_WEIGHT"}, "invalid value (TOTAL_WEIGHT)"),
    ],
)
def test_arguments_it_cannot_answer_are_errors_not_silently_ignored(
    shopify,  # noqa: F811
    variables,
    message,
):
    shop = install(ALICE)

    with pytest.raises(AdminApiError, match=message.replace("(", r"\(").replace(")", r"\)")):
        admin_api.admin_graphql(shop, LIST, variables)


def test_a_refund_changes_the_order_the_query_reads(shopify):  # noqa: F811
    shop = install(ALICE)
    record(shopify, 5001)
    order_record(shopify.state, ALICE, "refunds/create", refund_payload(lines=(("4.00", "0"),)))
    order_record(shopify.state, ALICE, "refunds/create", refund_payload(lines=(("4.00", "0"),)))
    query = """query One($id: ID!) { order(id: $id) {
        displayFinancialStatus currentSubtotalPriceSet { shopMoney { amount currencyCode } }
        refunds { legacyResourceId } } }"""

    found = admin_api.admin_graphql(shop, query, {"id": "gid://shopify/Order/5001"})

    assert found == {
        "order": {
            "displayFinancialStatus": "PARTIALLY_REFUNDED",
            "currentSubtotalPriceSet": {"shopMoney": {"amount": "6.00", "currencyCode": "USD"}},
            "refunds": [{"legacyResourceId": "9001"}],
        }
    }


def test_the_control_endpoint_loses_a_webhook_on_request_and_refuses_bad_requests(shopify):  # noqa: F811
    url = f"{shopify.url}/_standin/orders"
    payload = order_payload(5001, 1001, "10.00", created_at=placed())

    lost = requests.post(
        url,
        json={"shop": ALICE, "topic": "orders/create", "payload": payload, "lose": True},
        timeout=5,
    )
    refused = requests.post(url, json={"shop": ALICE, "topic": "orders/delete"}, timeout=5)
    orphan = requests.post(
        url,
        json={"shop": ALICE, "topic": "refunds/create", "payload": refund_payload(6001)},
        timeout=5,
    )

    assert lost.json() == {"recorded": True, "lost": True, "status": None}
    assert shopify.state.orders[(ALICE, 5001)]["id"] == 5001
    assert refused.status_code == 400 and "topic" in refused.json()["error"]
    assert orphan.status_code == 400 and "could not record it" in orphan.json()["error"]
    assert not graphql_calls(shopify, ALICE)
