"""The Rewards page in a browser: the catalogue, creating, changing, disabling, deleting."""

from decimal import Decimal

from loyalty.models import Reward
from tests import factories
from tests.browser.conftest import screenshot
from tests.shopify_signing import ALICE


def seed_rewards() -> dict[str, Reward]:
    alice = factories.shop(ALICE)
    return {
        "five": Reward.objects.create(
            shop=alice, kind="amount_off", points_cost=500, value=Decimal("5")
        ),
        "shipping": Reward.objects.create(shop=alice, kind="free_shipping", points_cost=300),
    }


def catalogue(page) -> list[list[str]]:
    return [row.split("\t")[:5] for row in page.locator("#rewards tbody tr").all_inner_texts()]


def test_create_a_reward_and_see_it_in_the_catalogue(page, open_from_admin):
    seed_rewards()
    open_from_admin("/rewards")

    page.get_by_label("Kind").select_option("percent_off")
    page.get_by_label("Points cost").fill("800")
    page.get_by_label("Value").fill("10")
    page.get_by_role("button", name="Add reward").click()

    page.locator("#rewards tbody tr", has_text="10% off").wait_for()
    assert catalogue(page) == [
        ["Free shipping", "Free shipping", "300", "—", "Offered"],
        ["5.00 EUR off", "Amount off", "500", "5.00 EUR", "Offered"],
        ["10% off", "Percent off", "800", "10%", "Offered"],
    ]
    assert page.locator(".standin-toast", has_text="Reward created").is_visible()
    created = Reward.objects.get(kind="percent_off")
    assert (created.points_cost, created.value, created.enabled) == (800, Decimal("10"), True)
    screenshot(page, "rewards")


def test_a_reward_the_api_refuses_shows_its_errors_and_is_not_created(page, open_from_admin):
    seed_rewards()
    open_from_admin("/rewards")

    page.get_by_label("Kind").select_option("percent_off")
    page.get_by_label("Points cost").fill("0")
    page.get_by_label("Value").fill("150")
    page.get_by_role("button", name="Add reward").click()

    page.locator("#new-reward-points_cost-error").wait_for()
    assert page.locator("#new-reward-points_cost-error").inner_text() == (
        "Enter a whole number of points above 0, such as 500."
    )
    assert page.get_by_label("Points cost").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Value").input_value() == "150"
    assert not Reward.objects.filter(kind="percent_off").exists()


def test_change_a_reward_with_the_save_bar_after_discarding_a_first_edit(page, open_from_admin):
    rewards = seed_rewards()
    open_from_admin(f"/rewards/{rewards['five'].pk}")
    save_bar = page.get_by_role("region", name="Unsaved changes")
    assert save_bar.is_hidden()

    page.get_by_label("Points cost").fill("450")
    assert save_bar.is_visible()
    save_bar.get_by_role("button", name="Discard").click()
    assert page.get_by_label("Points cost").input_value() == "500"
    assert save_bar.is_hidden()

    page.get_by_label("Points cost").fill("450")
    page.get_by_label("Minimum order subtotal").fill("40")
    save_bar.get_by_role("button", name="Save").click()

    page.locator(".standin-toast", has_text="Reward saved").wait_for()
    assert page.get_by_label("Points cost").input_value() == "450"
    assert page.get_by_label("Minimum order subtotal").input_value() == "40.00"
    assert save_bar.is_hidden()
    rewards["five"].refresh_from_db()
    assert (rewards["five"].points_cost, rewards["five"].minimum_subtotal) == (
        450,
        Decimal("40.00"),
    )
    screenshot(page, "reward")


def test_disable_a_reward_then_delete_another(page, open_from_admin):
    rewards = seed_rewards()
    open_from_admin("/rewards")

    page.locator("#rewards tbody tr", has_text="5.00 EUR off").get_by_role(
        "button", name="Disable"
    ).click()
    page.locator("#rewards tbody tr", has_text="Disabled").wait_for()
    assert catalogue(page)[1] == ["5.00 EUR off", "Amount off", "500", "5.00 EUR", "Disabled"]
    rewards["five"].refresh_from_db()
    assert rewards["five"].enabled is False

    page.get_by_role("link", name="Free shipping").click()
    page.wait_for_url(f"**/rewards/{rewards['shipping'].pk}?*id_token=*")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete reward").click()
    page.wait_for_url("**/rewards?*id_token=*")
    page.locator("#rewards").wait_for()

    assert [row[0] for row in catalogue(page)] == ["5.00 EUR off"]
    rewards["shipping"].refresh_from_db()
    assert rewards["shipping"].deleted_at is not None
