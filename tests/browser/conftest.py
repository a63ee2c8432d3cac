"""The browser-test rig: the app on pytest-django's live server, the Shopify stand-in in a
thread serving App Bridge and Polaris stand-ins, and headless Debian Chromium driven by
Playwright. A test opens a page the way Shopify admin does, through the stand-in's
`/shops/<shop>/admin/apps/<api key>/<path>` launch, which loads the app with a fresh
session token.

Only Debian's /usr/bin/chromium is used (never a downloaded browser); without it every
browser test is skipped, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from standin import Standin, start
from tests.shopify_signing import ALICE, API_KEY, API_SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread meanwhile, so Django would take the tests' own database calls for async
    code; they are plain synchronous calls, allowed for the module and only for it."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shopify(live_server) -> Iterator[Standin]:
    """The stand-in, opening the app at the live server's URL."""
    standin = start(api_key=API_KEY, api_secret=API_SECRET, app_url=live_server.url)
    yield standin
    standin.stop()


@pytest.fixture
def embedded_app(settings, live_server, shopify: Standin):
    """The live app configured as `make run` configures it: Shopify is the stand-in, and the
    pages load the stand-in's App Bridge and Polaris scripts."""
    settings.APP_URL = live_server.url
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    settings.SHOPIFY_ADMIN_ORIGIN = shopify.origin_template
    settings.SHOPIFY_APP_BRIDGE_URL = f"{shopify.url}/_standin/cdn/app-bridge.js"
    settings.SHOPIFY_POLARIS_URL = f"{shopify.url}/_standin/cdn/polaris.js"
    requests.post(
        f"{shopify.url}/_standin/shops",
        json={"shop": ALICE, "name": "Alice's Garden", "currency": "EUR"},
        timeout=5,
    ).raise_for_status()
    return settings


@pytest.fixture
def page(browser, embedded_app) -> Iterator[object]:
    """A fresh browser tab; any uncaught JavaScript error fails the test."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def open_from_admin(page, shopify: Standin) -> Callable[..., object]:
    """Open an app path as Shopify admin does, as staff member `sub` of `shop`."""

    def open_path(path: str = "/", *, shop: str = ALICE, sub: str = "42", **query: str):
        launch = f"{shopify.url}/shops/{shop}/admin/apps/{API_KEY}{path}"
        page.goto(f"{launch}?{urlencode({'sub': sub, **query})}")
        return page

    return open_path


def screenshot(page, name: str) -> None:
    """Save what the merchant sees to docs/screenshots/<name>.png (for the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
