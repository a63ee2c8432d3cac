"""How many points an order earns and a refund takes back: pure functions, no database.

All money is read from the `shop_money` side of Shopify's `*_set` fields, so a shop that
sells in several currencies earns in its own currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Financial statuses of an order that has been paid at some point (a refunded order was).
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
# Larger amounts are not a real order; refusing them keeps points inside a 32-bit integer.
MAX_AMOUNT = Decimal("1000000000")


class PayloadError(ValueError):
    """A webhook payload lacks, or garbles, a field the points rules need."""


@dataclass(frozen=True)
class Customer:
    customer_id: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RefundFacts:
    refund_id: int
    order_id: int
    line_subtotal: Decimal
    line_tax: Decimal
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: int
    name: str
    customer: Customer | None
    paid: bool
    cancelled: bool
    test: bool
    source_name: str
    taxes_included: bool
    currency: str
    # Subtotal after discounts, before shipping and tax, before any refund, shop money.
    earning_base: Decimal
    refunds: tuple[RefundFacts, ...] = ()
    # For the Dashboard: the order's email (names a guest), when it was placed
    # (processed_at), and its total with shipping and tax, in shop money.
    email: str = ""
    placed_at: datetime | None = None
    total_price: Decimal = Decimal(0)
    # The Shopify products of its line items (not custom items, which have none), so a
    # review of a product can be rewarded only for its buyers (loyalty.reviews).
    product_ids: tuple[int, ...] = ()


def points_for(
    base: Decimal, *, points_per_unit: Decimal, rounding: str, multiplier: Decimal = Decimal(1)
) -> int:
    """Points earned on `base` (shop money) at `points_per_unit`, rounded as the program says.

    A VIP tier's `multiplier` scales the rate before the one rounding, so a tier member never
    loses a fraction to rounding twice.
    """
    if base <= 0 or points_per_unit <= 0:
        return 0
    mode = ROUND_HALF_UP if rounding == "nearest" else ROUND_FLOOR
    return int((base * points_per_unit * multiplier).to_integral_value(rounding=mode))


def source_earns(source_name: str, *, pos_orders_earn: bool) -> bool:
    """Whether an order from this sales channel earns: point-of-sale orders (`pos`) only when
    the program's `pos_orders_earn` is on."""
    return source_name != "pos" or pos_orders_earn


def refund_base(*, line_subtotal: Decimal, line_tax: Decimal, taxes_included: bool) -> Decimal:
    """The part of the earning base a refund gives back: its line subtotal, less tax if the
    order's prices included tax (then the subtotal does too)."""
    amount = line_subtotal - (line_tax if taxes_included else Decimal(0))
    return max(amount, Decimal(0))


def net_points(*, earned: int, base: Decimal, refunded: Decimal) -> int:
    """Points an order keeps after refunds totalling `refunded` of its earning `base`.

    Computed from the cumulative refunded amount, never refund by refund, so the rounding
    of several partial refunds cannot drift: floor(P × (B − R) / B), within 0..P.
    """
    if earned <= 0 or base <= 0:
        return 0
    kept = min(max(base - refunded, Decimal(0)), base)
    return int((Decimal(earned) * kept / base).to_integral_value(rounding=ROUND_FLOOR))


def order_facts(payload: dict[str, Any]) -> OrderFacts:
    """Read an order webhook payload (orders/create, paid, updated, cancelled)."""
    if not isinstance(payload, dict):
        raise PayloadError("the order payload is not a JSON object")
    order_id = _id(payload.get("id"), "id")
    taxes_included = bool(payload.get("taxes_included"))
    subtotal, currency = _shop_money(payload, "current_subtotal_price")
    refunds = tuple(refund_facts({**r, "order_id": order_id}) for r in _list(payload, "refunds"))
    # current_subtotal already has the refunds in this payload taken off; add them back so
    # an order first seen after a refund earns as if seen before it, then the refund applies.
    base = subtotal + sum((r.line_subtotal for r in refunds), Decimal(0))
    if taxes_included:
        base -= _line_item_tax(payload)
    if base < 0:
        base = Decimal(0)
    financial_status = str(payload.get("financial_status") or "")
    return OrderFacts(
        order_id=order_id,
        name=str(payload.get("name") or "")[:64],
        customer=_customer(payload.get("customer")),
        paid=financial_status in PAID_STATUSES,
        cancelled=bool(payload.get("cancelled_at")),
        test=bool(payload.get("test")),
        source_name=str(payload.get("source_name") or "")[:64],
        taxes_included=taxes_included,
        currency=currency,
        earning_base=base,
        refunds=refunds,
        email=str(payload.get("email") or "")[:320],
        placed_at=_time(payload.get("processed_at")) or _time(payload.get("created_at")),
        total_price=_set_amount(payload, "total_price"),
        product_ids=_product_ids(payload),
    )


def refund_facts(payload: dict[str, Any]) -> RefundFacts:
    """Read a refunds/create payload. Shipping refunds (order_adjustments of kind
    shipping_refund, refund_shipping_lines) are not line items and take nothing back."""
    if not isinstance(payload, dict):
        raise PayloadError("the refund payload is not a JSON object")
    subtotal = Decimal(0)
    tax = Decimal(0)
    for line in _list(payload, "refund_line_items"):
        if not isinstance(line, dict):
            raise PayloadError("refund_line_items holds something that is not an object")
        subtotal += _set_amount(line, "subtotal")
        tax += _set_amount(line, "total_tax")
    return RefundFacts(
        refund_id=_id(payload.get("id"), "id"),
        order_id=_id(payload.get("order_id"), "order_id"),
        line_subtotal=subtotal,
        line_tax=tax,
        refunded_at=_time(payload.get("created_at")),
    )


def customer_facts(payload: dict[str, Any]) -> Customer:
    """Read a customers/create or customers/update payload."""
    customer = _customer(payload)
    if customer is None:
        raise PayloadError("the customer payload has no id")
    return customer


def _customer(value: Any) -> Customer | None:
    if not isinstance(value, dict) or value.get("id") in (None, ""):
        return None
    return Customer(
        customer_id=_id(value.get("id"), "customer.id"),
        email=str(value.get("email") or "")[:320],
        first_name=str(value.get("first_name") or "")[:255],
        last_name=str(value.get("last_name") or "")[:255],
        updated_at=_time(value.get("updated_at")),
    )


def _line_item_tax(payload: dict[str, Any]) -> Decimal:
    total = Decimal(0)
    for item in _list(payload, "line_items"):
        if not isinstance(item, dict):
            raise PayloadError("line_items holds something that is not an object")
        for tax_line in _list(item, "tax_lines"):
            if not isinstance(tax_line, dict):
                raise PayloadError("tax_lines holds something that is not an object")
            total += _set_amount(tax_line, "price")
    return total


def _product_ids(payload: dict[str, Any]) -> tuple[int, ...]:
    found: dict[int, None] = {}
    for item in _list(payload, "line_items"):
        if not isinstance(item, dict):
            raise PayloadError("line_items holds something that is not an object")
        if item.get("product_id") not in (None, ""):
            found[_id(item["product_id"], "line_items.product_id")] = None
    return tuple(found)


def _shop_money(payload: dict[str, Any], field: str) -> tuple[Decimal, str]:
    money_set = payload.get(f"{field}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop_money = money_set["shop_money"]
        return _amount(shop_money.get("amount"), f"{field}_set"), str(
            shop_money.get("currency_code") or ""
        )[:3]
    if field in payload:
        # Older payloads: the plain field is in shop currency too.
        return _amount(payload[field], field), str(payload.get("currency") or "")[:3]
    raise PayloadError(f"the payload has no {field}_set")


def _set_amount(container: dict[str, Any], field: str) -> Decimal:
    if f"{field}_set" in container or field in container:
        return _shop_money(container, field)[0]
    return Decimal(0)


def _amount(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PayloadError(f"{field} is not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise PayloadError(f"{field} is not an amount: {value!r}") from error
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise PayloadError(f"{field} is out of range: {value!r}")
    return amount


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise PayloadError(f"{field} is not a Shopify id: {value!r}")
    try:
        number = int(str(value))
    except (TypeError, ValueError) as error:
        raise PayloadError(f"{field} is not a Shopify id: {value!r}") from error
    if not 0 < number < 2**63:
        raise PayloadError(f"{field} is not a Shopify id: {value!r}")
    return number


def _list(container: dict[str, Any], field: str) -> list[Any]:
    value = container.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{field} is not a list")
    return value


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
