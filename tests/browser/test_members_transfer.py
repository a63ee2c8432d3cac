"""Moving data in and out, in a browser: exporting members and their points history as CSV
files, importing members from a CSV file while following its progress, and retrying a
failed webhook delivery from the Sync page."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone

from loyalty.models import ImportStatus, Member, MemberImport, Shop
from loyalty.services.imports import member_import_run
from loyalty.services.members import member_adjust
from tests.browser.conftest import screenshot
from tests.browser.test_members_page import seed_members
from tests.shopify_signing import ALICE
from webhooks.models import Delivery, Status
from webhooks.processing import delivery_process

# Row 3 (the third line after the header) has an email that is not one.
THREE_MEMBERS = (
    "customer_id,email,first_name,last_name,points\n"
    "2001,hedy@example.com,Hedy,Lamarr,400\n"
    "2002,,Mary,Jackson,0\n"
    "2003,dorothy,Dorothy,Vaughan,75\n"
)


@pytest.fixture
def imports_sent(monkeypatch) -> list[int]:
    """The imports sent to the workers; the test runs each job itself, when it chooses."""
    sent: list[int] = []
    monkeypatch.setattr("loyalty.tasks.member_import_enqueue", sent.append)
    return sent


@pytest.fixture
def deliveries_sent(monkeypatch) -> list[int]:
    """The deliveries sent to the workers by Retry; the test processes them itself."""
    sent: list[int] = []
    monkeypatch.setattr("webhooks.admin_api.delivery_enqueue", sent.append)
    return sent


def test_export_members_downloads_a_csv_of_the_members_and_their_points(
    page, open_from_admin, tmp_path
):
    seed_members()
    open_from_admin("/members")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export members (CSV)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    assert download.value.suggested_filename.endswith(
        f"-members-{timezone.now().date().isoformat()}.csv"
    )
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["customer_id"], r["email"], r["balance"], r["pending"]) for r in rows] == [
        ("1001", "ada@example.com", "120", "0"),
        ("1002", "grace@example.com", "450", "0"),
        ("1003", "alan@example.com", "35", "0"),
        ("1004", "katherine@example.com", "980", "0"),
    ]
    page.locator(".standin-toast", has_text="Export downloaded").wait_for()
    assert page.get_by_role("button", name="Export members (CSV)").is_enabled()


def test_export_points_history_for_the_shops_days_chosen(page, open_from_admin, shopify, tmp_path):
    members = seed_members()
    # The app learns the shop's timezone from Shopify when the page installs it.
    requests.post(
        f"{shopify.url}/_standin/shops",
        json={"shop": ALICE, "name": "Alice's Garden", "currency": "EUR", "timezone": "Asia/Tokyo"},
        timeout=5,
    ).raise_for_status()
    # Tokyo is 9 hours ahead of UTC: 14:30 UTC is 23:30 on Nov 10 there, 15:30 UTC 00:30 on
    # Nov 11, and 14:30 UTC on Nov 11 the last minutes of Nov 11.
    for moment, points in (
        ("2026-11-10T14:30", 5),
        ("2026-11-10T15:30", 7),
        ("2026-11-11T14:30", 9),
    ):
        with pytest.MonkeyPatch.context() as clock:
            at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
            clock.setattr(timezone, "now", lambda at=at: at)
            member_adjust(
                member=members[1001], points=points, reason="Survey", actor="7", key=moment
            )
    open_from_admin("/members")
    assert Shop.objects.get(domain=ALICE).timezone == "Asia/Tokyo"
    page.get_by_label("Points history from").fill("2026-11-11")
    page.get_by_label("to", exact=True).fill("2026-11-11")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export points history (CSV)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["customer_id"], r["points"], r["at"]) for r in rows] == [
        ("1001", "7", "2026-11-10T15:30:00+00:00"),
        ("1001", "9", "2026-11-11T14:30:00+00:00"),
    ]


def test_an_export_that_fails_says_so_and_the_button_works_again(page, open_from_admin):
    seed_members()
    open_from_admin("/members")
    page.route("**/api/admin/exports/**", lambda route: route.fulfill(status=500, body=""))

    page.get_by_role("button", name="Export members (CSV)").click()

    banner = page.locator("#app-error")
    banner.wait_for()
    assert "could not be downloaded (error 500)" in banner.inner_text()
    assert page.locator(".standin-toast[data-error]", has_text="Export failed").is_visible()
    assert page.get_by_role("button", name="Export members (CSV)").is_enabled()


def test_an_import_shows_its_progress_until_finished_and_the_members_appear(
    page, open_from_admin, imports_sent, tmp_path
):
    seed_members()
    upload = tmp_path / "members.csv"
    upload.write_text(THREE_MEMBERS)
    open_from_admin("/members")
    page.get_by_role("link", name="Import members").first.click()
    page.wait_for_url("**/members/import?*id_token=*")

    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Import", exact=True).click()

    summary = page.locator("#import-summary")
    summary.filter(has_text="Waiting to start: 3 members in the file.").wait_for()
    assert len(imports_sent) == 1
    # A worker part of the way through (it saves its progress every few hundred rows).
    underway = MemberImport.objects.filter(pk=imports_sent[0])
    underway.update(status=ImportStatus.RUNNING, processed=1, imported=1)
    summary.filter(has_text="Importing: 1 of 3 rows, 1 imported, 0 rejected.").wait_for()
    assert page.locator("#import-bar").evaluate("bar => [bar.value, bar.max]") == [1, 3]
    # Back in the queue, as the stale-import sweep puts it, and run from the start.
    underway.update(status=ImportStatus.QUEUED)
    member_import_run(import_id=imports_sent[0])
    summary.filter(has_text="Finished").wait_for()
    assert summary.inner_text() == "Finished: 2 imported, 1 rejected."
    rejected = page.locator("#import-rejected tbody tr")
    assert rejected.count() == 1
    assert rejected.first.inner_text().split("\t") == [
        "3",
        "email must be an email address or empty, not 'dorothy'.",
    ]
    page.locator(".standin-toast", has_text="Import finished: 2 imported, 1 rejected").wait_for()
    screenshot(page, "members-import")

    page.get_by_role("link", name="See members").click()
    page.wait_for_url("**/members?*id_token=*")
    page.get_by_label("Search members").fill("hedy")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/members?*q=hedy*id_token=*")
    assert page.locator("#members tbody tr").first.inner_text().split("\t") == [
        "Hedy Lamarr",
        "hedy@example.com",
        "2001",
        "400",
        "0",
    ]
    assert not Member.objects.filter(customer_id=2003).exists()


def test_a_file_the_api_refuses_shows_its_error_under_the_file_field(
    page, open_from_admin, imports_sent, tmp_path
):
    seed_members()
    upload = tmp_path / "customers.csv"
    upload.write_text("id,email,points\n2001,hedy@example.com,400\n")
    open_from_admin("/members/import")

    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Import", exact=True).click()

    error = page.locator("#import-file-error")
    error.wait_for()
    assert error.inner_text() == (
        "The first line must be exactly customer_id,email,first_name,last_name,points "
        "(found id,email,points)."
    )
    assert page.get_by_label("CSV file").get_attribute("aria-invalid") == "true"
    assert page.locator("#import-progress-section").is_hidden()
    assert imports_sent == []


def test_a_failed_delivery_is_retried_from_the_sync_page_and_leaves_the_list(
    page, open_from_admin, deliveries_sent
):
    seed_members()
    failed = Delivery.objects.create(
        shop_domain=ALICE,
        topic="customers/create",
        webhook_id="w-retry-1",
        body=json.dumps(
            {"id": 2001, "email": "hedy@example.com", "first_name": "Hedy", "last_name": "Lamarr"}
        ).encode(),
        received_at=timezone.now(),
        status=Status.FAILED,
        attempts=2,
        last_error="Traceback (most recent call last):\nOperationalError: database is locked",
    )
    waiting = Delivery.objects.create(
        shop_domain=ALICE,
        topic="orders/paid",
        webhook_id="w-retry-0",
        body=b"{}",
        received_at=timezone.now() - timedelta(hours=3),
        status=Status.FAILED,
        attempts=4,
        last_error="Traceback (most recent call last):\nKeyError: 'line_items'",
    )
    open_from_admin("/settings")
    page.get_by_role("link", name="See the messages that failed and retry them").click()
    page.wait_for_url("**/settings/sync?*id_token=*")

    row = page.locator(f'tr[data-delivery="{failed.pk}"]')
    assert row.inner_text().split("\t")[0] == "customers/create"
    assert "OperationalError: database is locked" in row.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "settings-deliveries")

    row.get_by_role("button", name="Retry").click()
    row.locator("[data-delivery-state]", has_text="Sent again: being processed").wait_for()
    toast = page.locator(".standin-toast", has_text="customers/create sent to be processed again")
    toast.wait_for()
    assert row.get_by_role("button", name="Retry").count() == 0
    assert deliveries_sent == [failed.pk]
    assert delivery_process(failed.pk) == Status.PROCESSED

    open_from_admin("/settings/sync")
    assert page.locator("tr[data-delivery] code").all_inner_texts() == ["orders/paid"]
    assert page.locator(f'tr[data-delivery="{waiting.pk}"]').is_visible()
    assert Member.objects.get(customer_id=2001).email == "hedy@example.com"


def test_a_retry_that_fails_says_so_and_the_row_stays(page, open_from_admin, deliveries_sent):
    seed_members()
    failed = Delivery.objects.create(
        shop_domain=ALICE,
        topic="orders/paid",
        webhook_id="w-retry-2",
        body=b"{}",
        received_at=timezone.now(),
        status=Status.FAILED,
        attempts=1,
        last_error="KeyError: 'line_items'",
    )
    open_from_admin("/settings/sync")
    page.route("**/api/admin/deliveries/**", lambda route: route.abort("internetdisconnected"))

    row = page.locator(f'tr[data-delivery="{failed.pk}"]')
    row.get_by_role("button", name="Retry").click()

    page.locator(".standin-toast[data-error]", has_text="Not retried").wait_for()
    assert "could not be reached" in page.locator("#app-error").inner_text()
    assert row.get_by_role("button", name="Retry").is_enabled()
    assert deliveries_sent == []
    assert Delivery.objects.get(pk=failed.pk).status == Status.FAILED


def test_an_import_that_is_no_longer_there_stops_being_followed(
    page, open_from_admin, imports_sent, tmp_path
):
    seed_members()
    upload = tmp_path / "members.csv"
    upload.write_text(THREE_MEMBERS)
    open_from_admin("/members/import")
    asked: list[str] = []

    def gone(route):
        if route.request.method == "POST":  # the upload itself goes through
            route.continue_()
            return
        asked.append(route.request.url)
        route.fulfill(status=404, json={"errors": {"id": ["This shop has no import."]}})

    page.route("**/api/admin/imports/*", gone)
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Import", exact=True).click()

    page.locator("#app-error", has_text="This import is no longer there").wait_for()
    page.wait_for_timeout(2500)
    assert asked == [f"{page.url.split('/members')[0]}/api/admin/imports/{imports_sent[0]}"]
    assert page.get_by_role("button", name="Import", exact=True).is_enabled()
