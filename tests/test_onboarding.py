"""The first-run checklist, with the widget's app embed read from the stand-in's live theme."""

import time

import pytest
from django.core.cache import cache

from loyalty.models import Onboarding, Reward, RewardKind, Shop
from loyalty.services import onboarding as onboarding_service
from loyalty.services.onboarding import onboarding_checklist, onboarding_program_reviewed
from loyalty.services.rewards import reward_create, reward_delete
from loyalty.services.shops import shop_install_with_session_token
from loyalty.shopify.session_tokens import decode_session_token
from loyalty.shopify.themes import ThemeUnreadable, embed_enabled_in
from standin import server
from tests.shopify_signing import ALICE, API_KEY, API_SECRET, BOB, as_merchant, session_token

pytestmark = pytest.mark.django_db

EDITOR = (
    f"https://{ALICE}/admin/themes/current/editor?context=apps"
    f"&activateAppId={API_KEY}/loyalty-widget"
)


@pytest.fixture
def shopify(settings):
    standin = server.start(
        api_key=API_KEY, api_secret=API_SECRET, app_url="http://perennial.test", port=0
    )
    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    settings.SHOPIFY_ADMIN_ORIGIN = standin.origin_template
    settings.SHOPIFY_HTTP_TIMEOUT = 5.0
    # Theme checks are remembered per shop in the cache: each test starts with none.
    cache.clear()
    yield standin
    standin.stop()
    cache.clear()


def install(shop: str = ALICE) -> Shop:
    return shop_install_with_session_token(
        session_token=decode_session_token(session_token(shop=shop))
    )


def theme_reads(standin, shop: str = ALICE) -> list[dict]:
    with standin.state.lock:
        return [
            call
            for call in standin.state.calls
            if call["shop"] == shop and "themes" in (call["query"] or "")
        ]


def checklist(client, shop: str = ALICE) -> dict:
    response = client.get("/api/admin/onboarding", headers=as_merchant(shop))
    assert response.status_code == 200, response.content
    return response.json()


def steps(answer: dict) -> dict[str, dict]:
    return {step["key"]: step for step in answer["steps"]}


def test_a_new_shop_has_nothing_done_and_the_checklist_says_where_to_go(client, shopify):
    install()

    answer = checklist(client)

    assert answer["complete"] is False
    assert [step["key"] for step in answer["steps"]] == [
        "program_reviewed",
        "widget_enabled",
        "first_reward",
    ]
    program, widget, reward = answer["steps"]
    assert program == {
        "key": "program_reviewed",
        "done": False,
        "checked": True,
        "title": "Review your program",
        "description": (
            "Check how many points members earn for each order and what a new member gets, "
            "then save."
        ),
        "url": "/program",
        "note": None,
    }
    assert (widget["done"], widget["checked"], widget["note"]) == (False, True, None)
    assert widget["url"] == EDITOR
    assert widget["title"] == "Turn on the rewards widget in your theme"
    assert (reward["done"], reward["url"]) == (False, "/rewards")
    [read] = theme_reads(shopify)
    # Inputs travel as variables, as every Admin API call of the app.
    assert read["variables"] == {"filenames": ["config/settings_data.json"]}


def test_ticking_program_reviewed_keeps_the_first_time(client, shopify):
    shop = install()

    response = client.post("/api/admin/onboarding/program-reviewed", headers=as_merchant())

    assert response.status_code == 200
    assert steps(response.json())["program_reviewed"]["done"] is True
    first = Onboarding.objects.get(shop=shop).program_reviewed_at
    assert first is not None
    again = onboarding_program_reviewed(shop=shop)
    assert again.program_reviewed_at == first
    assert Onboarding.objects.count() == 1


def test_a_reward_in_the_catalogue_ticks_first_reward_and_a_deleted_one_does_not(client, shopify):
    shop = install()
    reward = reward_create(shop=shop, kind=RewardKind.FREE_SHIPPING, points_cost=300)

    assert steps(checklist(client))["first_reward"]["done"] is True

    reward_delete(reward=reward)
    assert Reward.objects.filter(shop=shop).count() == 1
    assert steps(checklist(client))["first_reward"]["done"] is False


def test_the_widget_step_is_done_once_the_embed_is_on_in_the_live_theme(client, shopify):
    shop = install()
    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)

    assert steps(checklist(client))["widget_enabled"]["done"] is True

    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=False)
    cache.clear()
    assert steps(checklist(client))["widget_enabled"]["done"] is False
    onboarding_program_reviewed(shop=shop)
    reward_create(shop=shop, kind=RewardKind.PERCENT_OFF, points_cost=800, value=10)
    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)
    cache.clear()
    assert checklist(client)["complete"] is True


def test_an_embed_in_a_draft_theme_or_another_block_does_not_count(client, shopify):
    install()
    shopify.state.set_app_embed(ALICE, "some-other-embed", enabled=True)
    draft = shopify.state.shop_themes(ALICE)[1]
    assert draft.role == "UNPUBLISHED"
    draft.settings_data["current"]["blocks"]["1"] = {
        "type": f"shopify://apps/perennial/blocks/loyalty-widget/{shopify.state.extension_uid()}",
        "disabled": False,
    }

    assert steps(checklist(client))["widget_enabled"]["done"] is False


def test_the_theme_check_is_remembered_briefly(shopify, monkeypatch):
    shop = install()
    now = time.time()

    assert steps(onboarding_checklist(shop=shop))["widget_enabled"]["done"] is False
    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)
    # A "not yet" is remembered 10 s: the merchant back from the theme editor waits no more.
    assert steps(onboarding_checklist(shop=shop))["widget_enabled"]["done"] is False
    assert len(theme_reads(shopify)) == 1

    monkeypatch.setattr(time, "time", lambda: now + 11)
    assert steps(onboarding_checklist(shop=shop))["widget_enabled"]["done"] is True
    assert len(theme_reads(shopify)) == 2

    # An enabled widget is remembered 60 s.
    monkeypatch.setattr(time, "time", lambda: now + 11 + 59)
    assert steps(onboarding_checklist(shop=shop))["widget_enabled"]["done"] is True
    assert len(theme_reads(shopify)) == 2
    monkeypatch.setattr(time, "time", lambda: now + 11 + 61)
    onboarding_checklist(shop=shop)
    assert len(theme_reads(shopify)) == 3


def test_a_slow_shopify_does_not_hold_up_the_checklist(client, shopify, monkeypatch):
    monkeypatch.setattr(onboarding_service, "THEME_CHECK_TIMEOUT", 0.5)
    install()
    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)
    shopify.state.knobs.hang_count, shopify.state.knobs.hang_seconds = 1, 10

    started = time.monotonic()
    answer = checklist(client)
    waited = time.monotonic() - started

    assert waited < 3
    widget = steps(answer)["widget_enabled"]
    assert (widget["done"], widget["checked"]) == (False, False)
    assert widget["note"] == (
        "We couldn't check your theme just now (Shopify didn't answer); reload this page in "
        "a minute to check again."
    )
    # The failure is remembered too, so the next loads don't ask (and wait on) Shopify again:
    # a call would take the next hang.
    shopify.state.knobs.hang_count = 1
    started = time.monotonic()
    assert steps(checklist(client))["widget_enabled"]["checked"] is False
    assert time.monotonic() - started < 0.5
    assert shopify.state.knobs.hang_count == 1


def test_a_shopify_error_answers_unchecked(client, shopify):
    install()
    shopify.state.knobs.fail_status, shopify.state.knobs.fail_count = 503, 1

    widget = steps(checklist(client))["widget_enabled"]

    assert (widget["done"], widget["checked"]) == (False, False)
    assert checklist(client)["complete"] is False


def test_without_read_themes_the_merchant_is_asked_to_approve_it(client, shopify):
    # A shop that installed before the app asked for read_themes.
    shopify.state.scopes = ("read_orders", "write_discounts")
    install()

    widget = steps(checklist(client))["widget_enabled"]

    assert (widget["done"], widget["checked"]) == (False, False)
    assert widget["note"] == (
        "Perennial can't read your theme yet: open Perennial from Apps in Shopify admin and "
        "approve its updated permissions (read themes)."
    )


def test_each_shop_has_its_own_checklist(client, shopify):
    alice = install(ALICE)
    install(BOB)
    onboarding_program_reviewed(shop=alice)
    reward_create(shop=alice, kind=RewardKind.FREE_SHIPPING, points_cost=300)
    shopify.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)

    assert checklist(client, shop=ALICE)["complete"] is True
    bob = checklist(client, shop=BOB)
    assert [step["done"] for step in bob["steps"]] == [False, False, False]
    assert steps(bob)["widget_enabled"]["url"].startswith(f"https://{BOB}/admin/themes/")


def test_without_a_session_token_the_checklist_asks_for_a_new_one(client, shopify):
    bad = {"Authorization": f"Bearer {session_token(shop=ALICE, secret='x' * 40)}"}
    for headers in [{}, bad]:
        for response in [
            client.get("/api/admin/onboarding", headers=headers),
            client.post("/api/admin/onboarding/program-reviewed", headers=headers),
        ]:
            assert response.status_code == 401
            assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert not Onboarding.objects.exists()


def test_other_methods_are_not_allowed(client, shopify):
    install()
    assert client.post("/api/admin/onboarding", headers=as_merchant()).status_code == 405
    response = client.get("/api/admin/onboarding/program-reviewed", headers=as_merchant())
    assert response.status_code == 405


# --- reading settings_data.json ----------------------------------------------------------

BLOCK = "shopify:\\/\\/apps\\/perennial\\/blocks\\/loyalty-widget\\/0a1b2c3d-uid"


def settings_data(blocks: str) -> str:
    return (
        "/*\n * IMPORTANT: The contents of this file are auto-generated.\n */\n"
        '{"current": {"logo": "//cdn.example/logo.png", // the shop\'s logo\n'
        f'  "blocks": {{{blocks}}},}},\n  "presets": {{}}, }}'
    )


def test_settings_data_with_comments_trailing_commas_and_escaped_slashes_is_read():
    enabled = f'"17878678986028907411": {{"type": "{BLOCK}", "disabled": false, "settings": {{}},}}'
    disabled = f'"1": {{"type": "{BLOCK}", "disabled": true}}'

    assert embed_enabled_in(settings_data(enabled)) is True
    assert embed_enabled_in(settings_data(disabled)) is False
    assert embed_enabled_in(settings_data("")) is False


def test_only_this_apps_block_of_that_handle_counts():
    other_app = '"1": {"type": "shopify://apps/faceforms/blocks/loyalty-widget/f2"}'
    other_block = '"1": {"type": "shopify://apps/perennial/blocks/reviews/f2"}'
    assert embed_enabled_in(settings_data(other_app)) is False
    assert embed_enabled_in(settings_data(other_block)) is False
    assert embed_enabled_in('{"current": "Default", "presets": {"Default": {}}}') is False


def test_settings_data_that_is_not_json_is_unreadable():
    with pytest.raises(ThemeUnreadable):
        embed_enabled_in("{'current': }")
    # Nested past what the parser can go: unreadable too, so the checklist says unchecked.
    with pytest.raises(ThemeUnreadable):
        embed_enabled_in('{"current": ' + "[" * 100_000 + "]" * 100_000 + "}")
