"""Every free-text field of the admin API refuses what the database cannot store (a NUL, or a
lone surrogate from JSON's "\\ud800" escape) with a 400 naming the field, and stores nothing."""

import json

import pytest

from loyalty.models import LedgerEntry, Reward, Tier
from tests import factories
from tests.shopify_signing import ALICE, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

BROKEN = ["a\x00b", "a\ud800b"]


@pytest.fixture
def shop(admin_settings):
    return installed_shop(ALICE, "Alice")


def send(client, method: str, path: str, body: dict):
    # json.dumps writes a lone surrogate as the escape "\ud800", as any JSON sender would.
    return client.generic(
        method, path, json.dumps(body), content_type="application/json", headers=as_merchant()
    )


@pytest.mark.parametrize("text", BROKEN)
def test_reward_name(client, shop, text):
    body = {"kind": "amount_off", "points_cost": 500, "value": "5", "name": text}
    answer = send(client, "POST", "/api/admin/rewards", body)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["name"]
    assert Reward.objects.count() == 0


@pytest.mark.parametrize("text", BROKEN)
def test_adjustment_reason(client, shop, text):
    factories.member(shop, customer_id=5)
    answer = send(client, "POST", "/api/admin/members/5/adjustments", {"points": 5, "reason": text})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["reason"]
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize("text", BROKEN)
def test_tier_name(client, shop, text):
    tiers = [{"name": text, "threshold": 100, "multiplier": "1.5"}]
    answer = send(client, "PUT", "/api/admin/program", {"tiers": tiers})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["tiers[0].name"]
    assert Tier.objects.count() == 0


@pytest.mark.parametrize("text", BROKEN)
def test_widget_text(client, shop, text):
    answer = send(client, "PUT", "/api/admin/widget", {"texts": {"en": {"panel_title": text}}})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["texts.en.panel_title"]
