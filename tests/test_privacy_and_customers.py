"""Customer webhooks and Shopify's mandatory privacy topics."""

import json

import pytest

from loyalty.models import LedgerEntry, Member, Order, PrivacyRequest, Shop
from tests import factories
from tests.factories import order_payload
from tests.test_webhook_intake import SHOP, post, process_all
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def customer(customer_id=1001, email="ada@example.com", updated_at="2026-11-01T10:00:00Z", **kw):
    return {
        "id": customer_id,
        "email": email,
        "first_name": kw.get("first_name", "Ada"),
        "last_name": "Lovelace",
        "updated_at": updated_at,
    }


def test_customer_create_makes_a_member_and_awards_the_signup_bonus_once(client):
    factories.shop(SHOP, signup_points=50)
    post(client, "customers/create", customer())
    post(client, "customers/create", customer())  # redelivered under a new id
    process_all()
    member = Member.objects.get(customer_id=1001)
    assert (member.balance, member.email) == (50, "ada@example.com")
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_no_signup_bonus_by_default(client):
    post(client, "customers/create", customer())
    process_all()
    assert Member.objects.get(customer_id=1001).balance == 0


def test_customer_update_keeps_details_current_and_ignores_older_updates(client):
    post(client, "customers/create", customer())
    post(
        client,
        "customers/update",
        customer(email="new@example.com", updated_at="2026-11-05T00:00:00Z"),
    )
    post(
        client,
        "customers/update",
        customer(email="stale@example.com", updated_at="2026-11-02T00:00:00Z"),
    )
    process_all()
    assert Member.objects.get(customer_id=1001).email == "new@example.com"


def test_data_request_assembles_an_export(client):
    post(client, "orders/paid", order_payload(subtotal="25.00"))
    post(
        client,
        "customers/data_request",
        {
            "shop_id": 1,
            "shop_domain": SHOP,
            "orders_requested": [5001],
            "customer": {"id": 1001, "email": "c1001@example.com", "phone": ""},
            "data_request": {"id": 9999},
        },
    )
    process_all()
    request = PrivacyRequest.objects.get()
    assert request.shopify_request_id == 9999
    assert request.export["member"]["balance"] == 25
    assert request.export["member"]["email"] == "c1001@example.com"
    assert [e["points"] for e in request.export["ledger"]] == [25]
    assert request.export["orders"][0]["order_id"] == 5001


def test_customer_redact_erases_identity_and_keeps_totals(client):
    post(client, "orders/paid", order_payload(subtotal="25.00"))
    process_all()
    post(
        client,
        "customers/redact",
        {
            "shop_id": 1,
            "shop_domain": SHOP,
            "customer": {"id": 1001, "email": "c1001@example.com", "phone": "555"},
            "orders_to_redact": [5001],
        },
        webhook_id="redact",
    )
    process_all()
    member = Member.objects.get(customer_id=1001)
    assert (member.email, member.first_name, member.last_name) == ("", "", "")
    assert member.redacted_at is not None and member.balance == 25
    for delivery in Delivery.objects.all():
        assert b"c1001@example.com" not in bytes(delivery.body)
    # A late order webhook never brings the personal data back.
    post(client, "orders/updated", order_payload(subtotal="25.00"))
    process_all()
    assert Member.objects.get(customer_id=1001).email == ""


def test_shop_redact_deletes_everything_for_the_shop(client):
    other = factories.shop("bob.myshopify.com")
    factories.member(other, 1)
    post(client, "orders/paid", order_payload())
    process_all()
    post(client, "shop/redact", {"shop_id": 1, "shop_domain": SHOP}, webhook_id="gone")
    process_all()
    assert not Shop.objects.filter(domain=SHOP).exists()
    assert not Order.objects.filter(shop__domain=SHOP).exists()
    assert list(Delivery.objects.values_list("webhook_id", flat=True)) == ["gone"]
    assert json.loads(bytes(Delivery.objects.get().body))["shop_domain"] == SHOP
    assert Member.objects.filter(shop=other).count() == 1


def test_app_uninstalled_drops_tokens_and_stops_processing(client):
    shop = factories.shop(SHOP)
    shop.access_token_encrypted = "x"
    shop.refresh_token_encrypted = "y"
    shop.save()
    post(client, "app/uninstalled", {"id": 1, "domain": SHOP}, webhook_id="bye")
    process_all()
    shop.refresh_from_db()
    assert shop.uninstalled_at is not None
    assert (shop.access_token_encrypted, shop.refresh_token_encrypted) == ("", "")
    post(client, "orders/paid", order_payload(), webhook_id="after")
    process_all()
    assert Delivery.objects.get(webhook_id="after").status == "skipped"


def test_customer_redact_removes_the_buyer_hashes_behind_repeat_purchases(client):
    """The dashboard keeps its counts, but no hash of the customer or of their email stays:
    an unsalted hash of an email address is found again by hashing guesses."""
    from loyalty.models import BuyerFirstOrder, DailyFigures
    from loyalty.stats.orders import buyer_key

    post(client, "orders/paid", order_payload(order_id=5001, subtotal="25.00"))
    post(client, "orders/paid", order_payload(order_id=5002, subtotal="30.00"))
    # The same person checking out as a guest, and an unrelated guest.
    post(
        client,
        "orders/paid",
        order_payload(order_id=5003, customer_id=None, email="C1001@example.com"),
    )
    post(
        client, "orders/paid", order_payload(order_id=5004, customer_id=None, email="x@example.com")
    )
    process_all()
    theirs = {
        buyer_key(customer_id=1001, email=""),
        buyer_key(customer_id=None, email="c1001@example.com"),
    }
    assert set(BuyerFirstOrder.objects.values_list("buyer", flat=True)) >= theirs
    orders_before = sum(DailyFigures.objects.values_list("member_orders", flat=True)) + sum(
        DailyFigures.objects.values_list("nonmember_orders", flat=True)
    )

    post(
        client,
        "customers/redact",
        {
            "shop_id": 1,
            "shop_domain": SHOP,
            "customer": {"id": 1001, "email": "c1001@example.com", "phone": "555"},
            "orders_to_redact": [5001, 5002],
        },
        webhook_id="redact",
    )
    process_all()

    remaining = set(BuyerFirstOrder.objects.values_list("buyer", flat=True))
    assert remaining == {buyer_key(customer_id=None, email="x@example.com")}
    assert set(Order.objects.exclude(buyer="").values_list("order_id", flat=True)) == {5004}
    orders_after = sum(DailyFigures.objects.values_list("member_orders", flat=True)) + sum(
        DailyFigures.objects.values_list("nonmember_orders", flat=True)
    )
    assert orders_after == orders_before == 4
