"""Getting and keeping offline tokens, against the Shopify stand-in over real HTTP."""

import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection
from django.utils import timezone

from loyalty.models import Shop
from loyalty.services.shops import shop_install_with_session_token, shop_uninstalled
from loyalty.shopify import oauth, tokens
from loyalty.shopify.admin_api import AdminApiError, admin_graphql
from loyalty.shopify.crypto import decrypt_token
from loyalty.shopify.session_tokens import decode_session_token
from standin import server
from standin.signing import oauth_hmac
from tests.conftest import needs_postgres
from tests.shopify_signing import API_KEY, API_SECRET, session_token

APP_URL = "http://perennial.test"
SHOP_QUERY = "query { shop { name currencyCode ianaTimezone } }"


@pytest.fixture
def shopify(settings):
    standin = server.start(api_key=API_KEY, api_secret=API_SECRET, app_url=APP_URL, port=0)
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    settings.SHOPIFY_ADMIN_ORIGIN = standin.origin_template
    settings.SHOPIFY_HTTP_TIMEOUT = 5.0
    settings.APP_URL = APP_URL
    yield standin
    standin.stop()


def access_tokens_of(standin, shop: str) -> list[str]:
    with standin.state.lock:
        return [t.value for t in standin.state.access_tokens.values() if t.shop == shop]


def refreshes_of(standin, shop: str) -> int:
    # Each refresh mints a refresh token that names the one it replaced.
    with standin.state.lock:
        return sum(
            1 for t in standin.state.refresh_tokens.values() if t.shop == shop and t.predecessor
        )


def graphql_calls(standin, shop: str) -> list[dict]:
    with standin.state.lock:
        return [call for call in standin.state.calls if call["shop"] == shop]


def install(shop: str = "alice.myshopify.com") -> Shop:
    return shop_install_with_session_token(
        session_token=decode_session_token(session_token(shop=shop))
    )


def admin_load(client, shop: str):
    return client.get(
        "/", {"embedded": "1", "shop": shop, "host": "x", "id_token": session_token(shop=shop)}
    )


@pytest.mark.django_db
def test_the_first_page_load_installs_the_shop_with_an_encrypted_expiring_token(client, shopify):
    response = admin_load(client, "alice.myshopify.com")

    assert response.status_code == 200
    assert "Outstanding points" in response.content.decode()
    shop = Shop.objects.get(domain="alice.myshopify.com")
    assert (shop.name, shop.currency, shop.timezone) == ("Alice", "USD", "America/New_York")
    assert shop.installed_at is not None and shop.uninstalled_at is None
    [access_token] = access_tokens_of(shopify, "alice.myshopify.com")
    [refresh_token] = list(shopify.state.refresh_tokens)
    row = str(Shop.objects.filter(pk=shop.pk).values().get())
    assert access_token not in row and refresh_token not in row
    assert decrypt_token(shop.access_token_encrypted) == access_token
    assert decrypt_token(shop.refresh_token_encrypted) == refresh_token
    hour = timezone.now() + timedelta(hours=1)
    assert abs(shop.access_token_expires_at - hour) < timedelta(seconds=30)
    assert shop.refresh_token_expires_at > timezone.now() + timedelta(days=80)
    # The install's one call; the dashboard's checklist may also ask for the theme.
    [details] = [
        call
        for call in graphql_calls(shopify, "alice.myshopify.com")
        if "themes" not in call.get("root_fields", [])
    ]
    assert details["token"] == access_token


@pytest.mark.django_db
def test_later_page_loads_reuse_the_stored_token(client, shopify):
    admin_load(client, "alice.myshopify.com")
    admin_load(client, "alice.myshopify.com")

    assert len(access_tokens_of(shopify, "alice.myshopify.com")) == 1


@pytest.mark.django_db
def test_a_reinstall_brings_back_the_same_shop(client, shopify):
    first = install()
    shop_uninstalled(shop=first)

    response = admin_load(client, "alice.myshopify.com")

    assert response.status_code == 200
    again = Shop.objects.get(domain="alice.myshopify.com")
    assert again.pk == first.pk
    assert again.uninstalled_at is None
    assert decrypt_token(again.access_token_encrypted) in access_tokens_of(
        shopify, "alice.myshopify.com"
    )


@pytest.mark.django_db
def test_a_late_uninstall_from_before_a_reinstall_changes_nothing(shopify):
    shop = install()

    shop_uninstalled(shop=shop, occurred_at=shop.installed_at - timedelta(minutes=1))

    shop.refresh_from_db()
    assert shop.uninstalled_at is None
    assert tokens.has_usable_token(shop)


@pytest.mark.django_db
def test_a_token_is_refreshed_within_five_minutes_of_expiry(shopify):
    shop = install()
    old_access = decrypt_token(shop.access_token_encrypted)
    old_refresh = decrypt_token(shop.refresh_token_encrypted)
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now() + timedelta(minutes=4)
    )
    shop.refresh_from_db()

    new_access = tokens.access_token_for(shop)

    assert new_access != old_access
    assert refreshes_of(shopify, "alice.myshopify.com") == 1
    stored = Shop.objects.get(pk=shop.pk)
    assert decrypt_token(stored.access_token_encrypted) == new_access
    assert decrypt_token(stored.refresh_token_encrypted) not in ("", old_refresh)
    assert stored.access_token_expires_at > timezone.now() + timedelta(minutes=55)
    assert shop.access_token_encrypted == stored.access_token_encrypted
    assert admin_graphql(shop, SHOP_QUERY)["shop"]["name"] == "Alice"


@pytest.mark.django_db
def test_a_token_with_more_than_five_minutes_left_is_used_as_it_is(shopify):
    shop = install()
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now() + timedelta(minutes=6)
    )
    shop.refresh_from_db()

    assert tokens.access_token_for(shop) == decrypt_token(shop.access_token_encrypted)
    assert refreshes_of(shopify, "alice.myshopify.com") == 0


@pytest.mark.django_db
def test_a_401_from_graphql_refreshes_the_token_and_retries_once(shopify):
    shop = install()
    shopify.state.expire_access_tokens()

    data = admin_graphql(shop, "query Name { shop { name } }")

    assert data == {"shop": {"name": "Alice"}}
    assert refreshes_of(shopify, "alice.myshopify.com") == 1
    *_, rejected, retried = graphql_calls(shopify, "alice.myshopify.com")
    assert (rejected["status"], retried["status"]) == (401, 200)
    assert retried["token"] == decrypt_token(Shop.objects.get(pk=shop.pk).access_token_encrypted)


@pytest.mark.django_db
def test_a_shop_whose_tokens_were_revoked_gets_a_clear_401_error(shopify):
    shop = install()
    shopify.state.revoke_shop("alice.myshopify.com")

    with pytest.raises(AdminApiError) as raised:
        admin_graphql(shop, SHOP_QUERY)

    assert raised.value.status == 401
    assert len([c for c in graphql_calls(shopify, "alice.myshopify.com") if c["status"] == 401])


@pytest.mark.django_db
def test_graphql_errors_and_server_errors_raise_admin_api_error(shopify):
    shop = install()

    with pytest.raises(AdminApiError) as undefined:
        admin_graphql(shop, "query { shop { noSuchField } }")
    shopify.state.knobs.fail_status, shopify.state.knobs.fail_count = 503, 1
    with pytest.raises(AdminApiError) as unavailable:
        admin_graphql(shop, SHOP_QUERY)

    assert undefined.value.errors
    assert unavailable.value.status == 503


@pytest.mark.django_db
def test_inputs_travel_as_variables(shopify):
    shop = install()

    admin_graphql(shop, "query Name($first: Int) { shop { name } }", {"first": 1})

    assert graphql_calls(shopify, "alice.myshopify.com")[-1]["variables"] == {"first": 1}


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_needing_a_refresh_at_once_refresh_only_once(shopify, monkeypatch):
    shop = install()
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now() + timedelta(minutes=1)
    )
    real_refresh = oauth.refresh_offline_token

    def slow_refresh(**kwargs):
        # Long enough that, without the row lock, both threads would be refreshing.
        time.sleep(0.5)
        return real_refresh(**kwargs)

    monkeypatch.setattr(oauth, "refresh_offline_token", slow_refresh)
    start = threading.Barrier(2)
    results: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(tokens.access_token_for(Shop.objects.get(pk=shop.pk)))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures
    assert len(results) == 2 and results[0] == results[1]
    assert refreshes_of(shopify, "alice.myshopify.com") == 1
    assert decrypt_token(Shop.objects.get(pk=shop.pk).access_token_encrypted) == results[0]


# Authorization-code OAuth (installs that start outside Shopify admin)


def start_install(client, shop: str = "alice.myshopify.com") -> dict[str, str]:
    """Run /auth/install and the stand-in's consent page; return the callback's query."""
    begin = client.get("/auth/install", {"shop": shop})
    assert begin.status_code == 302
    consent = requests.get(begin["Location"], allow_redirects=False, timeout=5)
    assert consent.status_code in (302, 303)
    callback = urlsplit(consent.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{APP_URL}/auth/callback"
    return {key: values[0] for key, values in parse_qs(callback.query).items()}


@pytest.mark.django_db
def test_an_install_from_outside_admin_ends_installed_and_back_in_admin(client, shopify):
    begin = client.get("/auth/install", {"shop": "alice.myshopify.com"})
    authorize = parse_qs(urlsplit(begin["Location"]).query)
    assert authorize["client_id"] == [API_KEY]
    assert authorize["redirect_uri"] == [f"{APP_URL}/auth/callback"]
    assert "write_app_proxy" in authorize["scope"][0].split(",")
    params = start_install(client)

    response = client.get("/auth/callback", params)

    assert response.status_code == 302
    origin = shopify.origin_template.format(shop="alice.myshopify.com")
    assert response["Location"] == f"{origin}/admin/apps/{API_KEY}"
    shop = Shop.objects.get(domain="alice.myshopify.com")
    assert shop.installed_at is not None and shop.name == "Alice"
    assert shop.access_token_expires_at is not None
    assert shop.refresh_token_encrypted


@pytest.mark.django_db
def test_the_callback_refuses_a_bad_hmac(client, shopify):
    params = start_install(client)
    params["hmac"] = "0" * 64

    response = client.get("/auth/callback", params)

    assert response.status_code == 400
    assert "not signed by Shopify" in response.content.decode()
    assert not Shop.objects.exists()


@pytest.mark.django_db
def test_the_callback_refuses_a_state_it_did_not_set(client, shopify):
    params = start_install(client)
    params["state"] = "someone-elses-state"
    params["hmac"] = oauth_hmac(params, API_SECRET)

    response = client.get("/auth/callback", params)

    assert response.status_code == 400
    assert not Shop.objects.exists()


@pytest.mark.django_db
def test_the_callback_refuses_a_request_without_the_state_cookie(client, shopify):
    params = start_install(client)
    client.cookies.clear()

    response = client.get("/auth/callback", params)

    assert response.status_code == 400
    assert not Shop.objects.exists()


@pytest.mark.django_db
def test_the_callback_refuses_a_shop_outside_myshopify(client, shopify):
    params = start_install(client)
    params["shop"] = "alice.example.com"
    params["hmac"] = oauth_hmac(params, API_SECRET)

    response = client.get("/auth/callback", params)

    assert response.status_code == 400
    assert not Shop.objects.exists()


@pytest.mark.django_db
def test_the_callback_accepts_the_previous_secret_during_rotation(client, shopify, settings):
    params = start_install(client)
    settings.SHOPIFY_API_SECRET_PREVIOUS = "perennial-test-previous-secret-0123456789ab"
    params["hmac"] = oauth_hmac(params, settings.SHOPIFY_API_SECRET_PREVIOUS)

    response = client.get("/auth/callback", params)

    assert response.status_code == 302


@pytest.mark.parametrize("shop", ["", "alice.example.com", "-alice.myshopify.com", "a/b"])
def test_install_refuses_a_shop_that_is_not_a_myshopify_domain(client, shop):
    response = client.get("/auth/install", {"shop": shop})

    assert response.status_code == 400
    assert "myshopify.com" in response.content.decode()
