"""The shop's orders as the GraphQL Admin API reads them: `orders` (a connection searched,
sorted and paged), `order(id:)` and `refund(id:)`, each needing `read_orders`.

Sources (shopify.dev page titles): "orders" query (arguments `first`, `after`, `last`,
`before`, `query`, `sortKey`, `reverse`), "OrderSortKeys", "Shopify API search syntax"
(`updated_at:>='2026-11-26T08:00:00Z'`: a comparator after the colon, dates quoted),
"Paginating results with GraphQL" (at most 250 per page, opaque cursors, `pageInfo`), the
"Order", "Refund", "RefundLineItem", "LineItem" and "Customer" objects, and the note on
"Order": only the last 60 days' orders are readable without `read_all_orders`.

Orders are kept as the REST payloads their webhooks carry (standin.payloads.order) and
translated to the GraphQL shape when read, so a test states an order once and both
channels agree. `order_record` is what happening at Shopify does: the order changes (its
`updated_at` moves to the stand-in's clock) and the webhook body is returned, to be sent,
or "lost" (never sent), as the test decides (`POST /_standin/orders`).
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .operations import Context, resolver
from .state import State

ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
RECORDED_TOPICS = (*ORDER_TOPICS, "refunds/create")
MAX_PAGE_SIZE = 250
# Without `read_all_orders`, Order reads see only this far back (by creation).
READABLE_DAYS = 60
SORT_KEYS = ("ID", "CREATED_AT", "UPDATED_AT", "PROCESSED_AT")
# `field:<comparator><value>`; values may be quoted with ' or ".
_TERM = re.compile(r"""(\w+):(<=|>=|<|>)?('([^']*)'|"([^"]*)"|(\S+))""")
_SEARCHABLE = {"updated_at": "updated_at", "created_at": "created_at"}


class OrderSearchError(ValueError):
    """The `query` uses a filter this stand-in does not read."""


def order_record(state: State, shop: str, topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Make the shop's order what a `topic` event says, as it happens at Shopify, and return
    the webhook body for it (the whole order for orders/*, the refund for refunds/create).

    The order's `updated_at` becomes the stand-in's now. An orders/* payload replaces the
    stored order; a refund is added to its order (once per refund id), taking its line
    subtotals off `current_subtotal_price_set` and marking the order (partially) refunded.
    Raises KeyError for a refund of an order never recorded, ValueError for another topic.
    """
    now = _iso(state.now())
    with state.lock:
        if topic in ORDER_TOPICS:
            order = copy.deepcopy(payload)
            order["updated_at"] = now
            order.setdefault("created_at", now)
            state.orders[(shop, int(order["id"]))] = order
            return copy.deepcopy(order)
        if topic == "refunds/create":
            order = state.orders[(shop, int(payload["order_id"]))]
            refunds = order.setdefault("refunds", [])
            if all(str(r.get("id")) != str(payload["id"]) for r in refunds):
                refunds.append(copy.deepcopy(payload))
                _take_off_subtotal(order, payload)
            order["updated_at"] = now
            return copy.deepcopy(payload)
    raise ValueError(f"the stand-in records {', '.join(RECORDED_TOPICS)}, not {topic}")


def _take_off_subtotal(order: dict[str, Any], refund: dict[str, Any]) -> None:
    refunded = sum(
        (
            Decimal(line["subtotal_set"]["shop_money"]["amount"])
            for line in refund.get("refund_line_items") or []
        ),
        Decimal(0),
    )
    money_set = order.get("current_subtotal_price_set") or {}
    for side in ("shop_money", "presentment_money"):
        if isinstance(money_set.get(side), dict):
            left = max(Decimal(money_set[side]["amount"]) - refunded, Decimal(0))
            money_set[side]["amount"] = str(left.quantize(Decimal("0.01")))
    if "current_subtotal_price" in order and isinstance(money_set.get("shop_money"), dict):
        order["current_subtotal_price"] = money_set["shop_money"]["amount"]
    left = Decimal((money_set.get("shop_money") or {}).get("amount") or 0)
    order["financial_status"] = "refunded" if left == 0 else "partially_refunded"


@resolver("orders", scope="read_orders")
def orders(context: Context) -> Any:
    """Connection "OrderConnection": `query` (updated_at and created_at ranges),
    `sortKey` (ID, CREATED_AT, UPDATED_AT, PROCESSED_AT), `reverse`, `first`/`after`,
    `last`/`before`."""
    inputs = context.inputs
    sort_key = inputs.get("sortKey") or "ID"
    if sort_key not in SORT_KEYS:
        return _error(f"Argument 'sortKey' on Field 'orders' has an invalid value ({sort_key}).")
    for size in ("first", "last"):
        if isinstance(inputs.get(size), int) and not 0 <= inputs[size] <= MAX_PAGE_SIZE:
            return _error(f"{size} must be between 0 and {MAX_PAGE_SIZE}")
    if not isinstance(inputs.get("first"), int) and not isinstance(inputs.get("last"), int):
        return _error("you must provide one of first or last")
    try:
        terms = _search_terms(inputs.get("query") or "")
    except OrderSearchError as error:
        return _error(str(error))
    state, shop = context.state, context.shop.domain
    with state.lock:
        found = [
            copy.deepcopy(order)
            for (domain, _), order in state.orders.items()
            if domain == shop and _readable(state, order) and _matches(order, terms)
        ]
    found.sort(key=lambda order: (_sort_value(order, sort_key), int(order["id"])))
    if inputs.get("reverse"):
        found.reverse()
    return _page([_graphql_order(order) for order in found], inputs)


@resolver("order", scope="read_orders")
def order(context: Context) -> dict[str, Any] | None:
    """Object "Order" by its gid, or null (also for one older than 60 days)."""
    found = re.fullmatch(r"gid://shopify/Order/(\d+)", str(context.inputs.get("id") or ""))
    if found is None:
        return None
    state = context.state
    with state.lock:
        stored = state.orders.get((context.shop.domain, int(found.group(1))))
        stored = copy.deepcopy(stored) if stored and _readable(state, stored) else None
    return _graphql_order(stored) if stored else None


@resolver("refund", scope="read_orders")
def refund(context: Context) -> dict[str, Any] | None:
    """Object "Refund" by its gid, or null (also when its order is older than 60 days)."""
    found = re.fullmatch(r"gid://shopify/Refund/(\d+)", str(context.inputs.get("id") or ""))
    if found is None:
        return None
    state = context.state
    with state.lock:
        for (domain, _), stored in state.orders.items():
            if domain != context.shop.domain or not _readable(state, stored):
                continue
            for candidate in stored.get("refunds") or []:
                if str(candidate.get("id")) == found.group(1):
                    return _refund(copy.deepcopy(candidate))
    return None


def _error(message: str) -> dict[str, Any]:
    # Resolvers answer data; an argument problem is carried as a GraphQL error by the
    # `__errors__` convention of standin.graphql.
    return {"__errors__": [{"message": message, "extensions": {"code": "argumentError"}}]}


def _search_terms(query: str) -> list[tuple[str, str, datetime]]:
    """(field, comparator, moment) for each term of a search query."""
    terms = []
    rest = query
    for match in _TERM.finditer(query):
        field, comparator = match.group(1), match.group(2) or ":"
        value = next(v for v in match.group(4, 5, 6) if v is not None)
        if field not in _SEARCHABLE:
            raise OrderSearchError(f"the stand-in's orders query does not filter by {field}")
        moment = _moment(value)
        if moment is None:
            raise OrderSearchError(f"{field}: {value!r} is not a date")
        terms.append((field, comparator, moment))
        rest = rest.replace(match.group(0), " ", 1)
    leftover = [word for word in rest.split() if word.upper() != "AND"]
    if leftover:
        raise OrderSearchError(f"the stand-in's orders query does not read {' '.join(leftover)}")
    return terms


def _matches(order: dict[str, Any], terms: list[tuple[str, str, datetime]]) -> bool:
    compare: dict[str, Callable[[datetime, datetime], bool]] = {
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        ":": lambda a, b: a == b,
    }
    for field, comparator, moment in terms:
        value = _moment(order.get(_SEARCHABLE[field]))
        if value is None or not compare[comparator](value, moment):
            return False
    return True


def _readable(state: State, order: dict[str, Any]) -> bool:
    if "read_all_orders" in state.scopes:
        return True
    created = _moment(order.get("created_at"))
    oldest = datetime.fromtimestamp(state.now(), UTC) - timedelta(days=READABLE_DAYS)
    return created is None or created >= oldest


def _sort_value(order: dict[str, Any], sort_key: str) -> Any:
    if sort_key == "ID":
        return 0
    field = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}.get(sort_key, "processed_at")
    moment = _moment(order.get(field))
    return moment or datetime.min.replace(tzinfo=UTC)


def _cursor(node: dict[str, Any]) -> str:
    return base64.b64encode(f"Order:{node['legacyResourceId']}".encode()).decode()


def _page(nodes: list[dict[str, Any]], inputs: dict[str, Any]) -> dict[str, Any]:
    """Cut a connection by `after`/`first` or `before`/`last` (cursors name a node)."""
    cursors = [_cursor(node) for node in nodes]
    start, end = 0, len(nodes)
    if inputs.get("after") in cursors:
        start = cursors.index(inputs["after"]) + 1
    if inputs.get("before") in cursors:
        end = cursors.index(inputs["before"])
    if isinstance(inputs.get("first"), int):
        end = min(end, start + inputs["first"])
    if isinstance(inputs.get("last"), int):
        start = max(start, end - inputs["last"])
    page = nodes[start:end]
    return {
        "nodes": page,
        "edges": [{"cursor": cursors[start + i], "node": node} for i, node in enumerate(page)],
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[start] if page else None,
            "endCursor": cursors[end - 1] if page else None,
        },
    }


def _list_page(items: list[dict[str, Any]], inputs: dict[str, Any]) -> dict[str, Any]:
    # A nested connection (lineItems, refundLineItems): positions as cursors.
    start = int(inputs["after"]) + 1 if str(inputs.get("after") or "").isdigit() else 0
    first = inputs.get("first") if isinstance(inputs.get("first"), int) else len(items)
    page = items[start : start + first]
    end = start + len(page)
    return {
        "nodes": page,
        "edges": [{"cursor": str(start + i), "node": node} for i, node in enumerate(page)],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": str(start) if page else None,
            "endCursor": str(end - 1) if page else None,
        },
    }


def _graphql_order(rest: dict[str, Any]) -> dict[str, Any]:
    """Object "Order" from the REST order a webhook carries."""
    number = int(rest["id"])
    line_items = [_line_item(item) for item in rest.get("line_items") or []]
    refunds = [_refund(refund) for refund in rest.get("refunds") or []]
    customer = rest.get("customer")
    return {
        "__typename": "Order",
        "id": f"gid://shopify/Order/{number}",
        "legacyResourceId": str(number),
        "name": rest.get("name"),
        "email": rest.get("email"),
        "createdAt": _utc(rest.get("created_at")),
        "updatedAt": _utc(rest.get("updated_at")),
        "processedAt": _utc(rest.get("processed_at") or rest.get("created_at")),
        "cancelledAt": _utc(rest.get("cancelled_at")),
        "cancelReason": str(rest["cancel_reason"]).upper() if rest.get("cancel_reason") else None,
        "test": bool(rest.get("test")),
        "sourceName": rest.get("source_name"),
        "taxesIncluded": bool(rest.get("taxes_included")),
        "currencyCode": rest.get("currency"),
        "presentmentCurrencyCode": rest.get("presentment_currency") or rest.get("currency"),
        "displayFinancialStatus": (
            str(rest["financial_status"]).upper() if rest.get("financial_status") else None
        ),
        "subtotalPriceSet": _bag(rest.get("subtotal_price_set")),
        "currentSubtotalPriceSet": _bag(rest.get("current_subtotal_price_set")),
        "totalPriceSet": _bag(rest.get("total_price_set")),
        "currentTotalPriceSet": _bag(rest.get("current_total_price_set")),
        "totalTaxSet": _bag(rest.get("total_tax_set")),
        "discountCodes": [c.get("code") for c in rest.get("discount_codes") or []],
        "customAttributes": [
            {"key": a.get("name"), "value": a.get("value")}
            for a in rest.get("note_attributes") or []
        ],
        "clientIp": rest.get("browser_ip") or (rest.get("client_details") or {}).get("browser_ip"),
        "customer": _customer(customer) if isinstance(customer, dict) else None,
        "lineItems": lambda inputs: _list_page(line_items, inputs),
        "refunds": lambda inputs: (
            refunds[: inputs["first"]] if isinstance(inputs.get("first"), int) else refunds
        ),
    }


def _customer(rest: dict[str, Any]) -> dict[str, Any]:
    address = rest.get("default_address")
    email = rest.get("email")
    return {
        "__typename": "Customer",
        "id": f"gid://shopify/Customer/{rest['id']}",
        "legacyResourceId": str(rest["id"]),
        "firstName": rest.get("first_name"),
        "lastName": rest.get("last_name"),
        "email": email,
        "defaultEmailAddress": {"emailAddress": email} if email else None,
        "updatedAt": _utc(rest.get("updated_at")),
        "defaultAddress": {
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "zip": address.get("zip"),
            "provinceCode": address.get("province_code"),
            "countryCodeV2": address.get("country_code"),
        }
        if isinstance(address, dict)
        else None,
    }


def _line_item(rest: dict[str, Any]) -> dict[str, Any]:
    product_id = rest.get("product_id")
    return {
        "__typename": "LineItem",
        "id": f"gid://shopify/LineItem/{rest['id']}",
        "name": rest.get("name"),
        "quantity": rest.get("quantity"),
        "currentQuantity": rest.get("current_quantity", rest.get("quantity")),
        "sku": rest.get("sku"),
        "product": {
            "id": f"gid://shopify/Product/{product_id}",
            "legacyResourceId": str(product_id),
        }
        if product_id
        else None,
        "taxLines": [
            {"title": tax.get("title"), "rate": tax.get("rate"), "priceSet": _bag(tax["price_set"])}
            for tax in rest.get("tax_lines") or []
        ],
    }


def _refund(rest: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {
            "__typename": "RefundLineItem",
            "quantity": line.get("quantity"),
            "subtotalSet": _bag(line.get("subtotal_set")),
            "totalTaxSet": _bag(line.get("total_tax_set")),
            "lineItem": {"id": f"gid://shopify/LineItem/{line.get('line_item_id')}"},
        }
        for line in rest.get("refund_line_items") or []
    ]
    return {
        "__typename": "Refund",
        "id": f"gid://shopify/Refund/{rest['id']}",
        "legacyResourceId": str(rest["id"]),
        "createdAt": _utc(rest.get("created_at")),
        "note": rest.get("note"),
        "refundLineItems": lambda inputs: _list_page(lines, inputs),
    }


def _bag(rest: Any) -> dict[str, Any] | None:
    """Object "MoneyBag" from a REST `*_set`."""
    if not isinstance(rest, dict):
        return None

    def money(side: Any) -> dict[str, Any] | None:
        if not isinstance(side, dict):
            return None
        return {"amount": str(side.get("amount")), "currencyCode": side.get("currency_code")}

    return {
        "shopMoney": money(rest.get("shop_money")),
        "presentmentMoney": money(rest.get("presentment_money")),
    }


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00Z"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(value: Any) -> str | None:
    moment = _moment(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
