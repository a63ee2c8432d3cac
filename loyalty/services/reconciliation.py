"""Orders whose webhooks never arrived: read back from the Admin API and applied once.

Shopify does not guarantee webhook delivery and recommends reconciliation jobs that fetch
what changed and feed it to the webhook processing code ("Best practices for webhooks";
docs/reconciliation.md). Each run reads the shop's orders updated in a window (the
`orders` query, newest state, sorted by UPDATED_AT, paged), compares each with what the
app applied (the order seen, paid, cancelled; its refunds), and for an order that differs
reads it whole and settles it through `order_settle`, the function the orders handler
calls, with the webhook's own facts (`order_facts` of the same payload shape) and so the
same ledger entries and idempotency keys. A webhook that arrives afterwards, or a second
run, finds nothing left to write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Max, Sum
from django.utils import timezone

from loyalty.earning.orders import PAID_STATUSES, PayloadError, order_facts
from loyalty.earning.referrals import order_referral_facts
from loyalty.models import LedgerEntry, Order, Reason, ReconciliationRun, Refund, Shop
from loyalty.shopify.admin_api import AdminApiError, admin_graphql

from .orders import order_settle
from .programs import program_for

logger = logging.getLogger(__name__)

# The ledger entries a repair writes name this actor (their reason is the webhook's).
ACTOR = "reconciliation"
# The next window starts this long before the last complete one ended: an order updated
# while a run was reading is read again by the next.
OVERLAP = timedelta(hours=1)
# The window ends this long before now: a webhook normally arrives within seconds, and
# the fast path is given time to apply it before it counts as missing.
SETTLE = timedelta(minutes=10)
# A shop's first run looks back this many days, or the program's hold period if longer.
FIRST_RUN_DAYS = 3
# Without `read_all_orders`, the Admin API reads only the last 60 days' orders; a window
# starts a day inside that, so that no order is silently out of reach.
READABLE = timedelta(days=59)
PAGE_SIZE = 100
# Line items and refund lines read with an order: Shopify's requested cost grows with them,
# and an order with more is read on in pages of MORE_LINES.
LINES = 10
MORE_LINES = 100
# Runs are kept this long (the newest complete one always: it starts the next window).
KEEP_RUNS = timedelta(days=30)
# Seconds one Admin API call may take, waits for the rate limit included.
CALL_BUDGET = 60.0

ORDERS_QUERY = """
query ReconcileOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      legacyResourceId
      updatedAt
      displayFinancialStatus
      cancelledAt
      refunds { legacyResourceId }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# What an order's line items and a refund's lines are read for: product ids (review
# rewards), line tax (a taxes-included order earns without it), refunded amounts.
_LINE_ITEMS = """
fragment LineItems on LineItemConnection {
  nodes {
    product { legacyResourceId }
    taxLines { priceSet { shopMoney { amount currencyCode } } }
  }
  pageInfo { hasNextPage endCursor }
}
"""
_REFUND_LINES = """
fragment RefundLines on RefundLineItemConnection {
  nodes {
    subtotalSet { shopMoney { amount currencyCode } }
    totalTaxSet { shopMoney { amount currencyCode } }
  }
  pageInfo { hasNextPage endCursor }
}
"""
ORDER_QUERY = (
    """
query ReconcileOrder($id: ID!, $lines: Int!) {
  order(id: $id) {
    legacyResourceId
    name
    email
    createdAt
    processedAt
    cancelledAt
    test
    sourceName
    taxesIncluded
    displayFinancialStatus
    clientIp
    discountCodes
    customAttributes { key value }
    currentSubtotalPriceSet { shopMoney { amount currencyCode } }
    totalPriceSet { shopMoney { amount currencyCode } }
    customer {
      legacyResourceId
      firstName
      lastName
      updatedAt
      defaultEmailAddress { emailAddress }
      defaultAddress { address1 address2 city zip provinceCode countryCodeV2 }
    }
    lineItems(first: $lines) { ...LineItems }
    refunds {
      id
      legacyResourceId
      createdAt
      refundLineItems(first: $lines) { ...RefundLines }
    }
  }
}
"""
    + _LINE_ITEMS
    + _REFUND_LINES
)
LINE_ITEMS_QUERY = (
    """
query ReconcileOrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) { lineItems(first: $first, after: $after) { ...LineItems } }
}
"""
    + _LINE_ITEMS
)
REFUND_LINES_QUERY = (
    """
query ReconcileRefundLines($id: ID!, $first: Int!, $after: String) {
  refund(id: $id) { refundLineItems(first: $first, after: $after) { ...RefundLines } }
}
"""
    + _REFUND_LINES
)


class OrderUnreadable(Exception):
    """Shopify's answer for one order cannot be applied; retrying will not change that."""


@dataclass(frozen=True)
class ListedOrder:
    """What the `orders` page says of one order: enough to tell whether it was applied."""

    order_id: int
    paid: bool
    cancelled: bool
    refund_ids: frozenset[int]


def reconciliation_window(
    *, shop: Shop, now: datetime, since: datetime | None = None
) -> tuple[datetime, datetime]:
    """[start, end) of the orders' `updated_at` the next run reads.

    From `since` if given, else from the end of the last complete run less OVERLAP, else
    (a first run) FIRST_RUN_DAYS or the program's hold period back; never before the shop
    installed the app, nor further back than the Admin API can read. Ends SETTLE before
    `now`.
    """
    end = now - SETTLE
    if since is None:
        last = (
            ReconciliationRun.objects.filter(shop=shop, complete=True)
            .order_by("-window_end")
            .first()
        )
        if last is not None:
            since = last.window_end - OVERLAP
        else:
            days = max(FIRST_RUN_DAYS, program_for(shop=shop).hold_days)
            since = end - timedelta(days=days)
    oldest = now - READABLE
    if shop.installed_at is not None:
        # Before its (last) install the app was sent no webhooks: what happened then is not
        # the app's to credit.
        oldest = max(oldest, shop.installed_at)
    start = min(max(since, oldest), end)
    return start, end


def orders_reconcile(
    *, shop: Shop, since: datetime | None = None, now: datetime | None = None
) -> ReconciliationRun:
    """Read the shop's orders updated in the window and apply those the app has not.

    Returns the run, saved: how many orders were read and repaired, the points the repairs
    wrote, and one line per order that could not be applied. Never raises for Shopify's
    failures: a run that could not read every page, or could not apply an order for a
    reason that may pass, is saved incomplete, and the next run reads its window again.
    """
    now = now or timezone.now()
    start, end = reconciliation_window(shop=shop, now=now, since=since)
    _old_runs_forget(shop=shop, now=now)
    run = ReconciliationRun.objects.create(
        shop=shop, window_start=start, window_end=end, started_at=now
    )
    last_entry = LedgerEntry.objects.filter(shop=shop).aggregate(last=Max("pk"))["last"] or 0
    problems: list[str] = []
    complete = True
    try:
        for page in _order_pages(shop, _search(start, end)):
            run.orders_read += len(page)
            for order_id in _unapplied(shop, page):
                try:
                    _order_repair(shop, order_id)
                except (OrderUnreadable, PayloadError) as error:
                    problems.append(f"order {order_id}: {error}")
                    continue
                except AdminApiError:
                    raise
                except Exception as error:  # noqa: BLE001 - one order must not stop the run
                    logger.exception("reconciling order %s of %s failed", order_id, shop.domain)
                    problems.append(f"order {order_id}: {error.__class__.__name__}: {error}")
                    complete = False
                    continue
                run.repaired += 1
            run.save(update_fields=["orders_read", "repaired"])
    except AdminApiError as error:
        logger.warning("reconciling %s stopped: %s", shop.domain, error)
        problems.append(f"stopped: {error}")
        complete = False
    except Exception as error:  # noqa: BLE001 - the run is recorded whatever stopped it
        logger.exception("reconciling %s stopped", shop.domain)
        problems.append(f"stopped: {error.__class__.__name__}: {error}")
        complete = False
    _totals(run, shop=shop, after_entry=last_entry)
    run.errors = len(problems)
    run.error_text = "\n".join(problems)[:10000]
    run.complete = complete
    run.finished_at = timezone.now()
    run.save()
    if run.repaired or problems:
        logger.info(
            "reconciled %s: %d orders read, %d repaired, %d problems",
            shop.domain,
            run.orders_read,
            run.repaired,
            len(problems),
        )
    return run


def orders_reconcile_all(
    *, now: datetime | None = None, shop_domain: str | None = None
) -> list[ReconciliationRun]:
    """Run `orders_reconcile` for every installed shop (or one), each on its own window."""
    shops = Shop.objects.filter(installed_at__isnull=False, uninstalled_at__isnull=True)
    if shop_domain is not None:
        shops = shops.filter(domain=shop_domain)
    runs = []
    for shop in shops.order_by("pk"):
        try:
            runs.append(orders_reconcile(shop=shop, now=now))
        except Exception:  # noqa: BLE001 - one shop's failure must not stop the others
            logger.exception("reconciling the orders of %s failed", shop.domain)
    return runs


def webhook_payload(order: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL `Order` (every line read: see `_order_read`) as its orders/* webhook
    carries it: the REST fields that loyalty.earning reads (order_facts,
    order_referral_facts), nothing else."""
    items = order.get("lineItems") or {}
    refunds = []
    for refund in order.get("refunds") or []:
        lines = refund.get("refundLineItems") or {}
        refunds.append(
            {
                "id": refund.get("legacyResourceId"),
                "created_at": refund.get("createdAt"),
                "refund_line_items": [
                    _money_fields(
                        subtotal_set=line.get("subtotalSet"), total_tax_set=line.get("totalTaxSet")
                    )
                    for line in lines.get("nodes") or []
                ],
            }
        )
    customer = order.get("customer")
    return {
        "id": order.get("legacyResourceId"),
        "name": order.get("name"),
        "email": order.get("email"),
        "created_at": order.get("createdAt"),
        "processed_at": order.get("processedAt"),
        "cancelled_at": order.get("cancelledAt"),
        "financial_status": str(order.get("displayFinancialStatus") or "").lower(),
        "test": order.get("test"),
        "source_name": order.get("sourceName"),
        "taxes_included": order.get("taxesIncluded"),
        **_money_fields(
            current_subtotal_price_set=order.get("currentSubtotalPriceSet"),
            total_price_set=order.get("totalPriceSet"),
        ),
        "customer": _customer(customer) if isinstance(customer, dict) else None,
        "line_items": [
            {
                "product_id": (item.get("product") or {}).get("legacyResourceId"),
                "tax_lines": [
                    _money_fields(price_set=tax.get("priceSet"))
                    for tax in item.get("taxLines") or []
                ],
            }
            for item in items.get("nodes") or []
        ],
        "refunds": refunds,
        "discount_codes": [{"code": code} for code in order.get("discountCodes") or []],
        "note_attributes": [
            {"name": attribute.get("key"), "value": attribute.get("value")}
            for attribute in order.get("customAttributes") or []
        ],
        "browser_ip": order.get("clientIp"),
    }


def _search(start: datetime, end: datetime) -> str:
    # "Shopify API search syntax": a comparator after the colon; dates quoted.
    return f"updated_at:>='{_iso(start)}' updated_at:<'{_iso(end)}'"


def _order_pages(shop: Shop, search: str) -> Iterator[list[ListedOrder]]:
    after = None
    while True:
        data = admin_graphql(
            shop,
            ORDERS_QUERY,
            {"first": PAGE_SIZE, "after": after, "query": search},
            timeout=CALL_BUDGET,
        )
        connection = data.get("orders") or {}
        try:
            page = [_listed(node) for node in connection.get("nodes") or []]
        except (KeyError, TypeError, ValueError) as error:
            raise AdminApiError(
                f"Shopify listed an order without a usable legacyResourceId: {error!r}",
                status=200,
                transient=False,
            ) from error
        yield page
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage"):
            return
        after = page_info.get("endCursor")


def _listed(node: dict[str, Any]) -> ListedOrder:
    return ListedOrder(
        order_id=int(node["legacyResourceId"]),
        paid=str(node.get("displayFinancialStatus") or "").lower() in PAID_STATUSES,
        cancelled=bool(node.get("cancelledAt")),
        refund_ids=frozenset(int(r["legacyResourceId"]) for r in node.get("refunds") or []),
    )


def _unapplied(shop: Shop, page: list[ListedOrder]) -> list[int]:
    """The orders of a page whose state the app has not applied: never seen (only a refund,
    or nothing, arrived), paid or cancelled at Shopify but not here, or with a refund the
    app never received."""
    ids = [listed.order_id for listed in page]
    known = {
        row["order_id"]: row
        for row in Order.objects.filter(shop=shop, order_id__in=ids).values(
            "order_id", "seen", "paid", "cancelled"
        )
    }
    refunds: dict[int, set[int]] = {}
    for order_id, refund_id in Refund.objects.filter(shop=shop, order_id__in=ids).values_list(
        "order_id", "refund_id"
    ):
        refunds.setdefault(order_id, set()).add(refund_id)
    missing = []
    for listed in page:
        row = known.get(listed.order_id)
        if (
            row is None
            or not row["seen"]
            or (listed.paid and not row["paid"])
            or (listed.cancelled and not row["cancelled"])
            or not listed.refund_ids <= refunds.get(listed.order_id, set())
        ):
            missing.append(listed.order_id)
    return missing


def _order_repair(shop: Shop, order_id: int) -> None:
    payload = webhook_payload(_order_read(shop, order_id))
    order_settle(
        shop=shop,
        facts=order_facts(payload),
        discount_codes=[entry["code"] for entry in payload["discount_codes"]],
        referral=order_referral_facts(payload),
        actor=ACTOR,
    )


def _order_read(shop: Shop, order_id: int) -> dict[str, Any]:
    """The order with all its line items and every refund's lines (read on in pages when
    an order has more than LINES)."""
    gid = f"gid://shopify/Order/{order_id}"
    data = admin_graphql(shop, ORDER_QUERY, {"id": gid, "lines": LINES}, timeout=CALL_BUDGET)
    order = data.get("order")
    if not isinstance(order, dict):
        raise OrderUnreadable("Shopify no longer returns it")
    _read_on(shop, order, "lineItems", LINE_ITEMS_QUERY, "order", gid)
    for refund in order.get("refunds") or []:
        _read_on(shop, refund, "refundLineItems", REFUND_LINES_QUERY, "refund", refund["id"])
    return order


def _read_on(shop: Shop, owner: dict, field: str, query: str, root: str, gid: str) -> None:
    connection = owner.get(field) or {}
    nodes = list(connection.get("nodes") or [])
    page_info = connection.get("pageInfo") or {}
    while page_info.get("hasNextPage"):
        data = admin_graphql(
            shop,
            query,
            {"id": gid, "first": MORE_LINES, "after": page_info.get("endCursor")},
            timeout=CALL_BUDGET,
        )
        page = ((data.get(root) or {}).get(field)) or {}
        if not page.get("nodes"):
            raise OrderUnreadable(f"Shopify stopped answering its {field} after {len(nodes)}")
        nodes.extend(page["nodes"])
        page_info = page.get("pageInfo") or {}
    owner[field] = {"nodes": nodes, "pageInfo": {"hasNextPage": False}}


def _old_runs_forget(*, shop: Shop, now: datetime) -> None:
    # One row an hour per shop: without this the table grows by 8,760 rows a shop a year.
    newest_complete = (
        ReconciliationRun.objects.filter(shop=shop, complete=True)
        .order_by("-window_end")
        .values_list("pk", flat=True)
        .first()
    )
    ReconciliationRun.objects.filter(shop=shop, started_at__lt=now - KEEP_RUNS).exclude(
        pk=newest_complete
    ).delete()


def _totals(run: ReconciliationRun, *, shop: Shop, after_entry: int) -> None:
    """The points this run's repairs wrote (all its entries carry ACTOR)."""
    entries = LedgerEntry.objects.filter(shop=shop, actor=ACTOR, pk__gt=after_entry)
    earned = entries.filter(reason=Reason.ORDER_EARNED).aggregate(
        points=Sum("points"), pending=Sum("pending_points")
    )
    taken = entries.filter(reason__in=[Reason.ORDER_REFUNDED, Reason.ORDER_CANCELLED]).aggregate(
        points=Sum("points"), pending=Sum("pending_points")
    )
    run.points_credited = (earned["points"] or 0) + (earned["pending"] or 0)
    run.points_reversed = -((taken["points"] or 0) + (taken["pending"] or 0))


def _customer(customer: dict[str, Any]) -> dict[str, Any]:
    address = customer.get("defaultAddress")
    return {
        "id": customer.get("legacyResourceId"),
        "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "updated_at": customer.get("updatedAt"),
        "default_address": {
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "zip": address.get("zip"),
            "province_code": address.get("provinceCode"),
            "country_code": address.get("countryCodeV2"),
        }
        if isinstance(address, dict)
        else None,
    }


def _money_fields(**bags: Any) -> dict[str, Any]:
    """REST `*_set` fields (shop money) from GraphQL MoneyBags; a missing bag is left out,
    so that order_facts names the field it lacks."""
    fields = {}
    for name, bag in bags.items():
        shop_money = bag.get("shopMoney") if isinstance(bag, dict) else None
        if isinstance(shop_money, dict):
            fields[name] = {
                "shop_money": {
                    "amount": shop_money.get("amount"),
                    "currency_code": shop_money.get("currencyCode"),
                }
            }
    return fields


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
