"""Webhook intake: verify, store, acknowledge. Processing happens later, in a job."""

import hashlib
import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .tasks import delivery_enqueue
from .verification import webhook_signature_valid

logger = logging.getLogger(__name__)

# Plain SQL: this is the hot path Shopify waits on, and ON CONFLICT DO NOTHING RETURNING
# tells in one round trip whether the delivery is new or a retry/duplicate.
INSERT_DELIVERY = """
INSERT INTO webhooks_delivery
    (shop_domain, topic, webhook_id, event_id, triggered_at, api_version, body,
     received_at, status, attempts, last_error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'received', 0, '')
ON CONFLICT DO NOTHING
RETURNING id
"""


@csrf_exempt
@require_POST
def intake(request: HttpRequest) -> HttpResponse:
    body = request.body
    headers = request.headers
    if not webhook_signature_valid(body, headers.get("X-Shopify-Hmac-Sha256", "")):
        return HttpResponse("invalid webhook signature", status=401, content_type="text/plain")
    topic = headers.get("X-Shopify-Topic", "")[:128]
    # Signed but without an id: key it by its content so a resend is still a duplicate.
    webhook_id = headers.get("X-Shopify-Webhook-Id") or (
        "sha256:" + hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
    )
    try:
        # Autocommit: the INSERT is committed when it returns, in one round trip.
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_DELIVERY,
                [
                    headers.get("X-Shopify-Shop-Domain", "")[:255],
                    topic,
                    webhook_id[:128],
                    headers.get("X-Shopify-Event-Id", "")[:128] or None,
                    headers.get("X-Shopify-Triggered-At", "")[:64],
                    headers.get("X-Shopify-API-Version", "")[:32],
                    body,
                    timezone.now(),
                ],
            )
            row = cursor.fetchone()
    except DatabaseError:
        # Not stored, so not acknowledged: Shopify retries it.
        logger.exception("could not store webhook %s", webhook_id)
        return HttpResponse("could not store the delivery", status=503, content_type="text/plain")
    if row is not None:
        delivery_enqueue(row[0])
    return HttpResponse(status=200)
