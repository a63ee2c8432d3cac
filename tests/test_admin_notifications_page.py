"""The Emails page without a browser (each kind, its switch, its values, its preview drawn
with the page, one shop's templates only), and the preview API behind it, which checks a
template exactly as saving does."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from loyalty.models import NotificationTemplate, Program, Tier
from loyalty.services.notifications import (
    NotificationTemplateInvalid,
    notification_preview,
    notification_template_set,
)
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_admin_data_pages import page, text
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice's Garden"), installed_shop(BOB, "Bob")


def preview(client, kind: str, body, shop=ALICE):
    return client.post(
        f"/api/admin/notifications/{kind}/preview",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers=as_merchant(shop),
    )


def section(html: str, kind: str) -> str:
    found = re.search(rf'<div class="email-layout" id="email-{kind}">.*?</section>', html, re.S)
    assert found, f"no section for {kind}"
    return found.group(0)


def test_the_preview_fills_the_draft_in_with_the_kinds_sample_values(client, shops, monkeypatch):
    alice, _ = shops
    alice.timezone = "Pacific/Auckland"
    alice.save()
    Tier.objects.create(shop=alice, name="Gold", threshold=2000)
    Tier.objects.create(shop=alice, name="Silver", threshold=500)
    # Nov 26 22:30 in UTC is already Nov 27 in Auckland: the sample expiry is the shop's.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 26, 22, 30, tzinfo=UTC))
    draft = {
        "subject": "  {{ expiring_points }} points, {{ first_name }}  ",
        "body": "By {{ expiring_on }} at {{ shop_name }}; code '{{ code }}', tier {{ tier }}.",
    }

    answer = preview(client, "points_expiring", draft)

    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        # Trimmed, as the sender trims it.
        "subject": "300 points, Ada",
        # This kind records no code and no tier: they render empty, as in its real emails.
        "body": "By 2026-12-11 at Alice's Garden; code '', tier .",
        "values": {
            "shop_name": "Alice's Garden",
            "first_name": "Ada",
            "balance": "1250",
            "expiring_points": "300",
            "expiring_on": "2026-12-11",
        },
    }
    reached = preview(client, "tier_reached", {"subject": "{{ tier }}", "body": "{{ balance }}"})
    # The shop's lowest tier, whatever order the tiers were made in.
    assert (reached.json()["subject"], reached.json()["body"]) == ("Silver", "1250")
    held = {"subject": "{{ points }}", "body": "[{{ available_on }}]"}
    # No hold: the day is empty, as in the shop's real emails.
    assert preview(client, "points_earned", held).json()["body"] == "[]"
    Program.objects.update_or_create(shop=alice, defaults={"hold_days": 30})
    assert preview(client, "points_earned", held).json()["body"] == "[2026-12-27]"
    assert not NotificationTemplate.objects.exists()


def test_the_preview_refuses_what_saving_refuses_with_the_same_words(client, shops):
    bad = {"subject": "Two\nlines {% if %}", "body": "{% url 'no-such-page' %}"}

    previewed = preview(client, "birthday", bad)
    saved = client.put(
        "/api/admin/notifications/birthday",
        data=json.dumps({**bad, "enabled": True}),
        content_type="application/json",
        headers=as_merchant(ALICE),
    )

    assert previewed.status_code == saved.status_code == 400
    assert previewed.json() == saved.json()
    errors = previewed.json()["errors"]
    assert errors["subject"][0].startswith("This template does not compile:")
    assert errors["subject"][1] == "A subject must be a single line."
    # Compiles, but would fail every birthday email when sent: refused when saved.
    assert errors["body"][0].startswith("This template cannot be filled in:")
    assert "no-such-page" in errors["body"][0]
    assert not NotificationTemplate.objects.exists()

    empty = preview(client, "birthday", {"subject": " ", "body": "x", "enabled": True})
    assert empty.status_code == 400
    assert empty.json()["errors"] == {
        "subject": ["Write some text."],
        "enabled": ["A preview takes only subject and body: leave it out."],
    }
    assert preview(client, "birthday", "[1]").json()["errors"] == {
        "body": ["Send a JSON object with subject and body."]
    }
    missing = preview(client, "anniversary", {"subject": "Hi", "body": "x"})
    assert missing.status_code == 404 and "kind" in missing.json()["errors"]


def test_a_template_that_cannot_be_filled_in_is_never_stored(shops):
    alice, _ = shops
    with pytest.raises(NotificationTemplateInvalid) as refused:
        notification_template_set(
            shop=alice,
            kind="points_earned",
            subject="Hi",
            body='{% include "admin/base.html" %}',
            enabled=True,
        )
    assert list(refused.value.errors) == ["body"]
    assert not NotificationTemplate.objects.exists()
    assert notification_preview(
        shop=alice, kind="points_earned", subject="{{ points }} points", body="{{ balance }}"
    ) == ("120 points", "1250")


def test_the_emails_page_shows_each_kind_with_its_switch_values_and_preview(client, shops):
    alice, bob = shops
    notification_template_set(
        shop=alice,
        kind="reward_ready",
        subject="Code {{ code }} for {{ first_name }}",
        body="Use {{ code }} at {{ shop_name }} <b>now</b>.",
        enabled=False,
    )
    notification_template_set(
        shop=bob, kind="birthday", subject="Bob's birthday mail", body="Bob", enabled=True
    )

    html = page(client, "/emails")

    assert re.search(r'<ui-nav-menu>.*href="/emails\?[^"]+">Emails</a>', html, re.S)
    kinds = re.findall(r'<div class="email-layout" id="email-(\w+)">', html)
    assert kinds == ["points_earned", "reward_ready", "points_expiring", "tier_reached", "birthday"]
    ready = section(html, "reward_ready")
    assert 'action="/api/admin/notifications/reward_ready"' in ready
    assert 'data-preview="/api/admin/notifications/reward_ready/preview"' in ready
    assert re.search(r'name="enabled">', ready), "switched off: not checked"
    assert 'value="Code {{ code }} for {{ first_name }}"' in ready
    # The body as typed, escaped once for the page (the email itself is plain text).
    assert "Use {{ code }} at {{ shop_name }} &lt;b&gt;now&lt;/b&gt;.</textarea>" in ready
    shown = text(ready)
    assert "Values this email can show {{ shop_name }} your shop's name" in shown
    assert "{{ code }} the discount code (empty for store credit)" in shown
    assert "{{ points }}" not in shown.split("Values this email can show")[1]
    assert "Subject Code PRN-7QK2-X9MD for Ada" in shown
    assert "Body Use PRN-7QK2-X9MD at Alice's Garden <b>now</b>." in shown
    # Filled in as plain text, shown escaped: a template never puts HTML into the page.
    assert "Use PRN-7QK2-X9MD at Alice&#x27;s Garden &lt;b&gt;now&lt;/b&gt;.</dd>" in ready
    assert "This email is switched off: nobody gets it." in shown
    earned = section(html, "points_earned")
    assert re.search(r'name="enabled" checked>', earned)
    assert "You earned 120 points at Alice's Garden" in text(earned)
    assert "Bob's birthday mail" not in html


def test_a_stored_template_that_no_longer_fills_in_shows_why_not_a_500(client, shops):
    alice, _ = shops
    # Stored before saving filled templates in (only compiling was checked then).
    NotificationTemplate.objects.create(
        shop=alice, kind="birthday", subject="Hi", body="{% url 'no-such-page' %}"
    )

    html = page(client, "/emails")

    shown = text(section(html, "birthday"))
    assert "Body: This template cannot be filled in:" in shown
    assert "{% url 'no-such-page' %}</textarea>" in section(html, "birthday").replace("&#x27;", "'")
