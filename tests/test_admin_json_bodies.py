"""Every admin API endpoint that reads a JSON body answers a body it cannot read (here, JSON
nested deeper than the parser goes) with a 400 naming `body`, and changes nothing."""

import pytest

from loyalty.models import LedgerEntry, Program, Reward, WidgetSettings
from tests import factories
from tests.shopify_signing import ALICE, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

# 100,000 levels: far past Python's recursion limit, and a tenth of Django's body limit.
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a": ' * 100_000 + "1" + "}" * 100_000


@pytest.fixture
def shop(admin_settings):
    shop = installed_shop(ALICE, "Alice")
    factories.member(shop, customer_id=5)
    return shop


def endpoints(shop) -> list[tuple[str, str]]:
    reward = Reward.objects.create(shop=shop, kind="amount_off", points_cost=500, value="5")
    return [
        ("PUT", "/api/admin/program"),
        ("POST", "/api/admin/program/preview"),
        ("PUT", "/api/admin/widget"),
        ("POST", "/api/admin/rewards"),
        ("PATCH", f"/api/admin/rewards/{reward.pk}"),
        ("POST", "/api/admin/members/5/adjustments"),
    ]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_too_deep_is_a_400_naming_the_body(client, shop, body):
    for method, path in endpoints(shop):
        answer = client.generic(
            method, path, body, content_type="application/json", headers=as_merchant()
        )

        assert answer.status_code == 400, (method, path)
        assert list(answer.json()["errors"]) == ["body"], (method, path)
    assert Reward.objects.count() == 1
    assert LedgerEntry.objects.count() == 0
    assert not Program.objects.exclude(points_per_unit=1).exists()
    assert not WidgetSettings.objects.exclude(accent_color="#1f5199").exists()


def test_a_number_no_decimal_can_hold_is_a_400_naming_the_body(client, shop):
    """Money and rates are read as Decimals, whose exponent cannot reach -9999999999999999999."""
    number = "1e-9999999999999999999"
    for method, path, body in [
        ("PUT", "/api/admin/program", f'{{"points_per_unit": {number}}}'),
        ("POST", "/api/admin/program/preview", f'{{"order": {{"subtotal": {number}}}}}'),
        (
            "POST",
            "/api/admin/rewards",
            f'{{"kind": "amount_off", "points_cost": 5, "value": {number}}}',
        ),
    ]:
        answer = client.generic(
            method, path, body, content_type="application/json", headers=as_merchant()
        )

        assert answer.status_code == 400, (method, path)
        assert list(answer.json()["errors"]) == ["body"], (method, path)
    assert not Reward.objects.exists()
