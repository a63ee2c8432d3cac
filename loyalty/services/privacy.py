"""Shopify's mandatory privacy requests: export, redact a customer, delete a shop."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from loyalty.models import (
    BuyerFirstOrder,
    LedgerEntry,
    Member,
    Order,
    PrivacyRequest,
    Redemption,
    ReviewDelivery,
    Shop,
)
from loyalty.stats.orders import buyer_key

from .members import member_redact


def customer_data_export(
    *, shop: Shop, customer_id: int, shopify_request_id: int | None
) -> PrivacyRequest:
    """Assemble everything held about a customer as JSON the merchant can download."""
    member = Member.objects.filter(shop=shop, customer_id=customer_id).first()
    export: dict = {
        "shop": shop.domain,
        "customer_id": customer_id,
        "generated_at": timezone.now().isoformat(),
        "member": None,
        "ledger": [],
        "orders": [],
        "redemptions": [],
    }
    if member is not None:
        export["member"] = {
            "email": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "balance": member.balance,
            "pending": member.pending,
            "member_since": member.created_at.isoformat(),
            "redacted_at": member.redacted_at.isoformat() if member.redacted_at else None,
        }
        export["ledger"] = [
            {
                "at": e.created_at.isoformat(),
                "points": e.points,
                "pending_points": e.pending_points,
                "balance_after": e.balance_after,
                "reason": e.reason,
                "order_id": e.order_id,
                "note": e.note,
            }
            for e in LedgerEntry.objects.filter(shop=shop, member=member).order_by("sequence")
        ]
        export["orders"] = [
            {
                "order_id": o.order_id,
                "name": o.name,
                "points_earned": o.points_earned,
                "points_held": o.points_held,
            }
            for o in Order.objects.filter(shop=shop, member=member).order_by("order_id")
        ]
        export["redemptions"] = [
            {
                "at": r.created_at.isoformat(),
                "code": r.code,
                "kind": r.kind,
                "points": r.points,
                "value": f"{r.value:.2f}",
                "currency": r.currency,
                "status": r.status,
                "used_order_id": r.used_order_id,
            }
            for r in Redemption.objects.filter(shop=shop, member=member).order_by("id")
        ]
    return PrivacyRequest.objects.create(
        shop=shop, customer_id=customer_id, shopify_request_id=shopify_request_id, export=export
    )


def customer_redact(
    *, shop: Shop, customer_id: int, email: str = "", order_ids: tuple[int, ...] = ()
) -> None:
    """Erase the customer's personal data; their points and the dashboard's counts stay as
    anonymous totals.

    The buyer hashes behind the repeat-purchase figures go too: an unsalted hash of an email
    address can be found again by hashing candidate addresses, so it is personal data.
    """
    with transaction.atomic():
        member_redact(shop=shop, customer_id=customer_id)
        PrivacyRequest.objects.filter(shop=shop, customer_id=customer_id).delete()
        # A stored review holds the reviewer's email; its points stay in the ledger.
        ReviewDelivery.objects.filter(shop=shop, member__customer_id=customer_id).delete()
        buyers = {buyer_key(customer_id=customer_id, email="")}
        if email.strip():
            buyers.add(buyer_key(customer_id=None, email=email))
        BuyerFirstOrder.objects.filter(shop=shop, buyer__in=buyers).delete()
        their_orders = Order.objects.filter(shop=shop, buyer__in=buyers)
        if order_ids:
            their_orders = their_orders | Order.objects.filter(shop=shop, order_id__in=order_ids)
        their_orders.exclude(buyer="").update(buyer="")


def shop_redact(*, shop: Shop) -> None:
    """Delete everything the app holds for the shop."""
    with transaction.atomic():
        shop.delete()
