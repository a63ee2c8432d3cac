"""The Members page in a browser: search, open a member, adjust their points."""

from loyalty.models import LedgerEntry, Member, Reason
from loyalty.services.members import member_adjust
from tests import factories
from tests.browser.conftest import screenshot
from tests.shopify_signing import ALICE


def seed_members() -> dict[int, Member]:
    alice = factories.shop(ALICE)
    shoppers = [
        (1001, "ada@example.com", "Ada", "Lovelace", 120),
        (1002, "grace@example.com", "Grace", "Hopper", 450),
        (1003, "alan@example.com", "Alan", "Turing", 35),
        (1004, "katherine@example.com", "Katherine", "Johnson", 980),
    ]
    members = {}
    for customer_id, email, first, last, points in shoppers:
        members[customer_id] = Member.objects.create(
            shop=alice, customer_id=customer_id, email=email, first_name=first, last_name=last
        )
        member_adjust(
            member=members[customer_id],
            points=points,
            reason="Starting balance",
            actor="7",
            key=f"start-{customer_id}",
        )
    return members


def test_search_open_a_member_and_adjust_their_points(page, open_from_admin):
    seed_members()
    open_from_admin("/members")
    page.locator("#members").wait_for()
    screenshot(page, "members")

    page.get_by_label("Search members").fill("gra")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/members?*q=gra*id_token=*")
    assert page.locator("#members tbody tr").count() == 1
    page.get_by_role("link", name="Grace Hopper").click()
    page.wait_for_url("**/members/1002?*id_token=*")
    assert page.locator("#member-balance").inner_text() == "450"

    assert page.get_by_role("region", name="Unsaved changes").is_hidden()
    page.get_by_label("Points").fill("-25")
    page.get_by_label("Reason").fill("Damaged parcel, refunded by hand")
    assert page.get_by_role("region", name="Unsaved changes").is_visible()
    page.get_by_role("button", name="Adjust points").click()

    page.locator("#member-balance", has_text="425").wait_for()
    assert page.locator(".standin-toast", has_text="Points adjusted").is_visible()
    assert page.get_by_role("region", name="Unsaved changes").is_hidden()
    assert page.get_by_label("Points").input_value() == ""
    assert page.locator("#history tbody tr").first.inner_text().split("\t")[1:] == [
        "Adjusted by the store\nDamaged parcel, refunded by hand",
        "-25",
        "0",
        "425",
        "staff 42",
    ]
    entry = LedgerEntry.objects.filter(member__customer_id=1002).latest("sequence")
    assert (entry.reason, entry.points, entry.balance_after) == (Reason.MANUAL_ADJUSTMENT, -25, 425)
    assert (entry.actor, entry.note) == ("42", "Damaged parcel, refunded by hand")
    screenshot(page, "member")


def test_an_adjustment_the_api_refuses_shows_its_errors_next_to_the_fields(page, open_from_admin):
    seed_members()
    open_from_admin("/members/1001")

    page.get_by_label("Points").fill("0")
    page.get_by_label("Reason").fill("   ")
    page.get_by_role("button", name="Adjust points").click()

    points_error = page.locator("#adjust-points-error")
    points_error.wait_for()
    assert points_error.inner_text() == "Enter a number of points other than 0."
    assert page.locator("#adjust-reason-error").inner_text() == (
        "Say why the points change; the member's history shows it."
    )
    assert page.get_by_label("Points").get_attribute("aria-invalid") == "true"
    assert page.locator(".standin-toast[data-error]").is_visible()
    assert LedgerEntry.objects.filter(member__customer_id=1001).count() == 1


def test_when_the_app_cannot_be_reached_the_banner_says_so_and_nothing_is_lost(
    page, open_from_admin
):
    seed_members()
    open_from_admin("/members/1001")
    page.route("**/api/admin/**", lambda route: route.abort("internetdisconnected"))

    page.get_by_label("Points").fill("10")
    page.get_by_label("Reason").fill("Birthday")
    page.get_by_role("button", name="Adjust points").click()

    banner = page.locator("#app-error")
    banner.wait_for()
    assert "could not be reached" in banner.inner_text()
    assert page.get_by_label("Points").input_value() == "10"
    assert page.get_by_role("button", name="Adjust points").is_enabled()
    assert LedgerEntry.objects.filter(member__customer_id=1001).count() == 1


def test_a_refused_session_token_is_replaced_once_and_the_adjustment_goes_through(
    page, open_from_admin
):
    seed_members()
    open_from_admin("/members/1001")
    tokens: list[str] = []

    def refuse_the_first(route):
        tokens.append(route.request.headers["authorization"])
        if len(tokens) == 1:
            # What the app answers a token that expired in flight.
            route.fulfill(status=401, headers={"X-Shopify-Retry-Invalid-Session-Request": "1"})
        else:
            route.continue_()

    page.route("**/api/admin/members/1001/adjustments", refuse_the_first)
    page.get_by_label("Points").fill("5")
    page.get_by_label("Reason").fill("Survey")
    page.get_by_role("button", name="Adjust points").click()
    page.locator("#member-balance", has_text="125").wait_for()

    assert len(tokens) == 2
    assert all(token.startswith("Bearer ey") for token in tokens)
    assert tokens[0] != tokens[1]
    assert LedgerEntry.objects.filter(member__customer_id=1001, points=5).count() == 1


def test_the_button_shows_it_is_working_until_the_app_answers(page, open_from_admin):
    seed_members()
    open_from_admin("/members/1001")
    # Hold the next fetch until the test lets it go.
    page.evaluate(
        """() => {
            const send = window.fetch;
            window.fetch = (...request) => new Promise((resolve) => {
                window.releaseFetch = () => resolve(send(...request));
            });
        }"""
    )
    page.get_by_label("Points").fill("15")
    page.get_by_label("Reason").fill("Review")
    button = page.get_by_role("button", name="Adjust points")
    button.click()

    page.wait_for_function("() => typeof window.releaseFetch === 'function'")
    assert button.get_attribute("aria-busy") == "true"
    assert button.is_disabled()
    assert page.locator(".standin-loading").is_visible()
    page.evaluate("() => window.releaseFetch()")

    page.locator("#member-balance", has_text="135").wait_for()
    assert page.get_by_role("button", name="Adjust points").get_attribute("aria-busy") is None
