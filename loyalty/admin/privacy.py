"""The customer data requests Shopify sent, and their exports, for the merchant."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors
from loyalty.models import PrivacyRequest
from loyalty.selectors import privacy_requests_recent


@api_operation(
    "GET",
    summary="Customer data requests",
    description="The 200 newest customers/data_request deliveries, newest first.",
    responses={200: Response("The requests.", schemas.PRIVACY_REQUESTS)},
)
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


@api_operation(
    "GET",
    summary="A data request's export",
    path_parameters={"request_id": "The request's `id`."},
    responses={
        200: Response(
            "The export, as a JSON attachment.",
            schemas.PRIVACY_EXPORT,
            headers={
                "Content-Disposition": {
                    "required": True,
                    "schema": {"type": "string", "pattern": "^attachment; "},
                }
            },
        ),
        404: errors("This shop has no such data request."),
    },
)
@require_GET
@embedded_api_view
def privacy_request_export(request: HttpRequest, request_id: int) -> HttpResponse:
    found = PrivacyRequest.objects.filter(shop=request.shop, pk=request_id).first()
    if found is None:
        # JSON like every other 404 of the API, not Django's HTML page.
        return JsonResponse(
            {"errors": {"id": [f"This shop has no data request {request_id}."]}}, status=404
        )
    response = HttpResponse(
        json.dumps(found.export, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="customer-{found.customer_id}-data-request-{found.pk}.json"'
    )
    return response
