"""GraphQL Admin API operations the stand-in answers, one resolver per root field.

Add one with `@resolver("rootField")`: the function gets a `Context` (the state, the
shop, the field's inputs read from GraphQL variables) and returns the field's value.
`@resolver("rootField", scope="read_x")` makes the field answer ACCESS_DENIED to a token
without that scope (or its `write_` form), as Shopify does.
Shapes follow the GraphQL Admin API reference pages of each object and payload named
below. A resolver returns its whole object; the answer keeps only what was selected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .state import SETTINGS_DATA, Shop, State, Theme

Resolver = Callable[["Context"], Any]
RESOLVERS: dict[str, Resolver] = {}
# root field -> the access scope it needs ("About access scopes")
REQUIRED_SCOPES: dict[str, str] = {}


@dataclass
class Context:
    state: State
    shop: Shop
    inputs: dict[str, Any]


def resolver(root_field: str, *, scope: str | None = None) -> Callable[[Resolver], Resolver]:
    def register(function: Resolver) -> Resolver:
        RESOLVERS[root_field] = function
        if scope:
            REQUIRED_SCOPES[root_field] = scope
        return function

    return register


def _timestamp(state: State) -> str:
    return _iso(state.now())


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _user_error(field: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


@resolver("shop")
def shop(context: Context) -> dict[str, Any]:
    """Object "Shop"."""
    record = context.shop
    return {
        "__typename": "Shop",
        "id": _gid("Shop", record.id),
        "name": record.name,
        "email": record.email,
        "contactEmail": record.email,
        "currencyCode": record.currency,
        "ianaTimezone": record.timezone,
        "myshopifyDomain": record.domain,
    }


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


def _namespace(context: Context, namespace: str) -> str:
    # "$app:<name>" is stored under the app's reserved prefix ("About app-owned metafields").
    if namespace.startswith("$app:"):
        return f"app--{context.state.app_id}--{namespace[5:]}"
    return namespace


@resolver("metafieldsSet")
def metafields_set(context: Context) -> dict[str, Any]:
    """Payload "MetafieldsSetPayload": at most 25 metafields, all or nothing."""
    items = context.inputs.get("metafields") or []
    if len(items) > 25:
        return {
            "metafields": None,
            "userErrors": [
                _user_error(
                    ["metafields"],
                    "Exceeded the maximum metafields input limit of 25.",
                    "LESS_THAN_OR_EQUAL_TO",
                )
            ],
        }
    for index, item in enumerate(items):
        for required in ("ownerId", "key", "value"):
            if not item.get(required):
                return {
                    "metafields": None,
                    "userErrors": [
                        _user_error(
                            ["metafields", str(index), required], f"{required} is required", "BLANK"
                        )
                    ],
                }
    state = context.state
    written = []
    with state.lock:
        now = _timestamp(state)
        for item in items:
            namespace = _namespace(context, item.get("namespace") or "$app")
            key = (context.shop.domain, item["ownerId"], namespace, item["key"])
            existing = state.metafields.get(key)
            record = {
                "id": existing["id"] if existing else _gid("Metafield", state.next_id()),
                "ownerId": item["ownerId"],
                "namespace": namespace,
                "key": item["key"],
                "type": item.get("type") or (existing or {}).get("type"),
                "value": item["value"],
                "createdAt": existing["createdAt"] if existing else now,
                "updatedAt": now,
            }
            state.metafields[key] = record
            written.append(record)
    return {"metafields": written, "userErrors": []}


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


@resolver("tagsAdd")
def tags_add(context: Context) -> dict[str, Any]:
    """Payload "TagsAddPayload"."""
    node_id = context.inputs.get("id") or ""
    tags = context.inputs.get("tags") or []
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.split(",")]
    with context.state.lock:
        current = context.state.tags.setdefault((context.shop.domain, node_id), [])
        current.extend(tag for tag in tags if tag and tag not in current)
    return {"node": {"id": node_id}, "userErrors": []}


def _connection(nodes: list[dict[str, Any]], inputs: dict[str, Any]) -> dict[str, Any]:
    """A connection of `nodes` cut by `first` / `last` (cursors are the nodes' positions)."""
    first, last = inputs.get("first"), inputs.get("last")
    if inputs.get("reverse"):
        nodes = nodes[::-1]
    start, end = 0, len(nodes)
    if isinstance(first, int):
        end = min(end, first)
    if isinstance(last, int):
        start = max(0, end - last)
    page = nodes[start:end]
    return {
        "nodes": page,
        "edges": [{"cursor": str(start + i), "node": node} for i, node in enumerate(page)],
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": str(start) if page else None,
            "endCursor": str(end - 1) if page else None,
        },
    }


def _matches(name: str, patterns: list[str] | None) -> bool:
    # "Use '*' to match zero or more characters."
    if not patterns:
        return True
    return any(
        re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), name)
        for pattern in patterns
    )


def _theme_file(theme: Theme, filename: str, content: str) -> dict[str, Any]:
    """Object "OnlineStoreThemeFile" with an "OnlineStoreThemeFileBodyText" body."""
    encoded = content.encode()
    return {
        "__typename": "OnlineStoreThemeFile",
        "filename": filename,
        "contentType": "application/json",
        "checksumMd5": hashlib.md5(encoded, usedforsecurity=False).hexdigest(),
        "size": len(encoded),
        "createdAt": _iso(theme.created_at),
        "updatedAt": _iso(theme.updated_at),
        "body": {"__typename": "OnlineStoreThemeFileBodyText", "content": content},
    }


def _theme(state: State, theme: Theme) -> dict[str, Any]:
    """Object "OnlineStoreTheme"; `files(filenames:, first:)` reads its arguments."""

    def files(inputs: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            text = theme.settings_data_text()
        found = [
            _theme_file(theme, SETTINGS_DATA, text)
            for name in (SETTINGS_DATA,)
            if _matches(name, inputs.get("filenames"))
        ]
        # "first" defaults to 50 for a theme's files.
        return _connection(
            found, {"first": 50, **{k: v for k, v in inputs.items() if v is not None}}
        )

    return {
        "__typename": "OnlineStoreTheme",
        "id": _gid("OnlineStoreTheme", theme.id),
        "name": theme.name,
        "role": theme.role,
        "prefix": "",
        "processing": False,
        "processingFailed": False,
        "themeStoreId": 887,
        "createdAt": _iso(theme.created_at),
        "updatedAt": _iso(theme.updated_at),
        "files": files,
    }


@resolver("themes", scope="read_themes")
def themes(context: Context) -> dict[str, Any]:
    """Connection "OnlineStoreThemeConnection": `roles`, `names`, `first`, `last`, `reverse`.

    Only `config/settings_data.json` is among a theme's files here.
    """
    state, inputs = context.state, context.inputs
    roles = inputs.get("roles")
    with state.lock:
        chosen = [
            theme
            for theme in state.shop_themes(context.shop.domain)
            if (not roles or theme.role in roles) and _matches(theme.name, inputs.get("names"))
        ]
    return _connection([_theme(state, theme) for theme in chosen], inputs)
