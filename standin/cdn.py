"""`/_standin/cdn/…`: what the stand-in serves in place of Shopify's CDN scripts.

Shopify's admin loads an embedded app's pages with two scripts from cdn.shopify.com:
App Bridge (the `shopify` global: session tokens, authenticated `fetch`, toasts, save bar,
navigation menu, title bar) and Polaris (the `s-*` web components). Neither can be reached
offline, so the local demo and the browser tests point `SHOPIFY_APP_BRIDGE_URL` and
`SHOPIFY_POLARIS_URL` at these stand-ins:

- `GET /_standin/cdn/app-bridge.js`: a small faithful subset of App Bridge (static/app-bridge.js);
- `GET /_standin/cdn/polaris.js`: adds a stylesheet laying the components out plainly;
- `GET /_standin/cdn/id-token?shop=&sub=`: the session token behind `shopify.idToken()`,
  signed with the app's secret, for the app's own origin only (CORS).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from urllib.parse import urlsplit

from . import signing
from .state import State
from .web import SHOP_PATTERN, Request, Response, Router, json_response

JAVASCRIPT = "text/javascript; charset=utf-8"
# The scripts change with the code; a browser must not keep an old copy.
NO_STORE = ("Cache-Control", "no-store")


def _static(name: str) -> str:
    return resources.files("standin").joinpath("static", name).read_text(encoding="utf-8")


def app_bridge_js(state: State, request: Request) -> Response:
    return Response(
        200, _static("app-bridge.js").encode(), [("Content-Type", JAVASCRIPT), NO_STORE]
    )


def polaris_js(state: State, request: Request) -> Response:
    # The stylesheet goes in as a <style> while the page's head is parsed, so the first
    # paint is already laid out (a <link> added by script would not block rendering).
    source = (
        "(function () {\n"
        '  var style = document.createElement("style");\n'
        '  style.setAttribute("data-standin", "polaris");\n'
        f"  style.textContent = {json.dumps(_static('polaris.css'))};\n"
        "  document.head.appendChild(style);\n"
        "})();\n"
    )
    return Response(200, source.encode(), [("Content-Type", JAVASCRIPT), NO_STORE])


def id_token(state: State, request: Request) -> Response:
    """GET ?shop=&sub=: `{"token": …}` for the app's pages, as App Bridge hands them one."""
    app_origin = _origin(state.app_url)
    cors = [("Access-Control-Allow-Origin", app_origin), ("Vary", "Origin"), NO_STORE]
    shop = request.arg("shop")
    if not _is_shop(shop):
        return json_response(400, {"error": "shop must be a myshopify.com domain"}, cors)
    # Shopify hands tokens only to the app's own frame; so does the stand-in.
    origin = request.headers.get("origin")
    if origin is not None and origin != app_origin:
        return json_response(403, {"error": f"only {app_origin} may ask for tokens"}, cors)
    token = signing.session_token(
        shop=shop,
        api_key=state.api_key,
        secret=state.api_secret,
        sub=request.arg("sub", "1") or "1",
        now=state.now(),
    )
    return json_response(200, {"token": token}, cors)


def add_routes(router: Router, state: State) -> None:
    def bind(handler):
        return lambda request: handler(state, request)

    router.add("GET", "/_standin/cdn/app-bridge.js", bind(app_bridge_js))
    router.add("GET", "/_standin/cdn/polaris.js", bind(polaris_js))
    router.add("GET", "/_standin/cdn/id-token", bind(id_token))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_shop(value: str) -> bool:
    return re.fullmatch(SHOP_PATTERN, value) is not None
