"""The stand-in's storefront: the widget's app embed block rendered by a real Liquid engine
from what the app wrote to Shopify (metafieldsSet), the theme editor's settings and the
extension's locale file."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import requests

from standin import start
from standin.storefront import EXTENSIONS, translate

API_KEY = "perennial-test-api-key"
SECRET = "perennial-test-api-secret-long-enough-for-hs256"
ALICE = "alice-plants.myshopify.com"
BOB = "bob-bulbs.myshopify.com"
BLOCK = "loyalty-widget"
LOCALE = json.loads((EXTENSIONS / BLOCK / "locales" / "en.default.json").read_text())
METAFIELDS_SET = """
mutation Set($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { key } userErrors { field message } }
}
"""
INSTALLATION = "gid://shopify/AppInstallation/1"


@pytest.fixture
def shopify():
    # The storefront never calls the app (the browser does, through the proxy).
    standin = start(api_key=API_KEY, api_secret=SECRET, app_url="http://127.0.0.1:9")
    standin.state.set_app_embed(ALICE, BLOCK, enabled=True)
    yield standin
    standin.stop()


def metafields_set(shopify, items: list[dict], shop: str = ALICE) -> None:
    """Write metafields as the app does: GraphQL metafieldsSet with an access token."""
    token = shopify.state.issue_access_token(shop, expiring=True).value
    answer = requests.post(
        shopify.shop_url(shop) + "/admin/api/2026-10/graphql.json",
        json={"query": METAFIELDS_SET, "variables": {"metafields": items}},
        headers={"X-Shopify-Access-Token": token},
        timeout=5,
    ).json()
    assert answer["data"]["metafieldsSet"]["userErrors"] == []


def member_points(customer_id: int, balance: int, pending: int, tier: str | None = None):
    owner = f"gid://shopify/Customer/{customer_id}"
    items = [
        {"ownerId": owner, "namespace": "$app:loyalty", "key": "balance",
         "type": "number_integer", "value": str(balance)},
        {"ownerId": owner, "namespace": "$app:loyalty", "key": "pending",
         "type": "number_integer", "value": str(pending)},
    ]  # fmt: skip
    if tier is not None:
        items.append(
            {"ownerId": owner, "namespace": "$app:loyalty", "key": "tier",
             "type": "single_line_text_field", "value": tier}
        )  # fmt: skip
    return items


def widget_settings(**look) -> dict:
    return {
        "ownerId": INSTALLATION,
        "namespace": "loyalty",
        "key": "widget",
        "type": "json",
        "value": json.dumps(look),
    }


def storefront(shopify, shop: str = ALICE, customer: int | None = None) -> str:
    cookies = {"standin_customer_id": str(customer)} if customer else {}
    answer = requests.get(f"{shopify.url}/shops/{shop}/", cookies=cookies, timeout=5)
    assert answer.status_code == 200
    return answer.text


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(page: str, tag: str) -> list[dict[str, str | None]]:
    parser = Elements()
    parser.feed(page)
    return [attrs for name, attrs in parser.tags if name == tag]


def text_of(page: str, css_class: str) -> str:
    found = re.search(rf'class="{css_class}"[^>]*>(.*?)</', page, re.DOTALL)
    assert found, f"no .{css_class} in the page"
    return " ".join(found.group(1).split())


def test_the_widget_is_rendered_only_while_its_app_embed_is_on(shopify):
    shopify.state.set_app_embed(ALICE, BLOCK, enabled=False)
    page = storefront(shopify)
    assert "prn-loyalty" not in page
    assert "app embed is off" in page
    shopify.state.set_app_embed(ALICE, BLOCK, enabled=True)
    page = storefront(shopify)
    assert 'id="prn-loyalty"' in page
    assert "app embed is off" not in page
    # The schema is the theme editor's, never part of the page.
    assert "endschema" not in page and '"target"' not in page


def test_script_is_deferred_and_styles_and_script_come_from_asset_url(shopify):
    page = storefront(shopify)
    scripts = [s for s in elements(page, "script") if s.get("src")]
    assert scripts == [
        {"src": "/_standin/cdn/extensions/loyalty-widget/assets/loyalty-widget.js", "defer": None}
    ]
    links = [link for link in elements(page, "link") if link["rel"] == "stylesheet"]
    assert links == [
        {
            "rel": "stylesheet",
            "href": "/_standin/cdn/extensions/loyalty-widget/assets/loyalty-widget.css",
        }
    ]
    script = requests.get(shopify.url + scripts[0]["src"], timeout=5)
    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.content == (EXTENSIONS / BLOCK / "assets" / "loyalty-widget.js").read_bytes()


def test_assets_outside_the_extension_assets_folder_are_not_served(shopify):
    base = f"{shopify.url}/_standin/cdn/extensions/loyalty-widget/assets/"
    assert requests.get(base + "missing.js", timeout=5).status_code == 404
    assert requests.get(base + "..%2Fblocks%2Floyalty-widget.liquid", timeout=5).status_code == 404
    assert requests.get(base + "..", timeout=5).status_code == 404


def test_guest_sees_the_join_texts_with_sign_in_and_create_account_links(shopify):
    page = storefront(shopify)
    assert "Join our rewards program" in page
    links = {a["href"] for a in elements(page, "a")}
    assert f"/shops/{ALICE}/account/login" in links
    assert f"/shops/{ALICE}/account/register" in links
    assert "data-prn-balance" not in page
    login = requests.get(f"{shopify.url}/shops/{ALICE}/account/login", timeout=5)
    assert elements(login.text, "form") == [{"action": "/_standin/customer-login", "method": "get"}]


def test_member_sees_the_balance_the_app_wrote_before_any_request(shopify):
    metafields_set(shopify, member_points(1001, 120, 30, tier="Gold & Silver"))
    page = storefront(shopify, customer=1001)
    assert text_of(page, "prn-launcher__points") == "120 points"
    assert text_of(page, "prn-balance__number") == "120"
    assert "30 pending" in page
    # The t filter escapes what it interpolates.
    assert "Gold &amp; Silver tier" in page
    assert "Join our rewards program" not in page


def test_one_point_is_singular(shopify):
    metafields_set(shopify, member_points(1001, 1, 0))
    page = storefront(shopify, customer=1001)
    assert text_of(page, "prn-launcher__points") == "1 point"
    assert "pending" not in text_of(page, "prn-summary")


def test_a_member_without_metafields_yet_gets_no_number_rather_than_a_wrong_one(shopify):
    metafields_set(shopify, member_points(1001, 120, 0))
    page = storefront(shopify, customer=1002)
    assert "data-prn-balance" not in page
    assert "Your rewards" in page


def test_metafields_are_per_shop(shopify):
    shopify.state.set_app_embed(BOB, BLOCK, enabled=True)
    metafields_set(shopify, member_points(1001, 120, 0), shop=ALICE)
    metafields_set(shopify, [widget_settings(accent_color="#008060")], shop=ALICE)
    page = storefront(shopify, shop=BOB, customer=1001)
    assert "data-prn-balance" not in page
    assert "--prn-accent:#1f5199" in page


def test_the_look_comes_from_the_widget_settings_the_app_wrote(shopify):
    metafields_set(
        shopify,
        [
            widget_settings(
                accent_color="#008060",
                accent_text_color="#fafafa",
                panel_background_color="#101010",
                panel_text_color="#f0f0f0",
                launcher_position="bottom_left",
                texts={"en": {"launcher_label": "Perks <b>", "panel_title": "Our perks"}},
            )
        ],
    )
    page = storefront(shopify)
    root = next(d for d in elements(page, "div") if d.get("id") == "prn-loyalty")
    assert root["class"] == "prn prn--bottom_left"
    assert root["style"] == (
        "--prn-accent:#008060;--prn-accent-text:#fafafa;--prn-bg:#101010;"
        "--prn-text:#f0f0f0;--prn-offset:20px"
    )
    assert text_of(page, "prn-launcher__label") == "Perks &lt;b&gt;"
    assert text_of(page, "prn-title") == "Our perks"
    assert root["data-proxy"] == f"/shops/{ALICE}/apps/loyalty"


def test_defaults_stand_in_until_the_app_first_writes_its_settings(shopify):
    page = storefront(shopify)
    root = next(d for d in elements(page, "div") if d.get("id") == "prn-loyalty")
    assert root["class"] == "prn prn--bottom_right"
    assert "--prn-accent:#1f5199;--prn-accent-text:#ffffff" in root["style"]
    assert text_of(page, "prn-launcher__label") == "Rewards"


def test_the_theme_editor_can_move_the_launcher_over_the_app_setting(shopify):
    metafields_set(shopify, [widget_settings(launcher_position="bottom_right")])
    theme = shopify.state.main_theme(ALICE)
    block = next(iter(theme.settings_data["current"]["blocks"].values()))
    block["settings"] = {"launcher_position": "bottom_left", "launcher_offset": 48}
    root = next(d for d in elements(storefront(shopify), "div") if d.get("id") == "prn-loyalty")
    assert root["class"] == "prn prn--bottom_left"
    assert root["style"].endswith("--prn-offset:48px")


def test_the_script_gets_every_shopper_text_of_the_locale_file(shopify):
    page = storefront(shopify)
    island = re.search(r'id="prn-strings">(.*?)</script>', page, re.S)
    strings = json.loads(island.group(1))
    assert set(LOCALE["loyalty"]["script"]) - set(strings) == set()
    assert strings["redeem"] == "Redeem"
    assert strings["loading"] == "Loading your rewards…"
    assert all(not text.startswith("translation missing") for text in strings.values())


def test_translate_follows_shopify_t_filter():
    locale = {"a": {"points": {"one": "{{ count }} point", "other": "{{ count }} points"},
                    "hello": "Hi {{ name }}", "hello_html": "Hi <b>{{ name }}</b>",
                    "none": {"zero": "none", "one": "one", "other": "many"}}}  # fmt: skip
    assert translate(locale, "a.points", {"count": 1}) == "1 point"
    assert translate(locale, "a.points", {"count": 0}) == "0 points"
    assert translate(locale, "a.none", {"count": 0}) == "none"
    assert translate(locale, "a.points", {"count": 2500}) == "2500 points"
    assert translate(locale, "a.hello", {"name": "<Ann>"}) == "Hi &lt;Ann&gt;"
    assert translate(locale, "a.hello_html", {"name": "Ann"}) == "Hi <b>Ann</b>"
    assert translate(locale, "a.hello", {}) == "Hi {{ name }}"
    assert translate(locale, "a.missing", {}) == "translation missing: en.a.missing"
