"""Small factories for test data: plain functions, explicit arguments."""

from __future__ import annotations

from collections.abc import Sequence

from loyalty.models import Member, Program, Shop
from standin import payloads


def shop(domain: str = "alice.myshopify.com", **program: object) -> Shop:
    made, _ = Shop.objects.get_or_create(domain=domain, defaults={"name": domain.split(".")[0]})
    if program:
        Program.objects.update_or_create(shop=made, defaults=program)
    return made


def member(shop: Shop, customer_id: int = 1001, email: str = "") -> Member:
    return Member.objects.create(
        shop=shop, customer_id=customer_id, email=email or f"c{customer_id}@example.com"
    )


def order_payload(
    order_id: int = 5001, customer_id: int | None = 1001, subtotal: str = "100.00", **options
) -> dict:
    """An order webhook body as Shopify sends it (standin.payloads.order), for tests whose
    customer's email is c<customer id>@example.com."""
    options.setdefault("email", f"c{customer_id}@example.com")
    return payloads.order(order_id, customer_id, subtotal, **options)


def refund_payload(
    order_id: int = 5001,
    refund_id: int = 9001,
    lines: Sequence[tuple[str, str]] = (("10.00", "0.00"),),
    **options,
) -> dict:
    """A refunds/create body: each line is (subtotal, tax) in shop money."""
    return payloads.refund(order_id, refund_id, lines, **options)


def order_settled(shop: Shop, payload: dict):
    """Settle an order webhook's payload as the orders handler does (codes and referral
    included), without the inbox: for tests that drive crediting directly."""
    from loyalty.earning.orders import order_facts
    from loyalty.earning.referrals import order_referral_facts
    from loyalty.services.orders import order_settle

    return order_settle(
        shop=shop,
        facts=order_facts(payload),
        discount_codes=[c["code"] for c in payload["discount_codes"]],
        referral=order_referral_facts(payload),
    )
