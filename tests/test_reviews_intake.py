"""Review intake: each source's signature is checked before anything is stored, unknown
sources and shops are 404, and one shop's secret or members never serve another's."""

import pytest
from django.utils import timezone

from loyalty.earning.orders import order_facts
from loyalty.models import LedgerEntry, Member, Reason, ReviewDelivery, Shop
from loyalty.services.integrations import (
    integration_secret_for,
    integration_secret_rotate,
    judgeme_key_set,
)
from loyalty.services.orders import order_settle
from standin.reviews import generic_review, judgeme_review, review_request
from tests import factories
from tests.factories import order_payload

pytestmark = pytest.mark.django_db

ALICE = "alice.myshopify.com"
BOB = "bob.myshopify.com"


@pytest.fixture
def alice():
    shop = factories.shop(ALICE, review_points=50, review_photo_bonus_points=25)
    order_settle(shop=shop, facts=order_facts(order_payload(order_id=5001, customer_id=1001)))
    return shop


@pytest.fixture
def bob():
    return factories.shop(BOB, review_points=50)


def post(client, signed, *, headers=None):
    return client.post(
        signed.path,
        data=signed.body,
        content_type="application/json",
        headers=signed.headers if headers is None else headers,
    )


def generic(shop_domain=ALICE, review_id="r-1", customer_id=1001):
    return generic_review(
        shop=shop_domain, review_id=review_id, product_id=7001, customer_id=customer_id
    )


def test_a_generic_review_signed_with_the_shop_secret_is_accepted(client, alice):
    signed = review_request(
        source="generic", review=generic(), secret=integration_secret_for(shop=alice)
    )

    response = post(client, signed)

    assert response.status_code == 200
    assert response.json()["status"] == "rewarded"


@pytest.mark.parametrize("source", ["generic", "judgeme"])
def test_unsigned_or_wrongly_signed_reviews_are_401_and_not_stored(client, alice, source):
    secret = integration_secret_for(shop=alice)
    review = (
        generic()
        if source == "generic"
        else judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")
    )
    right = review_request(source=source, review=review, secret=secret, shop=ALICE)
    wrong = review_request(source=source, review=review, secret=secret + "x", shop=ALICE)
    tampered = review_request(source=source, review=review, secret=secret, shop=ALICE)
    tampered_body = tampered.body.replace(b"7001", b"7002")

    assert post(client, right, headers={}).status_code == 401
    assert post(client, wrong).status_code == 401
    response = client.post(
        tampered.path,
        data=tampered_body,
        content_type="application/json",
        headers=tampered.headers,
    )
    assert response.status_code == 401
    assert "integration secret" in response.json()["error"]
    assert not ReviewDelivery.objects.exists()
    assert post(client, right).status_code == 200
    assert ReviewDelivery.objects.count() == 1


def test_judgeme_signs_hex_in_its_own_header(client, alice):
    secret = integration_secret_for(shop=alice)
    review = judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")
    judgeme = review_request(source="judgeme", review=review, secret=secret, shop=ALICE)
    as_generic = review_request(source="generic", review=review, secret=secret)

    # A base64 signature in the generic header does not pass as Judge.me's.
    assert post(client, judgeme, headers=as_generic.headers).status_code == 401
    assert len(judgeme.headers["JUDGEME-HMAC-SHA256"]) == 64
    assert post(client, judgeme).json()["points"] == 50


def test_a_rotated_secret_stops_the_old_one(client, alice):
    old = integration_secret_for(shop=alice)
    new = integration_secret_rotate(shop=alice)

    assert (
        post(client, review_request(source="generic", review=generic(), secret=old)).status_code
        == 401
    )
    assert (
        post(client, review_request(source="generic", review=generic(), secret=new)).status_code
        == 200
    )


def test_an_unknown_source_is_404(client, alice):
    signed = review_request(
        source="yotpo", review=generic(), secret=integration_secret_for(shop=alice)
    )

    response = post(client, signed)

    assert response.status_code == 404
    assert "judgeme, generic" in response.json()["error"]


def test_unknown_and_uninstalled_shops_are_404(client, alice):
    secret = integration_secret_for(shop=alice)
    unknown = review_request(source="generic", review=generic("carol.myshopify.com"), secret=secret)
    judgeme_without_shop = review_request(
        source="judgeme",
        review=judgeme_review(review_id=9, product_id=7001, email="c1001@example.com"),
        secret=secret,
        shop="",
    )
    assert post(client, unknown).status_code == 404
    assert post(client, judgeme_without_shop).status_code == 404

    Shop.objects.filter(pk=alice.pk).update(uninstalled_at=timezone.now())
    gone = review_request(source="generic", review=generic(), secret=secret)
    assert post(client, gone).status_code == 404
    assert not ReviewDelivery.objects.exists()


def test_a_shop_that_never_made_a_secret_accepts_nothing(client, alice):
    signed = review_request(source="generic", review=generic(), secret="")

    assert post(client, signed).status_code == 401
    assert Shop.objects.get(pk=alice.pk).integration_secret_encrypted == ""


def test_a_signed_body_that_is_not_json_is_400_and_not_stored(client, alice):
    secret = integration_secret_for(shop=alice)
    signed = review_request(source="judgeme", review=b"not json", secret=secret, shop=ALICE)

    response = post(client, signed)

    assert response.status_code == 400
    assert not ReviewDelivery.objects.exists()


def test_bobs_secret_cannot_send_alices_reviews(client, alice, bob):
    integration_secret_for(shop=alice)
    signed = review_request(
        source="generic", review=generic(ALICE), secret=integration_secret_for(shop=bob)
    )

    assert post(client, signed).status_code == 401
    assert not ReviewDelivery.objects.exists()


def test_bobs_reviews_never_reward_alices_members_or_use_her_orders(client, alice, bob):
    integration_secret_for(shop=alice)
    # Bob's shop has a member with Alice's customer id but no order of the product.
    factories.member(bob, customer_id=1001)
    signed = review_request(
        source="generic", review=generic(BOB), secret=integration_secret_for(shop=bob)
    )

    answer = post(client, signed).json()

    assert answer["status"] == "refused"
    assert "no paid order with product 7001" in answer["outcome"]
    assert not LedgerEntry.objects.filter(reason=Reason.REVIEW_REWARDED).exists()
    alice_member = Member.objects.get(shop=alice, customer_id=1001)
    assert alice_member.ledger_entries.filter(reason=Reason.REVIEW_REWARDED).count() == 0
    # The same review id in each shop is two reviews.
    alice_signed = review_request(
        source="generic", review=generic(ALICE), secret=integration_secret_for(shop=alice)
    )
    assert post(client, alice_signed).json()["duplicate"] is False
    assert ReviewDelivery.objects.filter(review_id="r-1").count() == 2


def test_intake_only_takes_posts(client, alice):
    assert client.get("/integrations/reviews/generic").status_code == 405


def test_json_nested_too_deep_is_refused_not_a_500(client, alice):
    deep = "[" * 100_000
    integration_secret_for(shop=alice)
    generic_answer = client.post(
        "/integrations/reviews/generic", data=deep, content_type="application/json"
    )
    judgeme_answer = client.post(
        f"/integrations/reviews/judgeme?shop={ALICE}", data=deep, content_type="application/json"
    )
    # The generic body names no shop it could be for; Judge.me's is unsigned.
    assert (generic_answer.status_code, judgeme_answer.status_code) == (404, 401)
    assert not ReviewDelivery.objects.exists()


def test_judgeme_signed_with_the_kept_judgeme_key_is_accepted(client, alice):
    # Judge.me signs with the merchant's private API token, which Perennial cannot choose.
    judgeme_key_set(shop=alice, key="jm-private-token-1234")
    review = judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")

    signed = review_request(
        source="judgeme", review=review, secret="jm-private-token-1234", shop=ALICE
    )
    response = post(client, signed)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["points"]) == ("rewarded", 50)


def test_the_judgeme_key_signs_only_judgeme_and_only_for_its_shop(client, alice, bob):
    judgeme_key_set(shop=alice, key="jm-private-token-1234")
    judgeme_key_set(shop=bob, key="jm-bob-token-5678")
    review = judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")

    as_generic = review_request(source="generic", review=generic(), secret="jm-private-token-1234")
    with_bobs_key = review_request(
        source="judgeme", review=review, secret="jm-bob-token-5678", shop=ALICE
    )

    assert post(client, as_generic).status_code == 401
    assert post(client, with_bobs_key).status_code == 401
    assert not ReviewDelivery.objects.exists()


def test_with_a_judgeme_key_kept_the_integration_secret_still_signs_judgeme(client, alice):
    # A merchant relaying Judge.me's reviews through a tool of their own keeps working.
    secret = integration_secret_for(shop=alice)
    judgeme_key_set(shop=alice, key="jm-private-token-1234")
    review = judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")

    response = post(
        client, review_request(source="judgeme", review=review, secret=secret, shop=ALICE)
    )

    assert response.json()["points"] == 50


def test_a_forgotten_judgeme_key_signs_nothing(client, alice):
    judgeme_key_set(shop=alice, key="jm-private-token-1234")
    judgeme_key_set(shop=alice, key="")
    review = judgeme_review(review_id=9, product_id=7001, email="c1001@example.com")

    signed = review_request(
        source="judgeme", review=review, secret="jm-private-token-1234", shop=ALICE
    )

    assert post(client, signed).status_code == 401
