"""The embedded admin's member import: a CSV of starting balances, imported once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from loyalty.models import ImportStatus, LedgerEntry, Member, MemberImport, Reason
from loyalty.services import imports
from loyalty.services.imports import member_import_run
from loyalty.services.members import member_redact
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_admin_members_api import member
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

HEADER = "customer_id,email,first_name,last_name,points\n"
GOOD_AND_BAD = HEADER + (
    "1001,ada@example.com,Ada,Lovelace,500\n"  # row 1
    "1002,grace@example.com,Grace,Hopper,0\n"  # row 2: a member without points
    "abc,alan@example.com,Alan,Turing,10\n"  # row 3
    "1003,not-an-email,Bad,Email,10\n"  # row 4
    "1004,,No,Email,-5\n"  # row 5
    "1001,ada2@example.com,Ada,Again,700\n"  # row 6: Ada twice
    "1005,,Hedy,Lamarr,10000001\n"  # row 7
    "1006,,Only,Four\n"  # row 8
    "1007,,Katherine,Johnson,2500\n"  # row 9
)


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


@pytest.fixture(autouse=True)
def _jobs_not_sent(monkeypatch):
    """The tests run each import's job themselves, after the upload answers."""
    sent = []
    monkeypatch.setattr("loyalty.tasks.member_import_enqueue", sent.append)
    return sent


def upload(client, text: str, shop=ALICE, as_file=False):
    if as_file:
        csv_file = SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")
        return client.post(
            "/api/admin/imports/members", {"file": csv_file}, headers=as_merchant(shop)
        )
    return client.post(
        "/api/admin/imports/members",
        data=text.encode(),
        content_type="text/csv",
        headers=as_merchant(shop),
    )


def imported(client, text: str, shop=ALICE, as_file=False) -> dict:
    """Upload a file, run its job, and answer what the admin then shows."""
    response = upload(client, text, shop, as_file)
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    member_import_run(import_id=import_id)
    return status(client, import_id, shop)


def status(client, import_id: int, shop=ALICE) -> dict:
    response = client.get(f"/api/admin/imports/{import_id}", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def balances(shop) -> dict[int, int]:
    return dict(Member.objects.filter(shop=shop).values_list("customer_id", "balance"))


def test_good_rows_are_imported_with_their_points_and_bad_rows_rejected_by_number(
    client, shops, django_capture_on_commit_callbacks, _jobs_not_sent
):
    alice, _ = shops
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD_AND_BAD)
    assert response.status_code == 202
    import_id = response.json()["id"]
    assert _jobs_not_sent == [import_id]
    assert status(client, import_id)["status"] == "queued"

    member_import_run(import_id=import_id)
    report = status(client, import_id)

    assert report["status"] == "done"
    assert (report["total"], report["processed"], report["imported"]) == (9, 9, 3)
    assert report["rejected_count"] == 6
    assert report["rejected"] == [
        {"row": 3, "errors": [
            "customer_id must be a Shopify customer id (a whole number above 0), not 'abc'."]},
        {"row": 4, "errors": ["email must be an email address or empty, not 'not-an-email'."]},
        {"row": 5, "errors": ["points must be a whole number from 0 to 10,000,000, not '-5'."]},
        {"row": 6, "errors": ["customer_id 1001 is already on row 1."]},
        {"row": 7, "errors": [
            "points must be a whole number from 0 to 10,000,000, not '10000001'."]},
        {"row": 8, "errors": [
            "Expected 5 values (customer_id,email,first_name,last_name,points), found 4."]},
    ]  # fmt: skip
    assert balances(alice) == {1001: 500, 1002: 0, 1007: 2500}
    ada = Member.objects.get(shop=alice, customer_id=1001)
    assert (ada.email, ada.first_name, ada.last_name) == ("ada@example.com", "Ada", "Lovelace")
    entries = LedgerEntry.objects.filter(shop=alice).order_by("member__customer_id")
    assert [(e.member.customer_id, e.points, e.reason, e.idempotency_key) for e in entries] == [
        (1001, 500, Reason.IMPORTED, "import:1001"),
        (1007, 2500, Reason.IMPORTED, "import:1007"),
    ]


def test_importing_the_same_file_twice_adds_nothing(client, shops):
    alice, _ = shops
    first = imported(client, GOOD_AND_BAD)
    second = imported(client, GOOD_AND_BAD)

    assert first["imported"] == second["imported"] == 3
    assert balances(alice) == {1001: 500, 1002: 0, 1007: 2500}
    assert LedgerEntry.objects.filter(shop=alice).count() == 2
    # Another file naming an imported customer again adds nothing either.
    imported(client, HEADER + "1001,ada@example.com,Ada,Lovelace,9000\n")
    assert balances(alice)[1001] == 500


def test_a_multipart_file_imports_like_a_csv_body(client, shops):
    alice, _ = shops
    report = imported(client, HEADER + "2001,x@example.com,X,Y,40\n", as_file=True)
    assert (report["status"], report["imported"], report["rejected"]) == ("done", 1, [])
    assert balances(alice) == {2001: 40}


def test_an_existing_member_keeps_their_points_and_a_redacted_one_their_privacy(client, shops):
    alice, _ = shops
    member(alice, 3001, "old@example.com", "Old", "Name")
    member_redact(shop=alice, customer_id=3002)
    imported(client, HEADER + "3001,new@example.com,New,Name,100\n3002,back@example.com,B,C,7\n")

    ada = Member.objects.get(shop=alice, customer_id=3001)
    assert (ada.email, ada.first_name, ada.balance) == ("new@example.com", "New", 100)
    redacted = Member.objects.get(shop=alice, customer_id=3002)
    assert (redacted.email, redacted.first_name, redacted.balance) == ("", "", 7)


@pytest.mark.parametrize(
    "text",
    [
        "customer_id,email,first_name,last_name,points,tier\n1,,,,5,gold\n",
        "customer_id,email,points\n1,,5\n",
        "",
    ],
)
def test_a_file_with_another_header_is_refused_naming_file(client, shops, text):
    response = upload(client, text)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert not MemberImport.objects.exists()


def test_a_request_without_a_file_is_refused_naming_file(client, shops):
    response = client.post(
        "/api/admin/imports/members", data="{}", content_type="application/json",
        headers=as_merchant(),
    )  # fmt: skip
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]


def test_too_many_rows_are_refused(client, shops, monkeypatch):
    monkeypatch.setattr(imports, "MOST_ROWS", 2)
    response = upload(client, HEADER + "1,,,,1\n2,,,,1\n3,,,,1\n")
    assert response.status_code == 400
    assert "at most 2 per file" in response.json()["errors"]["file"][0]


def test_progress_is_saved_while_the_job_runs(client, shops, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    seen = []
    real_save = imports._save_progress

    def save_and_look(member_import, *args):
        real_save(member_import, *args)
        seen.append(MemberImport.objects.get(pk=member_import.pk).processed)

    monkeypatch.setattr(imports, "_save_progress", save_and_look)
    imported(client, HEADER + "".join(f"{n},,,,1\n" for n in range(1, 6)))
    assert seen == [2, 4, 5]


def test_a_crash_marks_the_import_failed_with_the_error(client, shops, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "points_record", broken)
    response = upload(client, HEADER + "1,,,,5\n")
    with pytest.raises(RuntimeError):
        member_import_run(import_id=response.json()["id"])

    report = status(client, response.json()["id"])
    assert report["status"] == "failed"
    assert report["error"] == "RuntimeError: database went away"


def test_another_shops_import_is_not_found(client, shops):
    alice, bob = shops
    import_id = upload(client, HEADER + "1,,,,5\n", shop=ALICE).json()["id"]

    response = client.get(f"/api/admin/imports/{import_id}", headers=as_merchant(BOB))
    assert response.status_code == 404
    assert status(client, import_id, shop=ALICE)["status"] == ImportStatus.QUEUED
    # Bob's import of the same customer credits Bob's member, not Alice's.
    imported(client, HEADER + "1,,,,9\n", shop=BOB)
    member_import_run(import_id=import_id)
    assert balances(alice) == {1: 5}
    assert balances(bob) == {1: 9}


def test_without_a_session_token_the_api_asks_for_a_new_one(client, shops):
    for response in (
        client.post("/api/admin/imports/members", data=HEADER, content_type="text/csv"),
        client.get("/api/admin/imports/1"),
    ):
        assert response.status_code == 401
        assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
