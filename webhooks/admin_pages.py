"""The embedded admin's Sync page (linked from Settings): the webhook deliveries from
Shopify that failed, each with a Retry button (static/admin/deliveries.js calls
`POST /api/admin/deliveries/{id}/replay`), and the last check for orders whose webhooks
never arrived (loyalty.services.reconciliation).

Lives in `webhooks`, beside its JSON API, because `loyalty` never imports `webhooks`.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from loyalty.admin.auth import embedded_document_view
from loyalty.admin.pages import admin_page, page_url
from loyalty.models import ReconciliationRun

from .admin_api import delivery_error_line
from .models import Status
from .selectors import DELIVERIES_SHOWN, deliveries_in_status


@require_GET
@embedded_document_view
def sync_page(request: HttpRequest) -> HttpResponse:
    """The shop's newest failed deliveries, as `GET /api/admin/deliveries` lists them."""
    failed = deliveries_in_status(shop_domain=request.shop.domain, status=Status.FAILED)
    return admin_page(
        request,
        "admin/settings_sync.html",
        {
            "deliveries": [
                {
                    "id": delivery.pk,
                    "topic": delivery.topic,
                    "received_at": delivery.received_at,
                    "error": delivery_error_line(delivery),
                    "attempts": delivery.attempts,
                    "next_attempt_at": delivery.next_attempt_at,
                }
                for delivery in failed
            ],
            "deliveries_shown": DELIVERIES_SHOWN,
            "reconciliation": ReconciliationRun.objects.filter(
                shop=request.shop, finished_at__isnull=False
            )
            .order_by("-started_at")
            .first(),
            "settings_url": page_url(request, "settings-page"),
        },
    )
