"""CSV exports for the embedded admin: members with their points, and the ledger.

Both are streamed a page at a time (loyalty.selectors), so a shop of a million members is
exported without holding it in memory.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from loyalty import selectors
from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors, query
from loyalty.models import Member, Shop

MEMBERS_HEADER = [
    "customer_id",
    "email",
    "first_name",
    "last_name",
    "balance",
    "pending",
    "member_since",
]
LEDGER_HEADER = [
    "entry_id",
    "at",
    "customer_id",
    "points",
    "pending_points",
    "balance_after",
    "pending_after",
    "reason",
    "order_id",
    "refund_id",
    "actor",
    "note",
]
DEFAULT_LEDGER_DAYS = 30
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNREADABLE = (
    "Enter {field} as a date (2026-11-01) or a date and time with its offset "
    "(2026-11-01T09:30:00+00:00)."
)


@api_operation(
    "GET",
    summary="Export members as CSV",
    description=f"Columns: {','.join(MEMBERS_HEADER)}; in member id order, streamed.",
    responses={
        200: Response(
            "The CSV file, as an attachment.",
            schemas.CSV_FILE,
            media_type="text/csv",
            headers=schemas.attachment("members"),
        )
    },
)
@require_GET
@embedded_api_view
def members_csv(request: HttpRequest) -> HttpResponse:
    """Every member of the shop with balance and pending points, in member id order."""
    pages = selectors.members_export_pages(shop=request.shop)
    rows = ([_member_row(member) for member in page] for page in pages)
    return _csv_response(MEMBERS_HEADER, rows, _filename(request.shop, "members"))


@api_operation(
    "GET",
    summary="Export the ledger as CSV",
    description=(
        f"Columns: {','.join(LEDGER_HEADER)}; the entries made from `from` up to `to`, in "
        "entry id order, streamed."
    ),
    parameters=(
        query(
            "from",
            {"type": "string"},
            "A date (2026-03-01, midnight UTC) or ISO 8601 datetime (UTC without an offset); "
            f"{DEFAULT_LEDGER_DAYS} days before `to` when not given.",
        ),
        query("to", {"type": "string"}, "Excluded; like `from`, and now when not given."),
    ),
    responses={
        200: Response(
            "The CSV file, as an attachment.",
            schemas.CSV_FILE,
            media_type="text/csv",
            headers=schemas.attachment("ledger"),
        ),
        400: errors("A `from` or `to` that is not a date or datetime, or `from` after `to`."),
    },
)
@require_GET
@embedded_api_view
def ledger_csv(request: HttpRequest) -> HttpResponse:
    """Ledger entries made in [`from`, `to`), in entry id order; the last 30 days by default.

    `from` and `to` are dates (YYYY-MM-DD, midnight UTC) or ISO 8601 datetimes (UTC when no
    offset is given).
    """
    start, end, errors = _ledger_range(request.GET.get("from"), request.GET.get("to"))
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    pages = selectors.ledger_export_pages(shop=request.shop, start=start, end=end)
    rows = ([_entry_row(entry) for entry in page] for page in pages)
    return _csv_response(LEDGER_HEADER, rows, _filename(request.shop, "ledger"))


def spreadsheet_safe(cell: object) -> object:
    """A text cell with a leading `'` when a spreadsheet would run it as a formula.

    Numbers are left as they are: -50 points is a number, not a formula.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _member_row(member: Member) -> list:
    return [
        member.customer_id,
        member.email,
        member.first_name,
        member.last_name,
        member.balance,
        member.pending,
        member.created_at.astimezone(UTC).isoformat(),
    ]


def _entry_row(entry: dict) -> list:
    return [
        entry["id"],
        entry["created_at"].astimezone(UTC).isoformat(),
        entry["member__customer_id"],
        entry["points"],
        entry["pending_points"],
        entry["balance_after"],
        entry["pending_after"],
        entry["reason"],
        entry["order_id"],
        entry["refund_id"],
        entry["actor"],
        entry["note"],
    ]


def _csv_response(
    header: list[str], pages: Iterable[list[list]], filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_chunks(header, pages), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_chunks(header: list[str], pages: Iterable[list[list]]) -> Iterator[str]:
    """The header, then one chunk of text per page of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        yield buffer.getvalue()


def _filename(shop: Shop, export: str) -> str:
    # slugify keeps the header plain ASCII whatever the shop is called.
    name = slugify(shop.name) or shop.domain.split(".")[0]
    return f"{name}-{export}-{timezone.now().astimezone(UTC).date().isoformat()}.csv"


def _ledger_range(
    start_text: str | None, end_text: str | None
) -> tuple[datetime | None, datetime | None, dict[str, list[str]]]:
    """The [start, end) an export asks for, or the errors naming each field at fault."""
    errors: dict[str, list[str]] = {}
    start = end = None
    if end_text:
        end = _moment(end_text)
        if end is None:
            errors["to"] = [_UNREADABLE.format(field="to")]
    if start_text:
        start = _moment(start_text)
        if start is None:
            errors["from"] = [_UNREADABLE.format(field="from")]
    if errors:
        return None, None, errors
    end = end or timezone.now()
    if start is None:
        try:
            start = end - timedelta(days=DEFAULT_LEDGER_DAYS)
        except OverflowError:
            return None, None, {"to": [_UNREADABLE.format(field="to")]}
    if start > end:
        return None, None, {"from": ["Choose a from date on or before the to date."]}
    return start, end, {}


def _moment(text: str) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 datetime (UTC when naive), in UTC; None when
    the text is neither or lies outside what a datetime holds."""
    text = text.strip()
    try:
        day = parse_date(text)
        if day is not None and len(text) == len("2026-11-01"):
            return datetime.combine(day, time.min, tzinfo=UTC)
        moment = parse_datetime(text)
        if moment is None:
            return None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
