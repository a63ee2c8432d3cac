"""The shell in a browser: the bounce page, the stand-in scripts, and pages that keep
working when App Bridge or Polaris does not load."""

from urllib.parse import parse_qs, urlsplit

from loyalty.models import Member, Shop
from tests import factories
from tests.shopify_signing import ALICE


def alice_with_members() -> Shop:
    # Known to the app but not yet installed: the first page load installs it by token
    # exchange with the stand-in, as Shopify admin's first load does.
    alice = factories.shop(ALICE)
    Member.objects.create(
        shop=alice,
        customer_id=1001,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        balance=0,
    )
    return alice


def test_a_page_opened_from_shopify_admin_installs_the_shop_and_shows_the_nav(open_from_admin):
    alice_with_members()

    page = open_from_admin("/members")

    page.locator("#members").wait_for()
    assert Shop.objects.get(domain=ALICE).name == "Alice's Garden"
    chrome = page.locator("[data-standin=chrome]")
    assert chrome.locator("a").all_inner_texts() == [
        "Dashboard",
        "Program",
        "Rewards",
        "Members",
        "Emails",
        "Settings",
    ]
    assert chrome.locator("a[aria-current=page]").inner_text() == "Members"
    assert chrome.locator(".standin-title").inner_text() == "Members"
    assert page.locator("#app-error").is_hidden()


def test_a_page_opened_without_a_token_goes_through_the_bounce_page_and_back(page, live_server):
    alice_with_members()
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))

    page.goto(f"{live_server.url}/members?embedded=1&shop={ALICE}&host=YWRtaW4")
    page.locator("#members").wait_for()

    assert any(urlsplit(url).path == "/auth/session-token" for url in visited)
    final = urlsplit(page.url)
    assert final.path == "/members"
    assert parse_qs(final.query)["shop"] == [ALICE]
    assert parse_qs(final.query)["id_token"]
    assert page.locator("#members tbody tr").all_inner_texts()[0].split("\t")[:3] == [
        "Ada Lovelace",
        "ada@example.com",
        "1001",
    ]


def test_with_app_bridge_blocked_the_page_still_shows_its_table_and_says_what_to_do(
    page, open_from_admin
):
    alice_with_members()
    page.route("**/_standin/cdn/app-bridge.js", lambda route: route.abort())

    open_from_admin("/members")

    assert page.locator("#members tbody tr").count() == 1
    assert "Ada Lovelace" in page.locator("#members").inner_text()
    banner = page.locator("#app-error")
    assert banner.is_visible()
    assert "App Bridge script did not load" in banner.inner_text()
    # Without App Bridge the navigation menu is a row of plain links in the page.
    assert page.locator("ui-nav-menu a", has_text="Rewards").is_visible()


def test_with_polaris_blocked_the_page_still_shows_its_table(page, open_from_admin):
    alice_with_members()
    page.route("**/_standin/cdn/polaris.js", lambda route: route.abort())

    open_from_admin("/members")

    assert page.locator("#members tbody tr").count() == 1
    assert page.locator("#members").is_visible()
    assert page.locator("#app-error").is_hidden()
