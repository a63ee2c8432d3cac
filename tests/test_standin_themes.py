"""The stand-in's themes: the `themes` query, settings_data.json and the app embed knob."""

from __future__ import annotations

import json

import pytest
import requests

from standin import start
from standin.gql_text import parse_operation
from standin.state import GENERATED_HEADER

API_KEY = "perennial-test-api-key"
SECRET = "perennial-test-api-secret-long-enough-for-hs256"
ALICE = "alice-plants.myshopify.com"
BOB = "bob-bulbs.myshopify.com"
SETTINGS_DATA = {"filenames": ["config/settings_data.json"]}
# "Verify theme support" / "Detecting app embed blocks": the live theme's settings file.
MAIN_THEME_SETTINGS = """
query MainThemeSettings($filenames: [String!]) {
  themes(first: 1, roles: [MAIN]) {
    nodes {
      files(filenames: $filenames, first: 1) {
        nodes { filename body { ... on OnlineStoreThemeFileBodyText { content } } }
      }
    }
  }
}
"""
THEMES = """
query Themes($roles: [ThemeRole!], $names: [String!]) {
  themes(first: 10, roles: $roles, names: $names) {
    nodes { id name role }
  }
}
"""


@pytest.fixture
def shopify():
    # Nothing here calls the app, so its URL only has to be well formed.
    standin = start(api_key=API_KEY, api_secret=SECRET, app_url="http://127.0.0.1:9")
    yield standin
    standin.stop()


def token(shopify, shop=ALICE, scope=None) -> str:
    issued = shopify.state.issue_access_token(shop, expiring=True)
    if scope is not None:
        issued.scope = scope
    return issued.value


def graphql(shopify, query, variables=None, shop=ALICE, access_token=None) -> dict:
    answer = requests.post(
        shopify.shop_url(shop) + "/admin/api/2026-10/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": access_token or token(shopify, shop)},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def switch_embed(shopify, enabled, shop=ALICE, **extra) -> requests.Response:
    return requests.post(
        shopify.url + "/_standin/app-embed",
        json={"shop": shop, "enabled": enabled, **extra},
        timeout=5,
    )


def main_settings_data(shopify, shop=ALICE) -> str:
    answer = graphql(shopify, MAIN_THEME_SETTINGS, SETTINGS_DATA, shop=shop)
    [theme] = answer["data"]["themes"]["nodes"]
    [file] = theme["files"]["nodes"]
    assert file["filename"] == "config/settings_data.json"
    return file["body"]["content"]


def without_header(content: str) -> dict:
    assert content.startswith(GENERATED_HEADER)
    return json.loads(content.removeprefix(GENERATED_HEADER))


def test_a_shop_has_a_published_theme_and_a_draft(shopify):
    everything = graphql(shopify, THEMES)["data"]["themes"]["nodes"]
    published = graphql(shopify, THEMES, {"roles": ["MAIN"]})["data"]["themes"]["nodes"]
    drafts = graphql(shopify, THEMES, {"names": ["*draft*"]})["data"]["themes"]["nodes"]

    assert [(t["name"], t["role"]) for t in everything] == [
        ("Dawn", "MAIN"),
        ("Dawn (draft)", "UNPUBLISHED"),
    ]
    assert published == everything[:1]
    assert drafts == everything[1:]
    assert everything[0]["id"].startswith("gid://shopify/OnlineStoreTheme/")


def test_the_apps_query_reads_the_published_themes_settings_with_shopifys_header(shopify):
    content = main_settings_data(shopify)

    assert without_header(content)["current"]["blocks"] == {}
    assert "IMPORTANT: The contents of this file are auto-generated." in content


def test_switching_the_app_embed_on_adds_the_block_and_off_keeps_it_disabled(shopify):
    answer = switch_embed(shopify, True)

    assert answer.status_code == 200
    [(block_id, block)] = answer.json()["blocks"].items()
    assert block_id.isdigit()
    uid = shopify.state.extension_uid()
    assert block == {
        "type": f"shopify://apps/perennial/blocks/loyalty-widget/{uid}",
        "disabled": False,
        "settings": {},
    }
    content = main_settings_data(shopify)
    # Shopify escapes the slashes of theme JSON files.
    assert f'"shopify:\\/\\/apps\\/perennial\\/blocks\\/loyalty-widget\\/{uid}"' in content
    assert without_header(content)["current"]["blocks"] == {block_id: block}

    switch_embed(shopify, False)

    assert without_header(main_settings_data(shopify))["current"]["blocks"] == {
        block_id: block | {"disabled": True}
    }
    switch_embed(shopify, True)
    assert without_header(main_settings_data(shopify))["current"]["blocks"] == {block_id: block}


def test_the_knob_touches_only_that_shops_published_theme(shopify):
    switch_embed(shopify, True, block="other-embed")

    assert without_header(main_settings_data(shopify, shop=BOB))["current"]["blocks"] == {}
    [draft] = shopify.state.themes[ALICE][1:]
    assert draft.settings_data["current"]["blocks"] == {}
    [block] = without_header(main_settings_data(shopify))["current"]["blocks"].values()
    assert "/blocks/other-embed/" in block["type"]


@pytest.mark.parametrize(
    "body",
    [
        {"shop": ALICE},
        {"shop": ALICE, "enabled": "yes"},
        {"shop": "alice.example.com", "enabled": True},
        {"shop": ALICE, "enabled": True, "block": "../x"},
    ],
)
def test_the_knob_refuses_what_it_cannot_do(shopify, body):
    answer = requests.post(shopify.url + "/_standin/app-embed", json=body, timeout=5)

    assert answer.status_code == 400
    assert ALICE not in shopify.state.themes


def test_without_read_themes_the_themes_field_is_access_denied(shopify):
    limited = token(shopify, scope="read_orders,write_discounts")

    answer = graphql(shopify, MAIN_THEME_SETTINGS, SETTINGS_DATA, access_token=limited)

    assert answer["data"] == {"themes": None}
    assert answer["errors"] == [
        {
            "message": "Access denied for themes field. Required access: `read_themes` "
            "access scope.",
            "path": ["themes"],
            "extensions": {
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": "`read_themes` access scope.",
            },
        }
    ]
    writer = token(shopify, scope="write_themes")
    assert graphql(shopify, THEMES, access_token=writer)["data"]["themes"]["nodes"]


def test_theme_files_are_filtered_by_name_with_wildcards(shopify):
    query = """
    query Files($filenames: [String!]) {
      themes(first: 1, roles: [MAIN]) {
        nodes { files(filenames: $filenames) { nodes { filename size contentType } } }
      }
    }
    """

    def files(filenames):
        answer = graphql(shopify, query, {"filenames": filenames})
        return answer["data"]["themes"]["nodes"][0]["files"]["nodes"]

    content = main_settings_data(shopify)
    [found] = files(["config/*.json"])
    assert found == {
        "filename": "config/settings_data.json",
        "size": len(content.encode()),
        "contentType": "application/json",
    }
    assert files(["templates/*.json"]) == []
    assert files(None) == [found]


def test_literal_arguments_are_read_as_graphql_values():
    operation = parse_operation(
        'query { themes(first: 2, roles: [MAIN, UNPUBLISHED], names: ["Da\\"wn*"], '
        "reverse: true, after: null) { nodes { id } } }"
    )

    [themes] = operation.fields
    assert themes.inputs({}) == {
        "first": 2,
        "roles": ["MAIN", "UNPUBLISHED"],
        "names": ['Da"wn*'],
        "reverse": True,
        "after": None,
    }


def test_reset_forgets_the_themes(shopify):
    switch_embed(shopify, True)

    requests.post(shopify.url + "/_standin/reset", timeout=5)

    assert shopify.state.themes == {}
    assert without_header(main_settings_data(shopify))["current"]["blocks"] == {}
