"""The embedded admin: session-token auth on pages and /api/, the bounce page, CSP."""

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from loyalty.models import Shop
from loyalty.services.shops import shop_uninstalled
from loyalty.shopify import oauth, tokens
from tests import factories
from tests.shopify_signing import API_KEY, API_SECRET, OTHER_SECRET, session_token

APP_BRIDGE = "https://cdn.example.test/app-bridge.js"
POLARIS = "https://cdn.example.test/polaris-1.js"
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"


@pytest.fixture(autouse=True)
def app_settings(settings):
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    settings.SHOPIFY_APP_BRIDGE_URL = APP_BRIDGE
    settings.SHOPIFY_POLARIS_URL = POLARIS
    settings.APP_URL = "https://perennial.example.test"
    # Nothing here may reach Shopify: an installed shop needs no HTTP call.
    settings.SHOPIFY_ADMIN_ORIGIN = "http://127.0.0.1:9/{shop}"
    return settings


def installed_shop(domain: str, name: str, currency: str = "USD") -> Shop:
    shop = factories.shop(domain)
    tokens.store_offline_token(
        shop=shop,
        token=oauth.OfflineToken(
            access_token=f"shpat_{domain}",
            scope="read_orders",
            expires_at=timezone.now() + timedelta(hours=1),
            refresh_token=f"shprt_{domain}",
            refresh_token_expires_at=timezone.now() + timedelta(days=90),
        ),
    )
    shop.name, shop.currency, shop.installed_at = name, currency, timezone.now()
    shop.save()
    return shop


def admin_load(client, *, shop: str, token: str | None = None, path: str = "/"):
    params = {"embedded": "1", "shop": shop, "host": "YWRtaW4", "locale": "en"}
    if token is not None:
        params["id_token"] = token
    return client.get(path, params)


def csp_for(shop: str) -> str:
    return f"frame-ancestors https://{shop} https://admin.shopify.com;"


def test_healthz_answers_ok_without_auth(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_app_home_shows_the_shop_of_the_session_token(client):
    installed_shop("alice.myshopify.com", "Alice's Teas", currency="EUR")

    response = admin_load(client, shop="alice.myshopify.com", token=session_token())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Alice&#x27;s Teas" in page
    assert "Outstanding points" in page
    assert "EUR" in page
    assert f'<script src="{APP_BRIDGE}"></script>' in page
    assert f'<script src="{POLARIS}"></script>' in page
    assert response["Content-Security-Policy"] == csp_for("alice.myshopify.com")


@pytest.mark.django_db
def test_the_token_decides_the_shop_not_the_shop_parameter(client):
    installed_shop("alice.myshopify.com", "Alice's Teas")
    installed_shop("bob.myshopify.com", "Bob's Bikes")

    bobs_token = session_token(shop="bob.myshopify.com")
    response = admin_load(client, shop="alice.myshopify.com", token=bobs_token)

    page = response.content.decode()
    assert "Bob&#x27;s Bikes" in page
    assert "Alice" not in page
    assert response["Content-Security-Policy"] == csp_for("bob.myshopify.com")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        "expired",
        "wrong-secret",
    ],
)
def test_a_page_load_without_a_valid_id_token_goes_to_the_bounce_page(client, token):
    installed_shop("alice.myshopify.com", "Alice's Teas")
    if token == "expired":
        token = session_token(now=time.time() - 120)
    elif token == "wrong-secret":
        token = session_token(secret=OTHER_SECRET)

    response = admin_load(client, shop="alice.myshopify.com", token=token, path="/")

    assert response.status_code == 302
    assert response["Content-Security-Policy"] == csp_for("alice.myshopify.com")
    location = urlsplit(response["Location"])
    assert location.path == "/auth/session-token"
    query = parse_qs(location.query)
    assert "id_token" not in query
    assert query["shop"] == ["alice.myshopify.com"]
    reload_url = urlsplit(query["shopify-reload"][0])
    assert f"{reload_url.scheme}://{reload_url.netloc}" == "https://perennial.example.test"
    assert reload_url.path == "/"
    assert "id_token" not in parse_qs(reload_url.query)
    assert parse_qs(reload_url.query)["embedded"] == ["1"]

    bounce = client.get(response["Location"])

    assert bounce.status_code == 200
    assert bounce["Content-Security-Policy"] == csp_for("alice.myshopify.com")
    page = bounce.content.decode()
    head = re.search(r"<head>(.*?)</head>", page, re.S).group(1).strip()
    assert head.startswith(f'<meta name="shopify-api-key" content="{API_KEY}">')
    assert head.index(f'<script src="{APP_BRIDGE}"></script>') < head.index("<meta charset")
    assert "Alice" not in page
    assert "USD" not in page
    assert re.search(r"<body>\s*</body>", page)


@pytest.mark.django_db
def test_a_page_load_outside_shopify_admin_is_told_where_to_open_the_app(client):
    response = client.get("/")

    assert response.status_code == 400
    assert "Open Perennial from your Shopify admin" in response.content.decode()


@pytest.mark.parametrize(
    "reload_url",
    ["https://evil.example/", "//evil.example/", "", "https://perennial.example.test.evil/"],
)
def test_the_bounce_page_only_reloads_into_the_app(client, reload_url):
    response = client.get(
        "/auth/session-token", {"shop": "alice.myshopify.com", "shopify-reload": reload_url}
    )

    assert response.status_code == 400


def test_the_bounce_page_needs_a_shop(client):
    response = client.get(
        "/auth/session-token",
        {"shop": "evil.example", "shopify-reload": "https://perennial.example.test/"},
    )

    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not-a-jwt", "Basic abc", "expired", "wrong-audience"],
)
def test_an_api_call_without_a_valid_bearer_token_gets_an_empty_401_to_retry(client, authorization):
    installed_shop("alice.myshopify.com", "Alice's Teas")
    if authorization == "expired":
        authorization = f"Bearer {session_token(now=time.time() - 120)}"
    elif authorization == "wrong-audience":
        authorization = f"Bearer {session_token(api_key='another-app')}"
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get("/api/shop", headers=headers)

    assert response.status_code == 401
    assert response[RETRY_HEADER] == "1"
    assert response.content == b""


@pytest.mark.django_db
def test_an_api_call_with_a_valid_bearer_token_answers_for_its_shop_only(client):
    installed_shop("alice.myshopify.com", "Alice's Teas")
    installed_shop("bob.myshopify.com", "Bob's Bikes", currency="GBP")

    response = client.get(
        "/api/shop",
        headers={"Authorization": f"Bearer {session_token(shop='bob.myshopify.com')}"},
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Bob's Bikes"
    assert response.json()["currency"] == "GBP"
    assert response["Content-Security-Policy"] == csp_for("bob.myshopify.com")


@pytest.mark.django_db
def test_a_token_shopify_refuses_to_exchange_sends_the_page_back_to_the_bounce_page(
    client, monkeypatch
):
    def refuse(**kwargs):
        raise oauth.InvalidSubjectToken("Subject token is invalid", status=400)

    monkeypatch.setattr(oauth, "exchange_session_token", refuse)

    page = admin_load(
        client, shop="carol.myshopify.com", token=session_token(shop="carol.myshopify.com")
    )
    api = client.get(
        "/api/shop",
        headers={"Authorization": f"Bearer {session_token(shop='carol.myshopify.com')}"},
    )

    assert page.status_code == 302
    assert urlsplit(page["Location"]).path == "/auth/session-token"
    assert api.status_code == 401
    assert api[RETRY_HEADER] == "1"
    assert not Shop.objects.filter(domain="carol.myshopify.com").exists()


@pytest.mark.django_db
def test_when_shopify_is_unreachable_the_page_says_so_without_data(client):
    response = admin_load(
        client, shop="carol.myshopify.com", token=session_token(shop="carol.myshopify.com")
    )

    assert response.status_code == 502
    assert "Reload the page" in response.content.decode()
    assert response["Content-Security-Policy"] == csp_for("carol.myshopify.com")


@pytest.mark.django_db
def test_an_uninstalled_shop_is_treated_as_needing_install(client):
    alice = installed_shop("alice.myshopify.com", "Alice's Teas")
    shop_uninstalled(shop=alice)

    # The stand-in origin is unreachable here, so needing install shows as a 502.
    response = admin_load(client, shop="alice.myshopify.com", token=session_token())

    assert response.status_code == 502
    alice.refresh_from_db()
    assert alice.uninstalled_at is not None
    assert alice.access_token_encrypted == ""
    assert alice.refresh_token_encrypted == ""
