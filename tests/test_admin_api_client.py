"""The GraphQL Admin API client's rate limit, retries and budget, against the stand-in.

Waits are recorded instead of slept, and each one moves the stand-in's clock by as much, so
its bucket refills exactly as it would have.
"""

from __future__ import annotations

import logging
import time

import pytest

from loyalty.shopify import admin_api, throttle
from loyalty.shopify.admin_api import AdminApiError, admin_graphql
from tests.test_oauth_and_tokens import graphql_calls, install, shopify  # noqa: F401

ALICE = "alice.myshopify.com"
BOB = "bob.myshopify.com"
SHOP_QUERY = "query ShopName { shop { name } }"
SET_BALANCE = """mutation SetBalance($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { userErrors { message } }
}"""
BALANCE = {
    "metafields": [
        {
            "ownerId": "gid://shopify/Customer/1001",
            "namespace": "$app:loyalty",
            "key": "balance",
            "type": "number_integer",
            "value": "10",
        }
    ]
}


@pytest.fixture(autouse=True)
def waits(monkeypatch, shopify):  # noqa: F811
    """The waits the client asked for, in order; each advances the stand-in's clock."""
    throttle.forget()
    asked: list[float] = []

    def wait(seconds: float) -> None:
        asked.append(seconds)
        with shopify.state.lock:
            shopify.state.clock_offset += seconds

    monkeypatch.setattr(admin_api, "_sleep", wait)
    yield asked
    throttle.forget()


@pytest.fixture
def slept(monkeypatch):
    """The waits the client asked for, really slept (the stand-in's bucket refills in real
    time, as the client's estimate does)."""
    asked: list[float] = []

    def wait(seconds: float) -> None:
        asked.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(admin_api, "_sleep", wait)
    return asked


def installed(shopify, domain=ALICE):  # noqa: F811
    """An installed shop, and no calls recorded yet (installing reads the shop)."""
    shop = install(domain)
    with shopify.state.lock:
        shopify.state.calls.clear()
    return shop


def queue_fault(shopify, shop=ALICE, **fault):  # noqa: F811
    from standin.throttle import fault_from

    with shopify.state.lock:
        shopify.state.faults.setdefault(shop, []).append(fault_from(fault))


def statuses(shopify, shop=ALICE):  # noqa: F811
    return [(call["status"], call.get("fault")) for call in graphql_calls(shopify, shop)]


def set_bucket(shopify, shop=ALICE, **values):  # noqa: F811
    with shopify.state.lock:
        bucket = shopify.state.bucket(shop)
        for name, value in values.items():
            setattr(bucket, name, float(value))
        bucket.updated_at = shopify.state.now()


@pytest.mark.django_db
def test_5xx_answers_are_retried_with_growing_jittered_waits(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="http_503", count=3)

    assert admin_graphql(shop, SHOP_QUERY) == {"shop": {"name": "Alice"}}

    assert statuses(shopify) == [(503, "http_503")] * 3 + [(200, None)]
    assert len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):
        assert 0 <= wait <= 0.5 * 2 ** (attempt - 1)


@pytest.mark.django_db
def test_a_429_waits_as_long_as_retry_after_says(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="http_429", seconds=2.5)

    admin_graphql(shop, SHOP_QUERY)

    assert waits == [2.5]
    assert statuses(shopify) == [(429, "http_429"), (200, None)]


@pytest.mark.django_db
def test_throttled_waits_until_the_bucket_holds_the_cost_then_succeeds(shopify, slept):  # noqa: F811
    shop = installed(shopify)
    set_bucket(shopify, maximum=100, restore_rate=10, available=4)

    payload = admin_graphql(shop, SET_BALANCE, BALANCE)

    assert payload == {"metafieldsSet": {"userErrors": []}}
    # (10 requested + 1 for rounding - 4 available) / 10 points a second, less what refilled
    # while the first call travelled
    assert len(slept) == 1 and 0.6 <= slept[0] <= 0.7
    assert [status for status, _ in statuses(shopify)] == [200, 200]
    assert shopify.state.metafields


@pytest.mark.django_db
def test_a_call_the_known_bucket_cannot_hold_waits_before_it_is_sent(shopify, slept):  # noqa: F811
    shop = installed(shopify)
    set_bucket(shopify, maximum=31, restore_rate=10, available=31)
    for _ in range(3):
        admin_graphql(shop, SET_BALANCE, BALANCE)
    assert slept == []

    admin_graphql(shop, SET_BALANCE, BALANCE)

    # The third answer left about 1 of 31 points; 10 more (and 1 for rounding) take a
    # second to come back.
    assert len(slept) == 1 and 0.9 <= slept[0] <= 1.0
    bodies = [call["status"] for call in graphql_calls(shopify, ALICE)]
    assert bodies == [200] * 4
    assert all("fault" not in call for call in graphql_calls(shopify, ALICE))
    assert len(shopify.state.calls) == 4  # none of them was throttled


@pytest.mark.django_db
def test_one_shops_bucket_never_holds_up_another(shopify, waits):  # noqa: F811
    alice, bob = installed(shopify, ALICE), installed(shopify, BOB)
    set_bucket(shopify, ALICE, maximum=25, restore_rate=2, available=25)
    admin_graphql(alice, SET_BALANCE, BALANCE)
    admin_graphql(alice, SET_BALANCE, BALANCE)

    admin_graphql(bob, SET_BALANCE, BALANCE)
    assert waits == []
    admin_graphql(alice, SET_BALANCE, BALANCE)

    # Alice's bucket holds about 5 points and gains 2 a second: (10 + 1 - 5) / 2
    assert len(waits) == 1 and 2.9 <= waits[0] <= 3.0
    assert [call["status"] for call in graphql_calls(shopify, ALICE)] == [200, 200, 200]


@pytest.mark.django_db
def test_failures_stop_after_five_attempts_with_a_transient_error(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="http_502", count=10)

    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, SHOP_QUERY)

    assert (failed.value.status, failed.value.transient) == (502, True)
    assert len(graphql_calls(shopify, ALICE)) == admin_api.MAX_ATTEMPTS == 5


@pytest.mark.django_db
def test_a_wait_longer_than_the_budget_fails_at_once(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="http_429", seconds=30)

    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, SHOP_QUERY, timeout=5)

    assert (failed.value.status, failed.value.transient) == (429, True)
    assert waits == []
    assert len(graphql_calls(shopify, ALICE)) == 1


@pytest.mark.django_db
def test_a_hung_query_is_given_up_and_asked_again(shopify, settings, waits):  # noqa: F811
    shop = installed(shopify)
    settings.SHOPIFY_HTTP_TIMEOUT = 0.4
    queue_fault(shopify, kind="delay", seconds=1)

    started = time.monotonic()
    assert admin_graphql(shop, SHOP_QUERY, timeout=5) == {"shop": {"name": "Alice"}}

    assert time.monotonic() - started < 1
    time.sleep(1)  # the held call finishes (and is recorded) on the stand-in
    assert len(graphql_calls(shopify, ALICE)) == 2


@pytest.mark.django_db
def test_a_hung_mutation_is_not_sent_twice(shopify, settings, waits):  # noqa: F811
    # It may have run: sending it again could make a second discount.
    shop = installed(shopify)
    settings.SHOPIFY_HTTP_TIMEOUT = 0.4
    queue_fault(shopify, kind="delay", seconds=1, operation="metafieldsSet")

    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, SET_BALANCE, BALANCE, timeout=5)

    assert (failed.value.status, failed.value.transient) == (None, True)
    time.sleep(0.8)  # the held call finishes on the stand-in
    assert len(graphql_calls(shopify, ALICE)) == 1


@pytest.mark.django_db
def test_the_budget_bounds_the_whole_call(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="delay", seconds=3)

    started = time.monotonic()
    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, SHOP_QUERY, timeout=0.5)

    assert time.monotonic() - started < 1.5
    assert failed.value.status is None


@pytest.mark.django_db
def test_an_unreachable_shopify_is_retried_then_reported(shopify, settings, waits):  # noqa: F811
    shop = installed(shopify)
    settings.SHOPIFY_ADMIN_ORIGIN = "http://127.0.0.1:9/shops/{shop}"

    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, SHOP_QUERY)

    assert (failed.value.status, failed.value.transient) == (None, True)
    assert len(waits) == admin_api.MAX_ATTEMPTS - 1
    assert "could not reach the Admin API for alice.myshopify.com" in str(failed.value)


@pytest.mark.django_db
def test_graphql_errors_are_not_retried_and_not_transient(shopify, waits):  # noqa: F811
    shop = installed(shopify)

    with pytest.raises(AdminApiError) as failed:
        admin_graphql(shop, "query { shop { noSuchField } }")

    assert failed.value.transient is False
    assert len(graphql_calls(shopify, ALICE)) == 1


@pytest.mark.django_db
def test_each_call_logs_its_cost_and_throttles_log_at_info(shopify, waits, caplog):  # noqa: F811
    shop = installed(shopify)
    queue_fault(shopify, kind="throttled")
    caplog.set_level(logging.DEBUG, logger="loyalty.shopify.admin_api")

    admin_graphql(shop, SHOP_QUERY)

    records = [r for r in caplog.records if r.name == "loyalty.shopify.admin_api"]
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert debug[-1].startswith("Admin API ShopName for alice.myshopify.com: HTTP 200, ")
    assert "cost requested 1 actual 1, " in debug[-1]
    assert "points left" in debug[-1]
    assert "cost requested 1 actual None" in debug[0]
    assert info == [
        "Admin API throttled ShopName for alice.myshopify.com (cost 1); "
        f"retrying in {waits[0]:.2f} s"
    ]
