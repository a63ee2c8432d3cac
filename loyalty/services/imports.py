"""Member imports: members with starting balances, moved over from another loyalty app.

`member_import_create` checks the file's shape and stores it; `member_import_run` (a
background job) validates it row by row and credits each good row's points once.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.earning.orders import Customer
from loyalty.models import ImportStatus, MemberImport, Reason, Shop

from .ledger import points_record
from .members import member_from_customer

HEADER = ["customer_id", "email", "first_name", "last_name", "points"]
LARGEST_FILE_BYTES = 10 * 1024 * 1024
MOST_ROWS = 200_000
MOST_POINTS = 10_000_000
# Progress is saved after this many rows, so the admin can show it while the job runs.
PROGRESS_EVERY = 250
LARGEST_CUSTOMER_ID = 2**63 - 1
LONGEST_EMAIL = 320
LONGEST_NAME = 255
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the merchant."""


def member_import_create(*, shop: Shop, csv_bytes: bytes) -> MemberImport:
    """Store an uploaded CSV as a queued import of `shop`, after checking its shape only.

    Rows are validated later by `member_import_run`. Raises ImportFileError for a file
    that is too large, not UTF-8 text, has another header, or has too many rows.
    """
    if len(csv_bytes) > LARGEST_FILE_BYTES:
        raise ImportFileError("The file is larger than 10 MB; split it into smaller files.")
    try:
        # utf-8-sig: spreadsheet programs often start a CSV with a byte order mark.
        csv_text = csv_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text; save it as CSV UTF-8.") from exc
    if "\x00" in csv_text:
        raise ImportFileError("The file holds NUL characters; save it again as CSV text.")
    rows = _rows(csv_text)
    try:
        _, header = next(rows, (0, None))
        total = sum(1 for _, row in rows if row)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a CSV file this app can read ({exc}).") from exc
    if header is None:
        raise ImportFileError(f"The file is empty; its first line must be {','.join(HEADER)}.")
    if [column.strip().lower() for column in header] != HEADER:
        raise ImportFileError(
            f"The first line must be exactly {','.join(HEADER)} (found {','.join(header)})."
        )
    if total > MOST_ROWS:
        raise ImportFileError(
            f"The file has {total:,} members; import at most {MOST_ROWS:,} per file."
        )
    return MemberImport.objects.create(shop=shop, csv_text=csv_text, total=total)


def member_imports_stale(*, now: datetime | None = None) -> list[int]:
    """Imports to send again: queued for over 2 minutes (their message was lost), or
    running for over 2 hours (past the job's 1-hour limit: their worker was killed), which
    are put back in the queue first."""
    now = now or timezone.now()
    MemberImport.objects.filter(
        status=ImportStatus.RUNNING, created_at__lte=now - timedelta(hours=2)
    ).update(status=ImportStatus.QUEUED)
    return list(
        MemberImport.objects.filter(
            status=ImportStatus.QUEUED, created_at__lte=now - timedelta(minutes=2)
        ).values_list("pk", flat=True)[:100]
    )


def member_import_run(*, import_id: int) -> MemberImport:
    """Validate an import's rows and create or update each good row's member with its points.

    Safe to run again: a member's starting points are credited with the key
    `import:<customer_id>`, so a customer already imported (by this file or another) gets
    nothing more. An import already done or failed is left as it is. An unexpected error
    marks the import failed, with the error, and is raised again.
    """
    # Only a queued import starts: of two messages for one import, one run wins.
    started = MemberImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, processed=0, imported=0, rejected=[], rejected_count=0
    )
    member_import = MemberImport.objects.select_related("shop").get(pk=import_id)
    if not started:
        return member_import
    try:
        _import_rows(member_import)
    except BaseException as exc:  # a job time limit is a BaseException, and fails it too
        MemberImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    member_import.refresh_from_db()
    return member_import


def _import_rows(member_import: MemberImport) -> None:
    rows = _rows(member_import.csv_text)
    next(rows)  # the header, checked when the file was stored
    # customer_id -> the first row that named it.
    seen: dict[int, int] = {}
    processed = imported = rejected_count = 0
    rejected: list[dict] = []
    for number, row in rows:
        if not row:
            continue
        errors, customer = _row_errors(row, seen, number)
        if errors:
            rejected_count += 1
            if len(rejected) < MemberImport.REJECTED_KEPT:
                rejected.append({"row": number, "errors": errors})
        else:
            _member_import_row(shop=member_import.shop, customer=customer, points=int(row[4]))
            imported += 1
        processed += 1
        if processed % PROGRESS_EVERY == 0:
            _save_progress(member_import, processed, imported, rejected, rejected_count)
    _save_progress(member_import, processed, imported, rejected, rejected_count)
    MemberImport.objects.filter(pk=member_import.pk).update(
        status=ImportStatus.DONE, finished_at=timezone.now()
    )


def _member_import_row(*, shop: Shop, customer: Customer, points: int) -> None:
    # One transaction per member: a crash later in the file keeps what is already in.
    with transaction.atomic():
        member = member_from_customer(shop=shop, customer=customer)
        if points:
            points_record(
                member=member,
                points=points,
                reason=Reason.IMPORTED,
                idempotency_key=f"import:{customer.customer_id}",
                actor="import",
            )


def _row_errors(
    row: list[str], seen: dict[int, int], number: int
) -> tuple[list[str], Customer | None]:
    """The row's errors (empty for a good row) and, for a good row, its customer."""
    if len(row) != len(HEADER):
        return [f"Expected {len(HEADER)} values ({','.join(HEADER)}), found {len(row)}."], None
    customer_id_text, email, first_name, last_name, points_text = (v.strip() for v in row)
    errors = []
    customer_id = _whole_number(customer_id_text)
    if customer_id is None or not 0 < customer_id <= LARGEST_CUSTOMER_ID:
        errors.append(
            f"customer_id must be a Shopify customer id (a whole number above 0), "
            f"not {customer_id_text!r}."
        )
    elif customer_id in seen:
        errors.append(f"customer_id {customer_id} is already on row {seen[customer_id]}.")
    else:
        seen[customer_id] = number
    if email and "@" not in email:
        errors.append(f"email must be an email address or empty, not {email!r}.")
    elif len(email) > LONGEST_EMAIL:
        errors.append(f"email must be at most {LONGEST_EMAIL} characters.")
    for field, name in (("first_name", first_name), ("last_name", last_name)):
        if len(name) > LONGEST_NAME:
            errors.append(f"{field} must be at most {LONGEST_NAME} characters.")
    points = _whole_number(points_text)
    if points is None or not 0 <= points <= MOST_POINTS:
        errors.append(
            f"points must be a whole number from 0 to {MOST_POINTS:,}, not {points_text!r}."
        )
    if errors:
        return errors, None
    return [], Customer(
        customer_id=customer_id, email=email, first_name=first_name, last_name=last_name
    )


def _whole_number(text: str) -> int | None:
    # Not int() alone: it also reads "1_000" and non-ASCII digits.
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


def _rows(csv_text: str):
    """(data row number, values) pairs; the header is number 0, blank lines are []."""
    return enumerate(csv.reader(io.StringIO(csv_text, newline="")))


def _save_progress(
    member_import: MemberImport,
    processed: int,
    imported: int,
    rejected: list[dict],
    rejected_count: int,
) -> None:
    MemberImport.objects.filter(pk=member_import.pk).update(
        processed=processed,
        imported=imported,
        rejected=rejected,
        rejected_count=rejected_count,
    )
