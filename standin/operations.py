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
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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


# Values a metafield type accepts ("List of data types"); other types are stored unchecked.
_INTEGER = re.compile(r"-?\d+")
_LARGEST_INTEGER = 2**63 - 1


def _invalid_value(kind: str | None, value: str) -> str | None:
    """Why `value` is not a valid `kind`, or None."""
    if kind == "number_integer":
        if not _INTEGER.fullmatch(value) or abs(int(value)) > _LARGEST_INTEGER:
            return "Value must be an integer."
    elif kind == "single_line_text_field":
        if "\n" in value or "\r" in value:
            return "Value must be a single line of text."
    elif kind == "json":
        try:
            json.loads(value)
        except ValueError:
            return "Value must be valid JSON."
    return None


def _metafields_user_error(index: int, field: str, message: str, code: str) -> dict[str, Any]:
    return {
        "metafields": None,
        "userErrors": [_user_error(["metafields", str(index), field], message, code)],
    }


def _namespace(context: Context, namespace: str) -> str:
    # "$app:<name>" is stored under the app's reserved prefix ("About app-owned metafields").
    if namespace.startswith("$app:"):
        return f"app--{context.state.app_id}--{namespace[5:]}"
    return namespace


@resolver("metafieldsSet")
def metafields_set(context: Context) -> dict[str, Any]:
    """Payload "MetafieldsSetPayload": at most 25 metafields, all or nothing.

    `namespace` defaults to `$app`; `type` is needed for a metafield that doesn't exist yet
    (no definitions here); number_integer, single_line_text_field and json values are
    checked.
    """
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
    state = context.state
    written = []
    with state.lock:
        for index, item in enumerate(items):
            for required in ("ownerId", "key", "value"):
                if not item.get(required):
                    return _metafields_user_error(
                        index, required, f"{required} is required", "BLANK"
                    )
            namespace = state.app_namespace(item.get("namespace") or "$app")
            existing = state.metafields.get(
                (context.shop.domain, item["ownerId"], namespace, item["key"])
            )
            kind = item.get("type") or (existing or {}).get("type")
            if not kind:
                return _metafields_user_error(
                    index, "type", "Type can't be blank for a new metafield.", "BLANK"
                )
            problem = _invalid_value(kind, str(item["value"]))
            if problem:
                return _metafields_user_error(index, "value", problem, "INVALID_VALUE")
        now = _timestamp(state)
        for item in items:
            namespace = state.app_namespace(item.get("namespace") or "$app")
            key = (context.shop.domain, item["ownerId"], namespace, item["key"])
            existing = state.metafields.get(key)
            record = {
                "id": existing["id"] if existing else _gid("Metafield", state.next_id()),
                "ownerId": item["ownerId"],
                "namespace": namespace,
                "key": item["key"],
                "type": item.get("type") or (existing or {}).get("type"),
                "value": str(item["value"]),
                "createdAt": existing["createdAt"] if existing else now,
                "updatedAt": now,
            }
            state.metafields[key] = record
            written.append(record)
    return {"metafields": written, "userErrors": []}


@resolver("metafieldsDelete")
def metafields_delete(context: Context) -> dict[str, Any]:
    """Payload "MetafieldsDeletePayload": each identifier deleted, or null where the
    metafield didn't exist (which is not an error)."""
    identifiers = context.inputs.get("metafields") or []
    if not identifiers:
        return {
            "deletedMetafields": None,
            "userErrors": [
                _user_error(["metafields"], "At least one metafield must be specified.", "BLANK")
            ],
        }
    state = context.state
    deleted: list[dict[str, Any] | None] = []
    with state.lock:
        for identifier in identifiers:
            namespace = state.app_namespace(identifier.get("namespace") or "$app")
            key = (context.shop.domain, identifier.get("ownerId"), namespace, identifier.get("key"))
            found = state.metafields.pop(key, None)
            deleted.append(
                None
                if found is None
                else {"ownerId": found["ownerId"], "namespace": namespace, "key": found["key"]}
            )
    return {"deletedMetafields": deleted, "userErrors": []}


@resolver("currentAppInstallation")
def current_app_installation(context: Context) -> dict[str, Any]:
    """Object "AppInstallation" of the calling app (the owner of app-data metafields)."""
    state = context.state
    return {
        "__typename": "AppInstallation",
        "id": state.app_installation_id(context.shop.domain),
        "app": {"__typename": "App", "id": _gid("App", state.app_id)},
    }


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


@resolver("tagsRemove")
def tags_remove(context: Context) -> dict[str, Any]:
    """Payload "TagsRemovePayload": removes the tags the resource has (others are ignored)."""
    node_id = context.inputs.get("id") or ""
    tags = context.inputs.get("tags") or []
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.split(",")]
    with context.state.lock:
        current = context.state.tags.get((context.shop.domain, node_id), [])
        current[:] = [tag for tag in current if tag not in tags]
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


# The reward operations (code discounts, store credit) and the order reads register their
# resolvers here.
from . import orders, rewards  # noqa: E402, F401
