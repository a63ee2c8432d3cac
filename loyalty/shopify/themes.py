"""Whether the widget's app embed block is switched on in the shop's live theme.

Shopify ("Configure theme app extensions", "Detecting app embed blocks"): an app embed
block appears in the theme's `config/settings_data.json`, under `current.blocks`, once the
merchant has enabled it, as `{"type": "shopify://apps/<app handle>/blocks/<block
handle>/<uid>", "disabled": false}`; switched off later, it stays there with
`"disabled": true`. The file is read through the GraphQL Admin API (`themes(roles:
[MAIN])`, `OnlineStoreTheme.files`, body `OnlineStoreThemeFileBodyText`), which needs the
`read_themes` scope. Theme JSON files may hold comments (Shopify writes an
"auto-generated" header into settings_data.json) and trailing commas.
"""

import json
from urllib.parse import quote

from django.conf import settings

from loyalty.models import Shop
from loyalty.shopify.admin_api import admin_graphql

# shopify.app.toml `handle`, the `<app handle>` of the block's type.
APP_HANDLE = "perennial"
# The app embed block's Liquid file in the theme app extension (issue 11):
# extensions/<extension>/blocks/loyalty-widget.liquid.
EMBED_BLOCK_HANDLE = "loyalty-widget"
SETTINGS_DATA = "config/settings_data.json"

MAIN_THEME_SETTINGS = """
query MainThemeSettings($filenames: [String!]) {
  themes(first: 1, roles: [MAIN]) {
    nodes {
      id
      files(filenames: $filenames, first: 1) {
        nodes {
          filename
          body {
            ... on OnlineStoreThemeFileBodyText {
              content
            }
          }
        }
      }
    }
  }
}
"""


class ThemeUnreadable(Exception):
    """The live theme's settings could not be read as JSON text."""


def app_embed_enabled(shop: Shop, *, timeout: float) -> bool:
    """Whether the widget's app embed block is on in the shop's published (MAIN) theme.

    False when the shop has no published theme or the theme has no settings_data.json.
    Raises AdminApiError when Shopify fails, refuses (no `read_themes` scope) or takes
    longer than `timeout` seconds, and ThemeUnreadable when the file isn't JSON text.
    """
    data = admin_graphql(shop, MAIN_THEME_SETTINGS, {"filenames": [SETTINGS_DATA]}, timeout=timeout)
    themes = (data.get("themes") or {}).get("nodes") or []
    if not themes:
        return False
    files = (themes[0].get("files") or {}).get("nodes") or []
    if not files:
        return False
    content = (files[0].get("body") or {}).get("content")
    if not isinstance(content, str):
        raise ThemeUnreadable(f"{SETTINGS_DATA} of {shop.domain} did not come as text")
    return embed_enabled_in(content)


def embed_enabled_in(settings_data: str) -> bool:
    """Whether a settings_data.json text has this app's embed block, not disabled.

    Raises ThemeUnreadable when the text is not JSON (comments and trailing commas allowed).
    """
    try:
        document = json.loads(_plain_json(settings_data))
    # RecursionError: nested deeper than the parser can go, which no theme needs.
    except (ValueError, RecursionError) as exc:
        raise ThemeUnreadable(f"{SETTINGS_DATA} is not JSON: {exc}") from exc
    current = document.get("current") if isinstance(document, dict) else None
    # Older themes may name a preset in "current" instead of holding the settings.
    blocks = current.get("blocks") if isinstance(current, dict) else None
    if not isinstance(blocks, dict):
        return False
    prefix = f"shopify://apps/{APP_HANDLE}/blocks/{EMBED_BLOCK_HANDLE}/"
    return any(
        isinstance(block, dict)
        and str(block.get("type", "")).startswith(prefix)
        and block.get("disabled") is not True
        for block in blocks.values()
    )


def theme_editor_url(shop_domain: str) -> str:
    """The theme editor's app embeds panel with the widget switched on, ready to save.

    Shopify's deep link for app embed blocks: `context=apps` and `activateAppId=<api
    key>/<block handle>`; without `template` it opens on the home page.
    """
    activate = quote(f"{settings.SHOPIFY_API_KEY}/{EMBED_BLOCK_HANDLE}", safe="/")
    return (
        f"https://{shop_domain}/admin/themes/current/editor?context=apps&activateAppId={activate}"
    )


def _plain_json(text: str) -> str:
    """`text` without // and /* */ comments and trailing commas, outside strings."""
    out: list[str] = []
    at, length = 0, len(text)
    while at < length:
        char = text[at]
        if char == '"':
            end = at + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[at : end + 1])
            at = end + 1
        elif text.startswith("//", at):
            newline = text.find("\n", at)
            at = length if newline == -1 else newline
        elif text.startswith("/*", at):
            close = text.find("*/", at + 2)
            at = length if close == -1 else close + 2
        elif char in "}]":
            # A comma before a closing bracket (whitespace between) is a trailing comma.
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()
            out.append(char)
            at += 1
        else:
            out.append(char)
            at += 1
    return "".join(out)
