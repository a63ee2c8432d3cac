"""Everything the stand-in remembers, in memory, behind one lock.

Tests read `Standin.state` directly; every handler takes `state.lock` for the whole of its
read-modify-write, so concurrent requests see a consistent store.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from .throttle import Fault

ACCESS_TOKEN_LIFETIME = 3600
# Shopify: a refresh token lives 90 days; a replaced one stays usable (until its successor
# is used) for at most 30 days from its first use ("Use expiring offline access tokens",
# changelog "More resilient refreshes for expiring offline access tokens").
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600
REFRESH_RECOVERY_WINDOW = 30 * 24 * 3600
ONLINE_TOKEN_LIFETIME = 24 * 3600 - 1
AUTHORIZATION_CODE_LIFETIME = 600
BUCKET_MAXIMUM = 2000.0
BUCKET_RESTORE_RATE = 100.0

DEFAULT_SCOPES = (
    "read_orders",
    "read_customers",
    "write_customers",
    "write_discounts",
    "write_app_proxy",
    "write_store_credit_account_transactions",
    "read_themes",
    "read_products",
)
# The header Shopify writes into a theme's generated JSON files (themes allow comments).
GENERATED_HEADER = """/*
 * ------------------------------------------------------------
 * IMPORTANT: The contents of this file are auto-generated.
 *
 * This file may be updated by the Shopify admin theme editor
 * or related systems. Please exercise caution as any changes
 * made to this file may be overwritten.
 * ------------------------------------------------------------
 */
"""
SETTINGS_DATA = "config/settings_data.json"


@dataclass
class Shop:
    domain: str
    id: int
    name: str
    email: str
    currency: str = "USD"
    timezone: str = "America/New_York"

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.domain,
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "currency": self.currency,
            "timezone": self.timezone,
        }


@dataclass
class Theme:
    """One of a shop's online store themes; only `config/settings_data.json` is kept.

    `settings_data` is that file as JSON; Shopify renders it with the generated header and
    with "/" escaped as "\\/", which `settings_data_text` reproduces.
    """

    id: int
    name: str
    role: str
    created_at: float
    updated_at: float
    settings_data: dict[str, Any] = field(default_factory=dict)

    def settings_data_text(self) -> str:
        return GENERATED_HEADER + json.dumps(self.settings_data, indent=2).replace("/", "\\/")


def _fresh_settings_data() -> dict[str, Any]:
    # A freshly installed theme: some theme settings, no app embed ever enabled.
    return {
        "current": {
            "colors_solid_button_labels": "#ffffff",
            "sections": {"header": {"type": "header", "settings": {"menu": "main-menu"}}},
            "content_for_index": [],
            "blocks": {},
        },
        "presets": {"Default": {}},
    }


@dataclass
class AccessToken:
    value: str
    shop: str
    scope: str
    expires_at: float | None
    mode: str = "offline"
    user_id: str | None = None
    # The refresh token spent to mint this one: its first use retires that refresh token.
    minted_by_refresh: str | None = None
    first_used_at: float | None = None
    revoked: bool = False


@dataclass
class RefreshToken:
    value: str
    shop: str
    scope: str
    expires_at: float
    predecessor: str | None = None
    replacement: str | None = None
    first_used_at: float | None = None
    retired: bool = False


@dataclass
class AuthorizationCode:
    value: str
    shop: str
    scope: str
    online: bool
    user_id: str
    expires_at: float
    used: bool = False


@dataclass
class Knobs:
    """Faults the next GraphQL calls suffer, consumed one call at a time."""

    throttle: int = 0
    fail_status: int = 0
    fail_count: int = 0
    hang_count: int = 0
    hang_seconds: float = 0.0
    # The next mutations that create a discount or credit store credit answer userErrors.
    refuse_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Bucket:
    """Shopify's leaky bucket for one app and one store, in query-cost points."""

    maximum: float = BUCKET_MAXIMUM
    restore_rate: float = BUCKET_RESTORE_RATE
    available: float = BUCKET_MAXIMUM
    updated_at: float = 0.0

    def refill(self, now: float) -> float:
        if self.updated_at:
            elapsed = max(0.0, now - self.updated_at)
            self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.updated_at = now
        return self.available

    def take(self, cost: float, now: float) -> bool:
        """Spend `cost` points if the bucket holds them; False (and nothing spent) if not."""
        self.refill(now)
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class State:
    api_key: str
    api_secret: str
    app_url: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    app_id: int = 1
    # shopify.app.toml `handle`: the <app handle> in the types of the app's theme blocks.
    app_handle: str = "perennial"
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # Set on stop(), so a request held by the hang knob is let go at once.
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    clock_offset: float = 0.0
    shops: dict[str, Shop] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    knobs: Knobs = field(default_factory=Knobs)
    # Per-shop faults queued with POST /_standin/faults (standin/throttle.py).
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    # What mutations wrote, keyed for tests: see standin/operations.py.
    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    metafields: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    store_credit: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    tags: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # The shop's products as `product(id:)` reads them, keyed (shop, product gid); none
    # exist until set_product (or POST /_standin/products) makes them.
    products: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Each shop's orders as their webhooks carry them, keyed (shop, order id): what the
    # `orders` and `order` queries read (standin/orders.py).
    orders: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    # Each shop's themes, made on first sight: a published (MAIN) one and a draft.
    themes: dict[str, list[Theme]] = field(default_factory=dict)
    _serial: int = 1000

    def now(self) -> float:
        """The stand-in's clock: wall time plus whatever a test moved it by."""
        return time.time() + self.clock_offset

    def next_id(self) -> int:
        with self.lock:
            self._serial += 1
            return self._serial

    def shop(self, domain: str) -> Shop:
        """The shop, created with defaults on first sight (any myshopify domain exists here)."""
        with self.lock:
            if domain not in self.shops:
                handle = domain.removesuffix(".myshopify.com")
                self.shops[domain] = Shop(
                    domain=domain,
                    id=zlib.crc32(domain.encode()) % 10**9 + 10**9,
                    name=handle.replace("-", " ").title(),
                    email=f"owner@{handle}.example",
                )
            return self.shops[domain]

    def shop_themes(self, domain: str) -> list[Theme]:
        """The shop's themes, published first; made the first time they are asked for."""
        with self.lock:
            if domain not in self.themes:
                now = self.now()
                self.themes[domain] = [
                    Theme(self.next_id(), "Dawn", "MAIN", now, now, _fresh_settings_data()),
                    Theme(
                        self.next_id(),
                        "Dawn (draft)",
                        "UNPUBLISHED",
                        now,
                        now,
                        _fresh_settings_data(),
                    ),
                ]
            return self.themes[domain]

    def main_theme(self, domain: str) -> Theme:
        with self.lock:
            return next(t for t in self.shop_themes(domain) if t.role == "MAIN")

    def extension_uid(self) -> str:
        """The id Shopify gives the app's theme app extension (stable for one app)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"standin-extension:{self.api_key}"))

    def set_app_embed(self, domain: str, block_handle: str, *, enabled: bool) -> dict[str, Any]:
        """What switching the app embed block on or off in the theme editor and saving does
        to the published theme's settings_data.json: added on first enabling, kept with
        `"disabled": true` when switched off ("Detecting app embed blocks"). Returns the
        theme's `current.blocks`."""
        block_type = (
            f"shopify://apps/{self.app_handle}/blocks/{block_handle}/{self.extension_uid()}"
        )
        with self.lock:
            theme = self.main_theme(domain)
            blocks = theme.settings_data.setdefault("current", {}).setdefault("blocks", {})
            found = next((b for b in blocks.values() if b.get("type") == block_type), None)
            if found is None and enabled:
                # Shopify's block ids in settings_data.json are long strings of digits.
                block_id = str(zlib.crc32(block_type.encode()) * 10**10 + self.next_id())
                blocks[block_id] = {"type": block_type, "disabled": False, "settings": {}}
            elif found is not None:
                found["disabled"] = not enabled
            theme.updated_at = self.now()
            return copy.deepcopy(blocks)

    def set_product(
        self, domain: str, product_id: int, prices: list[str], *, title: str = ""
    ) -> dict[str, Any]:
        """Make (or replace) a product with one variant per price, as the merchant does in
        Shopify admin. Returns the stored product."""
        gid = f"gid://shopify/Product/{product_id}"
        with self.lock:
            product = {
                "id": gid,
                "title": title or f"Product {product_id}",
                "variants": [
                    {"id": f"gid://shopify/ProductVariant/{self.next_id()}", "price": str(price)}
                    for price in prices
                ],
            }
            self.products[(domain, gid)] = product
            return copy.deepcopy(product)

    def delete_product(self, domain: str, product_id: int) -> bool:
        """Delete a product, as the merchant does in Shopify admin; False if there was none."""
        with self.lock:
            return (
                self.products.pop((domain, f"gid://shopify/Product/{product_id}"), None) is not None
            )

    def app_installation_id(self, domain: str) -> str:
        """The gid of the app's installation on the shop (`currentAppInstallation.id`),
        stable for one app and shop."""
        number = zlib.crc32(f"{self.api_key}:{domain}".encode()) % 10**9 + 10**9
        return f"gid://shopify/AppInstallation/{number}"

    def app_namespace(self, namespace: str) -> str:
        """Where a `$app` / `$app:<name>` namespace is stored ("About app-owned metafields":
        `app--<app id>[--<name>]`); any other namespace as it is."""
        if namespace == "$app":
            return f"app--{self.app_id}"
        if namespace.startswith("$app:"):
            return f"app--{self.app_id}--{namespace[5:]}"
        return namespace

    def bucket(self, domain: str) -> Bucket:
        with self.lock:
            return self.buckets.setdefault(domain, Bucket(updated_at=self.now()))

    def issue_access_token(
        self,
        shop: str,
        *,
        expiring: bool,
        mode: str = "offline",
        user_id: str | None = None,
        minted_by_refresh: str | None = None,
    ) -> AccessToken:
        prefix = "shpua_" if mode == "online" else "shpat_"
        lifetime = ONLINE_TOKEN_LIFETIME if mode == "online" else ACCESS_TOKEN_LIFETIME
        token = AccessToken(
            value=prefix + secrets.token_hex(16),
            shop=shop,
            scope=",".join(self.scopes),
            expires_at=self.now() + lifetime if expiring or mode == "online" else None,
            mode=mode,
            user_id=user_id,
            minted_by_refresh=minted_by_refresh,
        )
        with self.lock:
            self.access_tokens[token.value] = token
        return token

    def issue_refresh_token(self, shop: str, *, predecessor: str | None = None) -> RefreshToken:
        token = RefreshToken(
            value="shprt_" + secrets.token_hex(16),
            shop=shop,
            scope=",".join(self.scopes),
            expires_at=self.now() + REFRESH_TOKEN_LIFETIME,
            predecessor=predecessor,
        )
        with self.lock:
            self.refresh_tokens[token.value] = token
        return token

    def valid_access_token(self, value: str, shop: str) -> AccessToken | None:
        token = self.access_tokens.get(value)
        if token is None or token.revoked or token.shop != shop:
            return None
        if token.expires_at is not None and self.now() >= token.expires_at:
            return None
        return token

    def expire_access_tokens(self) -> int:
        """Make every access token expired now; non-expiring ones are revoked."""
        with self.lock:
            now = self.now()
            for token in self.access_tokens.values():
                if token.expires_at is None:
                    token.revoked = True
                else:
                    token.expires_at = min(token.expires_at, now)
            return len(self.access_tokens)

    def revoke_shop(self, shop: str) -> None:
        """What uninstalling does: every token of the shop stops working."""
        with self.lock:
            for token in self.access_tokens.values():
                if token.shop == shop:
                    token.revoked = True
            for refresh in self.refresh_tokens.values():
                if refresh.shop == shop:
                    refresh.retired = True
