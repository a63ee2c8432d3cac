"""Stored reviews in the admin: `GET /api/admin/reviews` (filters, cursor, one shop's only)
and the Reviews page linked from Members, each review with its member, product, rating,
photo, and its points or why it earned none."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from loyalty.models import Program, ReviewDelivery
from loyalty.reviews.services import review_delivery_store
from loyalty.services.integrations import integration_secret_for
from standin.reviews import generic_review, judgeme_review, review_request
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_admin_data_pages import page, text
from tests.test_embedded_admin import installed_shop
from tests.test_reviews import buy

pytestmark = pytest.mark.django_db

SCARF = 7001
BOOTS = 7002


def reviewing_shop(domain: str, name: str):
    shop = installed_shop(domain, name)
    Program.objects.update_or_create(
        shop=shop, defaults={"review_points": 50, "review_photo_bonus_points": 25}
    )
    shop.secret = integration_secret_for(shop=shop)
    return shop


def send(client: Client, shop, review: dict, source: str = "generic") -> dict:
    signed = review_request(source=source, review=review, secret=shop.secret, shop=shop.domain)
    response = client.post(
        signed.path, data=signed.body, content_type="application/json", headers=signed.headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def listing(client: Client, shop: str = ALICE, **query) -> dict:
    response = client.get("/api/admin/reviews", query, headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def alices_reviews(client: Client, admin_settings):
    """Alice's three reviews: a buyer's with a photo (rewarded), a Judge.me review of
    boots the member never bought (refused; found by email, case ignored), one by an email
    that is no member's (refused). Bob has one of his own."""
    alice = reviewing_shop(ALICE, "Alice")
    buy(alice, order_id=5001, customer_id=1001, product_id=SCARF)
    bob = reviewing_shop(BOB, "Bob")
    send(client, bob, generic_review(shop=BOB, review_id="bob-1", product_id=SCARF, customer_id=9))
    send(
        client,
        alice,
        generic_review(
            shop=ALICE,
            review_id="r-1",
            product_id=SCARF,
            customer_id=1001,
            rating=4,
            has_photo=True,
        ),
    )
    send(
        client,
        alice,
        judgeme_review(
            review_id=88, product_id=BOOTS, email="C1001@example.com", rating=2, pictures=1
        ),
        source="judgeme",
    )
    send(
        client,
        alice,
        generic_review(shop=ALICE, review_id="r-3", product_id=SCARF, email="eve@example.com"),
    )
    return alice


def test_the_api_lists_each_review_with_its_points_or_why_none(client: Client, alices_reviews):
    answer = listing(client)

    assert answer["next_cursor"] is None
    stored = {r.review_id: r for r in ReviewDelivery.objects.filter(shop=alices_reviews)}
    nobody, boots, scarf = answer["reviews"]
    assert scarf == {
        "id": stored["r-1"].pk,
        "source": "generic",
        "review_id": "r-1",
        "state": "rewarded",
        "state_label": "Points given",
        "member": {"customer_id": "1001", "email": "c1001@example.com"},
        "product_id": str(SCARF),
        "rating": 4,
        "has_photo": True,
        "points": 75,
        "outcome": "",
        "received_at": stored["r-1"].received_at.isoformat(),
        "processed_at": stored["r-1"].processed_at.isoformat(),
    }
    assert (boots["source"], boots["review_id"], boots["state"]) == ("judgeme", "88", "refused")
    assert (boots["rating"], boots["has_photo"], boots["points"]) == (2, True, 0)
    assert boots["member"]["customer_id"] == "1001"
    assert boots["outcome"] == (
        f"Customer 1001 has no paid order with product {BOOTS}: only buyers of a product earn "
        "points for reviewing it."
    )
    assert (nobody["member"], nobody["product_id"], nobody["points"]) == (None, str(SCARF), 0)
    assert nobody["outcome"] == (
        "No member with email eve@example.com: only members earn points for reviews."
    )
    assert (nobody["rating"], nobody["has_photo"]) == (5, False)


def test_the_list_filters_by_state_and_source_and_refuses_unknown_ones(
    client: Client, alices_reviews
):
    refused = listing(client, state="refused")["reviews"]
    assert [r["review_id"] for r in refused] == ["r-3", "88"]
    judgeme = listing(client, source="judgeme")["reviews"]
    assert [r["review_id"] for r in judgeme] == ["88"]
    both = listing(client, state="refused", source="generic")["reviews"]
    assert [r["review_id"] for r in both] == ["r-3"]
    assert listing(client, state="failed")["reviews"] == []

    bad = client.get(
        "/api/admin/reviews", {"state": "lost", "source": "yotpo"}, headers=as_merchant()
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"state", "source"}


def test_each_shop_sees_only_its_own_reviews(client: Client, alices_reviews):
    assert [r["review_id"] for r in listing(client, shop=BOB)["reviews"]] == ["bob-1"]
    assert "bob-1" not in {r["review_id"] for r in listing(client)["reviews"]}
    # Bob's page never shows Alice's either.
    bobs = page(client, "/members/reviews", shop=BOB)
    assert bobs.count("<tr data-review=") == 1 and "r-1" not in bobs


def test_the_list_pages_by_cursor_newest_first(client: Client, admin_settings):
    alice = reviewing_shop(ALICE, "Alice")
    made = [
        review_delivery_store(
            shop=alice,
            source="generic",
            review_id=f"r-{n}",
            body=b'{"rating": "five"}',
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )[0].pk
        for n in range(55)
    ]

    first = listing(client)
    assert len(first["reviews"]) == 50 and first["next_cursor"]
    rest = listing(client, cursor=first["next_cursor"])
    seen = [r["id"] for r in first["reviews"] + rest["reviews"]]
    assert seen == sorted(made, reverse=True) and rest["next_cursor"] is None
    # Not decided yet, and a body that says nothing readable: shown as unknown, not guessed.
    waiting = rest["reviews"][0]
    assert (waiting["state"], waiting["rating"], waiting["has_photo"]) == ("received", None, None)
    assert (waiting["member"], waiting["product_id"], waiting["processed_at"]) == (
        None,
        None,
        None,
    )
    bad = client.get("/api/admin/reviews", {"cursor": "nope"}, headers=as_merchant())
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


def test_the_reviews_page_is_linked_from_members_and_filters(client: Client, alices_reviews):
    members_html = page(client, "/members")
    assert re.search(r'href="/members/reviews\?[^"]+">Reviews<', members_html)

    html = page(client, "/members/reviews")
    rows = [text(row) for row in re.findall(r"<tr data-review=.*?</tr>", html, re.S)]
    assert len(rows) == 3
    assert (
        rows[2].split(" Any other")[0].endswith("c1001@example.com 7001 4 of 5 Yes 75 Points given")
    )
    assert "Judge.me 88" in rows[1] and "No points: see why: Customer 1001 has no paid" in rows[1]
    assert "— 7001 5 of 5 No 0 No points: see why: No member with email eve@example.com" in rows[0]
    params = {"embedded": "1", "shop": ALICE, "host": "YWRtaW4", "source": "judgeme"}
    only = client.get("/members/reviews", {**params, "id_token": session_token(shop=ALICE)})
    assert only.content.decode().count("<tr data-review=") == 1


def test_the_reviews_page_says_what_will_appear_when_there_are_none(client: Client, admin_settings):
    reviewing_shop(ALICE, "Alice")

    html = text(page(client, "/members/reviews"))

    assert "No reviews yet." in html
    assert "Review apps send each review to the addresses under Settings" in html
