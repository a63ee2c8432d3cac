"""The first-run checklist: review the program, switch the widget on, create a reward.

Two steps are read live: a reward in the catalogue, and the widget's app embed in the live
theme (asked of Shopify, remembered briefly). Only "program reviewed" is stored, because
nothing else can tell when the merchant has looked at the program.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone

from loyalty.models import Onboarding, Reward, Shop
from loyalty.shopify.admin_api import AdminApiError
from loyalty.shopify.themes import ThemeUnreadable, app_embed_enabled, theme_editor_url

logger = logging.getLogger(__name__)

# The checklist must answer quickly even when Shopify doesn't: one try, this long at most.
THEME_CHECK_TIMEOUT = 3.0
# How long a theme check is remembered, per shop and per outcome: an enabled widget rarely
# goes away; a merchant coming back from the theme editor should see the tick soon; and a
# Shopify that failed is asked again only after a pause, so each load doesn't wait on it.
REMEMBER_ENABLED = 60
REMEMBER_DISABLED = 10
REMEMBER_UNCHECKED = 30

PROGRAM_URL = "/program"
REWARDS_URL = "/rewards"


def onboarding_program_reviewed(*, shop: Shop) -> Onboarding:
    """Tick "program reviewed" (the Program page calls this when the merchant saves).

    Idempotent: the first time is the one kept.
    """
    onboarding, _ = Onboarding.objects.get_or_create(shop=shop)
    Onboarding.objects.filter(pk=onboarding.pk, program_reviewed_at__isnull=True).update(
        program_reviewed_at=timezone.now()
    )
    onboarding.refresh_from_db()
    return onboarding


def onboarding_checklist(*, shop: Shop) -> dict:
    """The checklist as the admin shows it: `steps` in order, and `complete`.

    Each step is `{key, done, checked, title, description, url, note}`. `checked` is false
    only for `widget_enabled` when Shopify could not be asked (slow, unreachable, or the
    `read_themes` scope not yet granted): then `done` is false and `note` says what to do.
    Never raises for Shopify's failures.
    """
    reviewed = Onboarding.objects.filter(shop=shop, program_reviewed_at__isnull=False).exists()
    has_reward = Reward.objects.filter(shop=shop, deleted_at__isnull=True).exists()
    embed = _widget_embed(shop)
    steps = [
        _step(
            "program_reviewed",
            done=reviewed,
            title="Review your program",
            description=(
                "Check how many points members earn for each order and what a new member "
                "gets, then save."
            ),
            url=PROGRAM_URL,
        ),
        _step(
            "widget_enabled",
            done=embed["enabled"],
            checked=embed["checked"],
            title="Turn on the rewards widget in your theme",
            description=(
                "In the theme editor's App embeds, switch on the Perennial rewards widget and "
                "save, so shoppers see their points on every page."
            ),
            url=theme_editor_url(shop.domain),
            note=embed["note"],
        ),
        _step(
            "first_reward",
            done=has_reward,
            title="Create your first reward",
            description=(
                "Add something members can spend their points on, such as 5.00 off for 500 points."
            ),
            url=REWARDS_URL,
        ),
    ]
    return {"steps": steps, "complete": all(step["done"] for step in steps)}


def _step(
    key: str,
    *,
    done: bool,
    title: str,
    description: str,
    url: str,
    checked: bool = True,
    note: str | None = None,
) -> dict:
    return {
        "key": key,
        "done": done,
        "checked": checked,
        "title": title,
        "description": description,
        "url": url,
        "note": note,
    }


def _widget_embed(shop: Shop) -> dict:
    key = _cache_key(shop)
    remembered = cache.get(key)
    if remembered is not None:
        return remembered
    try:
        enabled = app_embed_enabled(shop, timeout=THEME_CHECK_TIMEOUT)
    except (AdminApiError, ThemeUnreadable) as exc:
        logger.warning("could not check the app embed of %s: %s", shop.domain, exc)
        answer = {"enabled": False, "checked": False, "note": _unchecked_note(exc)}
        cache.set(key, answer, REMEMBER_UNCHECKED)
        return answer
    answer = {"enabled": enabled, "checked": True, "note": None}
    cache.set(key, answer, REMEMBER_ENABLED if enabled else REMEMBER_DISABLED)
    return answer


def _unchecked_note(exc: Exception) -> str:
    if isinstance(exc, AdminApiError) and any(
        isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "ACCESS_DENIED"
        for error in exc.errors
    ):
        return (
            "Perennial can't read your theme yet: open Perennial from Apps in Shopify admin "
            "and approve its updated permissions (read themes)."
        )
    return (
        "We couldn't check your theme just now (Shopify didn't answer); reload this page in "
        "a minute to check again."
    )


def _cache_key(shop: Shop) -> str:
    return f"onboarding:widget-embed:{shop.pk}"
