"""The storefront: a plain theme page that renders the app's theme app extension as a theme
would, with a real Liquid engine (python-liquid).

- `GET /shops/<shop>/`: the shop's home page. When the app embed block is switched on in the
  published theme (`state.set_app_embed`, `POST /_standin/app-embed`), the block
  `extensions/loyalty-widget/blocks/loyalty-widget.liquid` is rendered at the end of
  `<body>` ("target": "body"), with its settings from the theme's settings_data.json over the
  schema's defaults.
- `GET /shops/<shop>/account/login` and `/account/register`: where `routes` send shoppers;
  here a form that signs in as any customer id (the `standin_customer_id` cookie that the
  app proxy turns into `logged_in_customer_id`).
- `GET /_standin/cdn/extensions/<extension>/assets/<file>`: the extension's assets, what
  `asset_url` points at (Shopify serves them from its CDN).

The Liquid gets what Shopify gives an app embed block: `customer` (nil for a guest, with the
metafields the app wrote with metafieldsSet), `app.metafields` (the app-data metafields on
its installation), `routes`, `request`, `shop`, `block`, and the `t` filter over the
extension's locale file. Shopify filters and tags python-liquid lacks are registered here,
each doing what Shopify documents (docs/standin.md).
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from liquid import Environment
from liquid.ast import Node
from liquid.extra.filters._json import JSON
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_TAG

from .state import State
from .web import Request, Response, Router, text_response

# The theme app extensions are read from the repository at run time (never copied).
EXTENSIONS = Path(__file__).resolve().parent.parent / "extensions"
EXTENSION = "loyalty-widget"
EMBED_BLOCK = "loyalty-widget"
LOCALE = "en"
CUSTOMER_COOKIE = "standin_customer_id"
SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.DOTALL)
INTERPOLATION = re.compile(r"{{\s*(\w+)\s*}}")
HTML = "text/html; charset=utf-8"


class Metafield(Mapping[str, Any]):
    """A metafield as Liquid sees it: `.value` typed by its type, `.type`; printed as its value."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.type = record.get("type") or "single_line_text_field"
        self.value = _typed(self.type, str(record["value"]))

    def __getitem__(self, key: str) -> Any:
        if key == "value":
            return self.value
        if key == "type":
            return self.type
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(("value", "type"))

    def __len__(self) -> int:
        return 2

    def __str__(self) -> str:
        return json.dumps(self.value) if isinstance(self.value, dict | list) else str(self.value)


class Metafields(Mapping[str, Any]):
    """`<owner>.metafields`: namespaces of keys. `$app` and `$app:<ns>` name the app's own
    reserved namespaces (`app--<app id>`, `app--<app id>--<ns>`), as in theme app
    extensions; a namespace with nothing in it is empty, not an error."""

    def __init__(self, app_id: int, records: list[dict[str, Any]]) -> None:
        self._app_id = app_id
        self._namespaces: dict[str, dict[str, Metafield]] = {}
        for record in records:
            keys = self._namespaces.setdefault(record["namespace"], {})
            keys[record["key"]] = Metafield(record)

    def __getitem__(self, namespace: str) -> dict[str, Metafield]:
        if namespace == "$app":
            namespace = f"app--{self._app_id}"
        elif namespace.startswith("$app:"):
            namespace = f"app--{self._app_id}--{namespace[5:]}"
        return self._namespaces.get(namespace, {})

    def __iter__(self) -> Iterator[str]:
        return iter(self._namespaces)

    def __len__(self) -> int:
        return len(self._namespaces)


def _typed(kind: str, value: str) -> Any:
    try:
        if kind == "number_integer":
            return int(value)
        if kind in ("json", "boolean") or kind.startswith("list."):
            return json.loads(value)
    except ValueError:
        return value
    return value


class SchemaNode(Node):
    __slots__ = ()

    def render_to_output(self, context: Any, buffer: Any) -> int:
        return 0


class SchemaTag(Tag):
    """Shopify's `{% schema %}…{% endschema %}`: the block's settings, read by the theme
    editor and never rendered."""

    name = "schema"
    end = "endschema"

    def parse(self, stream: Any) -> SchemaNode:
        token = stream.eat(TOKEN_TAG)
        while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
            if stream.current.kind == TOKEN_EOF:
                raise ValueError("schema tag was never closed")
            next(stream)
        return SchemaNode(token)


def translate(locale: Mapping[str, Any], key: str, variables: Mapping[str, Any]) -> str:
    """Shopify's `t` filter: the dotted key's text in the locale file, the plural form chosen
    by `count` (`zero` when given and present, `one` for 1, else `other`), and `{{ name }}`
    replaced by the variable, HTML-escaped (keys ending in `_html` are not escaped)."""
    found: Any = locale
    for part in key.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    if isinstance(found, Mapping) and "count" in variables:
        count = variables["count"]
        form = "other"
        if count == 0 and "zero" in found:
            form = "zero"
        elif count == 1:
            form = "one"
        found = found.get(form)
    if not isinstance(found, str):
        return f"translation missing: {LOCALE}.{key}"
    raw = key.endswith("_html")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        value = "" if variables[name] is None else str(variables[name])
        return value if raw else html.escape(value)

    return INTERPOLATION.sub(fill, found)


def extension_environment(extension: str = EXTENSION) -> Environment:
    """A Liquid environment for one extension: `t` over its default locale, `asset_url` to
    its assets here, `json`, and the `schema` tag."""
    folder = EXTENSIONS / extension
    locale = json.loads((folder / "locales" / f"{LOCALE}.default.json").read_text("utf-8"))
    env = Environment()
    env.add_tag(SchemaTag)
    env.filters["t"] = lambda key, **variables: translate(locale, str(key), variables)
    env.filters["asset_url"] = lambda name: asset_path(extension, str(name))
    # Shopify's json filter; the text it makes may sit inside <script>, so "<" is escaped.
    env.filters["json"] = lambda value: JSON()(value).replace("<", "\\u003c")
    return env


def asset_path(extension: str, name: str) -> str:
    return f"/_standin/cdn/extensions/{quote(extension)}/assets/{quote(name)}"


def block_source(extension: str, block: str) -> str:
    return (EXTENSIONS / extension / "blocks" / f"{block}.liquid").read_text("utf-8")


def block_defaults(source: str) -> dict[str, Any]:
    """The settings' defaults from a block's `{% schema %}`."""
    found = SCHEMA.search(source)
    schema = json.loads(found.group(1)) if found else {}
    return {s["id"]: s.get("default") for s in schema.get("settings", []) if "id" in s}


def render_embed(state: State, shop: str, customer_id: str | None) -> str | None:
    """The app embed block as the published theme renders it; None while it is switched off."""
    block = _enabled_block(state, shop)
    if block is None:
        return None
    block_id, saved = block
    source = block_source(EXTENSION, EMBED_BLOCK)
    settings = {**block_defaults(source), **(saved.get("settings") or {})}
    env = extension_environment()
    return env.from_string(source).render(**_globals(state, shop, customer_id, block_id, settings))


def _enabled_block(state: State, shop: str) -> tuple[str, dict[str, Any]] | None:
    prefix = f"shopify://apps/{state.app_handle}/blocks/{EMBED_BLOCK}/"
    with state.lock:
        blocks = state.main_theme(shop).settings_data.get("current", {}).get("blocks", {})
        for block_id, block in blocks.items():
            if str(block.get("type", "")).startswith(prefix) and not block.get("disabled"):
                return block_id, json.loads(json.dumps(block))
    return None


def _globals(
    state: State, shop: str, customer_id: str | None, block_id: str, settings: dict[str, Any]
) -> dict[str, Any]:
    with state.lock:
        records = [dict(r) for (s, *_), r in state.metafields.items() if s == shop]
        record = state.shop(shop)
    installation = [r for r in records if r["ownerId"].startswith("gid://shopify/AppInstallation/")]
    root = f"/shops/{shop}"
    customer = None
    if customer_id:
        owner = f"gid://shopify/Customer/{customer_id}"
        customer = {
            "id": int(customer_id),
            "metafields": Metafields(state.app_id, [r for r in records if r["ownerId"] == owner]),
        }
    return {
        "customer": customer,
        "app": {"metafields": Metafields(state.app_id, installation)},
        "shop": {"name": record.name, "permanent_domain": shop, "currency": record.currency},
        "routes": {
            "root_url": root,
            "account_url": f"{root}/account",
            "account_login_url": f"{root}/account/login",
            "account_register_url": f"{root}/account/register",
            "account_logout_url": f"{root}/account/logout",
        },
        "request": {"locale": {"iso_code": LOCALE, "primary": True}, "design_mode": False},
        "block": {"id": block_id, "settings": settings},
    }


def home(state: State, request: Request) -> Response:
    """GET /shops/<shop>/: a theme's page with the app embed, if switched on."""
    shop = request.params["shop"]
    record = state.shop(shop)
    customer_id = request.cookies.get(CUSTOMER_COOKIE) or None
    if customer_id is not None and not customer_id.isdigit():
        customer_id = None
    embed = render_embed(state, shop, customer_id)
    name = html.escape(record.name)
    root = f"/shops/{quote(shop)}"
    if customer_id:
        account = (
            f"Signed in as customer {customer_id} · "
            f'<a href="/_standin/customer-login?next={quote(root + "/")}">Sign out</a>'
        )
    else:
        account = f'<a href="{root}/account/login">Sign in</a>'
    note = (
        ""
        if embed is not None
        else "<p class=note>The rewards widget's app embed is off in this theme: switch it on "
        "in the theme editor (here: <code>POST /_standin/app-embed</code>).</p>"
    )
    products = "".join(
        f"<li><span class=swatch></span><strong>{item}</strong><br>{price} {record.currency}</li>"
        for item, price in (
            ("Linen apron", "38.00"),
            ("Seed collection", "24.00"),
            ("Watering can", "52.00"),
            ("Pruning shears", "45.00"),
        )
    )
    page = f"""<!doctype html>
<html lang="{LOCALE}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{name}</title>
<style>
body{{margin:0;font-family:system-ui,sans-serif;color:#1a1a1a;background:#faf8f4}}
header{{display:flex;justify-content:space-between;align-items:center;padding:16px 24px;
background:#fff;border-bottom:1px solid #ddd}}
main{{max-width:960px;margin:0 auto;padding:24px}}
ul{{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px;padding:0;
list-style:none}}
li{{padding:16px;background:#fff;border:1px solid #e3e3e3;border-radius:8px}}
.swatch{{display:block;height:120px;margin-bottom:8px;border-radius:4px;background:#dfe8d8}}
.note{{padding:12px;background:#fff4e5;border:1px solid #e0b252}}
</style>
</head>
<body>
<header><strong>{name}</strong><span>{account}</span></header>
<main>
<h1>Welcome to {name}</h1>
{note}
<ul>{products}</ul>
</main>
{embed or ""}
</body>
</html>
"""
    return Response(200, page.encode(), [("Content-Type", HTML), ("Cache-Control", "no-store")])


def account_page(state: State, request: Request) -> Response:
    """GET /shops/<shop>/account/login|register: sign in as any customer id."""
    shop = request.params["shop"]
    state.shop(shop)
    title = "Create account" if request.params["page"] == "register" else "Sign in"
    home_path = html.escape(f"/shops/{shop}/")
    page = f"""<!doctype html>
<html lang="{LOCALE}"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:480px;margin:40px auto">
<h1>{title}</h1>
<p>The stand-in has no customer accounts: sign in as any customer id of the shop.</p>
<form action="/_standin/customer-login" method="get">
<label>Customer id <input name="customer_id" inputmode="numeric" required></label>
<input type="hidden" name="next" value="{home_path}">
<button>Continue</button>
</form>
</body></html>
"""
    return Response(200, page.encode(), [("Content-Type", HTML), ("Cache-Control", "no-store")])


def extension_asset(state: State, request: Request) -> Response:
    """GET /_standin/cdn/extensions/<extension>/assets/<file>."""
    folder = (EXTENSIONS / request.params["extension"] / "assets").resolve()
    path = (folder / request.params["file"]).resolve()
    if path.parent != folder or not path.is_file():
        return text_response(404, "Not Found")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    # Edited in place while developing: revalidate rather than keep an old copy.
    return Response(200, path.read_bytes(), [("Content-Type", kind), ("Cache-Control", "no-cache")])


def add_routes(router: Router, state: State) -> None:
    def bind(handler: Any) -> Any:
        return lambda request: handler(state, request)

    router.add("GET", r"/shops/{shop}/?", bind(home))
    router.add("GET", r"/shops/{shop}/account/(?P<page>login|register)", bind(account_page))
    router.add(
        "GET",
        r"/_standin/cdn/extensions/(?P<extension>[\w-]+)/assets/(?P<file>[\w.-]+)",
        bind(extension_asset),
    )
