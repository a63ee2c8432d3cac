from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from .shop import Shop

# "#rrggbb", lowercase: the form the storefront's CSS gets and the API answers.
COLOR_PATTERN = r"^#[0-9a-f]{6}$"


class LauncherPosition(models.TextChoices):
    BOTTOM_RIGHT = "bottom_right", "Bottom right"
    BOTTOM_LEFT = "bottom_left", "Bottom left"


# The widget's texts a merchant can change: name -> (longest length, English default).
# The storefront shows them as plain text, never as HTML.
WIDGET_TEXTS = {
    "launcher_label": (24, "Rewards"),
    "panel_title": (40, "Rewards"),
    "guest_title": (60, "Join our rewards program"),
    "guest_message": (
        300,
        "Create an account to earn points on every order and turn them into discounts.",
    ),
    "member_title": (60, "Your rewards"),
    "member_message": (300, "Spend your points on the rewards below."),
}
COLORS = ("accent_color", "accent_text_color", "panel_background_color", "panel_text_color")


class WidgetSettings(models.Model):
    """How a shop's storefront widget looks: colours, where the launcher sits, its texts.

    The texts here are the shop's English ones; the API nests them under their language
    ("texts": {"en": {…}}) so that more languages can sit beside them later.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="widget_settings")
    # The launcher button and the panel's buttons, and the text on them.
    accent_color = models.CharField(max_length=7, default="#1f5199")
    accent_text_color = models.CharField(max_length=7, default="#ffffff")
    panel_background_color = models.CharField(max_length=7, default="#ffffff")
    panel_text_color = models.CharField(max_length=7, default="#1a1a1a")
    launcher_position = models.CharField(
        max_length=16, choices=LauncherPosition.choices, default=LauncherPosition.BOTTOM_RIGHT
    )
    launcher_label = models.CharField(max_length=24, default=WIDGET_TEXTS["launcher_label"][1])
    panel_title = models.CharField(max_length=40, default=WIDGET_TEXTS["panel_title"][1])
    guest_title = models.CharField(max_length=60, default=WIDGET_TEXTS["guest_title"][1])
    guest_message = models.CharField(max_length=300, default=WIDGET_TEXTS["guest_message"][1])
    member_title = models.CharField(max_length=60, default=WIDGET_TEXTS["member_title"][1])
    member_message = models.CharField(max_length=300, default=WIDGET_TEXTS["member_message"][1])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{color}__regex": COLOR_PATTERN}),
                    name=f"widget_{color}_is_rrggbb",
                )
                for color in COLORS
            ),
            models.CheckConstraint(
                condition=models.Q(launcher_position__in=LauncherPosition.values),
                name="widget_launcher_position_known",
            ),
            # SQLite ignores a varchar's length, so the lengths are checked here too.
            *(
                models.CheckConstraint(
                    condition=~models.Q(**{name: ""}) & LessThanOrEqual(Length(name), longest),
                    name=f"widget_{name}_length",
                )
                for name, (longest, _) in WIDGET_TEXTS.items()
            ),
        ]

    def __str__(self) -> str:
        return f"Widget settings of {self.shop_id}"
