"""The embedded admin's integrations API: the secret review apps sign with, and rotating it."""

import base64
import json

import pytest

from loyalty.models import Shop
from loyalty.services.integrations import integration_secret_for
from loyalty.shopify.crypto import decrypt_token
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    admin_settings.APP_URL = "https://perennial.example.com"
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def read(client, shop=ALICE) -> dict:
    response = client.get("/api/admin/integrations", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def rotate(client, shop=ALICE) -> dict:
    response = client.post("/api/admin/integrations/rotate-secret", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def stored_secret(domain=ALICE) -> str:
    return Shop.objects.get(domain=domain).integration_secret_encrypted


def test_the_first_read_makes_a_secret_and_lists_the_review_sources(client, shops):
    assert stored_secret() == ""

    document = read(client)

    secret = document["secret"]
    # token_urlsafe(32): 32 random bytes, 43 characters of URL-safe base64.
    assert len(secret) == 43
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    assert document["sources"] == [
        {
            "name": "judgeme",
            "url": "https://perennial.example.com/integrations/reviews/judgeme?shop=alice.myshopify.com",
        },
        {"name": "generic", "url": "https://perennial.example.com/integrations/reviews/generic"},
    ]
    assert document["judgeme_key_ending"] is None
    assert read(client)["secret"] == secret


def test_the_secret_is_stored_encrypted(client, shops):
    secret = read(client)["secret"]
    stored = stored_secret()
    assert secret not in stored
    assert decrypt_token(stored) == secret


def test_rotating_replaces_the_secret(client, shops):
    first = read(client)["secret"]

    rotated = rotate(client)

    assert rotated["secret"] != first
    assert len(rotated["secret"]) == 43
    assert rotated["sources"] == read(client)["sources"]
    assert read(client)["secret"] == rotated["secret"]
    assert decrypt_token(stored_secret()) == rotated["secret"]
    assert rotate(client)["secret"] not in (first, rotated["secret"])


def test_rotating_before_any_read_makes_the_first_secret(client, shops):
    secret = rotate(client)["secret"]
    assert read(client)["secret"] == secret


def test_each_shop_has_its_own_secret_and_never_sees_anothers(client, shops):
    alice_secret = read(client, shop=ALICE)["secret"]
    bob_secret = read(client, shop=BOB)["secret"]
    assert alice_secret != bob_secret

    # Bob rotating his changes nothing of Alice's.
    bob_rotated = rotate(client, shop=BOB)["secret"]
    assert read(client, shop=ALICE)["secret"] == alice_secret
    assert read(client, shop=BOB)["secret"] == bob_rotated
    assert alice_secret not in (bob_secret, bob_rotated)


def test_without_a_session_token_nothing_is_shown_or_changed(client, shops):
    secret = read(client)["secret"]
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        for response in [
            client.get("/api/admin/integrations", headers=headers),
            client.post("/api/admin/integrations/rotate-secret", headers=headers),
        ]:
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
            assert secret.encode() not in response.content
    assert read(client)["secret"] == secret


def test_other_methods_are_not_allowed(client, shops):
    assert client.post("/api/admin/integrations", headers=as_merchant()).status_code == 405
    assert client.delete("/api/admin/integrations", headers=as_merchant()).status_code == 405
    response = client.get("/api/admin/integrations/rotate-secret", headers=as_merchant())
    assert response.status_code == 405
    assert stored_secret() == ""


def test_two_first_reads_at_once_agree_on_one_secret(shops):
    alice, _ = shops
    # Both loaded the shop before either made a secret.
    first, second = Shop.objects.get(pk=alice.pk), Shop.objects.get(pk=alice.pk)

    made = integration_secret_for(shop=first)
    found = integration_secret_for(shop=second)

    assert made == found == decrypt_token(stored_secret())


def put_judgeme_key(client, body, shop=ALICE):
    return client.put(
        "/api/admin/integrations/judgeme-key",
        data=body if isinstance(body, bytes | str) else json.dumps(body),
        content_type="application/json",
        headers=as_merchant(shop),
    )


def test_the_judgeme_key_is_kept_encrypted_and_shown_only_by_its_end(client, shops):
    response = put_judgeme_key(client, {"key": "  jm-private-token-1234  "})

    assert response.status_code == 200, response.content
    assert response.json()["judgeme_key_ending"] == "1234"
    stored = Shop.objects.get(domain=ALICE).judgeme_key_encrypted
    assert "jm-private" not in stored
    assert decrypt_token(stored) == "jm-private-token-1234"
    assert "jm-private-token" not in json.dumps(read(client))
    assert read(client, BOB)["judgeme_key_ending"] is None


def test_an_empty_judgeme_key_forgets_it(client, shops):
    put_judgeme_key(client, {"key": "jm-private-token-1234"})

    response = put_judgeme_key(client, {"key": ""})

    assert response.json()["judgeme_key_ending"] is None
    assert Shop.objects.get(domain=ALICE).judgeme_key_encrypted == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "key"),
        ({"key": 1234}, "key"),
        ({"key": "x" * 201}, "key"),
        ({"key": "a\x00b"}, "key"),
        ({"key": "abcd", "secret": "x"}, "secret"),
        (b"[1]", "body"),
        (b"{", "body"),
    ],
)
def test_a_bad_judgeme_key_is_400_and_changes_nothing(client, shops, body, field):
    put_judgeme_key(client, {"key": "jm-private-token-1234"})

    response = put_judgeme_key(client, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert read(client)["judgeme_key_ending"] == "1234"


def test_the_judgeme_key_needs_a_session_token_and_a_put(client, shops):
    unsigned = client.put(
        "/api/admin/integrations/judgeme-key",
        data='{"key": "abcd"}',
        content_type="application/json",
    )
    assert unsigned.status_code == 401
    assert (
        client.get("/api/admin/integrations/judgeme-key", headers=as_merchant()).status_code == 405
    )
    assert Shop.objects.get(domain=ALICE).judgeme_key_encrypted == ""
