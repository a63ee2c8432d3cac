"""Webhook intake and processing, through Django's test client and the stored inbox."""

import json

import pytest
from django.test import Client, override_settings

from config.jobs import broker
from loyalty.models import Member, Shop
from standin.signing import webhook_headers
from tests.factories import order_payload, refund_payload
from webhooks.models import Delivery, Status
from webhooks.processing import deliveries_sweep, delivery_process

pytestmark = pytest.mark.django_db

SHOP = "alice.myshopify.com"


def post(client, topic, payload, *, secret=None, raw=None, **ids):
    from django.conf import settings

    body = raw if raw is not None else json.dumps(payload).encode()
    headers = webhook_headers(
        topic=topic, shop=SHOP, body=body, secret=secret or settings.SHOPIFY_API_SECRET, **ids
    )
    return client.post(
        "/webhooks",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def process_all():
    for pk in Delivery.objects.filter(status=Status.RECEIVED).values_list("pk", flat=True):
        delivery_process(pk)


def balance(customer_id=1001):
    return Member.objects.get(shop__domain=SHOP, customer_id=customer_id).balance


def test_signed_order_is_stored_acknowledged_and_credited(client: Client):
    response = post(client, "orders/create", order_payload(subtotal="42.00"), webhook_id="w1")
    assert response.status_code == 200
    delivery = Delivery.objects.get(webhook_id="w1")
    assert (delivery.topic, delivery.shop_domain, delivery.status) == (
        "orders/create",
        SHOP,
        Status.RECEIVED,
    )
    assert json.loads(bytes(delivery.body))["id"] == 5001
    assert delivery.event_id and delivery.api_version == "2026-10" and delivery.triggered_at
    process_all()
    delivery.refresh_from_db()
    assert delivery.status == Status.PROCESSED
    assert (delivery.order_id, delivery.customer_id) == (5001, 1001)
    assert balance() == 42


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_forged_or_unsigned_delivery_gets_401_and_is_not_stored(client: Client, signature):
    body = json.dumps(order_payload()).encode()
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": SHOP}
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    response = client.post("/webhooks", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert Delivery.objects.count() == 0


def test_delivery_signed_with_another_secret_is_refused(client: Client):
    response = post(client, "orders/create", order_payload(), secret="not-our-secret")
    assert response.status_code == 401
    assert Delivery.objects.count() == 0


@override_settings(SHOPIFY_API_SECRET_PREVIOUS="the-old-secret")
def test_previous_secret_is_accepted_during_rotation(client: Client):
    assert (
        post(client, "orders/create", order_payload(), secret="the-old-secret").status_code == 200
    )
    assert Delivery.objects.count() == 1


def test_tampered_body_is_refused(client: Client):
    from django.conf import settings

    body = json.dumps(order_payload(subtotal="1.00")).encode()
    headers = webhook_headers(
        topic="orders/create", shop=SHOP, body=body, secret=settings.SHOPIFY_API_SECRET
    )
    tampered = body.replace(b'"1.00"', b'"9999.00"')
    response = client.post(
        "/webhooks",
        data=tampered,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 401


def test_same_delivery_five_times_is_stored_and_credited_once(client: Client):
    for _ in range(5):
        assert (
            post(client, "orders/paid", order_payload(), webhook_id="w1", event_id="e1").status_code
            == 200
        )
    assert Delivery.objects.count() == 1
    process_all()
    assert balance() == 100


def test_same_event_under_a_new_webhook_id_is_a_duplicate(client: Client):
    post(client, "orders/paid", order_payload(), webhook_id="w1", event_id="e1")
    post(client, "orders/paid", order_payload(), webhook_id="w2", event_id="e1")
    assert Delivery.objects.count() == 1
    # The same event id on another topic is another event.
    post(client, "orders/updated", order_payload(), webhook_id="w3", event_id="e1")
    assert Delivery.objects.count() == 2
    process_all()
    assert balance() == 100


def test_malformed_signed_body_is_kept_visible_and_acknowledged(client: Client):
    response = post(client, "orders/create", None, raw=b"{not json", webhook_id="bad")
    assert response.status_code == 200
    process_all()
    delivery = Delivery.objects.get(webhook_id="bad")
    assert delivery.status == Status.FAILED
    assert "not valid JSON" in delivery.last_error
    assert delivery.attempts == 1 and delivery.next_attempt_at is not None
    assert bytes(delivery.body) == b"{not json"


def test_payload_a_handler_cannot_process_is_kept_with_its_error(client: Client):
    payload = order_payload()
    payload["current_subtotal_price_set"]["shop_money"]["amount"] = "lots"
    post(client, "orders/paid", payload, webhook_id="w1")
    process_all()
    delivery = Delivery.objects.get(webhook_id="w1")
    assert delivery.status == Status.FAILED
    assert "not an amount" in delivery.last_error
    assert not Member.objects.exists()  # the handler's writes rolled back


def test_unknown_topic_is_stored_and_acknowledged(client: Client):
    assert post(client, "products/create", {"id": 1}, webhook_id="p1").status_code == 200
    process_all()
    delivery = Delivery.objects.get(webhook_id="p1")
    assert delivery.status == Status.PROCESSED
    assert "no handler" in delivery.last_error


def test_refund_before_order_over_http(client: Client):
    post(client, "refunds/create", refund_payload(lines=[("50.00", "0.00")]))
    post(client, "orders/paid", order_payload(subtotal="80.00"))
    process_all()
    assert balance() == 30


def test_sweeper_resends_stale_received_and_due_failed_deliveries(client: Client):
    from datetime import timedelta

    from django.utils import timezone

    post(client, "orders/paid", order_payload(), webhook_id="lost")
    post(client, "orders/paid", None, raw=b"oops", webhook_id="broken")
    delivery_process(Delivery.objects.get(webhook_id="broken").pk)
    broker.flush_all()  # the job messages are lost (a broker restart)
    sent: list[int] = []
    assert deliveries_sweep(send=sent.append) == 0  # nothing stale yet
    later = timezone.now() + timedelta(minutes=5)
    assert deliveries_sweep(send=sent.append, now=later) == 2
    assert set(sent) == set(Delivery.objects.values_list("pk", flat=True))
    # Neither is sent again on the next sweep while its new job is under way ...
    assert deliveries_sweep(send=sent.append, now=later) == 0
    # ... but a received one whose new job is lost as well goes again once that is plain.
    assert deliveries_sweep(send=sent.append, now=later + timedelta(minutes=2)) == 1


def test_uninstalled_shop_deliveries_are_skipped_but_kept(client: Client):
    Shop.objects.create(domain=SHOP, uninstalled_at="2026-11-01T00:00:00Z")
    post(client, "orders/paid", order_payload(), webhook_id="late")
    process_all()
    delivery = Delivery.objects.get(webhook_id="late")
    assert delivery.status == Status.SKIPPED
    assert not Member.objects.exists()
