"""`/_standin/…`: what tests and the demo use to steer and inspect the stand-in.

Nothing here exists at Shopify. Every endpoint answers JSON.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import requests

from . import orders as order_topics
from . import payloads, sender, signing
from .state import Knobs, Shop, State
from .throttle import fault_from
from .web import SHOP_PATTERN, Request, Response, Router, json_response, redirect

WEBHOOKS_PATH = "/webhooks"
DEFAULT_EMBED_BLOCK = "loyalty-widget"


def _shop_arg(request: Request, body: dict[str, Any]) -> str | None:
    shop = str(body.get("shop") or request.arg("shop"))
    return shop if re.fullmatch(SHOP_PATTERN, shop) else None


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    return body if isinstance(body, dict) else {}


def register_shop(state: State, request: Request) -> Response:
    """POST {shop, name?, email?, currency?, timezone?, id?}: register or replace a shop."""
    body = _body(request)
    domain = _shop_arg(request, body)
    if domain is None:
        return json_response(400, {"error": "shop must be a myshopify.com domain"})
    with state.lock:
        state.shops.pop(domain, None)
        default = state.shop(domain)
        state.shops[domain] = Shop(
            domain=domain,
            id=int(body.get("id") or default.id),
            name=body.get("name") or default.name,
            email=body.get("email") or default.email,
            currency=body.get("currency") or default.currency,
            timezone=body.get("timezone") or default.timezone,
        )
        return json_response(200, state.shops[domain].as_dict())


def list_shops(state: State, request: Request) -> Response:
    with state.lock:
        return json_response(200, [shop.as_dict() for shop in state.shops.values()])


def mint_session_token(state: State, request: Request) -> Response:
    """GET ?shop=&sub=&lifetime=: a session token as App Bridge would hand the app."""
    shop = _shop_arg(request, {})
    if shop is None:
        return json_response(400, {"error": "shop must be a myshopify.com domain"})
    token = signing.session_token(
        shop=shop,
        api_key=state.api_key,
        secret=state.api_secret,
        sub=request.arg("sub", "1"),
        lifetime=int(request.arg("lifetime", "60")),
        now=state.now(),
    )
    return json_response(200, {"token": token})


def knobs(state: State, request: Request) -> Response:
    """GET the knobs; POST any of {throttle, fail_status, fail_count, hang_count, hang_seconds,
    refuse_count}."""
    with state.lock:
        if request.method == "POST":
            for name, value in _body(request).items():
                if name in Knobs.__dataclass_fields__:
                    setattr(state.knobs, name, type(getattr(state.knobs, name))(value))
        return json_response(200, state.knobs.as_dict())


def faults(state: State, request: Request) -> Response:
    """GET ?shop= the queued faults; POST {shop, kind, count?, seconds?, operation?} queues
    one (standin/throttle.py); DELETE ?shop= forgets the shop's (every shop's without)."""
    body = _body(request) if request.method == "POST" else {}
    shop = _shop_arg(request, body)
    with state.lock:
        if request.method == "DELETE":
            if shop is None:
                state.faults.clear()
            else:
                state.faults.pop(shop, None)
            return json_response(200, {"faults": []})
        if request.method == "POST":
            if shop is None:
                return json_response(400, {"error": "shop must be a myshopify.com domain"})
            fault = fault_from(body)
            if isinstance(fault, str):
                return json_response(400, {"error": fault})
            state.faults.setdefault(shop, []).append(fault)
        queued = state.faults.get(shop, []) if shop else sum(state.faults.values(), [])
        return json_response(200, {"faults": [fault.as_dict() for fault in queued]})


def bucket(state: State, request: Request) -> Response:
    """GET ?shop= the shop's rate-limit bucket; POST {shop, maximum?, restore_rate?,
    available?} changes it (a smaller bucket makes throttling easy to reach)."""
    body = _body(request) if request.method == "POST" else {}
    shop = _shop_arg(request, body)
    if shop is None:
        return json_response(400, {"error": "shop must be a myshopify.com domain"})
    with state.lock:
        found = state.bucket(shop)
        found.refill(state.now())
        try:
            for name in ("maximum", "restore_rate", "available"):
                if name in body:
                    setattr(found, name, float(body[name]))
        except (TypeError, ValueError):
            return json_response(400, {"error": "maximum, restore_rate, available are numbers"})
        found.available = min(found.available, found.maximum)
        return json_response(200, found.status())


def metafields(state: State, request: Request) -> Response:
    """GET ?shop=&owner=: what metafieldsSet wrote for one owner (a gid, or `app` for the
    app's installation), as the storefront's Liquid would see it."""
    shop = _shop_arg(request, {})
    owner = request.arg("owner")
    if shop is None or not owner:
        return json_response(
            400, {"error": "send shop (a myshopify.com domain) and owner (a gid, or app)"}
        )
    if owner == "app":
        owner = state.app_installation_id(shop)
    with state.lock:
        found = [
            {name: record[name] for name in ("namespace", "key", "type", "value", "updatedAt")}
            for (domain, owner_id, _, _), record in sorted(state.metafields.items())
            if domain == shop and owner_id == owner
        ]
        return json_response(
            200,
            {
                "shop": shop,
                "owner": owner,
                # `$app:<name>` namespaces are stored (and listed) as `<prefix>--<name>`.
                "app_namespace_prefix": state.app_namespace("$app"),
                "metafields": found,
            },
        )


def app_embed(state: State, request: Request) -> Response:
    """POST {shop, enabled, block?}: switch the app embed block on or off in the shop's
    published theme, as the merchant does in the theme editor (`block` defaults to
    `loyalty-widget`, the widget's block handle). Answers the theme's `current.blocks`."""
    body = _body(request)
    shop = _shop_arg(request, body)
    enabled = body.get("enabled")
    block = str(body.get("block") or DEFAULT_EMBED_BLOCK)
    if shop is None or not isinstance(enabled, bool) or not re.fullmatch(r"[a-z0-9_-]+", block):
        return json_response(
            400, {"error": "send shop (a myshopify.com domain), enabled (true or false), block?"}
        )
    blocks = state.set_app_embed(shop, block, enabled=enabled)
    return json_response(200, {"shop": shop, "blocks": blocks})


def products(state: State, request: Request) -> Response:
    """POST {shop, id, prices: ["12.00", …], title?}: make (or replace) a product with one
    variant per price; DELETE ?shop=&id=: delete it, as the merchant does in Shopify admin."""
    body = {} if request.method == "DELETE" else _body(request)
    shop = _shop_arg(request, body)
    raw_id = body.get("id", request.arg("id"))
    product_id = int(raw_id) if str(raw_id).isdigit() else None
    if shop is None or product_id is None:
        return json_response(
            400, {"error": "send shop (a myshopify.com domain) and id (a product number)"}
        )
    if request.method == "DELETE":
        if not state.delete_product(shop, product_id):
            return json_response(404, {"error": f"no product {product_id} in {shop}"})
        return json_response(200, {"deleted": product_id})
    prices = body.get("prices")
    try:
        valid = (
            isinstance(prices, list)
            and bool(prices)
            and all(Decimal(str(p)).is_finite() and Decimal(str(p)) >= 0 for p in prices)
        )
    except InvalidOperation:
        valid = False
    if not valid:
        return json_response(400, {"error": "send prices: a list of decimals of 0 or more"})
    product = state.set_product(
        shop, product_id, [str(p) for p in prices], title=str(body.get("title") or "")
    )
    return json_response(200, product)


def expire_tokens(state: State, request: Request) -> Response:
    return json_response(200, {"expired": state.expire_access_tokens()})


def advance_clock(state: State, request: Request) -> Response:
    """POST {seconds}: move the stand-in's clock (token expiry, bucket refill) forward."""
    with state.lock:
        state.clock_offset += float(_body(request).get("seconds", 0))
        return json_response(200, {"clock_offset": state.clock_offset})


def calls(state: State, request: Request) -> Response:
    """GET the recorded GraphQL calls (`?shop=` to filter); DELETE forgets them."""
    with state.lock:
        if request.method == "DELETE":
            state.calls.clear()
            return json_response(200, [])
        shop = request.arg("shop")
        return json_response(200, [c for c in state.calls if not shop or c["shop"] == shop])


def records(state: State, request: Request) -> Response:
    """GET what mutations wrote: discounts, metafields, store credit, tags."""
    with state.lock:
        return json_response(
            200,
            {
                "discounts": state.discounts,
                "metafields": list(state.metafields.values()),
                "store_credit": [
                    {
                        "shop": shop,
                        "owner": owner,
                        "currency": currency,
                        "id": account["id"],
                        "balance": str(account["balance"]),
                    }
                    for (shop, owner, currency), account in state.store_credit.items()
                ],
                "tags": [{"shop": s, "id": node, "tags": t} for (s, node), t in state.tags.items()],
            },
        )


def send_webhook(state: State, request: Request) -> Response:
    """POST {topic, shop, payload? | sample?, url?, webhook_id?, event_id?}: deliver one."""
    body = _body(request)
    shop = _shop_arg(request, body)
    topic = str(body.get("topic", ""))
    if shop is None or not topic:
        return json_response(400, {"error": "shop and topic are required"})
    payload = body.get("payload")
    if payload is None:
        try:
            payload = payloads.sample(str(body.get("sample") or topic))
        except KeyError:
            return json_response(400, {"error": f"no sample for {topic}; send a payload"})
    url = body.get("url") or state.app_url + WEBHOOKS_PATH
    try:
        answer = sender.send_webhook(
            url,
            topic=topic,
            shop=shop,
            payload=payload,
            secret=state.api_secret,
            webhook_id=body.get("webhook_id"),
            event_id=body.get("event_id"),
        )
    except requests.RequestException as error:
        return json_response(502, {"error": str(error)})
    return json_response(200, {"status": answer.status_code, "body": answer.text[:2000]})


def orders(state: State, request: Request) -> Response:
    """POST {shop, topic, payload, lose?, url?}: an order event happens at Shopify (orders/*
    with the whole order, refunds/create with the refund): the order the `orders` query
    reads changes, and its webhook is delivered, or, with `lose: true`, never sent (a
    missed webhook). Answers {recorded, lost, status}."""
    body = _body(request)
    shop = _shop_arg(request, body)
    topic = str(body.get("topic") or "")
    payload = body.get("payload")
    if shop is None or topic not in order_topics.RECORDED_TOPICS or not isinstance(payload, dict):
        return json_response(
            400,
            {
                "error": "send shop (a myshopify.com domain), topic (one of "
                f"{', '.join(order_topics.RECORDED_TOPICS)}) and payload (an object)"
            },
        )
    try:
        webhook_body = order_topics.order_record(state, shop, topic, payload)
    except (KeyError, TypeError, ValueError) as error:
        return json_response(400, {"error": f"could not record it: {error!r}"})
    if body.get("lose"):
        return json_response(200, {"recorded": True, "lost": True, "status": None})
    try:
        answer = sender.send_webhook(
            body.get("url") or state.app_url + WEBHOOKS_PATH,
            topic=topic,
            shop=shop,
            payload=webhook_body,
            secret=state.api_secret,
        )
    except requests.RequestException as error:
        return json_response(502, {"recorded": True, "lost": False, "error": str(error)})
    return json_response(200, {"recorded": True, "lost": False, "status": answer.status_code})


def uninstall(state: State, request: Request) -> Response:
    """POST {shop}: revoke the shop's tokens, then deliver app/uninstalled (Shopify's order)."""
    body = _body(request)
    shop = _shop_arg(request, body)
    if shop is None:
        return json_response(400, {"error": "shop must be a myshopify.com domain"})
    state.revoke_shop(shop)
    record = state.shop(shop)
    payload = payloads.shop(
        shop,
        shop_id=record.id,
        name=record.name,
        email=record.email,
        currency=record.currency,
        timezone=record.timezone,
    )
    try:
        answer = sender.send_webhook(
            state.app_url + WEBHOOKS_PATH,
            topic="app/uninstalled",
            shop=shop,
            payload=payload,
            secret=state.api_secret,
        )
    except requests.RequestException as error:
        return json_response(502, {"error": str(error)})
    return json_response(200, {"status": answer.status_code})


def customer_login(state: State, request: Request) -> Response:
    """GET ?customer_id=&next=: log a storefront customer in (empty id logs out)."""
    customer_id = request.arg("customer_id")
    next_url = request.arg("next", "/")
    if not next_url.startswith("/"):
        next_url = "/"
    cookie = f"standin_customer_id={quote(customer_id)}; Path=/; HttpOnly; SameSite=Lax"
    if not customer_id:
        cookie += "; Max-Age=0"
    return redirect(next_url, [("Set-Cookie", cookie)])


def reset(state: State, request: Request) -> Response:
    """POST: forget everything but the app's configuration."""
    with state.lock:
        for store in (
            state.shops,
            state.access_tokens,
            state.refresh_tokens,
            state.codes,
            state.buckets,
            state.discounts,
            state.metafields,
            state.store_credit,
            state.tags,
            state.products,
            state.themes,
            state.faults,
            state.orders,
        ):
            store.clear()
        state.calls.clear()
        state.knobs = Knobs()
        state.clock_offset = 0.0
    return json_response(200, {"reset": True})


def add_routes(router: Router, state: State) -> None:
    def bind(handler: Any) -> Any:
        return lambda request: handler(state, request)

    router.add("GET", "/_standin/health", lambda request: json_response(200, {"ok": True}))
    router.add("GET", "/_standin/shops", bind(list_shops))
    router.add("POST", "/_standin/shops", bind(register_shop))
    router.add("GET", "/_standin/session-token", bind(mint_session_token))
    router.add("GET POST", "/_standin/knobs", bind(knobs))
    router.add("GET POST DELETE", "/_standin/faults", bind(faults))
    router.add("GET POST", "/_standin/bucket", bind(bucket))
    router.add("GET", "/_standin/metafields", bind(metafields))
    router.add("POST", "/_standin/app-embed", bind(app_embed))
    router.add("POST DELETE", "/_standin/products", bind(products))
    router.add("POST", "/_standin/expire-tokens", bind(expire_tokens))
    router.add("POST", "/_standin/advance-clock", bind(advance_clock))
    router.add("GET DELETE", "/_standin/calls", bind(calls))
    router.add("GET", "/_standin/records", bind(records))
    router.add("POST", "/_standin/webhooks", bind(send_webhook))
    router.add("POST", "/_standin/orders", bind(orders))
    router.add("POST", "/_standin/uninstall", bind(uninstall))
    router.add("GET", "/_standin/customer-login", bind(customer_login))
    router.add("POST", "/_standin/reset", bind(reset))
