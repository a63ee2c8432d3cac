"""Small factories for test data: plain functions, explicit arguments."""

from __future__ import annotations

from decimal import Decimal

from loyalty.models import Member, Program, Shop


def shop(domain: str = "alice.myshopify.com", **program: object) -> Shop:
    made, _ = Shop.objects.get_or_create(domain=domain, defaults={"name": domain.split(".")[0]})
    if program:
        Program.objects.update_or_create(shop=made, defaults=program)
    return made


def member(shop: Shop, customer_id: int = 1001, email: str = "") -> Member:
    return Member.objects.create(
        shop=shop, customer_id=customer_id, email=email or f"c{customer_id}@example.com"
    )


def money(amount: str, currency: str = "USD") -> dict:
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


def order_payload(
    order_id: int = 5001,
    customer_id: int | None = 1001,
    subtotal: str = "100.00",
    *,
    financial_status: str = "paid",
    currency: str = "USD",
    taxes_included: bool = False,
    line_tax: str = "0.00",
    test: bool = False,
    source_name: str = "web",
    cancelled: bool = False,
    refunds: list[dict] | None = None,
) -> dict:
    """An order webhook body with the fields the points rules read, as Shopify sends them."""
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "financial_status": financial_status,
        "test": test,
        "source_name": source_name,
        "taxes_included": taxes_included,
        "currency": currency,
        "current_subtotal_price": subtotal,
        "current_subtotal_price_set": money(subtotal, currency),
        "line_items": [
            {
                "id": order_id * 10,
                "quantity": 1,
                "tax_lines": [{"price": line_tax, "price_set": money(line_tax, currency)}],
            }
        ],
        "customer": None
        if customer_id is None
        else {
            "id": customer_id,
            "email": f"c{customer_id}@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "updated_at": "2026-11-01T10:00:00-05:00",
        },
        "cancelled_at": "2026-11-02T10:00:00-05:00" if cancelled else None,
        "refunds": refunds or [],
    }


def refund_payload(
    order_id: int = 5001,
    refund_id: int = 9001,
    lines: list[tuple[str, str]] = (("10.00", "0.00"),),
    *,
    shipping: str = "0.00",
    currency: str = "USD",
    created_at: str = "2026-11-03T10:00:00-05:00",
) -> dict:
    """A refunds/create body: each line is (subtotal, tax) in shop money."""
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": created_at,
        "refund_line_items": [
            {
                "id": refund_id * 10 + n,
                "quantity": 1,
                "subtotal_set": money(subtotal, currency),
                "total_tax_set": money(tax, currency),
            }
            for n, (subtotal, tax) in enumerate(lines)
        ],
        "order_adjustments": [
            {"kind": "shipping_refund", "amount": shipping, "amount_set": money(shipping, currency)}
        ]
        if shipping != "0.00"
        else [],
    }


def as_decimal(value: str) -> Decimal:
    return Decimal(value)
