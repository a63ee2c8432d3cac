"""The storefront widget's look: the merchant changes colours, launcher position and texts.

Colours must keep the widget's text readable: WCAG 2 level AA asks for a contrast ratio of
at least 4.5:1 between text and its background, checked here for the panel's text on the
panel and for the button text on the accent colour.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from loyalty.models import Shop, WidgetSettings
from loyalty.models.widget import COLORS, WIDGET_TEXTS
from loyalty.services.storefront_sync import storefront_settings_changed

WIDGET_SETTINGS = (*COLORS, "launcher_position", *WIDGET_TEXTS)
# WCAG 2.x success criterion 1.4.3, "Contrast (Minimum)", for normal-size text.
READABLE_CONTRAST = 4.5
# (text, background, what a merchant calls the pair)
CONTRAST_PAIRS = (
    ("panel_text_color", "panel_background_color", "The panel's text"),
    ("accent_text_color", "accent_color", "The launcher and button text"),
)


class WidgetSettingsInvalid(Exception):
    """The change would make the widget unreadable; `errors` maps each field to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def widget_settings_for(*, shop: Shop) -> WidgetSettings:
    """The shop's widget settings, made with the defaults the first time they are asked for."""
    settings, _ = WidgetSettings.objects.get_or_create(shop=shop)
    return settings


def widget_settings_update(*, shop: Shop, changes: dict[str, Any]) -> WidgetSettings:
    """Change the given settings (names in WIDGET_SETTINGS, values already validated:
    colours as lowercase "#rrggbb", texts stripped and within their lengths); the others
    keep their values.

    Raises WidgetSettingsInvalid, saving nothing, when a colour pair would be less readable
    than READABLE_CONTRAST; the error names the fields of the pair that the change sends.
    Raises ValueError for a name that is not a setting.
    """
    unknown = sorted(set(changes) - set(WIDGET_SETTINGS))
    if unknown:
        raise ValueError(f"not widget settings: {', '.join(unknown)}")
    widget_settings_for(shop=shop)
    with transaction.atomic():
        # Locked, so two saves at once each change only their own keys and the contrast
        # is checked against what is really stored.
        settings = WidgetSettings.objects.select_for_update().get(shop=shop)
        for name, value in changes.items():
            setattr(settings, name, value)
        errors = _contrast_errors(settings, sent=set(changes))
        if errors:
            raise WidgetSettingsInvalid(errors)
        settings.save(update_fields=[*changes, "updated_at"])
        storefront_settings_changed(shop=shop)
    return settings


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted(
        (_relative_luminance(foreground), _relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def _relative_luminance(color: str) -> float:
    # WCAG 2 "relative luminance": linearised sRGB channels, weighted.
    channels = []
    for start in (1, 3, 5):
        value = int(color[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast_errors(settings: WidgetSettings, *, sent: set[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for text, background, label in CONTRAST_PAIRS:
        if not sent & {text, background}:
            continue
        text_color, background_color = getattr(settings, text), getattr(settings, background)
        ratio = contrast_ratio(text_color, background_color)
        if ratio >= READABLE_CONTRAST:
            continue
        message = (
            f"{label} ({text_color} on {background_color}) has a contrast of "
            f"{_floor(ratio)}:1; shoppers need at least {READABLE_CONTRAST}:1 to read it "
            "(WCAG AA). Choose a darker or lighter colour for one of the two."
        )
        for field in (text, background):
            if field in sent:
                errors.setdefault(field, []).append(message)
    return errors


def _floor(ratio: float) -> str:
    # Rounded down, so that 4.499 never reads as an acceptable "4.5".
    return f"{int(ratio * 100) / 100:.2f}"
