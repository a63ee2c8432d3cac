"""The widget's tier progress for a member below every tier: no tier name at the top, and
how many points the first tier is away, with its progress bar."""

from __future__ import annotations

from django.utils import timezone

from loyalty.models import Tier
from loyalty.services.tiers import tier_tally_add
from tests.browser.test_storefront_widget import (  # noqa: F401 - fixtures used by name
    SHOPPER,
    open_storefront,
    shop,
)
from tests.redeeming import member_with


def test_a_member_below_every_tier_sees_how_far_the_first_tier_is(
    shop,  # noqa: F811
    shopify,
    open_storefront,  # noqa: F811
):
    Tier.objects.create(shop=shop, name="Silver", threshold=500, multiplier="1.25")
    Tier.objects.create(shop=shop, name="Gold", threshold=2000, multiplier="2")
    member = member_with(shop, 300, SHOPPER)
    # What the member's orders counted towards tiers: 335 of Silver's 500.
    tier_tally_add(member=member, day=timezone.now().date(), points=335)

    store = open_storefront(SHOPPER)
    page = store.page
    page.locator(".prn-launcher").click()
    panel = page.get_by_role("dialog", name="Rewards")
    progress = panel.get_by_label("Progress to Silver")
    progress.wait_for()

    assert panel.locator(".prn-progress").inner_text().strip() == "165 points to Silver"
    assert (progress.get_attribute("max"), progress.get_attribute("value")) == ("500", "335")
    # No tier reached: the panel names none.
    assert panel.locator(".prn-tier").count() == 0
    assert store.console_errors == []
