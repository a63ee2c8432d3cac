"""Referrals in the embedded admin: the JSON API's list and the Referrals page, with each
one's state and why a refused one was refused (docs/referrals.md)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from loyalty import selectors
from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view, embedded_document_view
from loyalty.admin.json_bodies import field_errors
from loyalty.admin.members import member_cursor, member_cursor_position
from loyalty.admin.openapi import Response, api_operation, errors, query
from loyalty.admin.pages import admin_page, page_url
from loyalty.models import Referral, ReferralState


@api_operation(
    "GET",
    summary="List referrals",
    description=(
        "Every referral of the shop, newest first, 50 to a page: who referred whom, the "
        "friend's code and order, the advocate's points and, for a refused one, why."
    ),
    parameters=(
        query("state", {"enum": list(ReferralState.values)}, "Only referrals in this state."),
        query("cursor", {"type": "string"}, "The `next_cursor` of the page before."),
    ),
    responses={
        200: Response("A page of referrals.", schemas.REFERRALS_PAGE),
        400: errors("An unknown `state`, or a cursor the API did not give out (`cursor`)."),
    },
)
@require_GET
@embedded_api_view
def referrals(request: HttpRequest) -> JsonResponse:
    state = request.GET.get("state", "")
    if state and state not in ReferralState.values:
        known = ", ".join(ReferralState.values)
        return field_errors({"state": [f"Choose one of {known}, or leave it out."]})
    cursor = request.GET.get("cursor", "")
    before_id = None
    if cursor:
        before_id = member_cursor_position(cursor)
        if before_id is None:
            return field_errors(
                {"cursor": ["This cursor is not one this API gave out; start over."]}
            )
    page, more = selectors.referrals_list(shop=request.shop, state=state, before_id=before_id)
    return JsonResponse(
        {
            "referrals": [referral_document(referral) for referral in page],
            "next_cursor": member_cursor(page[-1].pk) if more else None,
        }
    )


def referral_document(referral: Referral) -> dict:
    """One referral as the API answers it (and the Referrals page shows it)."""
    return {
        "id": referral.pk,
        "state": referral.state,
        "state_label": referral.get_state_display(),
        "refusal_reason": referral.refusal_reason,
        "refusal": referral.get_refusal_reason_display() if referral.refusal_reason else "",
        "advocate": {
            "customer_id": str(referral.advocate.customer_id),
            "email": referral.advocate.email,
        },
        "friend_customer_id": _id_text(referral.friend_customer_id),
        "friend_email": referral.friend_email,
        "code": referral.code,
        "order_id": _id_text(referral.order_id),
        "order_name": referral.order_name,
        "points": referral.points,
        "visited_at": _moment(referral.visited_at),
        "ordered_at": _moment(referral.ordered_at),
        "release_at": _moment(referral.release_at),
        "rewarded_at": _moment(referral.rewarded_at),
    }


def _id_text(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _moment(value) -> str | None:
    return value.isoformat() if value is not None else None


# Each state's filter link on the Referrals page, in the order a referral moves.
STATE_FILTERS = [("", "All"), *ReferralState.choices]


@require_GET
@embedded_document_view
def referrals_page(request: HttpRequest) -> HttpResponse:
    """The Referrals page (linked from Members): every referral with its state and, for a
    refused one, why; filtered by state, a page at a time."""
    state = request.GET.get("state", "")
    if state not in ReferralState.values:
        state = ""
    cursor = request.GET.get("cursor", "")
    before_id = member_cursor_position(cursor) if cursor else None
    page, more = selectors.referrals_list(shop=request.shop, state=state, before_id=before_id)
    next_url = None
    if more:
        next_url = page_url(
            request, "referrals-page", {"state": state, "cursor": member_cursor(page[-1].pk)}
        )
    return admin_page(
        request,
        "admin/referrals.html",
        {
            "referrals": page,
            "state": state,
            "filters": [
                (value, label, page_url(request, "referrals-page", {"state": value}))
                for value, label in STATE_FILTERS
            ],
            "next_url": next_url,
            "members_url": page_url(request, "members-page"),
        },
    )
