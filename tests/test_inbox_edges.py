"""The inbox's edges: backlogs around an uninstall, lost job messages, a hanging broker,
big bodies, long ids, failures only the commit would see, and late redactions."""

import json
import socket
import threading
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.utils import timezone

from config import jobs
from loyalty.models import Member, Shop
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload
from tests.test_webhook_intake import SHOP, post, process_all
from webhooks import processing
from webhooks.models import Delivery, Status
from webhooks.tasks import delivery_enqueue

pytestmark = pytest.mark.django_db


def test_order_stored_before_an_uninstall_is_still_credited_when_processed_after(client):
    post(client, "orders/paid", order_payload(subtotal="30.00"), webhook_id="before")
    shop = factories.shop(SHOP)
    shop.uninstalled_at = timezone.now()
    shop.save()
    post(client, "orders/paid", order_payload(order_id=2, subtotal="5.00"), webhook_id="after")
    process_all()
    assert Delivery.objects.get(webhook_id="before").status == Status.PROCESSED
    assert Delivery.objects.get(webhook_id="after").status == Status.SKIPPED
    assert Member.objects.get(customer_id=1001).balance == 30


def test_sweeper_resends_a_lost_message_even_behind_a_backlog(client, monkeypatch):
    for name in ("lost", "done", "waiting"):
        post(client, "orders/paid", order_payload(), webhook_id=name)
    t0 = timezone.now() - timedelta(minutes=10)
    Delivery.objects.filter(webhook_id="lost").update(received_at=t0)
    Delivery.objects.filter(webhook_id="done").update(
        received_at=t0 + timedelta(minutes=2),
        status=Status.PROCESSED,
        processed_at=t0 + timedelta(minutes=3),
    )
    Delivery.objects.filter(webhook_id="waiting").update(received_at=t0 + timedelta(minutes=2))
    monkeypatch.setattr(processing, "outstanding_messages", lambda queue: 5000)  # a backlog
    sent: list[int] = []
    assert processing.deliveries_sweep(send=sent.append) == 1
    assert sent == [Delivery.objects.get(webhook_id="lost").pk]


def test_sweeper_leaves_a_backlog_alone_until_the_workers_pass_it(client, monkeypatch):
    post(client, "orders/paid", order_payload(), webhook_id="w")
    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(processing, "outstanding_messages", lambda queue: 4)
    assert processing.deliveries_sweep(send=lambda pk: None, now=later) == 0
    monkeypatch.setattr(processing, "outstanding_messages", lambda queue: 0)
    assert processing.deliveries_sweep(send=lambda pk: None, now=later) == 1


def test_a_delivery_sent_again_is_not_sent_again_while_its_new_job_waits_its_turn(
    client, monkeypatch
):
    # The sweeper's re-send joins the back of a backlog: until the workers get past what
    # was received after the re-send, it is waiting, not lost.
    for name in ("lost", "done"):
        post(client, "orders/paid", order_payload(), webhook_id=name)
    t0 = timezone.now() - timedelta(minutes=10)
    Delivery.objects.filter(webhook_id="lost").update(received_at=t0)
    Delivery.objects.filter(webhook_id="done").update(
        received_at=t0 + timedelta(minutes=2),
        status=Status.PROCESSED,
        processed_at=t0 + timedelta(minutes=3),
    )
    monkeypatch.setattr(processing, "outstanding_messages", lambda queue: 5000)
    now = timezone.now()
    sent: list[int] = []

    processing.deliveries_sweep(send=sent.append, now=now)
    # A minute later the workers are past deliveries received at t0 + 8 min, before the
    # re-send: the re-sent job is still waiting behind them.
    Delivery.objects.filter(webhook_id="done").update(received_at=t0 + timedelta(minutes=8))
    processing.deliveries_sweep(send=sent.append, now=now + timedelta(minutes=1))
    assert len(sent) == 1
    # Once they are past what came in more than a minute after the re-send, it was lost too.
    Delivery.objects.filter(webhook_id="done").update(received_at=now + timedelta(minutes=2))
    processing.deliveries_sweep(send=sent.append, now=now + timedelta(minutes=4))
    assert sent == [Delivery.objects.get(webhook_id="lost").pk] * 2


def test_a_replayed_delivery_counts_from_its_replay():
    shop = factories.shop(SHOP)
    delivery = Delivery.objects.create(
        shop_domain=shop.domain,
        topic="orders/paid",
        webhook_id="replayed",
        body=b"{}",
        received_at=timezone.now() - timedelta(days=1),
        status=Status.FAILED,
    )

    processing.delivery_replay(delivery=delivery, send=lambda pk: None)

    delivery.refresh_from_db()
    assert delivery.status == Status.RECEIVED
    assert timezone.now() - delivery.resent_at < timedelta(seconds=5)


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_hung_redis_times_out_instead_of_holding_the_request(silent_server):
    import redis

    with override_settings(DRAMATIQ_BROKER_URL=f"redis://127.0.0.1:{silent_server}/0"):
        broker = jobs._make_broker()
    with pytest.raises(redis.exceptions.TimeoutError):
        broker.client.ping()


def test_intake_stops_trying_a_failed_broker_for_a_while(monkeypatch):
    calls: list[object] = []

    def failing_enqueue(message, **kwargs):
        calls.append(message)
        raise ConnectionError("broker down")

    monkeypatch.setattr("webhooks.tasks._broker_paused_until", 0.0)
    monkeypatch.setattr(jobs.broker, "enqueue", failing_enqueue)
    assert delivery_enqueue(1) is False
    assert delivery_enqueue(2) is False
    assert len(calls) == 1  # the second did not wait on the broker at all


def test_a_large_signed_delivery_is_stored(client):
    payload = order_payload()
    payload["note"] = "x" * (4 * 1024 * 1024)
    assert post(client, "orders/paid", payload, webhook_id="big").status_code == 200
    assert Delivery.objects.filter(webhook_id="big").exists()


def test_a_long_event_id_is_stored(client):
    assert post(client, "orders/paid", order_payload(), event_id="e" * 300).status_code == 200
    assert len(Delivery.objects.get().event_id) == 128


def test_members_without_entries_are_not_drift(client):
    from loyalty.selectors import ledger_drift

    post(client, "customers/create", {"id": 7, "email": "a@example.com"})
    post(client, "orders/create", order_payload(customer_id=8, financial_status="pending"))
    process_all()
    assert Member.objects.count() == 2
    assert ledger_drift(shop=Shop.objects.get(domain=SHOP)) == []


@needs_postgres
def test_a_failure_only_the_commit_would_see_is_recorded_on_the_delivery(client, monkeypatch):
    def corrupting_handler(*, shop, payload, delivery):
        member = factories.member(shop, 55)
        from loyalty.services.ledger import points_record

        points_record(member=member, points=5, reason="signup_bonus", idempotency_key="k")
        Member.objects.filter(pk=member.pk).update(balance=6)  # out of step with its ledger

    monkeypatch.setitem(processing.HANDLERS, "orders/paid", corrupting_handler)
    post(client, "orders/paid", order_payload(), webhook_id="bad")
    process_all()
    delivery = Delivery.objects.get(webhook_id="bad")
    assert delivery.status == Status.FAILED
    assert "member_balance_is_newest_entry" in delivery.last_error
    assert not Member.objects.filter(customer_id=55).exists()


def test_redaction_before_the_customer_is_seen_keeps_their_data_out(client):
    post(
        client,
        "customers/redact",
        {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1001}, "orders_to_redact": []},
    )
    process_all()
    post(client, "orders/paid", order_payload(subtotal="12.00"), webhook_id="late")
    process_all()
    member = Member.objects.get(customer_id=1001)
    assert (member.email, member.balance) == ("", 12)
    assert b"c1001@example.com" not in bytes(Delivery.objects.get(webhook_id="late").body)
    assert json.loads(bytes(Delivery.objects.get(webhook_id="late").body)) == {"redacted": True}


def test_deploying_with_the_demo_secrets_is_refused(settings):
    settings.APP_URL = "https://loyalty.example.com"
    assert {e.id for e in run_checks()} >= {"perennial.E001"}
    settings.SECRET_KEY = "a-real-secret-" + "x" * 40
    settings.SHOPIFY_API_SECRET = "shpss_" + "y" * 32
    assert "perennial.E001" not in {e.id for e in run_checks()}


def test_redaction_scrubs_failed_deliveries_that_never_named_their_customer(client):
    broken = order_payload(subtotal="10.00")
    broken["current_subtotal_price_set"]["shop_money"]["amount"] = "garbled"
    post(client, "orders/paid", broken, webhook_id="failed-order")
    other = order_payload(order_id=77, customer_id=2002)
    other["current_subtotal_price_set"]["shop_money"]["amount"] = "garbled"
    post(client, "orders/paid", other, webhook_id="someone-else")
    process_all()
    assert Delivery.objects.get(webhook_id="failed-order").status == Status.FAILED
    post(
        client,
        "customers/redact",
        {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1001}, "orders_to_redact": []},
    )
    process_all()
    assert bytes(Delivery.objects.get(webhook_id="failed-order").body) == b'{"redacted": true}'
    assert b"c2002@example.com" in bytes(Delivery.objects.get(webhook_id="someone-else").body)
