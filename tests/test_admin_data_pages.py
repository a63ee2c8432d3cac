"""The pages for moving data in and out, rendered by Django (no browser): the Members
page's exports and import link, the Import members page, and the Sync page's failed webhook
deliveries, only ever the session token's shop's."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.utils import timezone

from tests.shopify_signing import ALICE, BOB, session_token
from tests.test_admin_deliveries_api import TRACEBACK, delivery
from tests.test_embedded_admin import admin_load, installed_shop
from webhooks.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice", "EUR"), installed_shop(BOB, "Bob")


def page(client, path, shop=ALICE) -> str:
    response = admin_load(client, shop=shop, token=session_token(shop=shop), path=path)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def delivery_rows(html: str) -> list[str]:
    return [text(row) for row in re.findall(r"<tr data-delivery=.*?</tr>", html, re.S)]


def test_the_members_page_offers_both_exports_with_the_shops_last_30_days_and_the_import(
    client, shops, monkeypatch
):
    alice, _ = shops
    alice.timezone = "America/New_York"
    alice.save()
    # Nov 27 in UTC, still the evening of Nov 26 in New York.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 27, 2, 0, tzinfo=UTC))

    html = page(client, "/members")

    assert 'data-export="/api/admin/exports/members.csv"' in html
    assert 'action="/api/admin/exports/ledger.csv"' in html
    assert 'data-timezone="America/New_York"' in html
    assert re.search(r'id="ledger-from"[^>]*value="2026-10-27"', html)
    assert re.search(r'id="ledger-to"[^>]*value="2026-11-26"', html)
    import_link = re.search(r'href="(/members/import\?[^"]+)">Import members<', html).group(1)
    assert unescape(import_link) == f"/members/import?embedded=1&shop={ALICE}&host=YWRtaW4"


def test_the_import_page_explains_the_file_and_that_importing_twice_adds_nothing(client, shops):
    html = page(client, "/members/import")

    assert 'action="/api/admin/imports/members"' in html
    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<input id="import-file" type="file" name="file"', html)
    assert "<code>customer_id,email,first_name,last_name,points</code>" in html
    assert "at most 10 MB and 200,000 members" in text(html)
    assert "a whole number from 0 to 10,000,000" in text(html)
    assert "Importing the same file twice adds nothing." in text(html)
    assert 'href="/static/admin/members-import-example.csv"' in html


def test_the_example_file_is_one_the_import_accepts_whole(client, shops):
    from django.contrib.staticfiles import finders

    from loyalty.models import Member, MemberImport
    from loyalty.services.imports import member_import_create, member_import_run

    alice, _ = shops
    with open(finders.find("admin/members-import-example.csv"), "rb") as example:
        stored = member_import_create(shop=alice, csv_bytes=example.read())
    done = member_import_run(import_id=stored.pk)

    assert (done.status, done.imported, done.rejected_count) == ("done", 3, 0)
    assert MemberImport.objects.get(pk=stored.pk).total == 3
    assert Member.objects.filter(shop=alice).count() == 3


def test_settings_links_to_the_sync_page(client, shops):
    html = page(client, "/settings")

    link = re.search(r'href="([^"]+)" id="sync-link"', html).group(1)
    assert unescape(link) == f"/settings/sync?embedded=1&shop={ALICE}&host=YWRtaW4"


def test_the_sync_page_lists_the_shops_failed_deliveries_newest_first(client, shops):
    alice, _ = shops
    alice.timezone = "Europe/Paris"
    alice.save()
    received = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
    older = delivery(
        attempts=3,
        last_error=TRACEBACK,
        next_attempt_at=received + timedelta(minutes=40),
    )
    older.received_at = received
    older.save()
    newer = delivery(topic="refunds/create", attempts=1, last_error="ValueError: x")
    newer.received_at = received + timedelta(hours=2)
    newer.save()
    delivery(status=Status.PROCESSED, topic="customers/create")
    delivery(status=Status.RECEIVED, topic="customers/update")

    html = page(client, "/settings/sync")

    assert delivery_rows(html) == [
        "refunds/create Nov 20, 2026, 12:15 ValueError: x 1 Retry",
        "orders/paid Nov 20, 2026, 10:15 KeyError: 'line_items' 3 next try 10:55 Retry",
    ]
    assert "Received (Europe/Paris)" in text(html)
    assert f'data-replay="/api/admin/deliveries/{newer.pk}/replay"' in html
    assert f'data-replay="/api/admin/deliveries/{older.pk}/replay"' in html
    assert "Everything Shopify sent has been processed" not in html


def test_without_failed_deliveries_the_sync_page_says_everything_was_processed(client, shops):
    delivery(status=Status.PROCESSED)

    html = page(client, "/settings/sync")

    assert delivery_rows(html) == []
    assert "Everything Shopify sent has been processed" in text(html)


def test_shop_bs_sync_page_never_lists_shop_as_deliveries(client, shops):
    alices = delivery(shop_domain=ALICE, topic="orders/paid", last_error="KeyError: 'a'")
    delivery(shop_domain=BOB, topic="refunds/create", last_error="ValueError: b")

    bobs_page = page(client, "/settings/sync", shop=BOB)

    assert [row.split(" ")[0] for row in delivery_rows(bobs_page)] == ["refunds/create"]
    assert f"/api/admin/deliveries/{alices.pk}/" not in bobs_page
    assert "KeyError" not in bobs_page
    assert [row.split(" ")[0] for row in delivery_rows(page(client, "/settings/sync"))] == [
        "orders/paid"
    ]


def test_the_new_pages_need_a_session_token(client, shops):
    for path in ("/members/import", "/settings/sync"):
        response = admin_load(client, shop=ALICE, path=path)
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/session-token?")
