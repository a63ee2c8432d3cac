"""GraphQL Admin API operations a redemption calls: code discounts and store credit.

Each checks its input as the reference pages say Shopify does ("DiscountCodeBasicInput",
"DiscountCodeFreeShippingInput", "DiscountContextInput", "DiscountCustomerGetsInput",
"DiscountMinimumRequirementInput", "storeCreditAccountCredit"), and the `refuse_count`
knob makes the next ones answer userErrors. `product` reads what `State.set_product` made,
for a free product's price.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .operations import Context, _gid, _timestamp, _user_error, resolver


def _refused(context: Context) -> bool:
    """Consume the `refuse_count` knob: True when this mutation must answer userErrors."""
    with context.state.lock:
        knobs = context.state.knobs
        if knobs.refuse_count > 0:
            knobs.refuse_count -= 1
            return True
    return False


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _gids(values: Any, kind: str) -> bool:
    prefix = f"gid://shopify/{kind}/"
    return (
        isinstance(values, list)
        and bool(values)
        and all(
            isinstance(v, str) and v.startswith(prefix) and v[len(prefix) :].isdigit()
            for v in values
        )
    )


def _code_discount_problems(argument: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What Shopify checks of a code discount's input ("DiscountCodeBasicInput",
    "DiscountCodeFreeShippingInput": code, context, startsAt and title are required when
    creating; "DiscountContextInput", "DiscountMinimumRequirementInput")."""
    problems = []
    for required in ("title", "startsAt"):
        if not data.get(required):
            problems.append(
                _user_error([argument, required], f"{required} can't be blank", "BLANK")
            )
    context = data.get("context")
    if context is None and data.get("customerSelection") is None:
        problems.append(_user_error([argument, "context"], "context can't be blank", "BLANK"))
    elif context is not None:
        customers = (context.get("customers") or {}).get("add")
        everyone = context.get("all") is not None or context.get("customerSegments")
        if not everyone and not _gids(customers, "Customer"):
            problems.append(
                _user_error(
                    [argument, "context", "customers", "add"],
                    "Customers must be a list of Customer ids",
                    "INVALID",
                )
            )
    limit = data.get("usageLimit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        problems.append(
            _user_error([argument, "usageLimit"], "Usage limit must be at least 1", "INVALID")
        )
    subtotal = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get(
        "greaterThanOrEqualToSubtotal"
    )
    if data.get("minimumRequirement") is not None:
        amount = _decimal(subtotal)
        if amount is None or amount < 0:
            problems.append(
                _user_error(
                    [argument, "minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"],
                    "Minimum subtotal must be a decimal of 0 or more",
                    "INVALID",
                )
            )
    if data.get("endsAt") and data.get("startsAt") and data["endsAt"] <= data["startsAt"]:
        problems.append(
            _user_error([argument, "endsAt"], "Ends at must be after starts at", "INVALID")
        )
    return problems


def _customer_gets_problems(argument: str, gets: Any) -> list[dict[str, Any]]:
    """ "DiscountCustomerGetsInput": a value (an amount above 0, or a percentage from 0 to
    1) and the items it applies to (all, or products by id)."""
    field = [argument, "customerGets"]
    if not isinstance(gets, dict):
        return [_user_error(field, "customerGets can't be blank", "BLANK")]
    problems = []
    value = gets.get("value") or {}
    amount = _decimal((value.get("discountAmount") or {}).get("amount"))
    percentage = value.get("percentage")
    if "discountAmount" in value and "percentage" in value:
        problems.append(_user_error([*field, "value"], "Only one value type allowed", "INVALID"))
    elif "discountAmount" in value:
        if amount is None or amount <= 0:
            problems.append(
                _user_error([*field, "value"], "Amount must be greater than 0", "INVALID")
            )
    elif isinstance(percentage, int | float) and not isinstance(percentage, bool):
        if not 0 < percentage <= 1:
            problems.append(
                _user_error(
                    [*field, "value"], "Value must be between 0.00 - 1.00", "VALUE_OUTSIDE_RANGE"
                )
            )
    else:
        problems.append(_user_error([*field, "value"], "Value can't be blank", "BLANK"))
    items = gets.get("items") or {}
    products = (items.get("products") or {}).get("productsToAdd")
    if items.get("all") is not True and not _gids(products, "Product"):
        problems.append(
            _user_error([*field, "items"], "Items must be all or a list of Product ids", "INVALID")
        )
    return problems


def _create_code_discount(context: Context, argument: str, typename: str) -> dict[str, Any]:
    data = context.inputs.get(argument) or {}
    code = str(data.get("code") or "").strip()
    if not code:
        return {
            "codeDiscountNode": None,
            "userErrors": [_user_error([argument, "code"], "Code can't be blank", "BLANK")],
        }
    problems = _code_discount_problems(argument, data)
    if typename == "DiscountCodeBasic":
        problems += _customer_gets_problems(argument, data.get("customerGets"))
    if not problems and _refused(context):
        problems = [_user_error([argument], "Refused by the stand-in (refuse_count)", "INVALID")]
    if problems:
        return {"codeDiscountNode": None, "userErrors": problems}
    state = context.state
    with state.lock:
        taken = any(
            d["shop"] == context.shop.domain and d["code"].lower() == code.lower()
            for d in state.discounts.values()
        )
        if taken:
            return {
                "codeDiscountNode": None,
                "userErrors": [_user_error([argument, "code"], "Code must be unique.", "TAKEN")],
            }
        node_id = _gid("DiscountCodeNode", state.next_id())
        state.discounts[node_id] = {
            "shop": context.shop.domain,
            "type": typename,
            "code": code,
            "input": data,
        }
    return {
        "codeDiscountNode": _code_discount_node(node_id, state.discounts[node_id]),
        "userErrors": [],
    }


def _code_discount_node(node_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """Object "DiscountCodeNode" with its "codeDiscount"."""
    data = record["input"]
    return {
        "id": node_id,
        "codeDiscount": {
            "__typename": record["type"],
            "title": data.get("title") or record["code"],
            "status": "ACTIVE",
            "startsAt": data.get("startsAt"),
            "endsAt": data.get("endsAt"),
            "usageLimit": data.get("usageLimit"),
            "appliesOncePerCustomer": bool(data.get("appliesOncePerCustomer")),
            "codes": {"nodes": [{"code": record["code"]}]},
        },
    }


@resolver("codeDiscountNodeByCode", scope="read_discounts")
def code_discount_node_by_code(context: Context) -> dict[str, Any] | None:
    """Query "codeDiscountNodeByCode(code: String!)": case-insensitive; null when none."""
    code = str(context.inputs.get("code") or "").lower()
    with context.state.lock:
        for node_id, record in context.state.discounts.items():
            if record["shop"] == context.shop.domain and record["code"].lower() == code:
                return _code_discount_node(node_id, record)
    return None


@resolver("product", scope="read_products")
def product(context: Context) -> dict[str, Any] | None:
    """Query "product(id: ID!)": object "Product" (`id`, `title`, `priceRangeV2` with
    "ProductPriceRangeV2" `minVariantPrice`/`maxVariantPrice` as "MoneyV2" in the shop's
    currency, `variants { nodes { id price } }`); null when the shop has no such product."""
    with context.state.lock:
        found = context.state.products.get((context.shop.domain, context.inputs.get("id")))
        if found is None:
            return None
        prices = [Decimal(variant["price"]) for variant in found["variants"]]
        currency = context.shop.currency
        money = [
            {"amount": str(price), "currencyCode": currency} for price in (min(prices), max(prices))
        ]
        return {
            "__typename": "Product",
            "id": found["id"],
            "title": found["title"],
            "priceRangeV2": {"minVariantPrice": money[0], "maxVariantPrice": money[1]},
            "variants": {"nodes": [dict(variant) for variant in found["variants"]]},
        }


@resolver("discountCodeBasicCreate")
def discount_code_basic_create(context: Context) -> dict[str, Any]:
    """Payload "DiscountCodeBasicCreatePayload"."""
    return _create_code_discount(context, "basicCodeDiscount", "DiscountCodeBasic")


@resolver("discountCodeFreeShippingCreate")
def discount_code_free_shipping_create(context: Context) -> dict[str, Any]:
    """Payload "DiscountCodeFreeShippingCreatePayload"."""
    return _create_code_discount(context, "freeShippingCodeDiscount", "DiscountCodeFreeShipping")


@resolver("discountCodeDelete")
def discount_code_delete(context: Context) -> dict[str, Any]:
    """Payload "DiscountCodeDeletePayload"."""
    node_id = context.inputs.get("id")
    with context.state.lock:
        found = context.state.discounts.get(node_id or "")
        if found is None or found["shop"] != context.shop.domain:
            return {
                "deletedCodeDiscountId": None,
                "userErrors": [_user_error(["id"], "Discount does not exist", "INVALID")],
            }
        del context.state.discounts[node_id]
    return {"deletedCodeDiscountId": node_id, "userErrors": []}


@resolver("storeCreditAccountCredit")
def store_credit_account_credit(context: Context) -> dict[str, Any]:
    """Payload "StoreCreditAccountCreditPayload"; an account per owner and currency."""
    owner = context.inputs.get("id") or ""
    credit = (context.inputs.get("creditInput") or {}).get("creditAmount") or {}
    try:
        amount = Decimal(str(credit.get("amount")))
    except InvalidOperation:
        amount = Decimal(0)
    currency = credit.get("currencyCode") or context.shop.currency
    # "The mutation accepts either a store credit account ID, a Customer ID, or a
    # CompanyLocation ID" (storeCreditAccountCredit).
    owners = ("Customer", "CompanyLocation", "StoreCreditAccount")
    if not any(_gids([owner], kind) for kind in owners):
        return {
            "storeCreditAccountTransaction": None,
            "userErrors": [_user_error(["id"], "Owner does not exist.", "OWNER_NOT_FOUND")],
        }
    if amount > 0 and _refused(context):
        return {
            "storeCreditAccountTransaction": None,
            "userErrors": [
                _user_error(["id"], "Refused by the stand-in (refuse_count)", "INVALID")
            ],
        }
    if amount <= 0:
        return {
            "storeCreditAccountTransaction": None,
            "userErrors": [
                _user_error(
                    ["creditInput", "creditAmount", "amount"],
                    "A positive amount must be used to credit a store credit account.",
                    "NEGATIVE_OR_ZERO_AMOUNT",
                )
            ],
        }
    state = context.state
    with state.lock:
        key = (context.shop.domain, owner, currency)
        account = state.store_credit.setdefault(
            key,
            {
                "id": _gid("StoreCreditAccount", state.next_id()),
                "balance": Decimal(0),
                "transactions": [],
            },
        )
        account["balance"] += amount
        transaction = {
            "id": _gid("StoreCreditAccountCreditTransaction", state.next_id()),
            "amount": {"amount": str(amount), "currencyCode": currency},
            "balanceAfterTransaction": {
                "amount": str(account["balance"]),
                "currencyCode": currency,
            },
            "createdAt": _timestamp(state),
            "expiresAt": (context.inputs.get("creditInput") or {}).get("expiresAt"),
            "account": {
                "id": account["id"],
                "balance": {"amount": str(account["balance"]), "currencyCode": currency},
            },
        }
        account["transactions"].append(transaction)
    return {"storeCreditAccountTransaction": transaction, "userErrors": []}
