"""The widget's dates in a browser: a member without a birthday gives it in the panel (and
the form goes), and points that will expire say when."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

from loyalty.models import Member, Program
from tests.browser.test_storefront_widget import (  # noqa: F401 - fixtures used by name
    SHOPPER,
    open_storefront,
    shop,
)
from tests.redeeming import member_with


def test_a_member_gives_their_birthday_and_sees_when_points_expire(
    shop,  # noqa: F811
    shopify,
    open_storefront,  # noqa: F811
):
    Program.objects.update_or_create(
        shop=shop, defaults={"expiry_days": 365, "expiry_reminder_days": None}
    )
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 5, 4, 12, tzinfo=UTC)):
        member_with(shop, 300, SHOPPER)
    store = open_storefront(SHOPPER)
    page = store.page
    page.locator(".prn-launcher").click()
    panel = page.get_by_role("dialog", name="Rewards")
    form = panel.locator("section:has(h3:text('Your birthday'))")
    form.wait_for()

    assert "300 points expire on May 4, 2027" in panel.inner_text()
    form.get_by_label("Month").select_option(label="February")
    form.get_by_label("Day").select_option("29")
    form.get_by_role("button", name="Save birthday").click()

    # The visible result; the screen readers' live region repeats it a moment later.
    panel.locator(".prn-result", has_text="Your birthday is saved.").wait_for()
    form.wait_for(state="detached")
    member = Member.objects.get(shop=shop, customer_id=SHOPPER)
    assert (member.birthday_month, member.birthday_day) == (2, 29)
    assert store.console_errors == []
