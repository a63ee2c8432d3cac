"""The first-run checklist in the embedded admin's JSON API."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin.auth import embedded_api_view
from loyalty.services.onboarding import onboarding_checklist, onboarding_program_reviewed


@require_GET
@embedded_api_view
def onboarding(request: HttpRequest) -> JsonResponse:
    """The checklist: each step done or not, and whether all are."""
    return JsonResponse(onboarding_checklist(shop=request.shop))


@require_POST
@embedded_api_view
def program_reviewed(request: HttpRequest) -> JsonResponse:
    """Tick "program reviewed"; answers the checklist."""
    onboarding_program_reviewed(shop=request.shop)
    return JsonResponse(onboarding_checklist(shop=request.shop))
