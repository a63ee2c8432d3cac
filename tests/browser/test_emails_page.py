"""The Emails page in a browser, opened from the stand-in's Shopify admin: reached from the
navigation menu, the preview redrawn as the merchant types, a bad template's message under
its field (nothing saved), a good one saved, an email switched off, and the page working
with App Bridge blocked."""

from loyalty.models import NotificationTemplate
from tests import factories
from tests.browser.conftest import screenshot
from tests.shopify_signing import ALICE


def preview_text(page, kind: str, part: str) -> str:
    return page.locator(f"#email-{kind} [data-preview-{part}]").inner_text()


def wait_for_preview(page, kind: str, part: str, expected: str) -> None:
    page.wait_for_function(
        "([selector, expected]) => document.querySelector(selector).textContent === expected",
        arg=[f"#email-{kind} [data-preview-{part}]", expected],
    )


def test_the_merchant_edits_an_email_with_its_preview_and_saves_it(open_from_admin):
    factories.shop(ALICE)
    page = open_from_admin("/")
    page.locator("[data-standin=chrome] a", has_text="Emails").click()
    page.locator("#email-points_earned").wait_for()
    chrome = page.locator("[data-standin=chrome]")
    assert chrome.locator("a[aria-current=page]").inner_text() == "Emails"

    # Drawn with the page: the default template, filled in with the sample values.
    assert preview_text(page, "points_earned", "subject") == (
        "You earned 120 points at Alice's Garden"
    )
    section = page.locator("#email-points_earned")
    assert "{{ points }} the points this event gave" in section.inner_text()

    section.get_by_label("Subject").fill("{{ points }} points for you, {{ first_name }}!")
    wait_for_preview(page, "points_earned", "subject", "120 points for you, Ada!")

    body = section.get_by_label("Body")
    body.fill("Balance: {{ balance }} {% if points %}")
    error = page.locator("#email-points_earned-form-body-error")
    error.wait_for()
    assert error.inner_text().startswith("This template does not compile:")
    assert body.get_attribute("aria-invalid") == "true"
    # The preview keeps the last version that could be filled in, and says why.
    assert "correct the fields marked" in section.locator("[data-preview-error]").inner_text()
    section.get_by_role("button", name="Save").click()
    page.locator(".standin-toast[data-error]", has_text="Not saved").wait_for()
    error.wait_for()
    assert not NotificationTemplate.objects.exists()

    body.fill("Balance: {{ balance }}{% if points %}, +{{ points }}{% endif %}")
    wait_for_preview(page, "points_earned", "body", "Balance: 1250, +120")
    assert error.count() == 0 and body.get_attribute("aria-invalid") is None
    section.get_by_role("button", name="Save").click()
    page.locator(".standin-toast", has_text="Points earned email saved").wait_for()
    stored = NotificationTemplate.objects.get(shop__domain=ALICE, kind="points_earned")
    assert stored.subject == "{{ points }} points for you, {{ first_name }}!"
    assert (stored.body, stored.enabled) == (
        "Balance: {{ balance }}{% if points %}, +{{ points }}{% endif %}",
        True,
    )

    birthday = page.locator("#email-birthday")
    birthday.get_by_label("Send this email").uncheck()
    birthday.get_by_role("button", name="Save").click()
    page.locator(".standin-toast", has_text="Birthday email saved").wait_for()
    assert not NotificationTemplate.objects.get(shop__domain=ALICE, kind="birthday").enabled
    page.locator("#email-birthday").wait_for()
    assert not page.locator("#email-birthday").get_by_label("Send this email").is_checked()
    assert "switched off: nobody gets it" in page.locator("#email-birthday").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "emails")


def test_with_app_bridge_blocked_the_emails_page_previews_and_saves(page, open_from_admin):
    factories.shop(ALICE)
    page.route("**/_standin/cdn/app-bridge.js", lambda route: route.abort())

    open_from_admin("/emails")
    section = page.locator("#email-tier_reached")
    assert "App Bridge script did not load" in page.locator("#app-error").inner_text()
    section.get_by_label("Subject").fill("Welcome to {{ tier }}")
    # The shop has no tiers: the sample is "Gold".
    wait_for_preview(page, "tier_reached", "subject", "Welcome to Gold")
    section.get_by_role("button", name="Save").click()
    page.locator(".app-status p", has_text="Tier reached email saved").wait_for()
    stored = NotificationTemplate.objects.get(shop__domain=ALICE, kind="tier_reached")
    assert stored.subject == "Welcome to {{ tier }}"
