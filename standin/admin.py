"""Opening the app in Shopify admin: `/admin/apps/<api_key>[/<path>]`.

Shopify loads an embedded app's URL in an iframe with `embedded=1`, `hmac`, `host`,
`id_token`, `locale`, `session`, `shop` and `timestamp` (shopify-app-js test helpers
`setUpValidRequest`/`getHostValue`; "About session tokens"). The stand-in has no admin
frame, so it redirects the browser to that URL instead.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlencode

from . import signing
from .state import State
from .web import Request, Response, json_response, redirect

LAUNCH_PARAMS = ("embedded", "hmac", "host", "id_token", "locale", "session", "shop", "timestamp")


def launch_url(
    state: State, shop: str, path: str = "", extra: dict[str, str] | None = None, sub: str = "1"
) -> str:
    """The app URL Shopify admin would load for this shop, with a fresh session token."""
    params = {key: value for key, value in (extra or {}).items() if key not in LAUNCH_PARAMS}
    params.update(
        embedded="1",
        host=signing.admin_host(shop),
        id_token=signing.session_token(
            shop=shop, api_key=state.api_key, secret=state.api_secret, sub=sub, now=state.now()
        ),
        locale="en",
        session=secrets.token_hex(32),
        shop=shop,
        timestamp=str(int(state.now())),
    )
    params["hmac"] = signing.oauth_hmac(params, state.api_secret)
    app_path = quote(path or "/", safe="/:@!$&'()*+,;=-._~")
    return f"{state.app_url}{app_path}?{urlencode(sorted(params.items()))}"


def open_app(state: State, request: Request) -> Response:
    """GET /shops/<shop>/admin/apps/<api_key>[/<path>]."""
    if request.params["app"] != state.api_key:
        return json_response(404, {"errors": "Not Found"})
    shop = request.params["shop"]
    state.shop(shop)
    extra = {key: values[0] for key, values in request.query.items() if key != "sub"}
    path = request.params.get("path", "")
    return redirect(launch_url(state, shop, path, extra, request.arg("sub", "1")))
