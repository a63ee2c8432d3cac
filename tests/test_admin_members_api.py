"""The embedded admin's members API: search, one member's history, manual adjustments."""

import json

import pytest

from loyalty.models import LedgerEntry, Member, Reason
from loyalty.services.ledger import points_record
from loyalty.services.members import member_redact
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def member(shop, customer_id, email="", first_name="", last_name="") -> Member:
    return Member.objects.create(
        shop=shop,
        customer_id=customer_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )


def search(client, q="", cursor=None, shop=ALICE):
    params = {"q": q} | ({"cursor": cursor} if cursor else {})
    response = client.get("/api/admin/members", params, headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def customer_ids(page) -> list[str]:
    return [m["customer_id"] for m in page["members"]]


def adjust(client, customer_id, body, shop=ALICE, sub="42", key=None):
    headers = as_merchant(shop, sub) | ({"Idempotency-Key": key} if key else {})
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/admin/members/{customer_id}/adjustments",
        data=data,
        content_type="application/json",
        headers=headers,
    )


def test_search_finds_members_by_email_name_or_customer_id_in_this_shop_only(client, shops):
    alice, bob = shops
    member(alice, 1001, "Ada@Example.com", "Ada", "Lovelace")
    member(alice, 1002, "grace@example.com", "Grace", "Hopper")
    member(alice, 1003, "alan@example.com", "Alan", "Turing")
    member(alice, 2001, "2001@example.com", "Space", "Odyssey")
    member(bob, 1004, "ada.bob@example.com", "Ada", "Bob")

    assert customer_ids(search(client, "ada@")) == ["1001"]
    assert customer_ids(search(client, "ADA")) == ["1001"]
    assert customer_ids(search(client, "a")) == ["1001", "1003"]
    assert customer_ids(search(client, "gra")) == ["1002"]
    assert customer_ids(search(client, "hop")) == ["1002"]
    assert customer_ids(search(client, "grace hop")) == ["1002"]
    assert customer_ids(search(client, "1003")) == ["1003"]
    # All digits: an exact customer id, or an email that starts with them.
    assert customer_ids(search(client, "2001")) == ["2001"]
    assert customer_ids(search(client, "100")) == []
    # A prefix is a prefix: "%" and "_" are not wildcards.
    assert customer_ids(search(client, "%")) == []
    assert customer_ids(search(client, "_da")) == []
    assert customer_ids(search(client, "")) == ["1001", "1002", "1003", "2001"]
    # Bob's token sees Bob's Ada only, never Alice's members.
    assert customer_ids(search(client, "ada", shop=BOB)) == ["1004"]
    assert customer_ids(search(client, "1001", shop=BOB)) == []


def test_a_search_result_carries_the_members_points(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    points_record(member=ada, points=120, pending_points=30, reason=Reason.ORDER_EARNED,
                  idempotency_key="order:1")  # fmt: skip

    [found] = search(client, "ada")["members"]
    assert found == {
        "customer_id": "1001",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "balance": 120,
        "pending": 30,
        "member_since": ada.created_at.isoformat(),
    }


def test_pages_of_fifty_cover_every_member_once(client, shops):
    alice, bob = shops
    Member.objects.bulk_create(
        Member(shop=alice, customer_id=5000 + n, email=f"m{n:03}@example.com") for n in range(120)
    )
    Member.objects.bulk_create(
        Member(shop=bob, customer_id=5000 + n, email=f"m{n:03}@example.com") for n in range(30)
    )

    seen, pages, cursor = [], [], None
    while True:
        page = search(client, "m", cursor)
        pages.append(len(page["members"]))
        seen += customer_ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [50, 50, 20]
    assert seen == [str(5000 + n) for n in range(120)]

    # Exactly one full page leaves no empty page behind it.
    first = search(client, "m00")
    assert customer_ids(first) == [str(5000 + n) for n in range(10)]
    assert first["next_cursor"] is None


def test_a_cursor_the_api_did_not_make_is_refused(client, shops):
    for cursor in ["not-base64!", "bTEyYQ", "eDEy", "bTk5OTk5OTk5OTk5OTk5OTk5OTk5"]:
        response = client.get("/api/admin/members", {"cursor": cursor}, headers=as_merchant())
        assert response.status_code == 400, cursor
        assert list(response.json()["errors"]) == ["cursor"]


def test_a_redacted_member_is_found_by_customer_id_with_empty_details(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    member_redact(shop=alice, customer_id=1001)

    assert search(client, "ada")["members"] == []
    [found] = search(client, "1001")["members"]
    assert (found["email"], found["first_name"], found["last_name"]) == ("", "", "")


def test_member_detail_lists_the_hundred_newest_entries_newest_first(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    for n in range(1, 106):
        points_record(member=ada, points=n, reason=Reason.ORDER_EARNED,
                      idempotency_key=f"order:{n}", order_id=9000 + n)  # fmt: skip

    response = client.get("/api/admin/members/1001", headers=as_merchant())
    assert response.status_code == 200
    detail = response.json()
    assert (detail["balance"], detail["pending"]) == (sum(range(1, 106)), 0)
    entries = detail["entries"]
    assert len(entries) == 100
    assert [e["points"] for e in entries[:3]] == [105, 104, 103]
    assert entries[-1]["points"] == 6
    newest = LedgerEntry.objects.get(member=ada, sequence=105)
    assert entries[0] == {
        "id": newest.pk,
        "at": newest.created_at.isoformat(),
        "points": 105,
        "pending_points": 0,
        "balance_after": sum(range(1, 106)),
        "reason": "order_earned",
        "reason_label": "Points for an order",
        "order_id": "9105",
        "refund_id": None,
        "actor": "",
        "note": "",
    }


def test_another_shops_member_is_not_found(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com")

    assert client.get("/api/admin/members/1001", headers=as_merchant(BOB)).status_code == 404
    assert client.get("/api/admin/members/1999", headers=as_merchant()).status_code == 404
    response = adjust(client, 1001, {"points": 500, "reason": "goodwill"}, shop=BOB)
    assert response.status_code == 404
    assert LedgerEntry.objects.count() == 0


def test_an_adjustment_is_recorded_with_who_made_it_and_why(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com")
    points_record(member=ada, points=200, reason=Reason.ORDER_EARNED, idempotency_key="o:1")

    response = adjust(client, 1001, {"points": -75, "reason": " Damaged parcel refund "}, sub="77")

    assert response.status_code == 201
    answer = response.json()
    assert answer["balance"] == 125
    entry = LedgerEntry.objects.get(member=ada, reason=Reason.MANUAL_ADJUSTMENT)
    assert (entry.points, entry.balance_after, entry.actor, entry.note) == (
        -75,
        125,
        "77",
        "Damaged parcel refund",
    )
    assert answer["entry"]["id"] == entry.pk
    assert answer["entry"]["reason_label"] == "Adjusted by the store"
    assert (answer["entry"]["actor"], answer["entry"]["note"]) == ("77", "Damaged parcel refund")
    ada.refresh_from_db()
    assert ada.balance == 125


def test_a_retried_adjustment_with_the_same_key_adds_nothing(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com")
    grace = member(alice, 1002, "grace@example.com")

    first = adjust(client, 1001, {"points": 300, "reason": "welcome back"}, key="form-1")
    again = adjust(client, 1001, {"points": 300, "reason": "welcome back"}, key="form-1")
    # The same key for another member is another adjustment.
    other = adjust(client, 1002, {"points": 300, "reason": "welcome back"}, key="form-1")
    # Without a key each request is its own adjustment.
    adjust(client, 1001, {"points": 5, "reason": "one"})
    adjust(client, 1001, {"points": 5, "reason": "two"})

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 201)
    assert again.json()["entry"]["id"] == first.json()["entry"]["id"]
    assert again.json()["balance"] == 300
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert (ada.balance, grace.balance) == (310, 300)
    assert LedgerEntry.objects.filter(member=ada).count() == 3


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"points": "100", "reason": "x"}, ["points"]),
        ({"points": 1.5, "reason": "x"}, ["points"]),
        ({"points": True, "reason": "x"}, ["points"]),
        ({"points": 0, "reason": "x"}, ["points"]),
        ({"points": 1_000_001, "reason": "x"}, ["points"]),
        ({"points": -1_000_001, "reason": "x"}, ["points"]),
        ({"reason": "x"}, ["points"]),
        ({"points": 10}, ["reason"]),
        ({"points": 10, "reason": "   "}, ["reason"]),
        ({"points": 10, "reason": 7}, ["reason"]),
        ({"points": 10, "reason": "x" * 501}, ["reason"]),
        ({"points": 0, "reason": ""}, ["points", "reason"]),
        ("not json", ["body"]),
        ("[1, 2]", ["body"]),
        (b"\xff\xfe", ["body"]),
    ],
)
def test_invalid_adjustments_name_each_field_at_fault(client, shops, body, fields):
    alice, _ = shops
    member(alice, 1001, "ada@example.com")

    response = adjust(client, 1001, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == fields
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    assert LedgerEntry.objects.count() == 0


def test_the_largest_adjustments_are_allowed(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com")

    assert adjust(client, 1001, {"points": 1_000_000, "reason": "x" * 500}).status_code == 201
    response = adjust(client, 1001, {"points": -1_000_000, "reason": "undo"})
    assert response.status_code == 201 and response.json()["balance"] == 0


def test_without_a_session_token_every_member_endpoint_asks_for_a_new_one(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com")
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        answers = [
            client.get("/api/admin/members", headers=headers),
            client.get("/api/admin/members/1001", headers=headers),
            client.post(
                "/api/admin/members/1001/adjustments",
                data=json.dumps({"points": 5, "reason": "x"}),
                content_type="application/json",
                headers=headers,
            ),
        ]
        for response in answers:
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert LedgerEntry.objects.count() == 0


def test_edge_inputs_get_clear_errors_not_500s(client, shops):
    """NUL characters, non-ASCII digits and a balance past 32 bits are 400s, not crashes."""
    from loyalty.services.ledger import LARGEST_BALANCE

    alice, _ = shops
    someone = member(alice, 5)
    assert client.get("/api/admin/members", {"q": "²"}, headers=as_merchant()).status_code == 200
    nul = client.post(
        "/api/admin/members/5/adjustments",
        data={"points": 5, "reason": "a\x00b"},
        content_type="application/json",
        headers=as_merchant(),
    )
    assert nul.status_code == 400 and "reason" in nul.json()["errors"]
    points_record(
        member=someone, points=LARGEST_BALANCE - 10, reason="imported", idempotency_key="big"
    )
    too_much = client.post(
        "/api/admin/members/5/adjustments",
        data={"points": 11, "reason": "bonus"},
        content_type="application/json",
        headers=as_merchant(),
    )
    assert too_much.status_code == 400 and "points" in too_much.json()["errors"]
    assert Member.objects.get(pk=someone.pk).balance == LARGEST_BALANCE - 10


def test_a_search_holding_a_nul_is_a_400_naming_q(client, shops):
    """PostgreSQL refuses a NUL even in a query's parameters: the search must not send one."""
    alice, _ = shops
    member(alice, 1001, "ada@example.com")

    answer = client.get("/api/admin/members", {"q": "ada\x00"}, headers=as_merchant())

    assert answer.status_code == 400
    assert answer.json() == {"errors": {"q": ["Remove the NUL character."]}}
