"""The Sync page says when the shop's orders were last checked and what was repaired."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from loyalty.models import ReconciliationRun
from tests.shopify_signing import ALICE, BOB
from tests.test_admin_data_pages import page, shops, text  # noqa: F401

pytestmark = pytest.mark.django_db


def run(shop, finished_at, **figures) -> ReconciliationRun:
    return ReconciliationRun.objects.create(
        shop=shop,
        window_start=finished_at,
        window_end=finished_at,
        started_at=finished_at,
        finished_at=finished_at,
        complete=True,
        **figures,
    )


def line(html: str) -> str:
    found = re.search(r'<s-paragraph id="reconciliation">(.*?)</s-paragraph>', html, re.S)
    return " ".join(text(found.group(1)).split())


def test_the_sync_page_shows_the_shops_last_check_and_what_it_repaired(client, shops):  # noqa: F811
    alice, bob = shops
    alice.timezone = "Europe/Paris"
    alice.save()
    run(alice, datetime(2026, 11, 26, 7, 37, tzinfo=UTC), orders_read=40)
    run(
        alice,
        datetime(2026, 11, 26, 8, 37, tzinfo=UTC),
        orders_read=12,
        repaired=2,
        points_credited=150,
        points_reversed=30,
        errors=1,
    )
    run(bob, datetime(2026, 11, 26, 9, 37, tzinfo=UTC), orders_read=7, repaired=7)

    alices = line(page(client, "/settings/sync"))
    bobs = line(page(client, "/settings/sync", shop=BOB))

    assert alices.endswith(
        "Last check Nov 26, 2026, 09:37: 12 orders read, 2 repaired (150 points credited, "
        "30 taken back); 1 problem (your app's operator can see which)."
    )
    assert "7 orders read, 7 repaired" in bobs and "12 orders" not in bobs


def test_before_the_first_check_the_sync_page_says_so(client, shops):  # noqa: F811
    assert line(page(client, "/settings/sync", shop=ALICE)).endswith("It has not checked yet.")


def test_a_members_history_says_which_entries_a_missed_webhook_left_to_reconciliation(
    client,
    shops,  # noqa: F811
):
    from loyalty.services.ledger import points_record
    from tests.factories import member

    alice, _ = shops
    ada = member(alice, customer_id=1001)
    for key, actor in (("order:1:earned", "reconciliation"), ("order:2:earned", "")):
        points_record(
            member=ada, points=10, reason="order_earned", idempotency_key=key, actor=actor
        )

    rows = re.findall(r"<tr>(.*?)</tr>", page(client, "/members/1001"), re.S)
    who = [text(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[-1]) for row in rows if "<td" in row]

    assert who == ["automatic", "automatic (its webhook never arrived)"]
