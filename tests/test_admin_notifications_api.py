"""The embedded admin's notifications API: each shopper email's subject, body and switch."""

import json

import pytest

from loyalty.models import NotificationTemplate
from loyalty.services.notifications import DEFAULT_TEMPLATES
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def read(client, shop=ALICE) -> dict:
    response = client.get("/api/admin/notifications", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return {t["kind"]: t for t in response.json()["templates"]}


def put(client, kind: str, body, shop=ALICE):
    return client.put(
        f"/api/admin/notifications/{kind}",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers=as_merchant(shop),
    )


def test_every_kind_starts_with_the_english_default(client, shops):
    response = client.get("/api/admin/notifications", headers=as_merchant(ALICE))

    assert response.json()["variables"] == [
        "shop_name",
        "first_name",
        "balance",
        "points",
        "tier",
        "code",
        "expiring_points",
        "expiring_on",
        "available_on",
    ]
    templates = read(client)
    assert list(templates) == [
        "points_earned",
        "reward_ready",
        "points_expiring",
        "tier_reached",
        "birthday",
    ]
    assert templates["birthday"] == {
        "kind": "birthday",
        "subject": "Happy birthday from {{ shop_name }}",
        "body": DEFAULT_TEMPLATES["birthday"][1],
        "enabled": True,
    }


def test_a_merchant_changes_and_switches_off_an_email_in_their_shop_only(client, shops):
    changed = {
        "subject": "{{ points }} points!",
        "body": "Thanks, {{ first_name }}.",
        "enabled": False,
    }

    response = put(client, "points_earned", changed)

    assert response.status_code == 200, response.content
    assert response.json() == {"kind": "points_earned", **changed}
    assert read(client)["points_earned"] == {"kind": "points_earned", **changed}
    # Bob's shop keeps the default, and his change leaves Alice's as it is.
    assert read(client, BOB)["points_earned"]["enabled"] is True
    assert put(client, "points_earned", {**changed, "subject": "Bob's"}, BOB).status_code == 200
    assert read(client)["points_earned"]["subject"] == "{{ points }} points!"
    assert NotificationTemplate.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"subject": "{% if %}", "body": "ok", "enabled": True},
            {
                "subject": [
                    "This template does not compile: Unexpected end of expression in if tag."
                ]
            },
        ),
        (
            {"subject": "", "body": "x" * 10_001, "enabled": "yes"},
            {
                "subject": ["Write some text."],
                "body": ["Keep it to 10000 characters at most."],
                "enabled": ["Send true to send this email, false to switch it off."],
            },
        ),
        (
            {"subject": "Hi", "body": "ok", "enabled": True, "from": "me@example.com"},
            {"from": ["Not a field of an email template: leave it out."]},
        ),
        (
            {"subject": "Hi\x00", "body": "ok", "enabled": True},
            {"subject": ["Remove the NUL character."]},
        ),
        ("[1]", {"body": ["Send a JSON object with subject, body and enabled."]}),
    ],
)
def test_a_template_at_fault_is_a_400_naming_each_field(client, shops, body, errors):
    response = put(client, "birthday", body)

    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert not NotificationTemplate.objects.exists()


def test_an_unknown_kind_is_a_404(client, shops):
    response = put(client, "anniversary", {"subject": "Hi", "body": "ok", "enabled": True})

    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["kind"]
