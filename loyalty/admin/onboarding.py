"""The first-run checklist in the embedded admin's JSON API."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation
from loyalty.services.onboarding import onboarding_checklist, onboarding_program_reviewed


@api_operation(
    "GET",
    summary="The first-run checklist",
    description=(
        "Each step done or not, in order. Whether the widget's app embed is on is asked of "
        "Shopify (briefly remembered); when Shopify cannot answer, that step is unchecked."
    ),
    responses={200: Response("The checklist.", schemas.ONBOARDING)},
)
@require_GET
@embedded_api_view
def onboarding(request: HttpRequest) -> JsonResponse:
    """The checklist: each step done or not, and whether all are."""
    return JsonResponse(onboarding_checklist(shop=request.shop))


@api_operation(
    "POST",
    summary='Tick "program reviewed"',
    description="The first time is the one kept.",
    responses={200: Response("The checklist.", schemas.ONBOARDING)},
)
@require_POST
@embedded_api_view
def program_reviewed(request: HttpRequest) -> JsonResponse:
    """Tick "program reviewed"; answers the checklist."""
    onboarding_program_reviewed(shop=request.shop)
    return JsonResponse(onboarding_checklist(shop=request.shop))
