"""The Dashboard, Program and Settings pages, rendered by Django (no browser): what each
shows, with exact figures, and only ever the session token's shop."""

import re
from datetime import datetime
from decimal import Decimal
from html import unescape

import pytest
from django.utils import timezone

from loyalty.earning.orders import Customer, order_facts
from loyalty.models import PrivacyRequest, Reward
from loyalty.services.members import member_adjust, member_from_customer
from loyalty.services.onboarding import onboarding_program_reviewed
from loyalty.services.orders import order_settle
from loyalty.services.programs import TierSetting, program_update
from loyalty.services.widget import widget_settings_update
from tests.factories import order_payload
from tests.shopify_signing import ALICE, BOB, session_token
from tests.test_embedded_admin import admin_load, installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice", "EUR"), installed_shop(BOB, "Bob")


@pytest.fixture
def clock(monkeypatch):
    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_time


@pytest.fixture
def widget_embed(monkeypatch):
    """Whether the theme's app embed is on, as Shopify would answer (no Shopify here)."""
    state = {"enabled": False}
    monkeypatch.setattr(
        "loyalty.services.onboarding.app_embed_enabled",
        lambda shop, timeout: state["enabled"],
    )
    monkeypatch.setattr("loyalty.services.onboarding.cache.get", lambda key: None)
    return state


def page(client, path, shop=ALICE, **query) -> str:
    if query:
        params = {
            "embedded": "1",
            "shop": shop,
            "host": "YWRtaW4",
            "id_token": session_token(shop=shop),
        }
        response = client.get(path, params | query)
    else:
        response = admin_load(client, shop=shop, token=session_token(shop=shop), path=path)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def cards(html: str) -> dict[str, str]:
    return {
        key: unescape(value) for key, value in re.findall(r'data-figure="(\w+)">([^<]*)<', html)
    }


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def settle(shop, **kwargs):
    kwargs.setdefault("created_at", timezone.now().isoformat())
    return order_settle(shop=shop, facts=order_facts(order_payload(**kwargs)))


def seed_alices_month(alice, clock) -> None:
    """Alice's shop in November: a reward worth 1 cent a point, a member welcomed with 250
    points on the 2nd, and on the 20th two of her orders, a guest's, and 70 points taken
    back by hand."""
    Reward.objects.create(shop=alice, kind="amount_off", value="5.00", points_cost=500)
    clock("2026-11-02T10:00:00+00:00")
    ada = member_from_customer(shop=alice, customer=Customer(customer_id=1001))
    member_adjust(member=ada, points=250, reason="Welcome", actor="staff", key="k1")
    clock("2026-11-20T10:00:00+00:00")
    settle(alice, order_id=5001, customer_id=1001, subtotal="80.00")
    settle(alice, order_id=5002, customer_id=1001, subtotal="20.00")
    settle(alice, order_id=5003, customer_id=None, subtotal="15.00", email="g@example.com")
    member_adjust(member=ada, points=-70, reason="Damaged parcel", actor="staff", key="k2")


def test_the_dashboard_shows_the_ranges_figures_to_the_cent(client, shops, clock, widget_embed):
    alice, _ = shops
    seed_alices_month(alice, clock)

    html = page(client, "/")

    assert cards(html) == {
        "members": "1",
        "points_issued": "350",
        "points_redeemed": "0",
        "points_expired": "0",
        "points_outstanding": "280",
        "outstanding_value": "2.80 EUR",
        "redemption_rate": "0.0%",
        "reward_order_revenue": "0.00 EUR",
        "member_repeat_rate": "50.0% members",
    }
    assert "0.0% non-members" in text(html)
    assert "Oct 22 – Nov 20, 2026 (UTC)" in text(html)
    assert re.search(r'<a href="\?[^"]*days=30[^"]*" aria-current="page">30 days</a>', html)


def test_the_charts_are_labelled_images_with_the_same_figures_in_a_table(
    client, shops, clock, widget_embed
):
    alice, _ = shops
    seed_alices_month(alice, clock)

    html = page(client, "/", days="7")

    assert html.count('role="img"') == 2
    assert '<title id="points-flow-title">Points issued and redeemed per day</title>' in html
    # The welcome points of Nov 2 are before these 7 days; they are still outstanding.
    assert "100 points issued and 0 redeemed from Nov 14 to Nov 20." in html
    assert "Outstanding points went from 250 to 280 from Nov 14 to Nov 20." in html
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    flow_rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", tables[0], re.S)]
    assert flow_rows == [
        "Sat Nov 14 0 0",
        "Sun Nov 15 0 0",
        "Mon Nov 16 0 0",
        "Tue Nov 17 0 0",
        "Wed Nov 18 0 0",
        "Thu Nov 19 0 0",
        "Fri Nov 20 100 0",
    ]
    outstanding_rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", tables[1], re.S)]
    assert outstanding_rows[-2:] == ["Thu Nov 19 250", "Fri Nov 20 280"]


def test_an_unknown_range_falls_back_to_30_days(client, shops, clock, widget_embed):
    clock("2026-11-20T10:00:00+00:00")

    html = page(client, "/", days="100000")

    assert "Oct 22 – Nov 20, 2026 (UTC)" in text(html)
    rows = re.findall(r"<tr>", re.findall(r"<tbody>(.*?)</tbody>", html, re.S)[0])
    assert len(rows) == 30


def test_another_shops_dashboard_shows_none_of_alices_figures(client, shops, clock, widget_embed):
    alice, _ = shops
    seed_alices_month(alice, clock)

    html = page(client, "/", shop=BOB)

    assert cards(html)["points_issued"] == "0"
    assert cards(html)["members"] == "0"
    assert cards(html)["outstanding_value"] == "—"
    assert "no enabled amount-off or store-credit reward" in html


def test_the_checklist_shows_until_every_step_is_done(client, shops, widget_embed):
    alice, _ = shops

    html = page(client, "/")
    steps = re.findall(r'data-step="(\w+)" data-done="(\w+)"', html)
    assert steps == [
        ("program_reviewed", "false"),
        ("widget_enabled", "false"),
        ("first_reward", "false"),
    ]
    assert "0 of 3 steps done" in html
    editor = re.search(r'<a href="([^"]+)" target="_top">Open the theme editor</a>', html)
    assert editor.group(1).startswith(f"https://{ALICE}/admin/themes/current/editor?")
    assert '<a href="/program?embedded=1&amp;shop=alice.myshopify.com&amp;host=YWRtaW4">' in html

    onboarding_program_reviewed(shop=alice)
    Reward.objects.create(shop=alice, kind="free_shipping", value="0", points_cost=300)
    assert "2 of 3 steps done" in page(client, "/")

    widget_embed["enabled"] = True
    assert "Set up Perennial" not in page(client, "/")


def test_the_program_page_shows_the_saved_program_and_its_tiers(client, shops):
    alice, _ = shops
    program_update(
        shop=alice,
        changes={
            "points_per_unit": Decimal("2.5"),
            "hold_days": 14,
            "tiers": [TierSetting(name="Silver", threshold=500, multiplier=Decimal("1.25"))],
        },
    )

    html = page(client, "/program")

    assert re.search(r'name="points_per_unit" value="2.5"', html)
    assert re.search(r'name="hold_days" value="14"', html)
    assert 'data-tier="name" value="Silver"' in html
    assert re.search(r'data-tier="multiplier"[^>]* value="1.25"', html)
    assert '<option value="down" selected>' in html
    # The preview is drawn with the page: 100.00 at 2.5 points, and at 2.5 × 1.25 for Silver
    # (312.5, rounded down).
    assert (
        '<strong id="preview-points">250 points</strong>'
        '<span id="preview-pending">, spendable after 14 days.</span>'
    ) in html
    assert (
        '<ul class="preview-tiers" id="preview-tiers"><li>Silver members earn 312 points</li></ul>'
        in html
    )
    assert '"points_per_unit": "2.5"' in html  # the saved document, for Discard
    assert '<a href="/rewards?embedded=1&amp;shop=alice.myshopify.com&amp;host=YWRtaW4">' in html


def test_another_shops_program_page_shows_its_own_defaults(client, shops):
    alice, _ = shops
    program_update(shop=alice, changes={"hold_days": 14})

    html = page(client, "/program", shop=BOB)

    assert re.search(r'name="hold_days" value="0"', html)
    assert "Silver" not in html


def test_the_settings_page_shows_the_widget_and_this_shops_data_requests(client, shops):
    alice, bob = shops
    widget_settings_update(shop=alice, changes={"accent_color": "#0b6e4f", "panel_title": "Perks"})
    mine = PrivacyRequest.objects.create(
        shop=alice, customer_id=1001, shopify_request_id=77, export={"customer": {"id": 1001}}
    )
    PrivacyRequest.objects.create(shop=bob, customer_id=2002, shopify_request_id=88, export={})

    html = page(client, "/settings")

    assert 'name="accent_color" value="#0b6e4f"' in html
    assert "--accent: #0b6e4f;" in html
    assert 'data-preview-text="panel_title">Perks<' in html
    assert f'href="/api/admin/privacy-requests/{mine.pk}/export"' in html
    assert "2002" not in html
    assert "No data requests yet" not in html
    # The review sources' addresses are shown; the secret is fetched only when revealed.
    assert "/integrations/reviews/judgeme" in html
    assert alice.integration_secret_encrypted == ""

    bobs = page(client, "/settings", shop=BOB)
    assert "2002" in bobs
    assert "1001" not in bobs
    assert 'name="accent_color" value="#1f5199"' in bobs


def test_the_settings_page_says_when_there_are_no_data_requests(client, shops):
    html = page(client, "/settings")

    assert "No data requests yet" in html
    assert "privacy-requests" not in html.split("Customer data requests")[1]
