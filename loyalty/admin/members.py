"""Members in the embedded admin's JSON API: search, one member's history, adjustments."""

import base64
import binascii
import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty import selectors
from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, header, json_request, query
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import LedgerEntry, Member
from loyalty.services.ledger import BalanceOutOfRange
from loyalty.services.members import member_adjust

LARGEST_ADJUSTMENT = 1_000_000
LONGEST_REASON = 500
# The ledger's key column holds 200 characters, "adjust:<customer id>:" included.
LONGEST_IDEMPOTENCY_KEY = 150


@api_operation(
    "GET",
    summary="Search members",
    description=(
        "By email, first or last name prefix (ignoring case; two words match a first and a "
        "last name), or, when `q` is all digits, the exact customer id. Without `q`, every "
        "member. In member id order (when they joined), 50 to a page."
    ),
    parameters=(
        query("q", {"type": "string"}, "What to search for."),
        query("cursor", {"type": "string"}, "The `next_cursor` of the page before."),
    ),
    responses={
        200: Response("A page of members.", schemas.MEMBERS_PAGE),
        400: errors("A cursor the API did not give out (named `cursor`)."),
    },
)
@require_GET
@embedded_api_view
def members(request: HttpRequest) -> JsonResponse:
    """`?q=` searches by email, name or customer id; `?cursor=` continues a listing."""
    q = request.GET.get("q", "")
    if problem := unstorable_character(q):
        return field_errors({"q": [problem]})
    cursor = request.GET.get("cursor", "")
    after_id = None
    if cursor:
        after_id = member_cursor_position(cursor)
        if after_id is None:
            return field_errors(
                {"cursor": ["This cursor is not one this API gave out; start over."]}
            )
    page, more = selectors.members_search(shop=request.shop, q=q, after_id=after_id)
    return JsonResponse(
        {
            "members": [_member(member) for member in page],
            "next_cursor": member_cursor(page[-1].pk) if more else None,
        }
    )


@api_operation(
    "GET",
    summary="A member and their history",
    description="The member with their 100 newest ledger entries, newest first.",
    path_parameters={"customer_id": "The member's Shopify customer id."},
    responses={
        200: Response("The member.", schemas.MEMBER_WITH_ENTRIES),
        404: errors("This shop has no member with that customer id."),
    },
)
@require_GET
@embedded_api_view
def member(request: HttpRequest, customer_id: int) -> JsonResponse:
    found = selectors.member_find(shop=request.shop, customer_id=customer_id)
    if found is None:
        return _not_found(customer_id)
    entries = selectors.member_entries(member=found)
    return JsonResponse(
        {
            **_member(found),
            "tier": selectors.member_tier_name(member=found),
            "expiring": selectors.member_expiring(
                member=found,
                program=selectors.program_of(shop=request.shop),
                timezone_name=request.shop.timezone,
            ),
            "entries": [_entry(entry) for entry in entries],
            "tier_changes": [
                {
                    "at": change.created_at.isoformat(),
                    "from": change.from_name or None,
                    "to": change.to_name or None,
                    "cause": change.cause,
                    "cause_label": change.get_cause_display(),
                    "measure": change.measure,
                }
                for change in selectors.member_tier_changes(member=found)
            ],
        }
    )


@api_operation(
    "POST",
    summary="Adjust a member's points",
    description=(
        "Add or take points by hand, with a reason the member's history shows; the entry "
        "records the session token's staff member (`sub`)."
    ),
    path_parameters={"customer_id": "The member's Shopify customer id."},
    parameters=(
        header(
            "Idempotency-Key",
            {"type": "string", "maxLength": schemas.LONGEST_IDEMPOTENCY_KEY},
            "The same key for the same member answers the first request's entry and adds "
            "nothing (one per submitted form).",
        ),
    ),
    request_body=json_request("The change and why.", schemas.ADJUSTMENT),
    responses={
        201: Response("The entry made, and the member's points after it.", schemas.ADJUSTED),
        400: errors("Named `points`, `reason`, `Idempotency-Key`, or `body` (not an object)."),
        404: errors("This shop has no member with that customer id."),
    },
)
@require_POST
@embedded_api_view
def member_adjustments(request: HttpRequest, customer_id: int) -> JsonResponse:
    """Add or take points by hand, with a reason; answers 201 with the entry and balance.

    An `Idempotency-Key` header makes a retried request add nothing a second time.
    """
    found = selectors.member_find(shop=request.shop, customer_id=customer_id)
    if found is None:
        return _not_found(customer_id)
    key = request.headers.get("Idempotency-Key", "").strip() or str(uuid.uuid4())
    if len(key) > LONGEST_IDEMPOTENCY_KEY:
        return field_errors(
            {"Idempotency-Key": [f"Use a key of at most {LONGEST_IDEMPOTENCY_KEY} characters."]}
        )
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object with points and reason."]})
    errors = _adjustment_errors(body)
    if errors:
        return field_errors(errors)
    try:
        entry = member_adjust(
            member=found,
            points=body["points"],
            reason=body["reason"],
            actor=request.session_token.user_id,
            # Scoped by customer: a key reused for another member must not find this entry.
            key=f"{found.customer_id}:{key}",
        )
    except BalanceOutOfRange as exc:
        return field_errors({"points": [str(exc)]})
    found.refresh_from_db(fields=["balance", "pending"])
    return JsonResponse(
        {"entry": _entry(entry), "balance": found.balance, "pending": found.pending}, status=201
    )


def _adjustment_errors(body: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    points = body.get("points")
    # bool is an int in Python, not in JSON.
    if not isinstance(points, int) or isinstance(points, bool):
        errors["points"] = ["Enter a whole number of points, such as 100 or -50."]
    elif points == 0:
        errors["points"] = ["Enter a number of points other than 0."]
    elif abs(points) > LARGEST_ADJUSTMENT:
        errors["points"] = [
            f"Adjust by at most {LARGEST_ADJUSTMENT:,} points at a time, up or down."
        ]
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["Say why the points change; the member's history shows it."]
    elif problem := unstorable_character(reason):
        errors["reason"] = [problem]
    elif len(reason.strip()) > LONGEST_REASON:
        errors["reason"] = [f"Keep the reason to {LONGEST_REASON} characters or fewer."]
    return errors


def _member(member: Member) -> dict:
    return {
        "customer_id": str(member.customer_id),
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "balance": member.balance,
        "pending": member.pending,
        "member_since": member.created_at.isoformat(),
    }


def _entry(entry: LedgerEntry) -> dict:
    return {
        "id": entry.pk,
        "at": entry.created_at.isoformat(),
        "points": entry.points,
        "pending_points": entry.pending_points,
        "balance_after": entry.balance_after,
        "reason": entry.reason,
        "reason_label": entry.get_reason_display(),
        # Strings, as Shopify's ids exceed what JavaScript numbers hold exactly.
        "order_id": str(entry.order_id) if entry.order_id is not None else None,
        "refund_id": str(entry.refund_id) if entry.refund_id is not None else None,
        "actor": entry.actor,
        "note": entry.note,
    }


def member_cursor(member_id: int) -> str:
    """The opaque cursor that continues a listing after the member with this id."""
    return base64.urlsafe_b64encode(f"m{member_id}".encode()).decode().rstrip("=")


def member_cursor_position(cursor: str) -> int | None:
    """The member id a cursor points after; None for a cursor this API did not make."""
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    digits = decoded.removeprefix("m")
    if digits == decoded or not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    position = int(digits)
    return position if position < 2**63 else None


def _not_found(customer_id: int) -> JsonResponse:
    return JsonResponse(
        {"errors": {"customer_id": [f"This shop has no member with customer id {customer_id}."]}},
        status=404,
    )
