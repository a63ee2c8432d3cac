from typing import Any

from loyalty.earning.orders import order_facts, refund_facts
from loyalty.earning.referrals import order_referral_facts
from loyalty.models import Shop
from loyalty.services.orders import order_settle, refund_record

from ..models import Delivery
from .privacy import scrub_if_redacted


def order_changed(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    """orders/create, orders/paid, orders/updated and orders/cancelled all carry the whole
    order; each merges what it says and settles the order's points."""
    facts = order_facts(payload)
    delivery.order_id = facts.order_id
    delivery.customer_id = facts.customer.customer_id if facts.customer else None
    order = order_settle(
        shop=shop,
        facts=facts,
        discount_codes=_discount_codes(payload),
        referral=order_referral_facts(payload),
    )
    scrub_if_redacted(delivery=delivery, member=order.member)


def refund_created(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    facts = refund_facts(payload)
    delivery.order_id = facts.order_id
    order = refund_record(shop=shop, facts=facts)
    delivery.customer_id = order.member.customer_id if order.member else None


def _discount_codes(payload: Any) -> list[str]:
    # `discount_codes[].code` of the order resource: the codes the buyer entered.
    codes = payload.get("discount_codes") if isinstance(payload, dict) else None
    if not isinstance(codes, list):
        return []
    return [
        entry["code"]
        for entry in codes
        if isinstance(entry, dict) and isinstance(entry.get("code"), str)
    ]
