"""Realistic webhook payloads (REST resource JSON, as Shopify's webhooks send it).

Field names follow the REST Admin API resources "Order", "Refund", "Customer" and "Shop"
and the payloads on "Privacy law compliance". Money is a string in every `*_set` and
price field. One exception, as Shopify sends it: a refund line's legacy `subtotal` and
`total_tax` are JSON numbers (read `subtotal_set`/`total_tax_set` instead).

Ids follow one convention so builders fit together: the order's only line item is
`order_id * 10 + 1` unless given, and a refund targets that line by default.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

DEFAULT_TIME = "2026-10-01T10:00:00-04:00"
CENTS = Decimal("0.01")


def _money(value: str | Decimal | int) -> str:
    return str(Decimal(str(value)).quantize(CENTS))


def money_set(
    amount: str | Decimal,
    currency: str,
    presentment: str | Decimal | None = None,
    presentment_currency: str | None = None,
) -> dict[str, Any]:
    """A `*_set` MoneyBag: shop money and presentment money."""
    return {
        "shop_money": {"amount": _money(amount), "currency_code": currency},
        "presentment_money": {
            "amount": _money(amount if presentment is None else presentment),
            "currency_code": presentment_currency or currency,
        },
    }


def _discount_code(code: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(code, dict):
        return {
            "code": code["code"],
            "amount": _money(code.get("amount", "0")),
            "type": code.get("type", "fixed_amount"),
        }
    return {"code": code, "amount": "0.00", "type": "fixed_amount"}


def customer(
    customer_id: int,
    email: str = "jane@example.com",
    first_name: str = "Jane",
    last_name: str = "Doe",
    *,
    phone: str | None = None,
    tags: str = "",
    state: str = "enabled",
    currency: str = "USD",
    created_at: str = DEFAULT_TIME,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """A REST Customer, as sent on customers/create and customers/update."""
    return {
        "id": customer_id,
        "email": email,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "first_name": first_name,
        "last_name": last_name,
        "state": state,
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": phone,
        "currency": currency,
        "addresses": [],
        "tax_exemptions": [],
        "tags": tags,
        "email_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": None,
        },
        "sms_marketing_consent": None,
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": None,
    }


def _order_customer(
    customer_id: int, email: str, first_name: str, last_name: str, currency: str
) -> dict[str, Any]:
    full = customer(customer_id, email, first_name, last_name, currency=currency)
    keep = (
        "id",
        "email",
        "created_at",
        "updated_at",
        "first_name",
        "last_name",
        "state",
        "note",
        "verified_email",
        "multipass_identifier",
        "tax_exempt",
        "phone",
        "currency",
        "tags",
        "tax_exemptions",
        "email_marketing_consent",
        "sms_marketing_consent",
        "admin_graphql_api_id",
        "default_address",
    )
    return {key: full[key] for key in keep}


def refund(
    order_id: int,
    refund_id: int,
    lines: Sequence[tuple[str, str]] = (("100.00", "0.00"),),
    shipping: str = "0.00",
    *,
    currency: str = "USD",
    line_item_ids: Sequence[int] | None = None,
    quantities: Sequence[int] | None = None,
    created_at: str = DEFAULT_TIME,
    note: str | None = None,
) -> dict[str, Any]:
    """A REST Refund (refunds/create): `lines` are (subtotal, tax) per refunded line.

    A non-zero `shipping` is refunded the two ways Shopify reports it: an
    `order_adjustments` entry of kind `shipping_refund` and a `refund_shipping_lines` entry.
    """
    line_item_ids = line_item_ids or [order_id * 10 + 1] * len(lines)
    quantities = quantities or [1] * len(lines)
    refund_lines = []
    total = Decimal(0)
    for index, ((subtotal, tax), line_item_id, quantity) in enumerate(
        zip(lines, line_item_ids, quantities, strict=True)
    ):
        total += Decimal(subtotal) + Decimal(tax)
        refund_lines.append(
            {
                "id": refund_id * 10 + index + 1,
                "quantity": quantity,
                "line_item_id": line_item_id,
                "location_id": None,
                "restock_type": "no_restock",
                "subtotal": float(_money(subtotal)),
                "total_tax": float(_money(tax)),
                "subtotal_set": money_set(subtotal, currency),
                "total_tax_set": money_set(tax, currency),
            }
        )
    adjustments: list[dict[str, Any]] = []
    shipping_lines: list[dict[str, Any]] = []
    if Decimal(shipping) != 0:
        total += Decimal(shipping)
        adjustments.append(
            {
                "id": refund_id * 10 + 9,
                "order_id": order_id,
                "refund_id": refund_id,
                "amount": _money(-Decimal(shipping)),
                "tax_amount": "0.00",
                "kind": "shipping_refund",
                "reason": "Shipping refund",
                "amount_set": money_set(-Decimal(shipping), currency),
                "tax_amount_set": money_set("0", currency),
            }
        )
        shipping_lines.append(
            {
                "id": refund_id * 10 + 8,
                "shipping_line_id": order_id * 10 + 9,
                "subtotal_amount_set": money_set(shipping, currency),
            }
        )
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": created_at,
        "processed_at": created_at,
        "note": note,
        "user_id": None,
        "restock": False,
        "duties": [],
        "total_duties_set": money_set("0", currency),
        "additional_fees": [],
        "total_additional_fees_set": money_set("0", currency),
        "return": None,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "refund_line_items": refund_lines,
        "refund_shipping_lines": shipping_lines,
        "order_adjustments": adjustments,
        "transactions": [
            {
                "id": refund_id * 10 + 7,
                "order_id": order_id,
                "kind": "refund",
                "gateway": "bogus",
                "status": "success",
                "message": None,
                "created_at": created_at,
                "test": False,
                "parent_id": None,
                "processed_at": created_at,
                "source_name": "web",
                "amount": _money(total),
                "currency": currency,
                "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{refund_id * 10 + 7}",
            }
        ],
    }


def order(
    order_id: int,
    customer_id: int | None,
    subtotal: str = "100.00",
    currency: str = "USD",
    financial_status: str = "paid",
    taxes_included: bool = False,
    line_tax: str = "0.00",
    test: bool = False,
    source_name: str = "web",
    email: str = "jane@example.com",
    cancelled: bool = False,
    refunds: Iterable[dict[str, Any]] = (),
    *,
    first_name: str = "Jane",
    last_name: str = "Doe",
    shipping: str = "0.00",
    quantity: int = 1,
    product_id: int = 7001,
    line_item_id: int | None = None,
    discount_codes: Iterable[str | dict[str, Any]] = (),
    note_attributes: Iterable[dict[str, str]] = (),
    order_number: int | None = None,
    presentment_currency: str | None = None,
    created_at: str = DEFAULT_TIME,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """A REST Order with one line item worth `subtotal` (after discounts, before shipping).

    `discount_codes` are codes or `{code, amount, type}`; their amounts come off the line.

    With `taxes_included` the subtotal already holds `line_tax` (as Shopify reports it);
    otherwise tax is added on top. `current_*` amounts subtract the given refunds.
    `customer_id=None` makes a guest order.
    """
    refunds = list(refunds)
    subtotal_d, tax_d, shipping_d = Decimal(subtotal), Decimal(line_tax), Decimal(shipping)
    total = subtotal_d + shipping_d + (Decimal(0) if taxes_included else tax_d)
    refunded_subtotal = sum(
        (
            Decimal(line["subtotal_set"]["shop_money"]["amount"])
            for r in refunds
            for line in r.get("refund_line_items", [])
        ),
        Decimal(0),
    )
    refunded_tax = sum(
        (
            Decimal(line["total_tax_set"]["shop_money"]["amount"])
            for r in refunds
            for line in r.get("refund_line_items", [])
        ),
        Decimal(0),
    )
    refunded_total = sum(
        (Decimal(t["amount"]) for r in refunds for t in r.get("transactions", [])), Decimal(0)
    )
    codes = [_discount_code(code) for code in discount_codes]
    discounts = sum((Decimal(code["amount"]) for code in codes), Decimal(0))
    line_total = subtotal_d + discounts
    line_id = line_item_id or order_id * 10 + 1
    number = order_number or 1000 + order_id % 9000
    pcur = presentment_currency or currency
    updated = updated_at or created_at

    def bag(amount: Decimal | str) -> dict[str, Any]:
        return money_set(amount, currency, amount, pcur)

    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}",
        "order_number": number,
        "number": number - 1000,
        "email": email,
        "contact_email": email,
        "created_at": created_at,
        "updated_at": updated,
        "processed_at": created_at,
        "closed_at": None,
        "cancelled_at": updated if cancelled else None,
        "cancel_reason": "customer" if cancelled else None,
        "confirmed": True,
        "test": test,
        "source_name": source_name,
        "financial_status": financial_status,
        "fulfillment_status": None,
        "taxes_included": taxes_included,
        "currency": currency,
        "presentment_currency": pcur,
        "customer_locale": "en",
        "tags": "",
        "note": None,
        "note_attributes": list(note_attributes),
        "discount_codes": codes,
        "subtotal_price": _money(subtotal_d),
        "subtotal_price_set": bag(subtotal_d),
        "current_subtotal_price": _money(subtotal_d - refunded_subtotal),
        "current_subtotal_price_set": bag(subtotal_d - refunded_subtotal),
        "total_tax": _money(tax_d),
        "total_tax_set": bag(tax_d),
        "current_total_tax": _money(tax_d - refunded_tax),
        "current_total_tax_set": bag(tax_d - refunded_tax),
        "total_price": _money(total),
        "total_price_set": bag(total),
        "current_total_price": _money(total - refunded_total),
        "current_total_price_set": bag(total - refunded_total),
        "total_discounts": _money(discounts),
        "total_discounts_set": bag(discounts),
        "total_line_items_price": _money(line_total),
        "total_line_items_price_set": bag(line_total),
        "total_shipping_price_set": bag(shipping_d),
        "customer": _order_customer(customer_id, email, first_name, last_name, currency)
        if customer_id is not None
        else None,
        "line_items": [
            {
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "product_id": product_id,
                "variant_id": product_id * 10 + 1,
                "title": "Perennial test product",
                "name": "Perennial test product",
                "sku": f"SKU-{product_id}",
                "quantity": quantity,
                "current_quantity": quantity,
                "fulfillable_quantity": quantity,
                "price": _money(line_total / quantity),
                "price_set": bag(line_total / quantity),
                "total_discount": _money(discounts),
                "total_discount_set": bag(discounts),
                "discount_allocations": [],
                "taxable": tax_d != 0,
                "gift_card": False,
                "requires_shipping": True,
                "product_exists": True,
                "properties": [],
                "duties": [],
                "tax_lines": [
                    {
                        "title": "Tax",
                        "price": _money(tax_d),
                        "rate": float(
                            (tax_d / (subtotal_d - (tax_d if taxes_included else 0))).quantize(
                                Decimal("0.0001")
                            )
                        )
                        if subtotal_d
                        else 0.0,
                        "channel_liable": False,
                        "price_set": bag(tax_d),
                    }
                ]
                if tax_d
                else [],
            }
        ],
        "shipping_lines": [
            {
                "id": order_id * 10 + 9,
                "title": "Standard",
                "code": "Standard",
                "source": "shopify",
                "price": _money(shipping_d),
                "price_set": bag(shipping_d),
                "discounted_price": _money(shipping_d),
                "discounted_price_set": bag(shipping_d),
                "tax_lines": [],
                "discount_allocations": [],
            }
        ]
        if shipping_d
        else [],
        "refunds": refunds,
    }


def shop(
    domain: str,
    *,
    shop_id: int = 548380009,
    name: str | None = None,
    email: str | None = None,
    currency: str = "USD",
    timezone: str = "America/New_York",
) -> dict[str, Any]:
    """A REST Shop, as sent on app/uninstalled."""
    handle = domain.removesuffix(".myshopify.com")
    return {
        "id": shop_id,
        "name": name or handle.replace("-", " ").title(),
        "email": email or f"owner@{handle}.example",
        "domain": domain,
        "myshopify_domain": domain,
        "country_code": "US",
        "currency": currency,
        "iana_timezone": timezone,
        "plan_name": "basic",
        "plan_display_name": "Basic",
        "created_at": DEFAULT_TIME,
        "updated_at": DEFAULT_TIME,
    }


def customers_data_request(
    domain: str,
    customer_id: int,
    email: str = "jane@example.com",
    *,
    shop_id: int = 548380009,
    orders: Sequence[int] = (),
    request_id: int = 9999,
) -> dict[str, Any]:
    """customers/data_request ("Privacy law compliance")."""
    return {
        "shop_id": shop_id,
        "shop_domain": domain,
        "orders_requested": list(orders),
        "customer": {"id": customer_id, "email": email, "phone": None},
        "data_request": {"id": request_id},
    }


def customers_redact(
    domain: str,
    customer_id: int,
    email: str = "jane@example.com",
    *,
    shop_id: int = 548380009,
    orders: Sequence[int] = (),
) -> dict[str, Any]:
    """customers/redact ("Privacy law compliance")."""
    return {
        "shop_id": shop_id,
        "shop_domain": domain,
        "customer": {"id": customer_id, "email": email, "phone": None},
        "orders_to_redact": list(orders),
    }


def shop_redact(domain: str, *, shop_id: int = 548380009) -> dict[str, Any]:
    """shop/redact ("Privacy law compliance")."""
    return {"shop_id": shop_id, "shop_domain": domain}


SAMPLE_FILES = {
    "orders/create": "orders_create.json",
    "refunds/create": "refunds_create.json",
    "customers/create": "customers_create.json",
    "customers/update": "customers_update.json",
    "app/uninstalled": "app_uninstalled.json",
    "customers/data_request": "customers_data_request.json",
    "customers/redact": "customers_redact.json",
    "shop/redact": "shop_redact.json",
}
# orders/* topics share the orders/create body with these fields changed.
ORDER_VARIANTS: dict[str, dict[str, Any]] = {
    "orders/paid": {"financial_status": "paid"},
    "orders/updated": {"updated_at": "2026-10-02T09:30:00-04:00"},
    "orders/cancelled": {
        "financial_status": "voided",
        "cancelled_at": "2026-10-02T09:30:00-04:00",
        "cancel_reason": "customer",
        "updated_at": "2026-10-02T09:30:00-04:00",
    },
}
TOPICS = tuple(SAMPLE_FILES) + tuple(ORDER_VARIANTS)


def sample(topic: str) -> dict[str, Any]:
    """The sample payload for a topic (a fresh copy). Raises KeyError for an unknown topic."""
    if topic in ORDER_VARIANTS:
        body = sample("orders/create")
        body.update(copy.deepcopy(ORDER_VARIANTS[topic]))
        return body
    text = resources.files("standin").joinpath("samples", SAMPLE_FILES[topic]).read_text()
    return json.loads(text)
