"""The customer data requests Shopify sent, and their exports, for the merchant."""

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from loyalty.admin.auth import embedded_api_view
from loyalty.models import PrivacyRequest
from loyalty.selectors import privacy_requests_recent


@require_GET
@embedded_api_view
def privacy_requests(request: HttpRequest) -> JsonResponse:
    requests = privacy_requests_recent(shop=request.shop)
    return JsonResponse(
        {
            "requests": [
                {
                    "id": r.pk,
                    "customer_id": str(r.customer_id) if r.customer_id else None,
                    "shopify_request_id": r.shopify_request_id,
                    "received_at": r.received_at.isoformat(),
                    "export_url": f"/api/admin/privacy-requests/{r.pk}/export",
                }
                for r in requests
            ]
        }
    )


@require_GET
@embedded_api_view
def privacy_request_export(request: HttpRequest, request_id: int) -> HttpResponse:
    found = PrivacyRequest.objects.filter(shop=request.shop, pk=request_id).first()
    if found is None:
        raise Http404("No such data request for this shop.")
    response = HttpResponse(
        json.dumps(found.export, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="customer-{found.customer_id}-data-request-{found.pk}.json"'
    )
    return response
