"""The shop's webhook deliveries in the embedded admin's JSON API: see failures, replay them.

Lives in `webhooks`, not `loyalty.admin`, because `loyalty` never imports `webhooks`.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors, query

from .models import Delivery, Status
from .processing import delivery_replay
from .selectors import DELIVERIES_SHOWN, deliveries_in_status
from .tasks import delivery_enqueue

# What `_delivery` answers.
DELIVERY = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "topic",
        "status",
        "attempts",
        "last_error",
        "received_at",
        "next_attempt_at",
    ],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "topic": {"type": "string", "description": "Shopify's webhook topic, e.g. orders/paid."},
        "status": {"enum": list(Status.values)},
        "attempts": {"type": "integer", "minimum": 0},
        "last_error": {"type": "string", "description": "The error's last line; else empty."},
        "received_at": {"type": "string", "format": "date-time"},
        "next_attempt_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the sweeper retries it; null when not scheduled.",
        },
    },
}


@api_operation(
    "GET",
    summary="Webhook deliveries",
    description=f"The shop's {DELIVERIES_SHOWN} newest deliveries in one state, newest first.",
    parameters=(
        query("status", {"enum": list(Status.values), "default": Status.FAILED}, "The state."),
    ),
    responses={
        200: Response(
            "The deliveries.",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["deliveries"],
                "properties": {
                    "deliveries": {
                        "type": "array",
                        "items": DELIVERY,
                        "maxItems": DELIVERIES_SHOWN,
                    }
                },
            },
        ),
        400: errors("A status that is not one of the states (named `status`)."),
    },
)
@require_GET
@embedded_api_view
def deliveries(request: HttpRequest) -> JsonResponse:
    """`?status=` (default failed): the shop's newest deliveries in that state."""
    status = request.GET.get("status", Status.FAILED)
    if status not in Status.values:
        return JsonResponse(
            {"errors": {"status": [f"Choose one of: {', '.join(Status.values)}."]}}, status=400
        )
    found = deliveries_in_status(shop_domain=request.shop.domain, status=status)
    return JsonResponse({"deliveries": [_delivery(delivery) for delivery in found]})


@api_operation(
    "POST",
    summary="Replay a webhook delivery",
    description="Sends it to the workers to be processed again.",
    path_parameters={"delivery_id": "The delivery's id."},
    responses={
        202: Response("The delivery, now received.", DELIVERY),
        404: errors("This shop has no such delivery."),
        409: errors("The delivery was already processed (named `status`)."),
    },
)
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


def delivery_error_line(delivery: Delivery) -> str:
    """The last line of the delivery's error (a traceback's names the error), else ""."""
    lines = delivery.last_error.strip().splitlines()
    return lines[-1] if lines else ""


def _delivery(delivery: Delivery) -> dict:
    return {
        "id": delivery.pk,
        "topic": delivery.topic,
        "status": delivery.status,
        "attempts": delivery.attempts,
        # The rest of a traceback is for the logs.
        "last_error": delivery_error_line(delivery),
        "received_at": delivery.received_at.isoformat(),
        "next_attempt_at": (
            delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None
        ),
    }
