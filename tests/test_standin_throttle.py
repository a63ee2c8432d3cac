"""The stand-in's rate limit, its per-shop faults, and the metafield operations the app's
storefront sync uses (standin/throttle.py, standin/operations.py), over real HTTP."""

from __future__ import annotations

import json

import pytest
import requests

from standin import start

API_KEY = "perennial-test-api-key"
SECRET = "perennial-test-api-secret-long-enough-for-hs256"
ALICE = "alice-plants.myshopify.com"
BOB = "bob-bulbs.myshopify.com"
SHOP_QUERY = "query ShopName { shop { name } }"
SET = """mutation Set($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key namespace value type }
    userErrors { field message code }
  }
}"""
DELETE = """mutation Delete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { ownerId namespace key }
    userErrors { field message code }
  }
}"""
CUSTOMER = "gid://shopify/Customer/1001"


@pytest.fixture
def shopify():
    standin = start(api_key=API_KEY, api_secret=SECRET, app_url="http://127.0.0.1:9")
    yield standin
    standin.stop()


def token(shopify, shop=ALICE) -> str:
    return shopify.state.issue_access_token(shop, expiring=True).value


def graphql(shopify, query=SHOP_QUERY, *, shop=ALICE, variables=None, timeout=5.0):
    return requests.post(
        shopify.shop_url(shop) + "/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token(shopify, shop)},
        timeout=timeout,
    )


def fault(shopify, **body):
    return requests.post(shopify.url + "/_standin/faults", json=body, timeout=5)


def balance(value: str, owner: str = CUSTOMER) -> dict:
    return {
        "ownerId": owner,
        "namespace": "$app:loyalty",
        "key": "balance",
        "type": "number_integer",
        "value": value,
    }


def test_http_faults_hit_only_their_shop_and_only_count_times(shopify):
    assert fault(shopify, shop=ALICE, kind="http_503", count=2).status_code == 200

    assert graphql(shopify, shop=BOB).status_code == 200
    assert [graphql(shopify).status_code for _ in range(3)] == [503, 503, 200]
    assert requests.get(shopify.url + "/_standin/faults", timeout=5).json() == {"faults": []}


def test_a_429_fault_names_its_retry_after(shopify):
    fault(shopify, shop=ALICE, kind="http_429", seconds=2.5)

    answer = graphql(shopify)

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2.5"
    assert answer.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_a_fault_for_one_operation_lets_the_others_through(shopify):
    fault(shopify, shop=ALICE, kind="http_502", count=1, operation="metafieldsSet")

    assert graphql(shopify).status_code == 200
    assert graphql(shopify, SET, variables={"metafields": [balance("5")]}).status_code == 502
    written = graphql(shopify, SET, variables={"metafields": [balance("5")]})
    assert written.json()["data"]["metafieldsSet"]["userErrors"] == []


def test_a_throttled_fault_charges_nothing_and_reports_the_bucket(shopify):
    fault(shopify, shop=ALICE, kind="throttled", count=1)

    body = graphql(shopify).json()

    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (1, None)
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000.0
    assert graphql(shopify).json()["data"] == {"shop": {"name": "Alice Plants"}}


def test_a_delay_outlasts_a_shorter_client_timeout(shopify):
    fault(shopify, shop=ALICE, kind="delay", seconds=2)

    with pytest.raises(requests.Timeout):
        graphql(shopify, timeout=0.3)
    assert graphql(shopify).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"shop": ALICE, "kind": "http_404"},
        {"shop": ALICE, "kind": "delay"},
        {"shop": ALICE, "kind": "throttled", "count": 0},
        {"shop": ALICE, "kind": "http_503", "operation": "no spaces please"},
        {"shop": "not-a-shop", "kind": "http_503"},
    ],
)
def test_faults_that_cannot_be_understood_are_refused(shopify, body):
    answer = fault(shopify, **body)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_mutations_cost_10_and_an_empty_bucket_throttles_until_it_refills(shopify):
    small = {"shop": ALICE, "maximum": 30, "restore_rate": 10, "available": 30}
    assert requests.post(shopify.url + "/_standin/bucket", json=small, timeout=5).ok
    variables = {"metafields": [balance("1")]}

    answers = [graphql(shopify, SET, variables=variables).json() for _ in range(4)]

    costs = [answer["extensions"]["cost"] for answer in answers]
    assert [c["requestedQueryCost"] for c in costs] == [10, 10, 10, 10]
    assert [c["actualQueryCost"] for c in costs] == [10, 10, 10, None]
    assert answers[3]["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert costs[3]["throttleStatus"]["currentlyAvailable"] < 10
    assert costs[3]["throttleStatus"]["maximumAvailable"] == 30.0
    requests.post(shopify.url + "/_standin/advance-clock", json={"seconds": 1}, timeout=5)
    assert "data" in graphql(shopify, SET, variables=variables).json()


def test_metafields_set_checks_values_against_their_type_and_writes_nothing_when_one_fails(
    shopify,
):
    bad = [balance("12"), {**balance("twelve"), "key": "pending"}]

    payload = graphql(shopify, SET, variables={"metafields": bad}).json()["data"]["metafieldsSet"]

    assert payload["metafields"] is None
    assert payload["userErrors"] == [
        {
            "field": ["metafields", "1", "value"],
            "message": "Value must be an integer.",
            "code": "INVALID_VALUE",
        }
    ]
    assert shopify.state.metafields == {}


def test_app_namespaces_are_stored_under_the_apps_prefix_and_can_be_deleted(shopify):
    tier = {**balance("Gold"), "key": "tier", "type": "single_line_text_field"}
    graphql(shopify, SET, variables={"metafields": [balance("120"), tier]})
    identifiers = [
        {"ownerId": CUSTOMER, "namespace": "$app:loyalty", "key": "tier"},
        {"ownerId": CUSTOMER, "namespace": "$app:loyalty", "key": "never-written"},
    ]

    deleted = graphql(shopify, DELETE, variables={"metafields": identifiers}).json()

    assert deleted["data"]["metafieldsDelete"] == {
        "deletedMetafields": [
            {"ownerId": CUSTOMER, "namespace": "app--1--loyalty", "key": "tier"},
            None,
        ],
        "userErrors": [],
    }
    seen = requests.get(
        shopify.url + "/_standin/metafields", params={"shop": ALICE, "owner": CUSTOMER}, timeout=5
    ).json()
    assert seen["app_namespace_prefix"] == "app--1"
    assert [(m["namespace"], m["key"], m["value"]) for m in seen["metafields"]] == [
        ("app--1--loyalty", "balance", "120")
    ]


def test_app_data_metafields_live_on_the_current_app_installation(shopify):
    installation = graphql(shopify, "query { currentAppInstallation { id } }").json()
    owner = installation["data"]["currentAppInstallation"]["id"]
    other = graphql(shopify, "query { currentAppInstallation { id } }", shop=BOB).json()
    widget = {
        "ownerId": owner,
        "namespace": "loyalty",
        "key": "widget",
        "type": "json",
        "value": json.dumps({"accent_color": "#1f5199"}),
    }

    graphql(shopify, SET, variables={"metafields": [widget]})

    assert owner.startswith("gid://shopify/AppInstallation/")
    assert other["data"]["currentAppInstallation"]["id"] != owner
    seen = requests.get(
        shopify.url + "/_standin/metafields", params={"shop": ALICE, "owner": "app"}, timeout=5
    ).json()
    assert seen["owner"] == owner
    assert [(m["namespace"], m["key"], json.loads(m["value"])) for m in seen["metafields"]] == [
        ("loyalty", "widget", {"accent_color": "#1f5199"})
    ]
    bob = requests.get(
        shopify.url + "/_standin/metafields", params={"shop": BOB, "owner": "app"}, timeout=5
    ).json()
    assert bob["metafields"] == []
