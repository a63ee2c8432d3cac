"""The embedded admin's deliveries API: a shop's failed webhooks, and replaying one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop
from webhooks.models import Delivery, Status
from webhooks.processing import delivery_process

pytestmark = pytest.mark.django_db

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "webhooks/handlers/orders.py", line 12, in order_paid\n'
    "KeyError: 'line_items'\n"
)


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


@pytest.fixture
def sent(monkeypatch):
    """The delivery ids sent to the workers."""
    ids: list[int] = []
    monkeypatch.setattr("webhooks.admin_api.delivery_enqueue", ids.append)
    return ids


def delivery(shop_domain=ALICE, status=Status.FAILED, minutes_ago=0, **fields) -> Delivery:
    received_at = timezone.now() - timedelta(minutes=minutes_ago)
    return Delivery.objects.create(
        shop_domain=shop_domain,
        topic=fields.pop("topic", "orders/paid"),
        webhook_id=f"w-{Delivery.objects.count() + 1}",
        body=fields.pop("body", b"{}"),
        received_at=received_at,
        status=status,
        **fields,
    )


def listed(client, shop=ALICE, **params):
    response = client.get("/api/admin/deliveries", params, headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()["deliveries"]


def test_the_shops_failed_deliveries_newest_first_with_the_errors_last_line(client, shops):
    retry_at = timezone.now() + timedelta(minutes=4)
    older = delivery(minutes_ago=30, attempts=3, last_error=TRACEBACK, next_attempt_at=retry_at)
    newer = delivery(minutes_ago=5, topic="refunds/create", attempts=1, last_error="ValueError: x")
    delivery(status=Status.PROCESSED)
    delivery(shop_domain=BOB, last_error="KeyError: 'id'")

    assert listed(client) == [
        {
            "id": newer.pk,
            "topic": "refunds/create",
            "status": "failed",
            "attempts": 1,
            "last_error": "ValueError: x",
            "received_at": newer.received_at.isoformat(),
            "next_attempt_at": None,
        },
        {
            "id": older.pk,
            "topic": "orders/paid",
            "status": "failed",
            "attempts": 3,
            "last_error": "KeyError: 'line_items'",
            "received_at": older.received_at.isoformat(),
            "next_attempt_at": retry_at.isoformat(),
        },
    ]
    assert [d["status"] for d in listed(client, status="processed")] == ["processed"]
    assert listed(client, status="dismissed") == []
    assert [d["last_error"] for d in listed(client, shop=BOB)] == ["KeyError: 'id'"]


def test_at_most_a_hundred_deliveries_are_listed(client, shops):
    Delivery.objects.bulk_create(
        Delivery(
            shop_domain=ALICE,
            topic="orders/paid",
            webhook_id=f"bulk-{n}",
            body=b"{}",
            received_at=timezone.now() - timedelta(seconds=n),
            status=Status.FAILED,
        )
        for n in range(105)
    )
    found = listed(client)
    assert len(found) == 100
    newest = Delivery.objects.get(webhook_id="bulk-0")
    assert found[0]["id"] == newest.pk


def test_an_unknown_status_is_refused(client, shops):
    response = client.get("/api/admin/deliveries", {"status": "lost"}, headers=as_merchant())
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_replaying_a_failed_delivery_sends_it_to_the_workers_again(client, shops, sent):
    # A delivery that failed for good: its retries are over.
    failed = delivery(topic="app/unknown", attempts=8, last_error=TRACEBACK)

    response = client.post(f"/api/admin/deliveries/{failed.pk}/replay", headers=as_merchant())

    assert response.status_code == 202
    assert response.json()["status"] == "received"
    assert sent == [failed.pk]
    failed.refresh_from_db()
    assert (failed.status, failed.next_attempt_at) == (Status.RECEIVED, None)
    # The worker that takes the message processes it once more.
    delivery_process(failed.pk)
    failed.refresh_from_db()
    assert failed.attempts == 9


def test_a_processed_delivery_is_not_replayed(client, shops, sent):
    done = delivery(status=Status.PROCESSED)

    response = client.post(f"/api/admin/deliveries/{done.pk}/replay", headers=as_merchant())

    assert response.status_code == 409
    assert list(response.json()["errors"]) == ["status"]
    assert sent == []


def test_another_shop_cannot_see_or_replay_a_delivery(client, shops, sent):
    alices = delivery(last_error=TRACEBACK)

    assert listed(client, shop=BOB) == []
    response = client.post(f"/api/admin/deliveries/{alices.pk}/replay", headers=as_merchant(BOB))
    assert response.status_code == 404
    assert (
        client.post("/api/admin/deliveries/999999/replay", headers=as_merchant()).status_code == 404
    )
    assert sent == []
    alices.refresh_from_db()
    assert alices.status == Status.FAILED


def test_without_a_session_token_the_deliveries_api_asks_for_a_new_one(client, shops, sent):
    failed = delivery()
    for response in [
        client.get("/api/admin/deliveries"),
        client.post(f"/api/admin/deliveries/{failed.pk}/replay"),
    ]:
        assert response.status_code == 401
        assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert sent == []
