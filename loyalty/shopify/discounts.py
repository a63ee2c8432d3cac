"""What a redemption makes at Shopify: a discount code for one customer, or store credit.

Shapes from the GraphQL Admin API reference: `discountCodeBasicCreate(basicCodeDiscount:
DiscountCodeBasicInput!)`, `discountCodeFreeShippingCreate(freeShippingCodeDiscount:
DiscountCodeFreeShippingInput!)` (both need `code`, `context`, `startsAt` and `title`),
`storeCreditAccountCredit(id: ID!, creditInput: StoreCreditAccountCreditInput!)`,
`codeDiscountNodeByCode(code: String!)` and `product(id: ID!)` (its `priceRangeV2`, scope
`read_products`). Inputs always travel as variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.models import RewardKind, Shop

from .admin_api import AdminApiError, admin_graphql

_PAYLOAD = "codeDiscountNode { id } userErrors { field message code }"
BASIC_CREATE = (
    "mutation RedemptionDiscount($discount: DiscountCodeBasicInput!) {"
    f" discountCodeBasicCreate(basicCodeDiscount: $discount) {{ {_PAYLOAD} }} }}"
)
FREE_SHIPPING_CREATE = (
    "mutation RedemptionFreeShipping($discount: DiscountCodeFreeShippingInput!) {"
    f" discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {{ {_PAYLOAD} }} }}"
)
STORE_CREDIT = (
    "mutation RedemptionStoreCredit($owner: ID!, $credit: StoreCreditAccountCreditInput!) {"
    " storeCreditAccountCredit(id: $owner, creditInput: $credit) {"
    " storeCreditAccountTransaction { id amount { amount currencyCode } }"
    " userErrors { field message code } } }"
)
DISCOUNT_BY_CODE = (
    "query RedemptionByCode($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"
)
PRODUCT_PRICE = (
    "query RedemptionProductPrice($id: ID!) { product(id: $id) {"
    " id priceRangeV2 { maxVariantPrice { amount currencyCode } } } }"
)
# The userError code Shopify answers when a discount code already exists.
CODE_TAKEN = "TAKEN"


class GrantRefused(Exception):
    """Shopify answered and said no (userErrors, or an error a retry cannot fix)."""


class GrantUnavailable(Exception):
    """Shopify could not be reached, was slow, overloaded or throttled: try again later."""


@dataclass(frozen=True)
class Grant:
    """One redemption as Shopify needs it. `value` is money in `currency`, or a percent for
    percent_off; `product_id` only for free_product. `customer_id` None (a referred friend's
    code) lets any buyer use the code, still once."""

    code: str
    title: str
    kind: str
    value: Decimal
    currency: str
    customer_id: int | None
    starts_at: datetime
    ends_at: datetime | None = None
    minimum_subtotal: Decimal | None = None
    product_id: int | None = None


def grant_make(shop: Shop, grant: Grant, *, timeout: float | None = None) -> str:
    """Make the discount code (or credit the store credit) and answer its Shopify id.

    Safe to call again for the same code: if Shopify already holds it (an earlier call that
    timed out had in fact made it), the existing discount's id is answered. Raises
    GrantRefused when Shopify refuses, GrantUnavailable when it may work later.
    """
    if grant.kind == RewardKind.STORE_CREDIT:
        return _store_credit(shop, grant, timeout)
    if grant.kind == RewardKind.FREE_SHIPPING:
        query, root, variables = (
            FREE_SHIPPING_CREATE,
            "discountCodeFreeShippingCreate",
            {"discount": {**_code_terms(grant), "destination": {"all": True}}},
        )
    else:
        unit_price = None
        if grant.kind == RewardKind.FREE_PRODUCT:
            try:
                unit_price = product_unit_price(shop, grant.product_id, timeout=timeout)
            except GrantRefused:
                # An earlier try whose answer was lost may have made the discount before
                # the product went: that discount stands, and the points stay spent.
                existing = grant_find(shop, grant.code, timeout=timeout)
                if existing:
                    return existing
                raise
        query, root, variables = (
            BASIC_CREATE,
            "discountCodeBasicCreate",
            {
                "discount": {
                    **_code_terms(grant),
                    "customerGets": _customer_gets(grant, unit_price),
                }
            },
        )
    payload = _call(shop, query, variables, timeout)[root] or {}
    errors = payload.get("userErrors") or []
    if any(error.get("code") == CODE_TAKEN for error in errors):
        existing = grant_find(shop, grant.code, timeout=timeout)
        if existing:
            return existing
    if errors:
        raise GrantRefused(_messages(errors))
    node = payload.get("codeDiscountNode") or {}
    if not node.get("id"):
        raise GrantRefused(f"{root} answered without a discount")
    return node["id"]


def grant_find(shop: Shop, code: str, *, timeout: float | None = None) -> str | None:
    """The id of the shop's discount with this code, None when Shopify has none (a definite
    answer). Raises GrantUnavailable when Shopify cannot say now; asking makes nothing."""
    existing = _call(shop, DISCOUNT_BY_CODE, {"code": code}, timeout)
    node = existing.get("codeDiscountNodeByCode")
    return node["id"] if node and node.get("id") else None


def product_unit_price(shop: Shop, product_id: int, *, timeout: float | None = None) -> Decimal:
    """The price of one unit of the product, in the shop's currency, as Shopify has it now:
    its most expensive variant's, so the variant a shopper picks is free whichever it is.

    Raises GrantRefused when Shopify has no such product (deleted since the reward was
    made): a discount on a product that cannot be bought would spend the points for nothing.
    GrantUnavailable when Shopify cannot say now.
    """
    gid = product_gid(product_id)
    product = _call(shop, PRODUCT_PRICE, {"id": gid}, timeout).get("product")
    if not product:
        raise GrantRefused(
            f"the reward's product {gid} no longer exists in the shop; "
            "choose another product for the reward"
        )
    price = ((product.get("priceRangeV2") or {}).get("maxVariantPrice") or {}).get("amount")
    amount = Decimal(str(price)) if price is not None else Decimal(0)
    if amount <= 0:
        # A free variant needs no discount, and Shopify refuses an amount of 0.
        raise GrantRefused(f"the reward's product {gid} has no price above 0")
    return amount


def product_gid(product_id: int) -> str:
    return f"gid://shopify/Product/{product_id}"


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def _code_terms(grant: Grant) -> dict:
    terms = {
        "title": grant.title,
        "code": grant.code,
        "startsAt": _iso(grant.starts_at),
        "endsAt": _iso(grant.ends_at) if grant.ends_at else None,
        # Only the member who spent the points (or, for a friend's code, anyone), once, on
        # one order.
        "context": (
            {"all": "ALL"}
            if grant.customer_id is None
            else {"customers": {"add": [customer_gid(grant.customer_id)]}}
        ),
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
    }
    if grant.minimum_subtotal is not None:
        terms["minimumRequirement"] = {
            "subtotal": {"greaterThanOrEqualToSubtotal": str(grant.minimum_subtotal)}
        }
    return terms


def _customer_gets(grant: Grant, unit_price: Decimal | None) -> dict:
    if grant.kind == RewardKind.PERCENT_OFF:
        # Shopify's percentage is a fraction between 0 and 1.
        return {"value": {"percentage": float(grant.value / 100)}, "items": {"all": True}}
    if grant.kind == RewardKind.FREE_PRODUCT:
        # One unit's price off the product's lines, split across them (appliesOnEachItem
        # false), not 100 % off: a percentage applies to every unit in the cart, and a basic
        # discount has no quantity cap (discountOnQuantity belongs to buy X get Y).
        return {
            "value": {"discountAmount": {"amount": str(unit_price), "appliesOnEachItem": False}},
            "items": {"products": {"productsToAdd": [product_gid(grant.product_id)]}},
        }
    return {
        "value": {"discountAmount": {"amount": str(grant.value), "appliesOnEachItem": False}},
        "items": {"all": True},
    }


def _store_credit(shop: Shop, grant: Grant, timeout: float | None) -> str:
    credit = {"creditAmount": {"amount": str(grant.value), "currencyCode": grant.currency}}
    variables = {"owner": customer_gid(grant.customer_id), "credit": credit}
    payload = _call(shop, STORE_CREDIT, variables, timeout)["storeCreditAccountCredit"] or {}
    errors = payload.get("userErrors") or []
    if errors:
        raise GrantRefused(_messages(errors))
    transaction = payload.get("storeCreditAccountTransaction") or {}
    if not transaction.get("id"):
        raise GrantRefused("storeCreditAccountCredit answered without a transaction")
    return transaction["id"]


def _call(shop: Shop, query: str, variables: dict, timeout: float | None) -> dict:
    try:
        return admin_graphql(shop, query, variables, timeout=timeout)
    except AdminApiError as exc:
        if _transient(exc):
            raise GrantUnavailable(str(exc)) from exc
        raise GrantRefused(str(exc)) from exc


def _transient(error: AdminApiError) -> bool:
    # Unreachable or slow (no status), no working token yet (401: a refresh may come),
    # throttled (429, or THROTTLED in a 200) and Shopify's own failures (5xx) pass; a
    # GraphQL error in a 200 (ACCESS_DENIED, a bad field) will answer the same next time.
    if error.status is None or error.status in (401, 429) or error.status >= 500:
        return True
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in error.errors
    )


def _messages(errors: list) -> str:
    return "; ".join(str(error.get("message", error)) for error in errors)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
