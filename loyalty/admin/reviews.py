"""Stored reviews in the embedded admin: the JSON API's list and the Reviews page, with
each review's reviewer, product, rating, photo, and its points or why it earned none
(docs/reviews.md, "In the admin")."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view, embedded_document_view
from loyalty.admin.json_bodies import field_errors
from loyalty.admin.members import member_cursor, member_cursor_position
from loyalty.admin.openapi import Response, api_operation, errors, query
from loyalty.admin.pages import admin_page, page_url
from loyalty.admin.pages_settings import SOURCE_LABELS
from loyalty.models import ReviewStatus
from loyalty.reviews.selectors import ReviewShown, reviews_list
from loyalty.services.integrations import REVIEW_SOURCES


@api_operation(
    "GET",
    summary="List reviews",
    description=(
        "Every review a review app sent, newest first, 50 to a page: who wrote it, the "
        "product, the rating and photo as sent (shown only: points never depend on the "
        "rating), and the points it earned or why it earned none."
    ),
    parameters=(
        query("state", {"enum": list(ReviewStatus.values)}, "Only reviews in this state."),
        query("source", {"enum": list(REVIEW_SOURCES)}, "Only reviews from this source."),
        query("cursor", {"type": "string"}, "The `next_cursor` of the page before."),
    ),
    responses={
        200: Response("A page of reviews.", schemas.REVIEWS_PAGE),
        400: errors(
            "An unknown `state` or `source`, or a cursor the API did not give out (`cursor`)."
        ),
    },
)
@require_GET
@embedded_api_view
def reviews(request: HttpRequest) -> JsonResponse:
    state = request.GET.get("state", "")
    source = request.GET.get("source", "")
    problems: dict[str, list[str]] = {}
    if state and state not in ReviewStatus.values:
        problems["state"] = [f"Choose one of {', '.join(ReviewStatus.values)}, or leave it out."]
    if source and source not in REVIEW_SOURCES:
        problems["source"] = [f"Choose one of {', '.join(REVIEW_SOURCES)}, or leave it out."]
    cursor = request.GET.get("cursor", "")
    before_id = member_cursor_position(cursor) if cursor else None
    if cursor and before_id is None:
        problems["cursor"] = ["This cursor is not one this API gave out; start over."]
    if problems:
        return field_errors(problems)
    page, more = reviews_list(shop=request.shop, status=state, source=source, before_id=before_id)
    return JsonResponse(
        {
            "reviews": [review_document(shown) for shown in page],
            "next_cursor": member_cursor(page[-1].delivery.pk) if more else None,
        }
    )


def review_document(shown: ReviewShown) -> dict:
    """One stored review as the API answers it (and the Reviews page shows it)."""
    review = shown.delivery
    member = review.member
    return {
        "id": review.pk,
        "source": review.source,
        "review_id": review.review_id,
        "state": review.status,
        "state_label": review.get_status_display(),
        "member": (
            {"customer_id": str(member.customer_id), "email": member.email} if member else None
        ),
        "product_id": str(review.product_id) if review.product_id is not None else None,
        "rating": shown.rating,
        "has_photo": shown.has_photo,
        "points": review.points,
        # Why a review earned nothing (refused, failed); empty once rewarded or still waiting.
        "outcome": review.outcome,
        "received_at": review.received_at.isoformat(),
        "processed_at": review.processed_at.isoformat() if review.processed_at else None,
    }


STATE_FILTERS = [("", "All"), *ReviewStatus.choices]


@require_GET
@embedded_document_view
def reviews_page(request: HttpRequest) -> HttpResponse:
    """The Reviews page (linked from Members): every stored review with its points or why
    none, filtered by state and source, a page at a time."""
    state = request.GET.get("state", "")
    if state not in ReviewStatus.values:
        state = ""
    source = request.GET.get("source", "")
    if source not in REVIEW_SOURCES:
        source = ""
    cursor = request.GET.get("cursor", "")
    before_id = member_cursor_position(cursor) if cursor else None
    page, more = reviews_list(shop=request.shop, status=state, source=source, before_id=before_id)
    next_url = None
    if more:
        next_url = page_url(
            request,
            "reviews-page",
            {"state": state, "source": source, "cursor": member_cursor(page[-1].delivery.pk)},
        )
    return admin_page(
        request,
        "admin/reviews.html",
        {
            "reviews": page,
            "state": state,
            "source": source,
            "state_filters": [
                (
                    value,
                    label,
                    page_url(request, "reviews-page", {"state": value, "source": source}),
                )
                for value, label in STATE_FILTERS
            ],
            "source_filters": [
                (value, label, page_url(request, "reviews-page", {"state": state, "source": value}))
                for value, label in [("", "All sources"), *SOURCE_LABELS.items()]
            ],
            "source_labels": SOURCE_LABELS,
            "next_url": next_url,
            "members_url": page_url(request, "members-page"),
        },
    )
