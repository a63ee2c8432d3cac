"""Review intake: find the shop, verify the sender's signature, store, then decide.

Reviews are few and no sender waits on a deadline as Shopify's webhooks do, so the stored
review is decided in the same request (in its own transaction, after the store commits):
the sender learns the outcome, and a failure stays on the stored delivery to replay.
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from loyalty.models import Shop, is_shop_domain
from loyalty.ratelimit import ip_rate_limited, shop_limit_response
from loyalty.services.integrations import review_signing_keys

from .services import review_delivery_process, review_delivery_store
from .sources import ADAPTERS


@csrf_exempt
@require_POST
@ip_rate_limited("reviews-ip", "RATE_LIMIT_REVIEWS_IP")
def review_intake(request: HttpRequest, source: str) -> JsonResponse:
    """POST /integrations/reviews/<source>: 404 for an unknown source or shop, 401 for a
    missing or wrong signature (nothing stored), 429 over a rate limit (docs/abuse.md),
    else 200 with the review's outcome."""
    adapter = ADAPTERS.get(source)
    if adapter is None:
        return _error(404, f"Unknown review source {source!r}: use one of {', '.join(ADAPTERS)}.")
    body = request.body
    try:
        payload = json.loads(body)
    # UnicodeDecodeError is a ValueError; RecursionError: nested deeper than the parser goes.
    except (ValueError, RecursionError):
        payload = None
    domain = adapter.shop_domain(query=request.GET, payload=payload)
    shop = (
        Shop.objects.filter(domain=domain, uninstalled_at__isnull=True).first()
        if is_shop_domain(domain)
        else None
    )
    if shop is None:
        return _error(404, "No shop with the app installed has that domain.")
    header = request.headers.get(adapter.SIGNATURE_HEADER, "")
    if not any(
        adapter.signature_valid(body, header, key)
        for key in review_signing_keys(shop=shop, source=source)
    ):
        keys = "the Judge.me key kept in the admin or " if source == "judgeme" else ""
        return _error(
            401,
            f"Invalid signature: sign the body with {keys}the shop's integration "
            f"secret in {adapter.SIGNATURE_HEADER}.",
        )
    # Counted once the signature holds: a stranger's unsigned requests cannot use it up.
    if over := shop_limit_response("reviews", "RATE_LIMIT_REVIEWS", shop.domain):
        return over
    if payload is None:
        return _error(400, "The body is not JSON.")
    # Signed but without an id: keyed by its content, so sending it again is a duplicate.
    review_id = adapter.delivery_review_id(payload) or (
        "sha256:" + hashlib.sha256(body).hexdigest()
    )
    delivery, new = review_delivery_store(shop=shop, source=source, review_id=review_id, body=body)
    if new:
        delivery = review_delivery_process(delivery_id=delivery.pk)
    return JsonResponse(
        {
            "review_id": delivery.review_id,
            "duplicate": not new,
            "status": delivery.status,
            "points": delivery.points,
            "outcome": delivery.outcome,
        }
    )


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
