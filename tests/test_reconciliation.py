"""Missed webhooks: the hourly reconciliation reads the orders back from Shopify (the
stand-in's `orders` query) and applies those whose webhooks never arrived, exactly once,
whatever arrives afterwards."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from loyalty.earning.orders import order_facts
from loyalty.models import LedgerEntry, Member, Order, OrderProduct, Reason, ReconciliationRun
from loyalty.services import reconciliation
from loyalty.services.programs import program_for
from loyalty.services.reconciliation import ORDER_QUERY, orders_reconcile, orders_reconcile_all
from loyalty.shopify import admin_api
from standin.orders import order_record
from standin.signing import webhook_headers
from standin.throttle import fault_from
from tests.factories import order_payload, refund_payload
from tests.test_admin_api_client import waits  # noqa: F401 - autouse: waits not slept
from tests.test_oauth_and_tokens import graphql_calls, install, shopify  # noqa: F401
from webhooks.models import Delivery, Status
from webhooks.processing import delivery_process

pytestmark = pytest.mark.django_db

ALICE = "alice.myshopify.com"
BOB = "bob.myshopify.com"


def installed(shopify, domain=ALICE):  # noqa: F811
    shop = install(domain)
    with shopify.state.lock:
        shopify.state.calls.clear()
    return shop


def order(order_id=5001, customer_id=1001, subtotal="100.00", **options) -> dict:
    # Placed now: the Admin API reads only the last 60 days' orders.
    options.setdefault("created_at", timezone.now().replace(microsecond=0).isoformat())
    return order_payload(order_id, customer_id, subtotal, **options)


def happen(client, shopify, topic, payload, *, lose=False, shop=ALICE):  # noqa: F811
    """Something happens at Shopify: the order changes there and its webhook reaches the
    app (stored, then processed as the worker does), or is lost."""
    body = order_record(shopify.state, shop, topic, payload)
    if not lose:
        deliver(client, topic, body, shop=shop)


def deliver(client, topic, body, *, shop=ALICE):
    from django.conf import settings

    raw = json.dumps(body).encode()
    headers = webhook_headers(topic=topic, shop=shop, body=raw, secret=settings.SHOPIFY_API_SECRET)
    response = client.post(
        "/webhooks",
        data=raw,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200, response.content
    for pk in Delivery.objects.filter(status=Status.RECEIVED).values_list("pk", flat=True):
        delivery_process(pk)


def program_update_hold(shop, days: int) -> None:
    program = program_for(shop=shop)
    program.hold_days = days
    program.save()


def later(minutes=15):
    # Runs read up to 10 minutes before their `now`: an order just changed is not yet due.
    return timezone.now() + timedelta(minutes=minutes)


def balance(customer_id=1001, shop=ALICE) -> tuple[int, int]:
    member = Member.objects.get(shop__domain=shop, customer_id=customer_id)
    return member.balance, member.pending


def entries(shop=ALICE) -> list[tuple[str, int, int, str, str]]:
    return list(
        LedgerEntry.objects.filter(shop__domain=shop)
        .order_by("pk")
        .values_list("reason", "points", "pending_points", "idempotency_key", "actor")
    )


def test_a_lost_orders_create_is_credited_by_the_next_run_exactly(client, shopify):  # noqa: F811
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(subtotal="123.45"), lose=True)
    assert not Member.objects.exists()

    run = orders_reconcile(shop=shop, now=later())

    assert balance() == (123, 0)
    assert entries() == [
        (Reason.ORDER_EARNED, 123, 0, "order:5001:earned", "reconciliation"),
    ]
    assert (run.orders_read, run.repaired, run.points_credited, run.points_reversed) == (
        1,
        1,
        123,
        0,
    )
    assert run.complete and run.errors == 0 and run.finished_at is not None
    assert Order.objects.get(order_id=5001).name == "#6001"


def test_the_webhook_arriving_afterwards_and_a_second_run_change_nothing(client, shopify):  # noqa: F811
    shop = installed(shopify)
    payload = order(subtotal="80.00")
    happen(client, shopify, "orders/create", payload, lose=True)
    orders_reconcile(shop=shop, now=later())

    # Shopify's retry of the lost delivery finally gets through.
    deliver(client, "orders/create", shopify.state.orders[(ALICE, 5001)])
    second = orders_reconcile(shop=shop, now=later(75))

    assert balance() == (80, 0)
    assert len(entries()) == 1
    assert Delivery.objects.get().status == Status.PROCESSED
    assert (second.orders_read, second.repaired, second.points_credited) == (1, 0, 0)


def test_a_lost_refund_is_reversed_once_and_its_late_webhook_changes_nothing(client, shopify):  # noqa: F811
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(subtotal="100.00"))
    refund = refund_payload(lines=(("30.00", "0.00"),))
    happen(client, shopify, "refunds/create", refund, lose=True)
    assert balance() == (100, 0)

    run = orders_reconcile(shop=shop, now=later())
    deliver(client, "refunds/create", refund)

    assert balance() == (70, 0)
    assert entries()[1:] == [
        (Reason.ORDER_REFUNDED, -30, 0, "order:5001:refund:9001", "reconciliation"),
    ]
    assert (run.repaired, run.points_credited, run.points_reversed) == (1, 0, 30)


def test_a_lost_cancellation_takes_back_what_the_order_still_holds(client, shopify):  # noqa: F811
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(subtotal="60.00"))
    happen(client, shopify, "refunds/create", refund_payload(lines=(("10.00", "0.00"),)))
    cancelled = order(subtotal="60.00", cancelled=True, financial_status="refunded")
    happen(client, shopify, "orders/cancelled", cancelled, lose=True)

    run = orders_reconcile(shop=shop, now=later())

    assert balance() == (0, 0)
    assert entries()[-1] == (
        Reason.ORDER_CANCELLED,
        -50,
        0,
        "order:5001:cancelled",
        "reconciliation",
    )
    assert run.points_reversed == 50


def test_an_order_and_its_refund_both_lost_end_where_the_webhooks_would(client, shopify):  # noqa: F811
    shop = installed(shopify, ALICE)
    # The shop holds points 14 days, the refund is lost too, and tax is included.
    program_update_hold(shop, 14)
    payload = order(subtotal="55.00", taxes_included=True, line_tax="5.00")
    happen(client, shopify, "orders/create", payload, lose=True)
    happen(client, shopify, "refunds/create", refund_payload(lines=(("11.00", "1.00"),)), lose=True)

    orders_reconcile(shop=shop, now=later())

    # 50 earned (55 less its 5 tax), then 10 of the 50 refunded: 40 pending, as webhooks do.
    assert balance() == (0, 40)
    assert [(e[0], e[2], e[3]) for e in entries()] == [
        (Reason.ORDER_EARNED, 50, "order:5001:earned"),
        (Reason.ORDER_REFUNDED, -10, "order:5001:refund:9001"),
    ]


def test_the_graphql_order_gives_the_same_facts_as_its_webhook(shopify):  # noqa: F811
    shop = installed(shopify)
    payload = order(
        subtotal="90.00",
        taxes_included=True,
        line_tax="15.00",
        discount_codes=["LOYAL-5"],
        note_attributes=[{"name": "referral_code", "value": "ada-1"}],
        source_name="pos",
        refunds=[refund_payload(lines=(("9.00", "1.50"),))],
        financial_status="partially_refunded",
    )
    order_record(shopify.state, ALICE, "orders/updated", payload)

    data = admin_api.admin_graphql(
        shop, ORDER_QUERY, {"id": "gid://shopify/Order/5001", "lines": reconciliation.LINES}
    )
    read_back = reconciliation.webhook_payload(data["order"])

    stored = shopify.state.orders[(ALICE, 5001)]
    assert order_facts(read_back) == order_facts(stored)
    assert order_facts(read_back).earning_base == Decimal("75.00")
    assert read_back["discount_codes"] == [{"code": "LOYAL-5"}]
    assert read_back["note_attributes"] == [{"name": "referral_code", "value": "ada-1"}]


def test_many_orders_are_read_page_by_page_and_only_the_lost_ones_applied(
    client,
    shopify,  # noqa: F811
    monkeypatch,
):
    shop = installed(shopify)
    monkeypatch.setattr(reconciliation, "PAGE_SIZE", 3)
    for n in range(7):
        happen(
            client, shopify, "orders/create", order(5001 + n, 1001 + n, "10.00"), lose=n % 3 == 0
        )
    with shopify.state.lock:
        shopify.state.calls.clear()

    run = orders_reconcile(shop=shop, now=later())

    listing = [c for c in graphql_calls(shopify, ALICE) if c["root_fields"] == ["orders"]]
    assert [c["variables"]["after"] is None for c in listing] == [True, False, False]
    assert (run.orders_read, run.repaired, run.points_credited) == (7, 3, 30)
    assert all(balance(1001 + n) == (10, 0) for n in range(7))
    assert LedgerEntry.objects.filter(actor="reconciliation").count() == 3


def test_throttled_and_429_answers_are_waited_out_and_the_run_completes(
    client,
    shopify,  # noqa: F811
    waits,  # noqa: F811
):
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(), lose=True)
    with shopify.state.lock:
        shopify.state.faults[ALICE] = [
            fault_from({"kind": "throttled", "count": 1, "operation": "orders"}),
            fault_from({"kind": "http_429", "count": 1, "seconds": 2, "operation": "order"}),
        ]

    run = orders_reconcile(shop=shop, now=later())

    assert run.complete and run.repaired == 1 and balance() == (100, 0)
    assert 2.0 in waits
    statuses = [(c["status"], c.get("fault")) for c in graphql_calls(shopify, ALICE)]
    assert statuses == [(200, "throttled"), (200, None), (429, "http_429"), (200, None)]


def test_a_run_shopify_keeps_failing_is_incomplete_and_the_next_reads_its_window_again(
    client,
    shopify,  # noqa: F811
):
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(), lose=True)
    with shopify.state.lock:
        shopify.state.faults[ALICE] = [fault_from({"kind": "http_503", "count": 5})]

    failed = orders_reconcile(shop=shop, now=later())
    retried = orders_reconcile(shop=shop, now=later(75))

    assert not failed.complete and failed.repaired == 0
    assert failed.error_text.startswith("stopped: Admin API answered HTTP 503")
    # No complete run yet: the second reads from as far back as the first (the install).
    assert retried.window_start == failed.window_start == shop.installed_at
    assert retried.complete and retried.repaired == 1 and balance() == (100, 0)


def test_the_next_window_starts_an_hour_before_the_last_complete_one_ended(shopify):  # noqa: F811
    shop = installed(shopify)
    now = timezone.now()
    shop.installed_at = now - timedelta(days=100)
    shop.save()
    program_update_hold(shop, 7)

    first = orders_reconcile(shop=shop, now=now)
    second = orders_reconcile(shop=shop, now=now + timedelta(hours=1))
    chosen = orders_reconcile(shop=shop, now=now, since=now - timedelta(days=90))

    assert first.window_end == now - timedelta(minutes=10)
    assert first.window_start == first.window_end - timedelta(days=7)
    assert second.window_start == first.window_end - timedelta(hours=1)
    # Never further back than the Admin API reads without read_all_orders.
    assert chosen.window_start == now - timedelta(days=59)
    [listing] = [c for c in graphql_calls(shopify, ALICE) if c["root_fields"] == ["orders"]][:1]
    assert listing["variables"]["query"] == (
        f"updated_at:>='{first.window_start:%Y-%m-%dT%H:%M:%SZ}' "
        f"updated_at:<'{first.window_end:%Y-%m-%dT%H:%M:%SZ}'"
    )


def test_another_shops_orders_are_never_read_or_touched(client, shopify):  # noqa: F811
    alice = installed(shopify, ALICE)
    installed(shopify, BOB)
    happen(client, shopify, "orders/create", order(5001, 1001, "20.00"), lose=True)
    happen(client, shopify, "orders/create", order(6001, 1001, "30.00"), lose=True, shop=BOB)

    run = orders_reconcile(shop=alice, now=later())

    assert run.orders_read == 1 and balance(1001, ALICE) == (20, 0)
    assert not Member.objects.filter(shop__domain=BOB).exists()
    assert {c["shop"] for c in graphql_calls(shopify, ALICE)} == {ALICE}
    assert not graphql_calls(shopify, BOB)

    runs = orders_reconcile_all(now=later(75))

    assert {(r.shop.domain, r.repaired) for r in runs} == {(ALICE, 0), (BOB, 1)}
    assert balance(1001, BOB) == (30, 0)
    assert not Order.objects.filter(shop__domain=ALICE, order_id=6001).exists()


def test_an_order_shopify_answers_unreadably_is_reported_and_the_others_applied(
    client,
    shopify,  # noqa: F811
):
    shop = installed(shopify)
    broken = order(5001, 1001, "10.00")
    del broken["current_subtotal_price_set"]
    happen(client, shopify, "orders/create", broken, lose=True)
    happen(client, shopify, "orders/create", order(5002, 1002, "20.00"), lose=True)

    run = orders_reconcile(shop=shop, now=later())

    assert (run.repaired, run.errors, run.complete) == (1, 1, True)
    assert run.error_text == "order 5001: the payload has no current_subtotal_price_set"
    assert balance(1002) == (20, 0)


def test_the_command_reconciles_a_shop_since_a_time_and_refuses_a_bad_one(
    client,
    shopify,  # noqa: F811
    capsys,
):
    shop = installed(shopify)
    shop.installed_at = timezone.now() - timedelta(days=2)
    shop.save()
    happen(client, shopify, "orders/create", order(subtotal="42.00"), lose=True)
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with shopify.state.lock:
        # The order is past the ten minutes the fast path is given.
        shopify.state.orders[(ALICE, 5001)]["updated_at"] = since

    call_command("reconcile_orders", "--shop", ALICE, "--since", since)

    out = capsys.readouterr().out
    assert out.startswith(f"{ALICE}\t{since}…")
    assert "read 1\trepaired 1\t+42 −0 points\tcomplete" in out
    assert balance() == (42, 0)
    with pytest.raises(CommandError, match="is not a time"):
        call_command("reconcile_orders", "--since", "yesterday")
    with pytest.raises(CommandError, match="no installed shop"):
        call_command("reconcile_orders", "--shop", "carol.myshopify.com")
    assert ReconciliationRun.objects.count() == 1


def test_an_order_with_more_lines_than_one_page_is_read_on_and_earns_exactly(
    client,
    shopify,  # noqa: F811
    monkeypatch,
):
    shop = installed(shopify)
    monkeypatch.setattr(reconciliation, "LINES", 2)
    monkeypatch.setattr(reconciliation, "MORE_LINES", 2)
    # Five lines of 22.00 with 2.00 tax included in each: 110.00, earning on 100.00.
    payload = order(subtotal="110.00", taxes_included=True, line_tax="2.00")
    [line] = payload["line_items"]
    payload["line_items"] = [
        {**line, "id": 50010 + n, "product_id": 7001 + n, "price": "22.00"} for n in range(5)
    ]
    refund = refund_payload(
        lines=(("11.00", "2.00"),) * 3, line_item_ids=[50010, 50011, 50012], quantities=[1, 1, 1]
    )
    happen(client, shopify, "orders/create", payload, lose=True)
    happen(client, shopify, "refunds/create", refund, lose=True)

    run = orders_reconcile(shop=shop, now=later())

    # 100 earned; the refund gives back 33.00 less its 6.00 tax: floor(100 × 73 / 100).
    assert balance() == (73, 0)
    assert (run.points_credited, run.points_reversed) == (100, 27)
    assert sorted(
        OrderProduct.objects.filter(order__order_id=5001).values_list("product_id", flat=True)
    ) == [7001, 7002, 7003, 7004, 7005]
    roots = [c["operation_name"] or c["query"].split("(")[0] for c in graphql_calls(shopify, ALICE)]
    assert sum("ReconcileOrderLines" in root for root in roots) == 2
    assert sum("ReconcileRefundLines" in root for root in roots) == 1


def test_orders_from_before_the_shop_installed_the_app_are_not_credited(client, shopify):  # noqa: F811
    shop = installed(shopify)
    happen(client, shopify, "orders/create", order(5001, 1001, "25.00"), lose=True)
    with shopify.state.lock:
        # Changed an hour before the install: no webhook was ever due to the app.
        before = shop.installed_at - timedelta(hours=1)
        shopify.state.orders[(ALICE, 5001)]["updated_at"] = before.isoformat()
    happen(client, shopify, "orders/create", order(5002, 1001, "30.00"), lose=True)

    run = orders_reconcile(shop=shop, now=later())

    assert run.window_start == shop.installed_at
    assert (run.orders_read, run.repaired) == (1, 1)
    assert balance() == (30, 0)


def test_a_listing_without_usable_ids_stops_the_run_recorded_and_incomplete(
    shopify,  # noqa: F811
    monkeypatch,
):
    shop = installed(shopify)
    garbled = {"orders": {"nodes": [{"legacyResourceId": None}], "pageInfo": {}}}
    monkeypatch.setattr(reconciliation, "admin_graphql", lambda *args, **kwargs: garbled)

    run = orders_reconcile(shop=shop, now=later())

    assert (run.complete, run.repaired, run.errors) == (False, 0, 1)
    assert run.error_text.startswith("stopped: Shopify listed an order without a usable")
    assert run.finished_at is not None


def test_runs_older_than_30_days_are_forgotten_but_the_last_complete_one(shopify):  # noqa: F811
    shop = installed(shopify)
    now = timezone.now()
    shop.installed_at = now - timedelta(days=100)
    shop.save()
    old = [orders_reconcile(shop=shop, now=now - timedelta(days=d)) for d in (40, 35)]
    ReconciliationRun.objects.filter(pk=old[1].pk).update(complete=False)
    recent = orders_reconcile(shop=shop, now=now - timedelta(days=3))
    ReconciliationRun.objects.filter(pk=recent.pk).update(complete=False)

    latest = orders_reconcile(shop=shop, now=now)

    kept = set(ReconciliationRun.objects.filter(shop=shop).values_list("pk", flat=True))
    assert kept == {old[0].pk, recent.pk, latest.pk}
    # The kept complete run still starts the next window.
    assert latest.window_start == old[0].window_end - timedelta(hours=1)
