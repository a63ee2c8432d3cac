"""The Dashboard, Program and Settings pages in a browser, opened from the stand-in's
Shopify admin: editing the program with its live preview, the dashboard's figures for a
seeded shop, the widget's settings and the integrations' secret, the onboarding checklist
ticking, and a screenshot of each page for the README."""

import json
import re
from decimal import Decimal

import requests
from django.core.cache import cache
from django.utils import timezone

from loyalty.earning.orders import Customer, order_facts
from loyalty.models import (
    Onboarding,
    PrivacyRequest,
    Program,
    Reward,
    Shop,
    Tier,
    WidgetSettings,
)
from loyalty.services.integrations import integration_secret_for, judgeme_key_ending
from loyalty.services.members import member_adjust, member_from_customer
from loyalty.services.orders import order_settle
from tests import factories
from tests.browser.conftest import screenshot
from tests.factories import order_payload
from tests.shopify_signing import ALICE


def alice() -> Shop:
    # Known to the app but not yet installed: the first page load installs it by token
    # exchange with the stand-in, as Shopify admin's first load does.
    return factories.shop(ALICE)


def seed_alices_shop(shop: Shop) -> None:
    """A reward worth 1 cent a point (5.00 for 500), two members given points by hand, two
    orders by one of them (the second a repeat) and a guest's order, and 40 points taken
    back by hand."""
    Reward.objects.create(shop=shop, kind="amount_off", value="5.00", points_cost=500)
    ada = member_from_customer(shop=shop, customer=Customer(customer_id=1001, first_name="Ada"))
    grace = member_from_customer(shop=shop, customer=Customer(customer_id=1002))
    member_adjust(member=ada, points=300, reason="Moved from our old app", actor="7", key="a")
    member_adjust(member=grace, points=150, reason="Welcome", actor="7", key="g")
    # Placed after the members joined, so Ada's orders are a member's.
    now = timezone.now().isoformat()
    for order_id, customer_id, subtotal in ((5001, 1001, "120.00"), (5002, 1001, "30.50")):
        payload = order_payload(order_id, customer_id, subtotal, created_at=now)
        order_settle(shop=shop, facts=order_facts(payload))
    guest = order_payload(5003, None, "45.00", email="guest@example.com", created_at=now)
    order_settle(shop=shop, facts=order_facts(guest))
    member_adjust(member=grace, points=-40, reason="Returned parcel", actor="7", key="g2")


def figure(page, key: str) -> str:
    return page.locator(f'[data-figure="{key}"]').inner_text()


def test_editing_the_program_previews_saves_and_stays_saved(open_from_admin):
    alice()

    page = open_from_admin("/program")

    points = page.locator("#preview-points")
    assert points.inner_text() == "100 points"
    assert page.locator("#preview-amount").inner_text() == "EUR 100.00"
    page.fill("#field-points_per_unit", "2.5")
    page.wait_for_function("document.getElementById('preview-points').textContent === '250 points'")
    page.fill("#preview-subtotal", "41.30")
    # 41.30 × 2.5 = 103.25, rounded down.
    page.wait_for_function("document.getElementById('preview-points').textContent === '103 points'")
    save_bar = page.locator(".standin-save-bar:not([hidden])")
    assert save_bar.inner_text().startswith("Unsaved changes")

    with page.expect_response("**/api/admin/onboarding/program-reviewed") as ticked:
        save_bar.get_by_role("button", name="Save").click()

    assert ticked.value.status == 200
    page.locator(".standin-toast", has_text="Program saved").wait_for()
    assert save_bar.count() == 0
    program = Program.objects.get(shop__domain=ALICE)
    assert program.points_per_unit == Decimal("2.5")
    assert Onboarding.objects.get(shop__domain=ALICE).program_reviewed_at is not None

    page = open_from_admin("/program")
    assert page.locator("#field-points_per_unit").input_value() == "2.5"


def test_a_bad_value_shows_its_error_next_to_the_field_and_nothing_is_saved(open_from_admin):
    alice()
    page = open_from_admin("/program")

    page.fill("#field-hold_days", "400")
    page.locator("#program-form button[type=submit]").click()

    error = page.locator("#error-hold_days")
    error.wait_for()
    assert error.inner_text() == "Enter a whole number of days from 0 to 365, such as 14."
    assert page.locator("#field-hold_days").get_attribute("aria-invalid") == "true"
    assert page.locator(".standin-toast[data-error]").first.inner_text().startswith("Not saved")
    assert Program.objects.get(shop__domain=ALICE).hold_days == 0


def test_tiers_are_added_previewed_and_saved(open_from_admin):
    alice()
    page = open_from_admin("/program")

    page.click("#tier-add")
    row = page.locator(".tier-row").last
    row.locator('[data-tier="name"]').fill("Gold")
    row.locator('[data-tier="threshold"]').fill("1000")
    row.locator('[data-tier="multiplier"]').fill("1.5")

    page.locator("#preview-tiers li").wait_for()
    assert page.locator("#preview-tiers li").all_inner_texts() == ["Gold members earn 150 points"]
    page.locator("#program-form button[type=submit]").click()
    page.locator(".standin-toast", has_text="Program saved").wait_for()

    page = open_from_admin("/program")
    tier = page.locator(".tier-row").first
    assert tier.locator('[data-tier="name"]').input_value() == "Gold"
    assert tier.locator('[data-tier="threshold"]').input_value() == "1000"
    assert tier.locator('[data-tier="multiplier"]').input_value() == "1.5"
    screenshot(page, "program")


def test_a_tier_rows_error_shows_in_its_own_row_and_discard_puts_the_rows_back(
    open_from_admin,
):
    alice()
    page = open_from_admin("/program")
    page.click("#tier-add")
    first = page.locator(".tier-row").nth(0)
    first.locator('[data-tier="name"]').fill("Gold")
    first.locator('[data-tier="threshold"]').fill("1000")
    first.locator('[data-tier="multiplier"]').fill("1.5")
    page.locator("#program-form button[type=submit]").click()
    page.locator(".standin-toast", has_text="Program saved").wait_for()

    page.click("#tier-add")
    second = page.locator(".tier-row").nth(1)
    second.locator('[data-tier="name"]').fill("gold")
    second.locator('[data-tier="threshold"]').fill("2000")
    second.locator('[data-tier="multiplier"]').fill("2")
    page.locator("#program-form button[type=submit]").click()

    name_error = second.locator('[data-error-part="name"]')
    name_error.wait_for()
    assert name_error.inner_text().startswith("Tier 1 is already called")
    assert first.locator(".field-error:visible").count() == 0
    assert list(Tier.objects.filter(shop__domain=ALICE).values_list("name", flat=True)) == ["Gold"]

    page.locator(".standin-save-bar:not([hidden])").get_by_role("button", name="Discard").click()
    assert page.locator(".tier-row").count() == 1
    assert page.locator(".tier-row [data-tier=name]").input_value() == "Gold"
    # The form is back to what was saved, so the save bar goes.
    page.locator(".standin-save-bar:not([hidden])").wait_for(state="detached")


def test_the_dashboard_shows_the_seeded_shops_figures(open_from_admin):
    seed_alices_shop(alice())

    page = open_from_admin("/")

    page.locator(".dash-cards").wait_for()
    # Issued: 300 + 150 by hand, 120 + 30 from Ada's orders; the guest earns nothing.
    assert figure(page, "members") == "2"
    assert figure(page, "points_issued") == "600"
    assert figure(page, "points_redeemed") == "0"
    assert figure(page, "points_expired") == "0"
    assert figure(page, "points_outstanding") == "560"
    assert figure(page, "outstanding_value") == "5.60 EUR"
    assert figure(page, "redemption_rate") == "0.0%"
    assert figure(page, "reward_order_revenue") == "0.00 EUR"
    # Ada's second order is a repeat; the guest ordered once.
    assert figure(page, "member_repeat_rate") == "50.0% members"
    assert "0.0% non-members" in page.locator(".dash-cards").inner_text()
    assert page.locator("svg[role=img]").count() == 2
    assert page.locator("#points-flow-title").text_content() == "Points issued and redeemed per day"
    screenshot(page, "dashboard")

    page.get_by_role("link", name="7 days").click()
    page.locator('a[aria-current="page"]', has_text="7 days").wait_for()
    assert figure(page, "points_issued") == "600"
    page.locator(".dash-table summary").first.click()
    rows = page.locator(".dash-table").first.locator("tbody tr")
    assert rows.count() == 7
    assert rows.last.inner_text().split("\t")[1:] == ["600", "0"]


def test_the_onboarding_checklist_ticks_each_step_and_then_goes(open_from_admin, shopify):
    shop = alice()
    cache.clear()

    page = open_from_admin("/")
    steps = page.locator(".dash-step")
    assert [s.get_attribute("data-done") for s in steps.all()] == ["false", "false", "false"]
    editor = page.get_by_role("link", name="Open the theme editor")
    assert editor.get_attribute("target") == "_top"
    assert editor.get_attribute("href").startswith(f"https://{ALICE}/admin/themes/current/editor")

    page.get_by_role("link", name="Review the program").click()
    page.locator("#program-form").wait_for()
    with page.expect_response("**/api/admin/onboarding/program-reviewed"):
        page.locator("#program-form button[type=submit]").click()
    Reward.objects.create(shop=shop, kind="free_shipping", value="0", points_cost=300)

    page = open_from_admin("/")
    done = [s.get_attribute("data-done") for s in page.locator(".dash-step").all()]
    assert done == ["true", "false", "true"]
    assert "2 of 3 steps done" in page.locator(".dash-onboarding").inner_text()

    requests.post(
        f"{shopify.url}/_standin/app-embed", json={"shop": ALICE, "enabled": True}, timeout=5
    ).raise_for_status()
    cache.clear()  # The theme check is remembered briefly; the merchant would wait it out.
    page = open_from_admin("/")
    page.locator(".dash-cards").wait_for()
    assert page.locator(".dash-onboarding").count() == 0


def test_widget_settings_preview_live_and_save(open_from_admin):
    alice()
    page = open_from_admin("/settings")

    page.fill("#field-accent_color", "#0b6e4f")
    page.fill("#field-launcher_label", "Perks")
    page.check("input[name=launcher_position][value=bottom_left]")

    launcher = page.locator(".storefront .launcher")
    assert launcher.inner_text() == "Perks"
    assert launcher.evaluate("node => getComputedStyle(node).backgroundColor") == (
        "rgb(11, 110, 79)"
    )
    assert page.locator("#widget-preview").get_attribute("data-position") == "bottom_left"
    assert page.locator("[data-swatch-for=accent_color]").input_value() == "#0b6e4f"
    page.locator("#widget-form button[type=submit]").click()
    page.locator(".standin-toast", has_text="Widget saved").wait_for()

    widget = WidgetSettings.objects.get(shop__domain=ALICE)
    assert (widget.accent_color, widget.launcher_label, widget.launcher_position) == (
        "#0b6e4f",
        "Perks",
        "bottom_left",
    )

    page.fill("#field-panel_text_color", "#fafafa")
    page.locator("#widget-form button[type=submit]").click()
    error = page.locator("#error-panel_text_color")
    error.wait_for()
    assert "4.5" in error.inner_text()
    assert WidgetSettings.objects.get(shop__domain=ALICE).panel_text_color == "#1a1a1a"
    page.get_by_role("button", name="Discard").first.click()
    assert page.locator("#field-panel_text_color").input_value() == "#1a1a1a"


def test_the_secret_is_revealed_and_rotated_after_confirmation(open_from_admin):
    alice()
    page = open_from_admin("/settings")
    secret = page.locator("#integration-secret")
    assert set(secret.input_value()) == {"•"}

    page.click("#secret-reveal")
    page.wait_for_function(
        "document.getElementById('integration-secret').dataset.masked === 'false'"
    )
    first = integration_secret_for(shop=Shop.objects.get(domain=ALICE))
    assert secret.input_value() == first

    page.click("#secret-rotate")
    page.get_by_role("button", name="Cancel").click()
    assert integration_secret_for(shop=Shop.objects.get(domain=ALICE)) == first

    page.click("#secret-rotate")
    page.get_by_role("button", name="Rotate secret").click()
    page.locator(".standin-toast", has_text="Secret rotated").wait_for()
    rotated = integration_secret_for(shop=Shop.objects.get(domain=ALICE))
    assert rotated != first
    assert secret.input_value() == rotated
    page.click("#secret-reveal")
    assert set(secret.input_value()) == {"•"}
    assert re.search(
        r"/integrations/reviews/judgeme\?shop=alice\.myshopify\.com$",
        page.locator(".sources code").first.inner_text(),
    )


def test_the_judgeme_key_is_saved_shown_by_its_end_and_removed(open_from_admin):
    alice()
    page = open_from_admin("/settings")
    assert "No key kept" in page.locator("#judgeme-key-help").inner_text()

    page.click("#judgeme-key-form button[type=submit]")
    page.locator("#judgeme-key-form .field-error", has_text="Paste the Judge.me key").wait_for()
    assert Shop.objects.get(domain=ALICE).judgeme_key_encrypted == ""

    page.fill("#judgeme-key", "jm-private-token-1234")
    page.click("#judgeme-key-form button[type=submit]")
    page.locator("#judgeme-key-help", has_text="ending in 1234").wait_for()
    assert judgeme_key_ending(shop=Shop.objects.get(domain=ALICE)) == "1234"
    assert page.locator("#judgeme-key").input_value() == ""

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove key").click()
    page.locator("#judgeme-key-help", has_text="No key kept").wait_for()
    assert Shop.objects.get(domain=ALICE).judgeme_key_encrypted == ""


def test_data_requests_are_listed_and_their_exports_download(open_from_admin, tmp_path):
    shop = alice()
    PrivacyRequest.objects.create(
        shop=shop,
        customer_id=1001,
        shopify_request_id=9001,
        export={"customer": {"id": 1001, "email": "ada@example.com"}, "points": 300},
    )

    page = open_from_admin("/settings")

    requests_table = page.locator("table.privacy-requests")
    assert requests_table.locator("tbody tr").count() == 1
    assert "9001" in requests_table.inner_text()
    with page.expect_download() as download:
        requests_table.get_by_role("link", name="Download JSON").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("customer-1001-data-request-")
    assert json.loads(saved.read_text())["points"] == 300
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "settings")


def test_with_app_bridge_blocked_the_pages_show_their_figures_and_the_program_saves(
    page, open_from_admin
):
    seed_alices_shop(alice())
    page.route("**/_standin/cdn/app-bridge.js", lambda route: route.abort())

    open_from_admin("/")
    assert figure(page, "points_issued") == "600"
    assert page.locator("svg[role=img]").count() == 2
    assert "App Bridge script did not load" in page.locator("#app-error").inner_text()

    open_from_admin("/program")
    page.fill("#field-signup_points", "50")
    page.locator("#program-form button[type=submit]").click()
    page.locator(".app-status p", has_text="Program saved").wait_for()
    assert Program.objects.get(shop__domain=ALICE).signup_points == 50
