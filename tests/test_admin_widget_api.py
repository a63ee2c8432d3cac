"""The embedded admin's widget API: the storefront widget's colours, launcher and texts."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from loyalty.models import WidgetSettings
from loyalty.services.widget import WidgetSettingsInvalid, contrast_ratio, widget_settings_update
from tests.conftest import needs_postgres
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "accent_color": "#1f5199",
    "accent_text_color": "#ffffff",
    "panel_background_color": "#ffffff",
    "panel_text_color": "#1a1a1a",
    "launcher_position": "bottom_right",
    "texts": {
        "en": {
            "launcher_label": "Rewards",
            "panel_title": "Rewards",
            "guest_title": "Join our rewards program",
            "guest_message": (
                "Create an account to earn points on every order and turn them into discounts."
            ),
            "member_title": "Your rewards",
            "member_message": "Spend your points on the rewards below.",
        }
    },
}


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def read(client, shop=ALICE) -> dict:
    response = client.get("/api/admin/widget", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def change(client, body, shop=ALICE):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.put(
        "/api/admin/widget", data=data, content_type="application/json", headers=as_merchant(shop)
    )


def with_texts(**texts) -> dict:
    return DEFAULTS | {"texts": {"en": DEFAULTS["texts"]["en"] | texts}}


def test_a_new_shop_reads_the_english_defaults(client, shops):
    assert read(client) == DEFAULTS
    assert WidgetSettings.objects.filter(shop__domain=ALICE).count() == 1


def test_a_put_changes_only_what_it_sends_and_answers_the_whole_widget(client, shops):
    response = change(
        client,
        {
            "accent_color": "#008060",
            "launcher_position": "bottom_left",
            "texts": {"en": {"launcher_label": "  Perks  ", "panel_title": "Garden Club"}},
        },
    )

    assert response.status_code == 200, response.content
    expected = with_texts(launcher_label="Perks", panel_title="Garden Club") | {
        "accent_color": "#008060",
        "launcher_position": "bottom_left",
    }
    assert response.json() == expected
    response = change(client, {"panel_text_color": "#202223"})
    assert response.json() == expected | {"panel_text_color": "#202223"}
    assert read(client) == expected | {"panel_text_color": "#202223"}


def test_colours_are_stored_lowercase(client, shops):
    response = change(client, {"accent_color": "#0A3D2F", "panel_background_color": "#FAFAF7"})

    assert response.status_code == 200, response.content
    assert response.json()["accent_color"] == "#0a3d2f"
    assert WidgetSettings.objects.get(shop__domain=ALICE).panel_background_color == "#fafaf7"


@pytest.mark.parametrize(
    "color", ["1f5199", "#1f519", "#1f51999", "#abc", "#gg0000", "red", "", None, 1975, ["#fff"]]
)
def test_a_colour_must_be_hash_and_six_hex_digits(client, shops, color):
    response = change(client, {"accent_color": color, "panel_title": "ignored"})

    assert response.status_code == 400
    assert response.json()["errors"]["accent_color"] == [
        'Enter a colour as "#" and six hexadecimal digits, such as "#1f5199".'
    ]
    assert read(client) == DEFAULTS


def test_unreadable_panel_text_is_refused_with_the_contrast_it_has(client, shops):
    # #777777 on white is 4.48:1, just under WCAG AA's 4.5:1; #767676 is 4.54:1.
    response = change(client, {"panel_text_color": "#777777"})

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "panel_text_color": [
                "The panel's text (#777777 on #ffffff) has a contrast of 4.47:1; shoppers "
                "need at least 4.5:1 to read it (WCAG AA). Choose a darker or lighter colour "
                "for one of the two."
            ]
        }
    }
    assert read(client) == DEFAULTS
    assert change(client, {"panel_text_color": "#767676"}).status_code == 200


def test_the_contrast_is_checked_against_the_stored_colour_of_the_pair(client, shops):
    response = change(client, {"panel_background_color": "#000000", "panel_text_color": "#f0f0f0"})
    assert response.status_code == 200, response.content
    dark = read(client)
    assert dark["panel_background_color"] == "#000000"

    # Only the background is sent: white under the stored light text (1.14:1, shown rounded
    # down) fails, and the error names the field that was sent.
    response = change(client, {"panel_background_color": "#ffffff"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["panel_background_color"]
    assert (
        "(#f0f0f0 on #ffffff) has a contrast of 1.13:1"
        in (response.json()["errors"]["panel_background_color"][0])
    )
    assert read(client) == dark


def test_button_text_on_the_accent_colour_must_be_readable_too(client, shops):
    # White on pure red is 3.99:1.
    response = change(client, {"accent_color": "#ff0000"})

    assert response.status_code == 400
    assert response.json()["errors"]["accent_color"][0].startswith(
        "The launcher and button text (#ffffff on #ff0000) has a contrast of 3.99:1"
    )
    both = change(client, {"accent_color": "#ffffff", "accent_text_color": "#ffffff"})
    assert both.status_code == 400
    assert set(both.json()["errors"]) == {"accent_color", "accent_text_color"}


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#1f5199", "#1f5199") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.542, abs=0.001)
    assert contrast_ratio("#ffffff", "#008060") == pytest.approx(4.934, abs=0.001)


def test_texts_have_limits_and_are_plain_text(client, shops):
    response = change(
        client,
        {
            "texts": {
                "en": {
                    "launcher_label": "x" * 25,
                    "panel_title": "<b>Rewards</b>",
                    "guest_title": "   ",
                    "member_title": "Line\nbreak",
                    "guest_message": "Tab\there",
                    "member_message": 42,
                    "footer": "Hi",
                }
            }
        },
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {
        "texts.en.launcher_label": ["Keep this text to 24 characters or fewer (it has 25)."],
        "texts.en.panel_title": [
            "Remove < and >: the widget shows texts exactly as typed, so HTML would appear "
            "as code to shoppers."
        ],
        "texts.en.guest_title": ["Enter a text; the widget would show an empty space."],
        "texts.en.member_title": ["Remove the control characters (such as tabs or line breaks)."],
        "texts.en.guest_message": ["Remove the control characters (such as tabs or line breaks)."],
        "texts.en.member_message": ["Enter the text as a string."],
        "texts.en.footer": [
            "The widget has no text 'footer'; the texts are launcher_label, panel_title, "
            "guest_title, guest_message, member_title, member_message."
        ],
    }
    assert read(client) == DEFAULTS


def test_a_text_with_a_broken_character_is_refused(client, shops):
    # A lone surrogate is valid JSON but not UTF-8: the database could not store it.
    response = change(client, '{"texts": {"en": {"panel_title": "Rewards \\ud83c"}}}')

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "texts.en.panel_title": [
            "Retype this text: it holds a broken character (an unpaired surrogate)."
        ]
    }
    emoji = change(client, '{"texts": {"en": {"panel_title": "Rewards \\ud83c\\udf3f"}}}')
    assert emoji.json()["texts"]["en"]["panel_title"] == "Rewards \N{HERB}"


def test_messages_may_break_lines_and_reach_their_limit(client, shops):
    message = "Earn 1 point per dollar.\nSpend them at checkout." + "!" * 252

    response = change(client, {"texts": {"en": {"guest_message": message}}})

    assert len(message) == 300
    assert response.status_code == 200, response.content
    assert response.json()["texts"]["en"]["guest_message"] == message


def test_only_english_texts_can_be_set_for_now(client, shops):
    response = change(client, {"texts": {"fr": {"panel_title": "Récompenses"}, "en": "x"}})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "texts.fr": [
            "Only English texts (en) can be set for now; the storefront shows them to every "
            "shopper."
        ],
        "texts.en": ["Send the texts as an object of name and text."],
    }


def test_each_bad_key_is_named_and_nothing_changes(client, shops):
    response = change(
        client,
        {
            "launcher_position": "top_left",
            "accent_color": "#000000",
            "font": "Comic Sans",
            "texts": ["Rewards"],
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "launcher_position": ['Choose "bottom_right" or "bottom_left" for the launcher button.'],
        "font": [
            "This is not a widget setting; the settings are accent_color, accent_text_color, "
            "panel_background_color, panel_text_color, launcher_position, texts."
        ],
        "texts": ['Send the texts by language, such as {"en": {"panel_title": …}}.'],
    }
    assert read(client) == DEFAULTS


@pytest.mark.parametrize("body", ["[]", "not json", '"text"', b"\xff\xfe"])
def test_a_body_that_is_not_an_object_is_named_body(client, shops, body):
    response = change(client, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]


def test_each_shop_has_its_own_widget(client, shops):
    change(client, {"accent_color": "#008060"}, shop=ALICE)

    assert read(client, shop=BOB) == DEFAULTS
    change(client, {"texts": {"en": {"panel_title": "Bob's bulbs"}}}, shop=BOB)
    assert read(client, shop=ALICE) == DEFAULTS | {"accent_color": "#008060"}
    assert read(client, shop=BOB) == with_texts(panel_title="Bob's bulbs")


def test_without_a_session_token_the_widget_asks_for_a_new_one(client, shops):
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        for response in [
            client.get("/api/admin/widget", headers=headers),
            client.put(
                "/api/admin/widget",
                data=json.dumps({"accent_color": "#000000"}),
                content_type="application/json",
                headers=headers,
            ),
        ]:
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert read(client) == DEFAULTS


def test_other_methods_are_not_allowed(client, shops):
    response = client.post("/api/admin/widget", data="{}", content_type="application/json",
                           headers=as_merchant())  # fmt: skip
    assert response.status_code == 405


@pytest.mark.parametrize(
    "field, value",
    [
        ("accent_color", "#FFFFFF"),
        ("panel_text_color", "blue"),
        ("launcher_position", "middle"),
        ("launcher_label", ""),
        ("panel_title", "x" * 41),
    ],
)
def test_the_database_refuses_what_the_api_refuses(shops, field, value):
    alice, _ = shops
    # PostgreSQL refuses an over-long varchar itself (DataError); SQLite needs the check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        WidgetSettings.objects.create(shop=alice, **{field: value})


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_never_leave_the_panel_unreadable(admin_settings):
    alice = installed_shop(ALICE, "Alice")
    widget_settings_update(shop=alice, changes={"panel_text_color": "#000000"})
    # Each change is readable against the colours stored before both: #555555 on white is
    # 7.4:1, black on #999999 is 7.4:1; together, #555555 on #999999 is 2.6:1.
    changes = [{"panel_text_color": "#555555"}, {"panel_background_color": "#999999"}]

    def save(change):
        try:
            widget_settings_update(shop=alice, changes=change)
            return True
        except WidgetSettingsInvalid:
            return False
        finally:
            connection.close()

    for _ in range(5):
        widget_settings_update(
            shop=alice, changes={"panel_text_color": "#000000", "panel_background_color": "#ffffff"}
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            saved = list(pool.map(save, changes))
        assert saved.count(True) == 1
        stored = WidgetSettings.objects.get(shop=alice)
        assert contrast_ratio(stored.panel_text_color, stored.panel_background_color) >= 4.5
