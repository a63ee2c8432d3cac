"""The mandatory compliance topics."""

import json
from typing import Any

from django.db.models import Q

from loyalty.earning.orders import PayloadError
from loyalty.models import Member, Shop
from loyalty.services import privacy

from ..models import Delivery, Status

REDACTED_BODY = b'{"redacted": true}'


def customer_data_request(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer_id = _customer_id(payload)
    delivery.customer_id = customer_id
    request = payload.get("data_request") or {}
    privacy.customer_data_export(
        shop=shop,
        customer_id=customer_id,
        shopify_request_id=request.get("id") if isinstance(request, dict) else None,
    )


def customer_redact(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer_id = _customer_id(payload)
    order_ids = [o for o in payload.get("orders_to_redact") or [] if isinstance(o, int)]
    email = payload["customer"].get("email")
    privacy.customer_redact(
        shop=shop,
        customer_id=customer_id,
        email=email if isinstance(email, str) else "",
        order_ids=tuple(order_ids),
    )
    # Stored deliveries are personal data too: scrub every one about this customer. Those
    # not processed yet are scrubbed when they are (the member is now redacted).
    Delivery.objects.filter(
        Q(customer_id=customer_id) | Q(order_id__in=order_ids), shop_domain=shop.domain
    ).exclude(pk=delivery.pk).update(body=REDACTED_BODY)
    # Deliveries that failed before their handler could name the customer: read them.
    unresolved = Delivery.objects.filter(
        shop_domain=shop.domain,
        customer_id__isnull=True,
        status__in=[Status.FAILED, Status.SKIPPED, Status.DISMISSED],
    ).exclude(pk=delivery.pk)
    about_them = [
        d.pk for d in unresolved.only("body") if _mentions(d.body, customer_id, order_ids)
    ]
    Delivery.objects.filter(pk__in=about_them).update(body=REDACTED_BODY)
    own_body = {"shop_domain": shop.domain, "customer": {"id": customer_id}}
    own_body["orders_to_redact"] = order_ids
    Delivery.objects.filter(pk=delivery.pk).update(body=json.dumps(own_body).encode())


def shop_redact(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    Delivery.objects.filter(shop_domain=shop.domain).exclude(pk=delivery.pk).delete()
    privacy.shop_redact(shop=shop)


def scrub_if_redacted(*, delivery: Delivery, member: Member | None) -> None:
    """A delivery about a customer the shop already redacted keeps none of their data."""
    if member is not None and member.redacted_at is not None:
        Delivery.objects.filter(pk=delivery.pk).update(body=REDACTED_BODY)


def _mentions(body: bytes | memoryview, customer_id: int, order_ids: list[int]) -> bool:
    """Whether a stored body is an order, refund or customer payload about this customer."""
    try:
        payload = json.loads(bytes(body))
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(payload, dict):
        return False
    customer = payload.get("customer")
    ids = {payload.get("id"), customer.get("id") if isinstance(customer, dict) else None}
    return customer_id in ids or bool({payload.get("id"), payload.get("order_id")} & set(order_ids))


def _customer_id(payload: Any) -> int:
    customer = payload.get("customer") if isinstance(payload, dict) else None
    customer_id = customer.get("id") if isinstance(customer, dict) else None
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        raise PayloadError("the payload has no customer.id")
    return customer_id
