"""The Shopify stand-in: signatures against Shopify's documented vectors, and each route.

No database and no Django: the "app" on the other side is a tiny stdlib HTTP server that
records what reaches it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
import requests

from standin import payloads, signing, start
from standin.gql_text import parse_operation
from standin.operations import RESOLVERS
from standin.sender import send_webhook
from standin.state import Bucket

API_KEY = "perennial-test-api-key"
SECRET = "perennial-test-api-secret-long-enough-for-hs256"
ALICE = "alice-plants.myshopify.com"
BOB = "bob-bulbs.myshopify.com"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
SHOP_QUERY = "query { shop { name currencyCode ianaTimezone myshopifyDomain } }"


# --- signatures against Shopify's own examples ---------------------------------------------


def test_app_proxy_signature_matches_shopifys_documented_examples():
    # "Authenticate app proxies": shared secret "hush"; the documented digests close with
    # shop-name.myshopify.com (the page prints a {shop} placeholder).
    common = dict(
        shop="shop-name.myshopify.com",
        path_prefix="/apps/awesome_reviews",
        extra={"extra": ["1", "2"]},
        secret="hush",
        timestamp=1317327555,
    )
    logged_in = signing.app_proxy_params(logged_in_customer_id="1", **common)
    guest = signing.app_proxy_params(logged_in_customer_id="", **common)
    assert logged_in["signature"] == (
        "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
    )
    assert guest["signature"] == "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"


def test_oauth_hmac_matches_shopifys_documented_example():
    # "Implement authorization code grant manually", secret "hush".
    query = (
        "code=0907a61c0c8d55e99db179b68161bc00"
        "&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
        "&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
    )
    params = dict(parse_qsl(query))
    assert signing.oauth_hmac(params, "hush") == params["hmac"]


def test_webhook_headers_sign_the_raw_body():
    body = b'{"id":1,"note":"caf\xc3\xa9"}'
    headers = signing.webhook_headers(
        topic="orders/create", shop=ALICE, body=body, secret=SECRET, webhook_id="w-1"
    )
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == ALICE
    assert headers["X-Shopify-API-Version"] == "2026-10"
    assert headers["X-Shopify-Webhook-Id"] == "w-1"
    assert len(headers["X-Shopify-Event-Id"]) == 36
    assert headers["X-Shopify-Triggered-At"].endswith("Z")
    assert headers["Content-Type"] == "application/json"


def test_session_token_has_shopifys_claims():
    token = signing.session_token(shop=ALICE, api_key=API_KEY, secret=SECRET, sub="42", now=1000)
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience=API_KEY, options={"verify_exp": False}
    )
    assert claims["iss"] == f"https://{ALICE}/admin"
    assert claims["dest"] == f"https://{ALICE}"
    assert claims["sub"] == "42"
    assert (claims["nbf"], claims["iat"], claims["exp"]) == (1000, 1000, 1060)
    assert claims["jti"] and claims["sid"]


# --- payload builders --------------------------------------------------------------------------


def test_order_builder_reports_money_as_shopify_does():
    order = payloads.order(
        11,
        22,
        subtotal="110.00",
        taxes_included=True,
        line_tax="10.00",
        currency="EUR",
        discount_codes=["SPRING"],
    )
    assert order["admin_graphql_api_id"] == "gid://shopify/Order/11"
    assert order["customer"]["id"] == 22
    assert order["current_subtotal_price_set"]["shop_money"] == {
        "amount": "110.00",
        "currency_code": "EUR",
    }
    # Tax is inside the subtotal when taxes are included.
    assert order["total_price"] == "110.00"
    line = order["line_items"][0]
    assert line["id"] == 111
    assert line["tax_lines"][0]["price_set"]["shop_money"]["amount"] == "10.00"
    assert order["discount_codes"][0]["code"] == "SPRING"


def test_refunds_reduce_the_orders_current_amounts():
    refund = payloads.refund(11, 33, lines=[("40.00", "4.00")], shipping="5.00")
    order = payloads.order(
        11,
        22,
        subtotal="100.00",
        line_tax="10.00",
        refunds=[refund],
        financial_status="partially_refunded",
    )
    assert order["current_subtotal_price"] == "60.00"
    assert order["current_total_tax"] == "6.00"
    line = refund["refund_line_items"][0]
    assert line["line_item_id"] == 111
    assert line["subtotal_set"]["shop_money"]["amount"] == "40.00"
    assert refund["order_adjustments"][0]["kind"] == "shipping_refund"
    assert refund["order_adjustments"][0]["amount"] == "-5.00"
    assert (
        refund["refund_shipping_lines"][0]["subtotal_amount_set"]["shop_money"]["amount"] == "5.00"
    )
    assert refund["transactions"][0]["amount"] == "49.00"


@pytest.mark.parametrize("topic", payloads.TOPICS)
def test_every_topic_has_a_sample(topic):
    body = payloads.sample(topic)
    assert isinstance(body, dict) and body
    if topic.startswith("orders/"):
        assert body["admin_graphql_api_id"].startswith("gid://shopify/Order/")
    if topic == "orders/cancelled":
        assert body["cancelled_at"]


# --- the app on the other side -----------------------------------------------------------------


class FakeApp:
    """A stdlib HTTP server standing in for Perennial: records requests, answers canned."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answer = (200, "application/json", b'{"ok": true}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "query": parse_qs(parts.query, keep_blank_values=True),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length) if length else b"",
                    }
                )
                status, content_type, body = outer.answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Set-Cookie", "app_session=leak; Path=/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app():
    fake = FakeApp()
    yield fake
    fake.stop()


@pytest.fixture
def shopify(app):
    standin = start(api_key=API_KEY, api_secret=SECRET, app_url=app.url)
    yield standin
    standin.stop()


def token_endpoint(shopify, shop=ALICE):
    return shopify.shop_url(shop) + "/admin/oauth/access_token"


def exchange(shopify, shop=ALICE, *, expiring=True, subject=None, **fields):
    body = {
        "client_id": API_KEY,
        "client_secret": SECRET,
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject
        or signing.session_token(shop=shop, api_key=API_KEY, secret=SECRET),
        "subject_token_type": ID_TOKEN,
        "requested_token_type": OFFLINE,
        **({"expiring": 1} if expiring else {}),
        **fields,
    }
    return requests.post(token_endpoint(shopify, shop), json=body, timeout=5)


def refresh(shopify, refresh_token, shop=ALICE):
    body = {
        "client_id": API_KEY,
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return requests.post(token_endpoint(shopify, shop), json=body, timeout=5)


def graphql(shopify, token, query=SHOP_QUERY, shop=ALICE, variables=None, timeout=5):
    return requests.post(
        shopify.shop_url(shop) + "/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
        timeout=timeout,
    )


# --- OAuth -------------------------------------------------------------------------------------


def test_token_exchange_gives_an_expiring_offline_token_that_reads_the_shop(shopify):
    answer = exchange(shopify)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "access_token",
        "scope",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["expires_in"] == 3600
    assert "write_discounts" in body["scope"].split(",")

    shop = graphql(shopify, body["access_token"]).json()["data"]["shop"]
    assert shop["myshopifyDomain"] == ALICE
    assert shop["currencyCode"] == "USD"


def test_token_exchange_without_expiring_gives_a_non_expiring_token(shopify):
    body = exchange(shopify, expiring=False).json()
    assert set(body) == {"access_token", "scope"}


def test_token_exchange_accepts_a_form_body(shopify):
    subject = signing.session_token(shop=ALICE, api_key=API_KEY, secret=SECRET)
    answer = requests.post(
        token_endpoint(shopify),
        data={
            "client_id": API_KEY,
            "client_secret": SECRET,
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject,
            "subject_token_type": ID_TOKEN,
            "requested_token_type": OFFLINE,
            "expiring": "1",
        },
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 3600


@pytest.mark.parametrize(
    "subject",
    [
        signing.session_token(
            shop=ALICE, api_key=API_KEY, secret="another-apps-secret-0123456789-abcdef"
        ),
        signing.session_token(shop=ALICE, api_key="another-app", secret=SECRET),
        signing.session_token(shop=BOB, api_key=API_KEY, secret=SECRET),
        signing.session_token(shop=ALICE, api_key=API_KEY, secret=SECRET, now=1_000_000),
    ],
)
def test_token_exchange_refuses_a_bad_session_token(shopify, subject):
    answer = exchange(shopify, subject=subject)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_subject_token"


def test_wrong_client_secret_is_refused(shopify):
    answer = exchange(shopify, client_secret="not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_online_token_carries_the_staff_user(shopify):
    answer = exchange(
        shopify,
        requested_token_type="urn:shopify:params:oauth:token-type:online-access-token",
        subject=signing.session_token(shop=ALICE, api_key=API_KEY, secret=SECRET, sub="77"),
    )
    body = answer.json()
    assert body["associated_user"]["id"] == 77
    assert body["expires_in"] > 3600
    assert "refresh_token" not in body


def test_refresh_rotates_and_the_old_token_works_until_the_new_one_is_used(shopify):
    first = exchange(shopify).json()
    second = refresh(shopify, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == 3600

    # The answer was "lost": the first refresh token still works, and voids that pair.
    third = refresh(shopify, first["refresh_token"]).json()
    assert graphql(shopify, second["access_token"]).status_code == 401

    # Using the new access token retires the refresh token spent for it.
    assert graphql(shopify, third["access_token"]).status_code == 200
    spent = refresh(shopify, first["refresh_token"])
    assert spent.status_code == 400
    assert spent.json()["error"] == "invalid_grant"
    assert refresh(shopify, third["refresh_token"]).status_code == 200


def test_using_the_replacement_refresh_token_retires_its_predecessor(shopify):
    first = exchange(shopify).json()
    second = refresh(shopify, first["refresh_token"]).json()
    assert refresh(shopify, second["refresh_token"]).status_code == 200
    assert refresh(shopify, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_refresh_token_belongs_to_its_shop(shopify):
    alices = exchange(shopify).json()
    assert refresh(shopify, alices["refresh_token"], shop=BOB).status_code == 400


def test_authorization_code_grant(shopify):
    authorize = requests.get(
        shopify.shop_url(ALICE) + "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders,write_discounts",
            "redirect_uri": "https://app.example/auth/callback",
            "state": "nonce-1",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["Location"])
    assert location.netloc == "app.example" and location.path == "/auth/callback"
    params = dict(parse_qsl(location.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["state"] == "nonce-1" and params["shop"] == ALICE
    assert signing.oauth_hmac(params, SECRET) == params["hmac"]
    assert base64.b64decode(params["host"] + "==") == b"admin.shopify.com/store/alice-plants"

    code_body = {
        "client_id": API_KEY,
        "client_secret": SECRET,
        "code": params["code"],
        "expiring": "1",
    }
    token = requests.post(token_endpoint(shopify), json=code_body, timeout=5)
    assert token.status_code == 200
    assert token.json()["scope"] == "read_orders,write_discounts"
    assert "refresh_token" in token.json()

    again = requests.post(token_endpoint(shopify), json=code_body, timeout=5)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


# --- GraphQL -----------------------------------------------------------------------------------


@pytest.fixture
def token(shopify):
    return exchange(shopify).json()["access_token"]


def test_graphql_refuses_an_unknown_token(shopify):
    answer = graphql(shopify, "shpat_nope")
    assert answer.status_code == 401
    assert answer.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_a_token_only_opens_its_own_shop(shopify, token):
    assert graphql(shopify, token, shop=BOB).status_code == 401


def test_expired_tokens_are_refused(shopify, token):
    assert graphql(shopify, token).status_code == 200
    requests.post(shopify.url + "/_standin/expire-tokens", timeout=5)
    assert graphql(shopify, token).status_code == 401


def test_tokens_expire_after_an_hour_of_stand_in_time(shopify, token):
    requests.post(shopify.url + "/_standin/advance-clock", json={"seconds": 3601}, timeout=5)
    assert graphql(shopify, token).status_code == 401


def test_every_answer_reports_its_cost(shopify, token):
    cost = graphql(shopify, token).json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == cost["actualQueryCost"] == 1
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0
    assert status["restoreRate"] == 100.0
    assert 1990 <= status["currentlyAvailable"] <= 2000


def test_throttle_knob(shopify, token):
    requests.post(shopify.url + "/_standin/knobs", json={"throttle": 2}, timeout=5)
    for _ in range(2):
        answer = graphql(shopify, token)
        assert answer.status_code == 200
        body = answer.json()
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
        assert "data" not in body
    assert graphql(shopify, token).json()["data"]["shop"]


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_forced_http_failures_then_recovery(shopify, token, status):
    requests.post(
        shopify.url + "/_standin/knobs", json={"fail_status": status, "fail_count": 1}, timeout=5
    )
    failed = graphql(shopify, token)
    assert failed.status_code == status
    if status == 429:
        assert failed.headers["Retry-After"]
    assert graphql(shopify, token).status_code == 200


def test_hang_knob_outlasts_the_client_timeout(shopify, token):
    requests.post(
        shopify.url + "/_standin/knobs", json={"hang_count": 1, "hang_seconds": 3}, timeout=5
    )
    with pytest.raises(requests.Timeout):
        graphql(shopify, token, timeout=0.5)
    assert graphql(shopify, token).status_code == 200


def test_a_bucket_leaks_and_refills():
    bucket = Bucket(maximum=100.0, restore_rate=10.0, available=100.0, updated_at=1000.0)
    assert bucket.take(80, now=1000.0)
    assert not bucket.take(30, now=1000.0)
    assert bucket.available == 20.0
    assert bucket.take(30, now=1001.0)  # 20 + 10 restored
    bucket.refill(now=2000.0)
    assert bucket.available == 100.0


def test_connections_cost_their_page_size_and_drain_the_real_bucket(shopify, token, monkeypatch):
    # The registry is how operations are added; this one answers an empty connection.
    monkeypatch.setitem(RESOLVERS, "orders", lambda context: {"edges": []})
    connection = """
      query Orders($n: Int!) {
        # first: 500 in a comment costs nothing
        orders(first: $n) { edges { node { ...OrderFields } } }
      }
      fragment OrderFields on Order { id name customer { id } }
    """
    # 2 + 997 nodes x (1 for the node + 1 for its customer object)
    assert parse_operation(connection, {"n": 997}).requested_cost == 1996
    first = graphql(shopify, token, connection, variables={"n": 997}).json()
    assert first["data"] == {"orders": {"edges": []}}
    throttled = graphql(shopify, token, connection, variables={"n": 997}).json()
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 1996
    assert "data" in graphql(shopify, token).json()


def test_answers_hold_only_the_selected_fields_under_their_aliases(shopify, token):
    query = "query Name { store: shop { name ... on Shop { domain: myshopifyDomain } } }"
    assert graphql(shopify, token, query).json()["data"] == {
        "store": {"name": "Alice Plants", "domain": ALICE}
    }


def test_an_unknown_nested_field_is_a_graphql_error(shopify, token):
    errors = graphql(shopify, token, "query { shop { name noSuchField } }").json()["errors"]
    assert errors[0]["message"] == "Field 'noSuchField' doesn't exist on type 'Shop'"


def test_a_document_that_does_not_parse_is_a_graphql_error(shopify, token):
    body = graphql(shopify, token, "query { shop { name }").json()
    assert body["errors"][0]["message"].startswith("Parse error")


def test_calls_are_recorded_with_query_variables_and_token(shopify, token):
    mutation = """
      mutation Create($discount: DiscountCodeBasicInput!) {
        created: discountCodeBasicCreate(basicCodeDiscount: $discount) {
          codeDiscountNode { id }
          userErrors { field message code }
        }
      }"""
    variables = {
        "discount": {
            "title": "5 off",
            "code": "LOYAL-5",
            "startsAt": "2026-11-01T00:00:00Z",
            "context": {"all": "ALL"},
            "customerGets": {
                "value": {"discountAmount": {"amount": "5.00"}},
                "items": {"all": True},
            },
        }
    }
    body = graphql(shopify, token, mutation, variables=variables).json()
    assert body["data"]["created"]["userErrors"] == []
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10

    calls = requests.get(shopify.url + "/_standin/calls", params={"shop": ALICE}, timeout=5).json()
    assert calls[-1]["variables"] == variables
    assert calls[-1]["token"] == token
    assert calls[-1]["root_fields"] == ["discountCodeBasicCreate"]
    assert shopify.state.discounts[body["data"]["created"]["codeDiscountNode"]["id"]]["code"] == (
        "LOYAL-5"
    )

    again = graphql(shopify, token, mutation, variables=variables).json()
    assert again["data"]["created"]["userErrors"][0]["code"] == "TAKEN"


def test_an_unknown_root_field_is_a_graphql_error(shopify, token):
    body = graphql(shopify, token, "query { shop { name } draftOrders(first: 5) { nodes { id } } }")
    assert body.status_code == 200
    errors = body.json()["errors"]
    assert errors[0]["extensions"]["fieldName"] == "draftOrders"
    assert "data" not in body.json()


def test_missing_query_is_a_400(shopify, token):
    answer = requests.post(
        shopify.shop_url(ALICE) + "/admin/api/2026-10/graphql.json",
        json={},
        headers={"X-Shopify-Access-Token": token},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_store_credit_and_app_metafields(shopify, token):
    credit = graphql(
        shopify,
        token,
        """
      mutation($id: ID!, $credit: StoreCreditAccountCreditInput!) {
        storeCreditAccountCredit(id: $id, creditInput: $credit) {
          storeCreditAccountTransaction {
            balanceAfterTransaction { amount currencyCode }
          }
          userErrors { code message }
        }
      }""",
        variables={
            "id": "gid://shopify/Customer/9",
            "credit": {"creditAmount": {"amount": "5.00", "currencyCode": "USD"}},
        },
    )
    transaction = credit.json()["data"]["storeCreditAccountCredit"]["storeCreditAccountTransaction"]
    assert transaction["balanceAfterTransaction"] == {"amount": "5.00", "currencyCode": "USD"}

    metafields = graphql(
        shopify,
        token,
        """
      mutation($metafields: [MetafieldsSetInput!]!) {
        metafieldsSet(metafields: $metafields) { metafields { namespace key } userErrors { code } }
      }""",
        variables={
            "metafields": [
                {
                    "ownerId": "gid://shopify/Customer/9",
                    "namespace": "$app:loyalty",
                    "key": "points",
                    "type": "number_integer",
                    "value": "120",
                }
            ]
        },
    )
    written = metafields.json()["data"]["metafieldsSet"]["metafields"][0]
    assert written["namespace"].startswith("app--") and written["namespace"].endswith("--loyalty")


# --- admin launch ------------------------------------------------------------------------------


def test_opening_the_app_in_admin_loads_it_with_a_fresh_id_token(shopify, app):
    answer = requests.get(
        shopify.shop_url(ALICE) + f"/admin/apps/{API_KEY}/rewards", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == app.url
    assert location.path == "/rewards"
    params = dict(parse_qsl(location.query))
    assert {
        "embedded",
        "hmac",
        "host",
        "id_token",
        "locale",
        "session",
        "shop",
        "timestamp",
    } <= set(params)
    assert params["embedded"] == "1" and params["shop"] == ALICE
    assert signing.oauth_hmac(params, SECRET) == params["hmac"]
    claims = signing.decode_session_token(params["id_token"], api_key=API_KEY, secret=SECRET)
    assert claims["dest"] == f"https://{ALICE}"

    # The id_token is accepted by the token exchange, as Shopify's is.
    assert exchange(shopify, subject=params["id_token"]).status_code == 200


def test_another_apps_key_is_not_found(shopify):
    answer = requests.get(
        shopify.shop_url(ALICE) + "/admin/apps/someone-else", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 404


# --- app proxy ---------------------------------------------------------------------------------


def test_app_proxy_forwards_a_signed_query_without_cookies(shopify, app):
    app.answer = (200, "application/liquid", b"{{ customer.first_name }}")
    answer = requests.get(
        shopify.shop_url(ALICE) + "/apps/loyalty/rewards/list",
        params=[
            ("page", "2"),
            ("tag", "a"),
            ("tag", "b"),
            ("signature", "forged"),
            ("logged_in_customer_id", "999"),
            ("shop", BOB),
        ],
        cookies={"standin_customer_id": "42", "_secure_session_id": "secret"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/liquid"
    assert answer.text == "{{ customer.first_name }}"
    assert "app_session" not in answer.headers.get("Set-Cookie", "")

    seen = app.requests[-1]
    assert seen["path"] == "/proxy/rewards/list"
    assert "cookie" not in seen["headers"]
    assert seen["headers"]["x-forwarded-host"] == ALICE
    query = seen["query"]
    assert query["shop"] == [ALICE]
    assert query["logged_in_customer_id"] == ["42"]
    assert query["path_prefix"] == ["/apps/loyalty"]
    assert query["tag"] == ["a", "b"]
    # Checked independently of standin.signing, the way the docs' Ruby example does it.
    message = "".join(
        sorted(f"{key}={','.join(values)}" for key, values in query.items() if key != "signature")
    )
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert query["signature"] == [expected]


def test_app_proxy_guest_and_post_body(shopify, app):
    app.answer = (201, "application/json", b'{"redeemed": true}')
    answer = requests.post(
        shopify.shop_url(ALICE) + "/apps/loyalty/redeem", json={"reward": 7}, timeout=5
    )
    assert answer.status_code == 201
    assert answer.json() == {"redeemed": True}
    seen = app.requests[-1]
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {"reward": 7}
    assert seen["query"]["logged_in_customer_id"] == [""]


# --- webhooks ----------------------------------------------------------------------------------


def test_send_webhook_delivers_a_verifiable_delivery(app):
    payload = payloads.sample("orders/create")
    answer = send_webhook(
        app.url + "/webhooks",
        topic="orders/create",
        shop=ALICE,
        payload=payload,
        secret=SECRET,
        webhook_id="wh-1",
        event_id="ev-1",
    )
    assert answer.status_code == 200
    seen = app.requests[-1]
    digest = hmac.new(SECRET.encode(), seen["body"], hashlib.sha256).digest()
    assert seen["headers"]["x-shopify-hmac-sha256"] == base64.b64encode(digest).decode()
    assert seen["headers"]["x-shopify-webhook-id"] == "wh-1"
    assert seen["headers"]["x-shopify-event-id"] == "ev-1"
    assert json.loads(seen["body"]) == payload


def test_uninstall_revokes_tokens_before_the_webhook(shopify, app, token):
    answer = requests.post(shopify.url + "/_standin/uninstall", json={"shop": ALICE}, timeout=5)
    assert answer.json()["status"] == 200
    assert app.requests[-1]["headers"]["x-shopify-topic"] == "app/uninstalled"
    assert graphql(shopify, token).status_code == 401
