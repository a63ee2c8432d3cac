"""The storefront widget in a browser: the stand-in's theme page renders the app embed block
with a real Liquid engine, the widget's script talks to the app only through the stand-in's
app proxy (signed as Shopify signs it), and a shopper redeems a reward with the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest

from loyalty.models import Member, Reason, Redemption, Reward
from loyalty.services.ledger import points_record
from loyalty.services.redemptions import redemption_deliver
from loyalty.services.rewards import reward_create
from tests.browser.conftest import screenshot
from tests.redeeming import install, knobs, member_with
from tests.shopify_signing import ALICE

BLOCK = "loyalty-widget"
SHOPPER = 1001
# Every layout-shift entry of the page, those right after the shopper's input included
# (which CLS leaves out): what moved, and by how much.
WATCH_LAYOUT_SHIFTS = """
window.__layoutShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const moved = entry.sources.map((s) => s.node ? s.node.className || s.node.nodeName : "?");
    window.__layoutShifts.push({value: entry.value, input: entry.hadRecentInput, moved});
  }
}).observe({type: "layout-shift", buffered: true});
"""
# What an accessibility checker looks at first, without downloading one: names, labels,
# the dialog's wiring, unique ids.
ACCESSIBILITY_PROBLEMS = """
() => {
  const root = document.getElementById("prn-loyalty");
  const problems = [];
  const name = (node) => (node.getAttribute("aria-label") || (node.getAttribute("aria-labelledby")
    || "").split(" ").map((id) => (document.getElementById(id) || {}).textContent || "").join("")
    || node.textContent || "").trim();
  const visible = (node) => node.getClientRects().length > 0;
  for (const button of root.querySelectorAll("button")) {
    if (visible(button) && !name(button)) problems.push("unnamed button: " + button.outerHTML);
  }
  for (const link of root.querySelectorAll("a")) {
    if (visible(link) && !name(link)) problems.push("link without a name: " + link.outerHTML);
  }
  for (const input of root.querySelectorAll("input, progress")) {
    const labelled = input.labels && input.labels.length || input.getAttribute("aria-label");
    if (visible(input) && !labelled) problems.push("field without a label: " + input.outerHTML);
  }
  const dialog = root.querySelector("[role=dialog]");
  if (dialog.getAttribute("aria-modal") !== "true") problems.push("dialog is not modal");
  if (!name(dialog)) problems.push("dialog without a name");
  const launcher = root.querySelector(".prn-launcher");
  if (launcher.getAttribute("aria-controls") !== dialog.id) problems.push("launcher not wired");
  const ids = [...root.querySelectorAll("[id]")].map((node) => node.id);
  if (new Set(ids).size !== ids.length) problems.push("duplicate ids: " + ids.join(","));
  if (!root.querySelector("[aria-live]")) problems.push("no live region");
  return problems;
}
"""
CONTRAST = """
(selector) => {
  const rgb = (text) => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const node = document.querySelector(selector);
  const style = getComputedStyle(node);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""


@dataclass
class Storefront:
    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def app_requests(self) -> list[str]:
        return [url for url in self.requests if "/apps/loyalty" in url]

    def layout_shifts(self) -> list[dict]:
        """The layout-shift entries so far: none, when nothing ever moved."""
        return self.page.evaluate("window.__layoutShifts")


@pytest.fixture
def shop(embedded_app, shopify):
    """Alice's shop installed by token exchange (its redemptions make real stand-in
    discounts), three rewards, the widget's app embed switched on in her live theme."""
    alice = install(ALICE)
    reward_create(shop=alice, kind="amount_off", points_cost=500, value=Decimal("5.00"))
    reward_create(shop=alice, kind="free_shipping", points_cost=2000, name="Free shipping")
    # Variable rewards have no admin form yet: made as the model defines them.
    Reward.objects.create(
        shop=alice,
        kind="amount_off",
        points_cost=100,
        value=Decimal("1.00"),
        name="Points off your order",
        variable=True,
        points_step=100,
        value_step=Decimal("1.00"),
        maximum_points=1000,
    )
    shopify.state.set_app_embed(ALICE, BLOCK, enabled=True)
    # The stand-in lives for the whole session: nothing written by an earlier test shows.
    with shopify.state.lock:
        for store in (shopify.state.metafields, shopify.state.discounts):
            for key in [k for k, v in store.items() if ALICE in (k[0], v.get("shop"))]:
                del store[key]
    return alice


def write_points_metafields(shopify, member: Member) -> None:
    """The customer metafields the app keeps current (docs/shopify-sync.md), as metafieldsSet
    stores them in the stand-in."""
    owner = f"gid://shopify/Customer/{member.customer_id}"
    namespace = f"app--{shopify.state.app_id}--loyalty"
    with shopify.state.lock:
        for key, value in (("balance", member.balance), ("pending", member.pending)):
            shopify.state.metafields[(ALICE, owner, namespace, key)] = {
                "id": f"gid://shopify/Metafield/{shopify.state.next_id()}",
                "ownerId": owner,
                "namespace": namespace,
                "key": key,
                "type": "number_integer",
                "value": str(value),
            }


@pytest.fixture
def open_storefront(browser, shopify) -> Iterator[object]:
    contexts = []

    def open_as(
        customer: int | None = None, *, viewport=None, clipboard_api: bool = True
    ) -> Storefront:
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800},
            locale="en-US",
            timezone_id="UTC",
            permissions=["clipboard-read", "clipboard-write"],
        )
        contexts.append(context)
        context.add_init_script(WATCH_LAYOUT_SHIFTS)
        page = context.new_page()
        if not clipboard_api:
            # A browser without the Clipboard API (or one refusing it to this page).
            page.add_init_script(
                "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
            )
        page.set_default_timeout(10_000)
        home = f"{shopify.url}/shops/{ALICE}/"
        store = Storefront(page, home)
        page.on("request", lambda request: store.requests.append(request.url))
        page.on("console", lambda m: m.type == "error" and store.console_errors.append(m.text))
        page.on("pageerror", lambda error: store.console_errors.append(str(error)))
        if customer is None:
            page.goto(home)
        else:
            # The storefront's sign-in: the stand-in sets its session cookie and comes back.
            page.goto(
                f"{shopify.url}/_standin/customer-login?customer_id={customer}&next=/shops/{ALICE}/"
            )
        page.wait_for_load_state("load")
        return store

    yield open_as
    for context in contexts:
        context.close()


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element is focused, as a keyboard user reaches it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def picture(page, name: str) -> None:
    """A screenshot for docs/, once the panel's fade-in is over."""
    page.wait_for_function("document.getAnimations().length === 0")
    screenshot(page, name)


def focus_is_in_panel(page) -> bool:
    return page.evaluate("document.getElementById('prn-panel').contains(document.activeElement)")


def test_a_member_redeems_a_reward_and_copies_the_code_with_the_keyboard(
    shop, shopify, open_storefront
):
    member = member_with(shop, 1200, SHOPPER)
    points_record(member=member, pending_points=40, reason=Reason.ORDER_EARNED, idempotency_key="o")
    member.refresh_from_db()
    write_points_metafields(shopify, member)
    store = open_storefront(SHOPPER)
    page = store.page
    launcher = page.locator(".prn-launcher")

    # Liquid drew the balance: no request to the app before the shopper asks.
    assert launcher.inner_text().split("\n") == ["Rewards", "1200 points"]
    assert launcher.get_attribute("aria-expanded") == "false"
    page.wait_for_timeout(300)
    assert store.app_requests() == []
    picture(page, "widget-closed")

    tab_to(page, ".prn-launcher")
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Rewards")
    assert panel.is_visible()
    assert launcher.get_attribute("aria-expanded") == "true"
    assert focus_is_in_panel(page)
    page.get_by_role("button", name="Redeem 5.00 EUR off").wait_for()
    assert [url.split("?")[0] for url in store.app_requests()] == [
        f"{shopify.url}/shops/{ALICE}/apps/loyalty/api/account"
    ]
    assert panel.locator(".prn-balance__number").inner_text() == "1200"
    assert "40 pending" in panel.inner_text()
    # Affordable first; the one out of reach says how far away it is.
    names = panel.locator("section:has(h3:text('Rewards')) li .prn-strong").all_inner_texts()
    assert names == ["Points off your order", "5.00 EUR off", "Free shipping"]
    assert "Needs 800 points more" in panel.inner_text()
    assert panel.locator("section:has(h3:text('Ways to earn')) li").all_inner_texts() == [
        "1 point for every €1.00 you spend"
    ]
    picture(page, "widget-open")

    # Neither Tab nor Shift+Tab leaves the open dialog.
    for key in ["Shift+Tab"] * 3 + ["Tab"] * 25 + ["Shift+Tab"] * 25:
        page.keyboard.press(key)
        assert focus_is_in_panel(page), key

    panel.get_by_role("button", name="Redeem 5.00 EUR off").focus()
    page.keyboard.press("Enter")
    result = panel.locator(".prn-result code")
    result.wait_for()
    redemption = Redemption.objects.get()
    assert result.inner_text() == redemption.code
    with shopify.state.lock:
        made = [d["code"] for d in shopify.state.discounts.values() if d["shop"] == ALICE]
    assert made == [redemption.code]
    member.refresh_from_db()
    assert member.balance == 700
    page.locator("[data-prn-balance]", has_text="700 points").wait_for()
    live = page.locator("[data-prn-live]")
    live.filter(has_text=f"Your code {redemption.code} is ready to use at checkout.").wait_for(
        state="attached"
    )

    # Focus went to the code's copy button; Enter copies it.
    copy = panel.locator(".prn-results").get_by_role("button", name=f"Copy code {redemption.code}")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"Copy code {redemption.code}"
    )
    page.keyboard.press("Enter")
    copy.filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == redemption.code
    live.filter(has_text=f"Code {redemption.code} copied.").wait_for(state="attached")
    panel.locator(".prn-balance__number", has_text="700").wait_for()
    picture(page, "widget-redeemed")

    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('prn-launcher')")

    assert store.layout_shifts() == []
    assert store.console_errors == []


def test_a_refused_redemption_shows_the_apps_message_in_the_panel(shop, shopify, open_storefront):
    member = member_with(shop, 600, SHOPPER)
    write_points_metafields(shopify, member)
    store = open_storefront(SHOPPER)
    page = store.page
    page.locator(".prn-launcher").click()
    redeem = page.get_by_role("button", name="Redeem 5.00 EUR off")
    redeem.wait_for()
    # Meanwhile, another tab spent most of the points.
    points_record(member=member, points=-550, reason=Reason.MANUAL_ADJUSTMENT, idempotency_key="x")
    redeem.click()

    error = page.locator(".prn-error")
    error.wait_for()
    assert "points" in error.inner_text().lower()
    assert Redemption.objects.count() == 0
    page.locator("[data-prn-balance]", has_text="50 points").wait_for()
    assert page.get_by_role("button", name="Redeem 5.00 EUR off").count() == 0
    # Chromium logs the 409 answer itself; the script raised nothing.
    assert store.console_errors == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    ]


def test_while_shopify_is_slow_the_panel_waits_for_the_code(
    shop, shopify, open_storefront, settings
):
    settings.REDEMPTION_SHOPIFY_TIMEOUT = 0.5
    write_points_metafields(shopify, member_with(shop, 1200, SHOPPER))
    store = open_storefront(SHOPPER)
    page = store.page
    page.locator(".prn-launcher").click()
    redeem = page.get_by_role("button", name="Redeem 5.00 EUR off")
    redeem.wait_for()
    # Shopify takes longer than the app waits: the app answers 202 and keeps the points spent.
    knobs(shopify, hang_count=1, hang_seconds=1.5)
    redeem.click()
    page.locator(".prn-result", has_text="Your code is being created").wait_for()
    redemption = Redemption.objects.get()
    assert redemption.status == "pending"
    page.locator("[data-prn-balance]", has_text="700 points").wait_for()

    # The background job's next try makes it; the panel, asking again, shows the code.
    page.wait_for_timeout(1500)
    # As the worker does once the retry is due.
    due = redemption.retry_at + timedelta(seconds=1)
    delivered, tried = redemption_deliver(redemption_id=redemption.pk, timeout=5, now=due)
    assert tried and delivered.status == "ready"
    redemption.refresh_from_db()
    page.locator(".prn-results code", has_text=redemption.code).wait_for(timeout=20_000)
    assert page.get_by_role("button", name=f"Copy code {redemption.code}").count() == 2
    assert store.layout_shifts() == []
    assert store.console_errors == []


def test_without_the_clipboard_api_the_code_is_copied_all_the_same(shop, shopify, open_storefront):
    write_points_metafields(shopify, member_with(shop, 1200, SHOPPER))
    store = open_storefront(SHOPPER, clipboard_api=False)
    page = store.page
    assert page.evaluate("navigator.clipboard") is None
    page.locator(".prn-launcher").click()
    page.get_by_role("button", name="Redeem 5.00 EUR off").click()
    code = page.locator(".prn-results code")
    code.wait_for()
    page.locator(".prn-results button").click()
    page.locator(".prn-results button", has_text="Copied").wait_for()
    # The focus is back on the button, and another tab of the browser reads the clipboard.
    assert page.evaluate("document.activeElement.textContent") == "Copied"
    reader = page.context.new_page()
    reader.goto(store.url)
    assert reader.evaluate("navigator.clipboard.readText()") == code.inner_text()
    assert store.console_errors == []


def test_a_variable_reward_lets_the_member_choose_the_points(shop, shopify, open_storefront):
    write_points_metafields(shopify, member_with(shop, 1200, SHOPPER))
    store = open_storefront(SHOPPER)
    page = store.page
    page.locator(".prn-launcher").click()
    chooser = page.get_by_label("Points to spend")
    chooser.wait_for()
    assert chooser.get_attribute("max") == "1000"
    chooser.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert chooser.get_attribute("aria-valuetext") == "300 points for €3.00 off"
    page.get_by_role("button", name="Redeem 300 points").click()
    page.locator(".prn-result code").wait_for()
    redemption = Redemption.objects.get()
    assert (redemption.points, redemption.value) == (300, Decimal("3.00"))
    page.locator("[data-prn-balance]", has_text="900 points").wait_for()
    assert store.console_errors == []


def test_a_guest_sees_how_to_join_and_what_the_program_offers(shop, shopify, open_storefront):
    store = open_storefront(None)
    page = store.page
    launcher = page.locator(".prn-launcher")
    assert launcher.inner_text() == "Rewards"
    launcher.click()
    panel = page.get_by_role("dialog", name="Rewards")
    assert panel.get_by_role("heading", name="Join our rewards program").is_visible()
    assert panel.get_by_role("link", name="Sign in").get_attribute("href") == (
        f"/shops/{ALICE}/account/login"
    )
    assert panel.get_by_role("link", name="Create account").get_attribute("href") == (
        f"/shops/{ALICE}/account/register"
    )
    panel.locator("li", has_text="5.00 EUR off").wait_for()
    assert panel.get_by_role("button", name="Redeem").count() == 0
    assert panel.get_by_role("heading", name="Your codes").count() == 0
    picture(page, "widget-guest")
    assert page.evaluate(ACCESSIBILITY_PROBLEMS) == []
    assert store.layout_shifts() == []
    assert store.console_errors == []


def test_on_a_phone_the_panel_is_a_full_width_sheet(shop, shopify, open_storefront):
    member_with(shop, 1200, SHOPPER)
    store = open_storefront(SHOPPER, viewport={"width": 390, "height": 844})
    page = store.page
    page.locator(".prn-launcher").click()
    page.get_by_role("button", name="Redeem 5.00 EUR off").wait_for()
    # No metafields written for this member yet: the launcher shows no number, and the
    # script adds none (it would widen the launcher), while the panel has the balance.
    assert page.locator("[data-prn-balance]").count() == 0
    assert page.locator(".prn-balance__number").inner_text() == "1200"
    picture(page, "widget-phone")  # after the fade-in, which moves the sheet a little
    box = page.locator("#prn-panel").bounding_box()
    assert (box["x"], box["width"]) == (0, 390)
    assert box["y"] + box["height"] == pytest.approx(844, abs=0.5)
    assert store.layout_shifts() == []


def test_names_labels_dialog_and_contrast_hold_when_open(shop, shopify, open_storefront):
    member_with(shop, 1200, SHOPPER)
    store = open_storefront(SHOPPER)
    page = store.page
    assert page.evaluate(CONTRAST, ".prn-launcher") >= 4.5
    page.locator(".prn-launcher").click()
    page.get_by_role("button", name="Redeem 5.00 EUR off").wait_for()
    assert page.evaluate(ACCESSIBILITY_PROBLEMS) == []
    assert page.evaluate(CONTRAST, ".prn-panel") >= 4.5
    assert page.evaluate(CONTRAST, ".prn-head") >= 4.5
