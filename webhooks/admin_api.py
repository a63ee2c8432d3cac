"""The shop's webhook deliveries in the embedded admin's JSON API: see failures, replay them.

Lives in `webhooks`, not `loyalty.admin`, because `loyalty` never imports `webhooks`.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin.auth import embedded_api_view

from .models import Delivery, Status
from .processing import delivery_replay
from .tasks import delivery_enqueue

DELIVERIES_SHOWN = 100


@require_GET
@embedded_api_view
def deliveries(request: HttpRequest) -> JsonResponse:
    """`?status=` (default failed): the shop's newest deliveries in that state."""
    status = request.GET.get("status", Status.FAILED)
    if status not in Status.values:
        return JsonResponse(
            {"errors": {"status": [f"Choose one of: {', '.join(Status.values)}."]}}, status=400
        )
    found = Delivery.objects.filter(shop_domain=request.shop.domain, status=status).order_by(
        "-received_at", "-id"
    )[:DELIVERIES_SHOWN]
    return JsonResponse({"deliveries": [_delivery(delivery) for delivery in found]})


@require_POST
@embedded_api_view
def delivery_replay_request(request: HttpRequest, delivery_id: int) -> JsonResponse:
    """Process a delivery again; answers 202, as the workers do it in the background."""
    delivery = Delivery.objects.filter(shop_domain=request.shop.domain, pk=delivery_id).first()
    if delivery is None:
        return JsonResponse(
            {"errors": {"id": [f"This shop has no webhook delivery {delivery_id}."]}}, status=404
        )
    if delivery.status == Status.PROCESSED:
        # Processing it again would change nothing: say so rather than pretend.
        return JsonResponse(
            {"errors": {"status": ["This delivery was already processed."]}}, status=409
        )
    delivery_replay(delivery=delivery, send=delivery_enqueue)
    delivery.refresh_from_db()
    return JsonResponse(_delivery(delivery), status=202)


def _delivery(delivery: Delivery) -> dict:
    lines = delivery.last_error.strip().splitlines()
    return {
        "id": delivery.pk,
        "topic": delivery.topic,
        "status": delivery.status,
        "attempts": delivery.attempts,
        # A traceback's last line names the error; the rest is for the logs.
        "last_error": lines[-1] if lines else "",
        "received_at": delivery.received_at.isoformat(),
        "next_attempt_at": (
            delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None
        ),
    }
