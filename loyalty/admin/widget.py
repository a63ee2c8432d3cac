"""The storefront widget's look in the embedded admin's JSON API."""

import re
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import LauncherPosition, WidgetSettings
from loyalty.models.widget import COLORS, WIDGET_TEXTS
from loyalty.services.widget import (
    WidgetSettingsInvalid,
    widget_settings_for,
    widget_settings_update,
)

# The languages the widget's texts can be set in; English is the storefront's default.
LANGUAGES = ("en",)
COLOR_TEXT = re.compile(r"#[0-9a-fA-F]{6}", re.ASCII)
# Control characters (NUL included) have no place in a label; messages may break lines.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
MULTILINE_TEXTS = ("guest_message", "member_message")


@api_operation(
    "GET",
    summary="The storefront widget's look",
    description="Its colours, where the launcher sits, and its texts by language.",
    responses={200: Response("The widget's settings.", schemas.WIDGET)},
)
@api_operation(
    "PUT",
    summary="Change the storefront widget's look",
    description="Changes the keys sent and answers them all; nothing changes when any is at fault.",
    request_body=json_request("The settings to change.", schemas.WIDGET_CHANGES),
    responses={
        200: Response("The widget's settings after the change.", schemas.WIDGET),
        400: errors(
            "Each key at fault (a text by its path, `texts.en.panel_title`), a colour pair "
            "too hard to read, an unknown key under its own name, or `body`."
        ),
    },
)
@require_http_methods(["GET", "PUT"])
@embedded_api_view
def widget(request: HttpRequest) -> JsonResponse:
    """GET answers the widget document; PUT changes the keys it is sent and answers it."""
    if request.method == "GET":
        return JsonResponse(widget_document(widget_settings_for(shop=request.shop)))
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object of the widget settings to change."]})
    changes, errors = _changes(body)
    if errors:
        return field_errors(errors)
    try:
        settings = widget_settings_update(shop=request.shop, changes=changes)
    except WidgetSettingsInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(widget_document(settings))


def _changes(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The validated changes, and the errors by field (nothing is changed if there are any)."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in body.items():
        if name in COLORS:
            parsed, error = _color(value)
        elif name == "launcher_position":
            parsed, error = _launcher_position(value)
        elif name == "texts":
            text_changes, text_errors = _texts(value)
            changes.update(text_changes)
            errors.update(text_errors)
            continue
        else:
            keys = ", ".join((*COLORS, "launcher_position", "texts"))
            errors[name] = [f"This is not a widget setting; the settings are {keys}."]
            continue
        if error:
            errors[name] = [error]
        else:
            changes[name] = parsed
    return changes, errors


def _color(value: Any) -> tuple[str | None, str]:
    if isinstance(value, str) and COLOR_TEXT.fullmatch(value):
        return value.lower(), ""
    return None, 'Enter a colour as "#" and six hexadecimal digits, such as "#1f5199".'


def _launcher_position(value: Any) -> tuple[str | None, str]:
    if value in LauncherPosition.values:
        return value, ""
    return None, 'Choose "bottom_right" or "bottom_left" for the launcher button.'


def _texts(value: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    if not isinstance(value, dict):
        return {}, {"texts": ['Send the texts by language, such as {"en": {"panel_title": …}}.']}
    changes: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for language, texts in value.items():
        if language not in LANGUAGES:
            errors[f"texts.{language}"] = [
                "Only English texts (en) can be set for now; the storefront shows them to "
                "every shopper."
            ]
        elif not isinstance(texts, dict):
            errors[f"texts.{language}"] = ["Send the texts as an object of name and text."]
        else:
            for name, text in texts.items():
                parsed, error = _text(name, text)
                if error:
                    errors[f"texts.{language}.{name}"] = [error]
                else:
                    changes[name] = parsed
    return changes, errors


def _text(name: str, value: Any) -> tuple[str | None, str]:
    if name not in WIDGET_TEXTS:
        return None, f"The widget has no text {name!r}; the texts are {', '.join(WIDGET_TEXTS)}."
    longest = WIDGET_TEXTS[name][0]
    if not isinstance(value, str):
        return None, "Enter the text as a string."
    text = value.strip()
    if problem := unstorable_character(text):
        return None, problem
    if not text:
        return None, "Enter a text; the widget would show an empty space."
    if len(text) > longest:
        return None, f"Keep this text to {longest} characters or fewer (it has {len(text)})."
    control = CONTROL_BUT_NEWLINE if name in MULTILINE_TEXTS else CONTROL
    if control.search(text):
        return None, "Remove the control characters (such as tabs or line breaks)."
    if "<" in text or ">" in text:
        return None, (
            "Remove < and >: the widget shows texts exactly as typed, so HTML would appear "
            "as code to shoppers."
        )
    return text, ""


def widget_document(settings: WidgetSettings) -> dict:
    """The widget settings as `GET /api/admin/widget` answers them."""
    return {
        **{color: getattr(settings, color) for color in COLORS},
        "launcher_position": settings.launcher_position,
        "texts": {"en": {name: getattr(settings, name) for name in WIDGET_TEXTS}},
    }
