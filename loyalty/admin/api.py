"""JSON endpoints for the embedded admin (bearer session token)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from loyalty.admin.auth import embedded_api_view


@require_GET
@embedded_api_view
def shop_summary(request: HttpRequest) -> JsonResponse:
    shop = request.shop
    return JsonResponse(
        {
            "domain": shop.domain,
            "name": shop.name,
            "currency": shop.currency,
            "timezone": shop.timezone,
        }
    )
