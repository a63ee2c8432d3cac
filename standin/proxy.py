"""The storefront app proxy: `/apps/loyalty/<path>` forwarded, signed, to `<app_url>/proxy/<path>`.

Source (shopify.dev page title): "Authenticate app proxies" — the added parameters, the
signature, `X-Forwarded-For`/`X-Forwarded-Host`, the method and body passed through, and
`Cookie` stripped from the request and `Set-Cookie` from the response.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import requests

from . import signing
from .state import State
from .web import Request, Response, text_response

PATH_PREFIX = "/apps/loyalty"
APP_PATH = "/proxy"
# The stand-in's storefront session: who is logged in to the shop's storefront.
CUSTOMER_COOKIE = "standin_customer_id"
PROXY_PARAMS = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
FORWARDED_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "user-agent")
RETURNED_RESPONSE_HEADERS = ("Content-Type", "Location", "Cache-Control")
TIMEOUT_SECONDS = 30


def signed_query(state: State, request: Request, shop: str) -> list[tuple[str, str]]:
    """The visitor's query minus anything posing as Shopify's, plus Shopify's five, signed."""
    params: dict[str, list[str]] = {
        key: values for key, values in request.query.items() if key not in PROXY_PARAMS
    }
    params["shop"] = [shop]
    params["logged_in_customer_id"] = [request.cookies.get(CUSTOMER_COOKIE, "")]
    params["path_prefix"] = [PATH_PREFIX]
    params["timestamp"] = [str(int(state.now()))]
    params["signature"] = [signing.app_proxy_signature(params, state.api_secret)]
    return [(key, value) for key, values in params.items() for value in values]


def app_proxy(state: State, request: Request) -> Response:
    """GET|POST /shops/<shop>/apps/loyalty[/<path>]."""
    shop = request.params["shop"]
    state.shop(shop)
    path = quote(request.params.get("path", ""), safe="/:@!$&'()*+,;=-._~")
    url = f"{state.app_url}{APP_PATH}{path}?{urlencode(signed_query(state, request, shop))}"
    headers = {
        name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
    }
    headers["X-Forwarded-For"] = request.environ.get("REMOTE_ADDR", "127.0.0.1")
    headers["X-Forwarded-Host"] = shop
    try:
        answer = requests.request(
            request.method,
            url,
            data=request.body or None,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        return text_response(502, f"The app proxy could not reach the app: {error}")
    returned = [
        (name, answer.headers[name]) for name in RETURNED_RESPONSE_HEADERS if name in answer.headers
    ]
    return Response(answer.status_code, answer.content, returned)
