"""Rate limits on what the public reaches (docs/abuse.md): over a limit is a 429 with
Retry-After that stores and changes nothing; under it everything answers as before; each
window starts afresh; one customer, shop or address never uses up another's."""

import json
import subprocess
import sys
import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import RequestFactory

from loyalty import ratelimit
from loyalty.models import LedgerEntry, Member, Redemption, ReviewDelivery
from loyalty.ratelimit import client_ip
from loyalty.services.integrations import integration_secret_for
from standin.reviews import generic_review, review_request
from standin.signing import app_proxy_params
from tests import factories, redeeming
from tests.conftest import uses_redis
from tests.factories import order_payload
from tests.redeeming import install, member_with, redeem, reward
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop
from tests.test_webhook_intake import post as post_webhook
from tests.test_webhook_intake import process_all

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify

# 20 s into a one-minute window, so its Retry-After is 40.
T0 = 60 * 16_667 + 20.0


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, moved by the test instead of by sleeping."""
    now = {"t": T0}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    return now


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them in a few requests; the others out of reach."""
    settings.RATE_LIMIT_PROXY = (3, 60)
    settings.RATE_LIMIT_PROXY_WRITES = (2, 60)
    settings.RATE_LIMIT_PROXY_IP = (1000, 60)
    settings.RATE_LIMIT_REVIEWS = (2, 60)
    settings.RATE_LIMIT_REVIEWS_IP = (1000, 60)
    settings.RATE_LIMIT_ADMIN_API = (2, 60)
    settings.RATE_LIMIT_AUTH = (2, 60)
    settings.TRUSTED_PROXY_HOPS = 1
    return settings


def account(client, *, shop=ALICE, customer="1001", ip="203.0.113.7"):
    params = app_proxy_params(
        shop=shop, logged_in_customer_id=customer, secret=django_settings.SHOPIFY_API_SECRET
    )
    # As Shopify's proxy sends it: the shopper's address in X-Forwarded-For.
    return client.get(
        "/proxy/api/account?" + urlencode(params, doseq=True), HTTP_X_FORWARDED_FOR=ip
    )


def assert_too_many(response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    body = response.json()
    assert (body["code"], body["retry_after"]) == ("rate_limited", retry_after)
    assert f"{retry_after} seconds" in body["error"]


def test_the_storefront_answers_until_the_limit_then_429_until_the_window_ends(
    client, limits, clock
):
    factories.shop()
    assert [account(client).status_code for _ in range(3)] == [200, 200, 200]

    assert_too_many(account(client), retry_after=40)
    clock["t"] += 39
    assert_too_many(account(client), retry_after=1)
    clock["t"] += 1  # the next window
    assert account(client).status_code == 200


def test_one_customer_over_the_limit_leaves_other_customers_and_shops_alone(client, limits, clock):
    factories.shop(ALICE)
    factories.shop(BOB)
    for _ in range(4):
        account(client, customer="1001")
    assert account(client, customer="1001").status_code == 429

    assert account(client, customer="1002").status_code == 200
    assert account(client, shop=BOB, customer="1001").status_code == 200


def test_guests_are_counted_by_their_address(client, limits, clock):
    factories.shop()
    for _ in range(3):
        assert account(client, customer="", ip="198.51.100.1").status_code == 200
    assert account(client, customer="", ip="198.51.100.1").status_code == 429
    assert account(client, customer="", ip="198.51.100.2").status_code == 200


def test_an_address_over_its_ceiling_is_refused_whoever_signs_in(client, limits, clock):
    limits.RATE_LIMIT_PROXY_IP = (4, 60)
    factories.shop()
    answers = [account(client, customer=str(1000 + n)).status_code for n in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    assert account(client, customer="2000", ip="203.0.113.8").status_code == 200


def test_redemptions_over_the_limit_spend_nothing(client, limits, clock, shopify):
    shop = install()
    member_with(shop, 5000)
    five_off = reward(shop, points_cost=100)

    answers = [redeem(client, {"reward_id": five_off.pk}) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert_too_many(answers[2], retry_after=40)
    assert Redemption.objects.filter(shop=shop).count() == 2
    assert Member.objects.get(shop=shop, customer_id=1001).balance == 4800
    assert len(redeeming.discounts(shopify)) == 2


def test_a_birthday_over_the_limit_is_not_saved(client, limits, clock):
    limits.RATE_LIMIT_PROXY_WRITES = (0, 60)  # off: only the per-customer limit of 3
    shop = factories.shop()
    factories.member(shop, 1001)
    params = app_proxy_params(
        shop=ALICE, logged_in_customer_id="1001", secret=django_settings.SHOPIFY_API_SECRET
    )
    url = "/proxy/api/birthday?" + urlencode(params)
    for _ in range(3):
        account(client)

    body = json.dumps({"month": 5, "day": 17})
    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 429
    assert Member.objects.get(shop=shop, customer_id=1001).birthday_month is None


def test_referral_visits_are_limited_per_shop_and_visitor(client, limits, clock):
    factories.shop()
    params = app_proxy_params(
        shop=ALICE, logged_in_customer_id="", secret=django_settings.SHOPIFY_API_SECRET
    )
    url = "/proxy/r/NOPE?" + urlencode(params)
    visits = [client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.9") for _ in range(3)]
    assert [v.status_code for v in visits] == [302, 302, 429]
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 302


def test_unsigned_proxy_requests_use_up_nobodys_limit(client, limits, clock):
    factories.shop()
    params = app_proxy_params(
        shop=ALICE, logged_in_customer_id="1001", secret=django_settings.SHOPIFY_API_SECRET
    )
    params["signature"] = "0" * 64  # a script naming someone else's customer id
    for _ in range(10):
        response = client.get("/proxy/api/account?" + urlencode(params))
        assert response.status_code == 401
    assert account(client).status_code == 200


def review(shop, review_id):
    return review_request(
        source="generic",
        review=generic_review(
            shop=shop.domain, review_id=review_id, product_id=7001, customer_id=1001
        ),
        secret=integration_secret_for(shop=shop),
    )


def send(client, signed, ip="192.0.2.50", headers=None):
    return client.post(
        signed.path,
        data=signed.body,
        content_type="application/json",
        headers=signed.headers if headers is None else headers,
        HTTP_X_FORWARDED_FOR=ip,
    )


def test_reviews_over_a_shops_limit_are_429_and_not_stored(client, limits, clock):
    alice = factories.shop(ALICE, review_points=50)
    bob = factories.shop(BOB, review_points=50)
    answers = [send(client, review(alice, f"r-{n}")).status_code for n in range(3)]

    assert answers == [200, 200, 429]
    assert ReviewDelivery.objects.filter(shop=alice).count() == 2
    assert send(client, review(bob, "r-0")).status_code == 200


def test_unsigned_reviews_do_not_use_up_the_shops_limit(client, limits, clock):
    alice = factories.shop(ALICE, review_points=50)
    integration_secret_for(shop=alice)
    signed = review(alice, "r-1")
    for _ in range(5):
        assert send(client, signed, headers={}).status_code == 401
    assert send(client, signed).status_code == 200


def test_a_sending_address_over_its_ceiling_is_refused_before_any_work(client, limits, clock):
    limits.RATE_LIMIT_REVIEWS_IP = (2, 60)
    alice = factories.shop(ALICE, review_points=50)
    signed = review(alice, "r-1")
    assert [send(client, signed, headers={}).status_code for _ in range(3)] == [401, 401, 429]
    assert send(client, signed, ip="192.0.2.51").status_code == 200


def test_the_admin_api_is_limited_per_shop(client, limits, clock, admin_settings):
    installed_shop(ALICE, "Alice")
    installed_shop(BOB, "Bob")
    answers = [client.get("/api/shop", headers=as_merchant(ALICE)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert_too_many(answers[2], retry_after=40)
    assert "frame-ancestors https://alice.myshopify.com" in answers[2]["Content-Security-Policy"]
    assert client.get("/api/shop", headers=as_merchant(BOB)).status_code == 200


def test_oauth_install_is_limited_per_address(client, limits, clock):
    url = "/auth/install?shop=alice.myshopify.com"
    answers = [client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.3") for _ in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302


def test_shopify_webhooks_are_never_limited(client, limits, clock):
    for name in ("RATE_LIMIT_PROXY", "RATE_LIMIT_PROXY_IP", "RATE_LIMIT_ADMIN_API"):
        setattr(limits, name, (1, 60))
    for n in range(5):
        response = post_webhook(
            client,
            "orders/paid",
            order_payload(order_id=n + 1, subtotal="10.00"),
            webhook_id=f"w{n}",
        )
        assert response.status_code == 200
    process_all()
    assert Member.objects.get(customer_id=1001).balance == 50
    assert LedgerEntry.objects.count() == 5


@pytest.mark.parametrize(
    ("hops", "forwarded", "via_shopify", "expected"),
    [
        (0, "198.51.100.1", False, "127.0.0.1"),  # no proxy of ours: the header is anyone's
        (1, "6.6.6.6, 198.51.100.1", False, "198.51.100.1"),  # our proxy appended the client
        (1, "6.6.6.6, 198.51.100.1, 23.227.38.1", True, "198.51.100.1"),  # Shopify's hop too
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", False, "198.51.100.1"),
        (1, "", False, "127.0.0.1"),
        (1, "198.51.100.1", True, "198.51.100.1"),  # fewer hops than said: a local run
    ],
)
def test_the_client_address_trusts_only_our_proxies_entries(
    settings, hops, forwarded, via_shopify, expected
):
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request, via_shopify=via_shopify) == expected


def test_a_cache_that_fails_lets_requests_through(client, limits, clock, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    factories.shop()
    assert [account(client).status_code for _ in range(5)] == [200] * 5


def test_a_malformed_limit_stops_the_app_from_starting():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"RATE_LIMIT_PROXY": "sixty a minute", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=django_settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "RATE_LIMIT_PROXY must be <requests>/<seconds>" in result.stderr


@pytest.fixture
def redis_cache(settings):
    """The deploy's cache: Django's RedisCache on the broker's Redis, under a prefix of this
    test's own, whose keys are deleted after (never a flush: dramatiq shares the database)."""
    if not uses_redis():
        pytest.skip("needs DRAMATIQ_BROKER_URL pointing at Redis")
    prefix = f"perennial-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": django_settings.DRAMATIQ_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def test_limits_count_in_redis_under_their_prefix_and_expire(client, limits, clock, redis_cache):
    factories.shop()
    assert [account(client).status_code for _ in range(4)] == [200, 200, 200, 429]

    redis = cache._cache.get_client()
    keys = sorted(k.decode() for k in redis.scan_iter(match=f"{redis_cache}:*"))
    window = int(T0 // 60)
    assert f"{redis_cache}:1:ratelimit:proxy:{ALICE}:customer:1001:60:{window}" in keys
    assert all(":ratelimit:" in key for key in keys)
    assert all(0 < redis.ttl(key) <= 61 for key in keys)
    clock["t"] += 40
    assert account(client).status_code == 200
