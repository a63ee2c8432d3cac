"""The embedded admin's CSV exports: members with their points, and the ledger."""

import csv
import io
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from loyalty import selectors
from loyalty.models import LedgerEntry, Member, Reason
from loyalty.services.ledger import points_record
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

MEMBERS_URL = "/api/admin/exports/members.csv"
LEDGER_URL = "/api/admin/exports/ledger.csv"
MEMBERS_HEADER = ["customer_id", "email", "first_name", "last_name", "balance", "pending",
                  "member_since"]  # fmt: skip
LEDGER_HEADER = ["entry_id", "at", "customer_id", "points", "pending_points", "balance_after",
                 "pending_after", "reason", "order_id", "refund_id", "actor", "note"]  # fmt: skip


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice's Garden"), installed_shop(BOB, "Bob")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def member(shop, customer_id, email="", first_name="", last_name="", since=None) -> Member:
    made = Member.objects.create(
        shop=shop, customer_id=customer_id, email=email, first_name=first_name,
        last_name=last_name,
    )  # fmt: skip
    if since:
        Member.objects.filter(pk=made.pk).update(created_at=since)
        made.refresh_from_db()
    return made


def entry(member, key, made_at, points=0, **fields) -> LedgerEntry:
    """A ledger entry made at `made_at`: entries are append-only, so the clock is set."""
    with mock.patch("django.utils.timezone.now", return_value=made_at):
        return points_record(
            member=member,
            idempotency_key=key,
            points=points,
            reason=fields.pop("reason", Reason.ORDER_EARNED),
            **fields,
        )


def export(client, url, params=None, shop=ALICE) -> list[list[str]]:
    response = client.get(url, params or {}, headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_members_csv_lists_each_member_with_points_in_member_id_order(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace", at("2026-01-05T09:14:03"))
    grace = member(alice, 1002, "grace@example.com", "Grace", "Hopper", at("2026-02-01T00:00:00"))
    entry(ada, "order:1", at("2026-03-01T10:00:00"), points=120, pending_points=30)
    entry(grace, "adjust:1", at("2026-03-02T10:00:00"), points=-20,
          reason=Reason.MANUAL_ADJUSTMENT, actor="77", note="goodwill")  # fmt: skip

    rows = export(client, MEMBERS_URL)

    assert rows == [
        MEMBERS_HEADER,
        ["1001", "ada@example.com", "Ada", "Lovelace", "120", "30", "2026-01-05T09:14:03+00:00"],
        ["1002", "grace@example.com", "Grace", "Hopper", "-20", "0", "2026-02-01T00:00:00+00:00"],
    ]


def test_ledger_csv_lists_the_entries_of_the_range_in_entry_id_order(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com")
    grace = member(alice, 1002, "grace@example.com")
    first = entry(ada, "order:5001", at("2026-03-01T10:00:00"), points=120, pending_points=30,
                  order_id=5001)  # fmt: skip
    second = entry(grace, "signup:1002", at("2026-03-02T11:30:00"), points=50,
                   reason=Reason.SIGNUP_BONUS)  # fmt: skip
    third = entry(ada, "refund:9001", at("2026-03-03T12:00:00"), points=-40,
                  reason=Reason.ORDER_REFUNDED, order_id=5001, refund_id=9001)  # fmt: skip
    fourth = entry(ada, "adjust:1", at("2026-03-04T08:00:00"), points=-5,
                   reason=Reason.MANUAL_ADJUSTMENT, actor="77", note="Damaged parcel")  # fmt: skip

    rows = export(client, LEDGER_URL, {"from": "2026-03-01", "to": "2026-04-01"})

    assert rows == [
        LEDGER_HEADER,
        [str(first.pk), "2026-03-01T10:00:00+00:00", "1001", "120", "30", "120", "30",
         "order_earned", "5001", "", "", ""],
        [str(second.pk), "2026-03-02T11:30:00+00:00", "1002", "50", "0", "50", "0",
         "signup_bonus", "", "", "", ""],
        [str(third.pk), "2026-03-03T12:00:00+00:00", "1001", "-40", "0", "80", "30",
         "order_refunded", "5001", "9001", "", ""],
        [str(fourth.pk), "2026-03-04T08:00:00+00:00", "1001", "-5", "0", "75", "30",
         "manual_adjustment", "", "", "77", "Damaged parcel"],
    ]  # fmt: skip


def test_the_range_includes_from_and_excludes_to(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com")
    moments = [
        "2026-02-28T23:59:59.999999",
        "2026-03-01T00:00:00",
        "2026-03-31T23:59:59.999999",
        "2026-04-01T00:00:00",
    ]
    for n, moment in enumerate(moments, start=1):
        entry(ada, f"order:{n}", at(moment), points=n)

    def points(params) -> list[str]:
        return [row[3] for row in export(client, LEDGER_URL, params)[1:]]

    assert points({"from": "2026-03-01", "to": "2026-04-01"}) == ["2", "3"]
    # Datetimes with an offset name the same instants: 01:00+01:00 is midnight UTC.
    assert points({"from": "2026-03-01T01:00:00+01:00", "to": "2026-04-01T00:00:00Z"}) == [
        "2",
        "3",
    ]
    # A datetime without an offset is UTC.
    assert points({"from": "2026-02-28T23:59:59.999999", "to": "2026-04-01T00:00:00.000001"}) == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert points({"from": "2026-03-01", "to": "2026-03-01"}) == []


def test_without_a_range_the_ledger_covers_the_last_thirty_days(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com")
    now = timezone.now()
    entry(ada, "order:1", now - timedelta(days=31), points=1)
    entry(ada, "order:2", now - timedelta(days=29), points=2)
    entry(ada, "order:3", now - timedelta(minutes=1), points=3)

    assert [row[3] for row in export(client, LEDGER_URL)[1:]] == ["2", "3"]
    # With only `from`, the range ends now; with only `to`, it starts 30 days before.
    recent = {"from": (now - timedelta(days=30)).date().isoformat()}
    assert [row[3] for row in export(client, LEDGER_URL, recent)[1:]] == ["2", "3"]
    older = {"to": (now - timedelta(days=30)).isoformat()}
    assert [row[3] for row in export(client, LEDGER_URL, older)[1:]] == ["1"]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from": "yesterday"}, ["from"]),
        ({"from": "2026-02-30"}, ["from"]),
        ({"to": "2026-13-01"}, ["to"]),
        ({"to": "2026-03-01T25:00:00"}, ["to"]),
        ({"from": "soon", "to": "later"}, ["from", "to"]),
        ({"from": "2026-04-01", "to": "2026-03-01"}, ["from"]),
        ({"from": "2026-03-01T00:00:01", "to": "2026-03-01"}, ["from"]),
        ({"to": "0001-01-01"}, ["to"]),
    ],
)
def test_a_range_that_cannot_be_read_is_refused_naming_the_field(client, shops, params, fields):
    response = client.get(LEDGER_URL, params, headers=as_merchant())

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()["errors"]
    assert sorted(errors) == fields
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)


def test_a_shop_exports_only_its_own_members_and_entries(client, shops):
    alice, bob = shops
    ada = member(alice, 1001, "ada@example.com")
    entry(ada, "order:1", timezone.now(), points=10)
    bobs_ada = member(bob, 1004, "ada.bob@example.com")
    entry(bobs_ada, "order:1", timezone.now(), points=7)

    assert [row[0] for row in export(client, MEMBERS_URL, shop=BOB)] == ["customer_id", "1004"]
    ledger = export(client, LEDGER_URL, shop=BOB)
    assert [(row[2], row[3]) for row in ledger[1:]] == [("1004", "7")]
    assert [row[0] for row in export(client, MEMBERS_URL)] == ["customer_id", "1001"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "=cmd|' /C calc'!A0", "+Ada", "@Lovelace")
    member(alice, 1002, "-grace@example.com", "\tGrace", "\rHopper")
    entry(ada, "adjust:1", timezone.now(), points=-25, reason=Reason.MANUAL_ADJUSTMENT,
          actor="-77", note='=HYPERLINK("http://evil.example","click")')  # fmt: skip

    members = export(client, MEMBERS_URL)
    assert members[1][:6] == ["1001", "'=cmd|' /C calc'!A0", "'+Ada", "'@Lovelace", "-25", "0"]
    assert members[2][1:4] == ["'-grace@example.com", "'\tGrace", "'\rHopper"]
    [ledger_row] = export(client, LEDGER_URL)[1:]
    # Points stay plain numbers, negative ones included.
    assert ledger_row[3] == "-25" and ledger_row[5] == "-25"
    assert ledger_row[10:] == ["'-77", '\'=HYPERLINK("http://evil.example","click")']


def test_exports_are_streamed_as_csv_attachments_named_for_the_shop_and_day(client, shops):
    today = timezone.now().date().isoformat()
    exports = [(MEMBERS_URL, "members", "customer_id,"), (LEDGER_URL, "ledger", "entry_id,")]
    for url, name, header_start in exports:
        response = client.get(url, headers=as_merchant())

        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            f'attachment; filename="alices-garden-{name}-{today}.csv"'
        )
        assert "frame-ancestors https://alice.myshopify.com" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content).decode().startswith(header_start)


def test_pages_cover_every_row_once_in_id_order(shops):
    alice, bob = shops
    members = [member(alice, 5000 + n, f"m{n}@example.com") for n in range(7)]
    member(bob, 5000, "bob@example.com")
    for n, someone in enumerate(members):
        entry(someone, f"order:{n}", at("2026-03-01T00:00:00"), points=n + 1)

    member_pages = list(selectors.members_export_pages(shop=alice, page_size=3))
    assert [len(page) for page in member_pages] == [3, 3, 1]
    assert [m.customer_id for page in member_pages for m in page] == [5000 + n for n in range(7)]

    entry_pages = list(
        selectors.ledger_export_pages(
            shop=alice, start=at("2026-03-01T00:00:00"), end=at("2026-03-02T00:00:00"),
            page_size=3,
        )
    )  # fmt: skip
    assert [len(page) for page in entry_pages] == [3, 3, 1]
    assert [e["points"] for page in entry_pages for e in page] == list(range(1, 8))


def test_without_a_session_token_exports_ask_for_a_new_one(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com")
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        for url in [MEMBERS_URL, LEDGER_URL]:
            response = client.get(url, headers=headers)
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
            assert response.content == b""
