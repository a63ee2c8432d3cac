"""The stand-in's App Bridge and Polaris scripts and the session tokens behind them."""

import pytest
import requests

from standin import signing, start
from tests.shopify_signing import ALICE, API_KEY, API_SECRET

APP_URL = "http://127.0.0.1:8321"


@pytest.fixture(scope="module")
def shopify():
    standin = start(api_key=API_KEY, api_secret=API_SECRET, app_url=APP_URL)
    yield standin
    standin.stop()


def id_token(shopify, origin: str | None = APP_URL, **params):
    headers = {"Origin": origin} if origin else {}
    return requests.get(
        f"{shopify.url}/_standin/cdn/id-token", params=params, headers=headers, timeout=5
    )


def test_the_app_gets_a_session_token_for_its_shop_and_staff_member(shopify):
    answer = id_token(shopify, shop=ALICE, sub="42")

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == APP_URL
    claims = signing.decode_session_token(
        answer.json()["token"], api_key=API_KEY, secret=API_SECRET
    )
    assert (claims["dest"], claims["iss"], claims["sub"]) == (
        f"https://{ALICE}",
        f"https://{ALICE}/admin",
        "42",
    )
    assert claims["exp"] - claims["nbf"] == 60


def test_another_origin_gets_no_token_and_a_bad_shop_is_refused(shopify):
    stranger = id_token(shopify, origin="http://evil.example", shop=ALICE)
    bad_shop = id_token(shopify, shop="alice.example.com")

    assert stranger.status_code == 403
    assert "token" not in stranger.json()
    assert bad_shop.status_code == 400
    assert bad_shop.json() == {"error": "shop must be a myshopify.com domain"}


def test_the_scripts_are_served_as_javascript_and_never_cached(shopify):
    app_bridge = requests.get(f"{shopify.url}/_standin/cdn/app-bridge.js", timeout=5)
    polaris = requests.get(f"{shopify.url}/_standin/cdn/polaris.js", timeout=5)

    for script in (app_bridge, polaris):
        assert script.status_code == 200
        assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert script.headers["Cache-Control"] == "no-store"
    assert "window.shopify = {" in app_bridge.text
    assert "/_standin/cdn/id-token" in app_bridge.text
    # The Polaris stand-in only adds a stylesheet; it defines no elements.
    assert "s-section {" in polaris.text
    assert "customElements" not in polaris.text
