"""Operator tools: the deliveries command, check_ledger, and privacy exports in the admin."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from loyalty.models import Member, PrivacyRequest
from loyalty.services.privacy import customer_data_export
from tests import factories
from tests.factories import order_payload
from tests.shopify_signing import session_token
from tests.test_embedded_admin import installed_shop
from tests.test_webhook_intake import post, process_all
from webhooks.models import Delivery, Status

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_deliveries_list_replay_and_dismiss(client, monkeypatch):
    post(client, "orders/paid", None, raw=b"not json", webhook_id="bad-1")
    post(client, "orders/paid", None, raw=b"also not json", webhook_id="bad-2")
    process_all()
    listing = run("deliveries", "list", "--status", "failed")
    assert listing.count("failed") == 2 and "not valid JSON" in listing

    sent = []
    monkeypatch.setattr("webhooks.management.commands.deliveries.delivery_enqueue", sent.append)
    bad_1 = Delivery.objects.get(webhook_id="bad-1")
    run("deliveries", "replay", str(bad_1.pk))
    assert sent == [bad_1.pk]
    bad_1.refresh_from_db()
    assert bad_1.status == Status.RECEIVED

    bad_2 = Delivery.objects.get(webhook_id="bad-2")
    run("deliveries", "dismiss", str(bad_2.pk), "--why", "a partner's test payload")
    bad_2.refresh_from_db()
    assert bad_2.status == Status.DISMISSED and "partner's test" in bad_2.last_error
    assert "bad-2" not in run("deliveries", "list")


def test_check_ledger_reports_drift(client):
    post(client, "orders/paid", order_payload(subtotal="10.00"))
    process_all()
    assert "0 members drifted" in run("check_ledger")
    # Drift only a bug or a hand edit could make (the database refuses it at commit on
    # PostgreSQL; inside this test's transaction the commit never comes).
    Member.objects.filter(customer_id=1001).update(balance=11)
    with pytest.raises(CommandError, match="1 members"):
        run("check_ledger", "--shop", "alice.myshopify.com")
    if connection.vendor == "postgresql":
        # The member's balance must be its newest entry's: the commit would be refused.
        with (
            pytest.raises(IntegrityError, match="member_balance_is_newest_entry"),
            transaction.atomic(),
        ):
            connection.check_constraints()
    Member.objects.filter(customer_id=1001).update(balance=10)


def test_merchant_downloads_a_data_request_export_and_no_other_shops(client, admin_settings):
    alice = installed_shop("alice.myshopify.com", "Alice")
    bob = installed_shop("bob.myshopify.com", "Bob")
    factories.member(alice, 1001, email="ada@example.com")
    request = customer_data_export(shop=alice, customer_id=1001, shopify_request_id=77)
    as_alice = {"Authorization": f"Bearer {session_token(shop='alice.myshopify.com')}"}
    as_bob = {"Authorization": f"Bearer {session_token(shop='bob.myshopify.com')}"}

    listing = client.get("/api/admin/privacy-requests", headers=as_alice).json()["requests"]
    assert [(r["id"], r["customer_id"], r["shopify_request_id"]) for r in listing] == [
        (request.pk, "1001", 77)
    ]
    export = client.get(listing[0]["export_url"], headers=as_alice)
    assert export.status_code == 200
    assert export.json()["member"]["email"] == "ada@example.com"
    assert "attachment" in export["Content-Disposition"]

    assert client.get("/api/admin/privacy-requests", headers=as_bob).json() == {"requests": []}
    assert client.get(listing[0]["export_url"], headers=as_bob).status_code == 404
    assert client.get(listing[0]["export_url"]).status_code == 401
    assert PrivacyRequest.objects.filter(shop=bob).count() == 0
