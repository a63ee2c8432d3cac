"""JSON Schemas of what the admin API's views read and answer, for `api_operation`.

Each is written once here and kept true by tests/test_openapi.py, which checks the app's
real answers against them. The views import this module, so it cannot import their
limits: it repeats them, and the test checks that they still agree.
"""

from loyalty.models import (
    ImportStatus,
    LauncherPosition,
    NotificationKind,
    Reason,
    ReferralState,
    RefusalReason,
    ReviewStatus,
    RewardKind,
    Rounding,
    TierBasis,
    TierChangeCause,
    TierWindow,
)
from loyalty.models.program import FRIEND_REWARD_KINDS
from loyalty.models.reward import VALUELESS_KINDS
from loyalty.models.widget import COLORS, WIDGET_TEXTS
from loyalty.reviews.selectors import REVIEWS_PAGE_SIZE
from loyalty.selectors import MEMBERS_PAGE_SIZE, REFERRALS_PAGE_SIZE
from loyalty.services.integrations import LONGEST_JUDGEME_KEY, REVIEW_SOURCES
from loyalty.stats.counters import ANSWERED_COUNTS as STATS_COUNTS
from loyalty.stats.counters import MONEY_FIGURES as STATS_MONEY

# The views' limits (loyalty/admin/{program_fields,members,reward_fields}.py), and the
# largest order amount the preview takes (loyalty/earning/orders.py).
RATE_DECIMALS = 4
LARGEST_RATE = 1000
LONGEST_HOLD_DAYS = 365
LARGEST_POINTS = 1_000_000
LARGEST_REFERRAL_CAP = 10_000
LONGEST_REMINDER_DAYS = 365
MOST_TIERS = 20
LONGEST_TIER_NAME = 64
LARGEST_THRESHOLD = 1_000_000_000
LARGEST_MULTIPLIER = 10
MULTIPLIER_DECIMALS = 2
LARGEST_SUBTOTAL = 1_000_000_000
LARGEST_ADJUSTMENT = 1_000_000
LONGEST_REASON = 500
LONGEST_IDEMPOTENCY_KEY = 150
HIGHEST_POINTS_COST = 10_000_000
AMOUNT_LIMIT = 10_000_000_000
LONGEST_NAME = 100
LONGEST_EXPIRY_DAYS = 3650
LONGEST_SUBJECT = 200
LONGEST_BODY = 10_000

# Shopify ids are strings of digits, as they exceed what JavaScript numbers hold exactly.
SHOPIFY_ID = {"type": "string", "pattern": "^[0-9]+$"}
OPTIONAL_SHOPIFY_ID = {"type": ["string", "null"], "pattern": "^[0-9]+$"}
MOMENT = {"type": "string", "format": "date-time"}
OPTIONAL_MOMENT = {"type": ["string", "null"], "format": "date-time"}
COUNT = {"type": "integer", "minimum": 0}
POINTS = {"type": "integer", "description": "Whole points; below zero when taken away."}
# A decimal in a string: "5.00", "10", "2.5".
DECIMAL_TEXT = "^[0-9]+(\\.[0-9]+)?$"


def _object(properties: dict) -> dict:
    """An object with every one of `properties` always present, and no other key."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


_AMOUNT = {
    "anyOf": [
        {"type": "string", "pattern": DECIMAL_TEXT},
        {"type": "number", "minimum": 0, "exclusiveMaximum": AMOUNT_LIMIT},
    ],
    "description": 'A decimal with at most 2 places, best as a string ("5.00").',
}
# An amount as the API answers it: "5.00"; a percent without trailing zeros: "10", "12.5".
AMOUNT_OR_PERCENT = {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"}
OPTIONAL_AMOUNT = {"type": ["string", "null"], "pattern": "^[0-9]+\\.[0-9]{2}$"}
EXPIRES_AFTER_DAYS = {"type": ["integer", "null"], "minimum": 1, "maximum": LONGEST_EXPIRY_DAYS}


def _points(what: str) -> dict:
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": LARGEST_POINTS,
        "description": f"Points {what}; 0 is off.",
    }


PROGRAM_PROPERTIES = {
    "points_per_unit": {
        "type": "string",
        "pattern": f"^[0-9]+(\\.[0-9]{{1,{RATE_DECIMALS}}})?$",
        "description": "Points per one unit of the shop's currency, without trailing zeros.",
    },
    "rounding": {"enum": list(Rounding.values)},
    "pos_orders_earn": {"type": "boolean"},
    "hold_days": {"type": "integer", "minimum": 0, "maximum": LONGEST_HOLD_DAYS},
    "signup_points": _points("for creating an account"),
    "birthday_points": _points("on the member's birthday"),
    "review_points": _points("for a product review"),
    "review_photo_bonus_points": _points("more for a review with a photo"),
    "referral_advocate_points": _points("for referring a friend who orders"),
    "referral_friend_reward": {
        "description": "The discount a referred friend gets, or null for none.",
        "anyOf": [
            _object(
                {
                    "kind": {"enum": list(FRIEND_REWARD_KINDS)},
                    "value": {
                        **AMOUNT_OR_PERCENT,
                        "description": 'An amount ("5.00"), a percent ("10"), or "0.00".',
                    },
                    "minimum_subtotal": OPTIONAL_AMOUNT,
                    "expires_after_days": EXPIRES_AFTER_DAYS,
                }
            ),
            {"type": "null"},
        ],
    },
    "referral_monthly_cap": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": LARGEST_REFERRAL_CAP,
        "description": "Rewarded referrals per advocate per calendar month; null: no cap.",
    },
    "expiry_days": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": LONGEST_EXPIRY_DAYS,
        "description": "Days without earning or redeeming after which points expire; null: never.",
    },
    "expiry_reminder_days": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": LONGEST_REMINDER_DAYS,
        "description": "Days before expiry the member is reminded, fewer than expiry_days; "
        "null: no reminder.",
    },
    "expired_code_points_return": {
        "type": "boolean",
        "description": "Whether a redeemed code that expires unused gives its points back.",
    },
    "tier_basis": {"enum": list(TierBasis.values)},
    "tier_window": {"enum": list(TierWindow.values)},
    "tiers": {
        "type": "array",
        "maxItems": MOST_TIERS,
        "description": "The VIP tiers, lowest threshold first.",
        "items": _object(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": LONGEST_TIER_NAME},
                "threshold": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": LARGEST_THRESHOLD,
                    "description": "Points earned, or whole units of currency spent, as "
                    "tier_basis says, from which a member is in the tier.",
                },
                "multiplier": {
                    "type": "string",
                    "pattern": f"^[0-9]+(\\.[0-9]{{1,{MULTIPLIER_DECIMALS}}})?$",
                    "description": "Times the base points the tier's members earn.",
                },
                "entry_points": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": LARGEST_POINTS,
                    "description": "Points a member is given once on first reaching the "
                    "tier; 0 for none.",
                },
            }
        ),
    },
}
PROGRAM = _object(PROGRAM_PROPERTIES)
_FRIEND_REWARD_FIELDS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "description": "`value` is required too, except for free_shipping (0).",
    "properties": {
        "kind": {"enum": list(FRIEND_REWARD_KINDS)},
        "value": {
            **_AMOUNT,
            "description": 'An amount ("5.00") or, for percent_off, a percent of at most 100.',
        },
        "minimum_subtotal": {"anyOf": [*_AMOUNT["anyOf"], {"type": "null"}]},
        "expires_after_days": EXPIRES_AFTER_DAYS,
    },
}
_TIER_FIELDS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "threshold", "multiplier"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": "\\S",
            "description": f"At most {LONGEST_TIER_NAME} characters once trimmed; each tier's "
            "own, whatever the case. No NUL characters.",
        },
        "threshold": {
            **PROGRAM_PROPERTIES["tiers"]["items"]["properties"]["threshold"],
            "description": "Each tier's own.",
        },
        "multiplier": {
            "description": f"From 1 to {LARGEST_MULTIPLIER} with at most "
            f'{MULTIPLIER_DECIMALS} decimals, best as a string ("1.25").',
            "anyOf": [
                {"type": "string", "pattern": DECIMAL_TEXT},
                {"type": "number", "minimum": 1, "maximum": LARGEST_MULTIPLIER},
            ],
        },
        "entry_points": {
            **PROGRAM_PROPERTIES["tiers"]["items"]["properties"]["entry_points"],
            "description": "Points given once on first reaching the tier; 0 (the default "
            "when left out) for none.",
        },
    },
}
PROGRAM_CHANGES = {
    "type": "object",
    "description": "Any subset of the program's settings; the others keep their values.",
    "additionalProperties": False,
    "properties": {
        **PROGRAM_PROPERTIES,
        "points_per_unit": {
            "description": (
                f"Above 0 and at most {LARGEST_RATE}, with at most "
                f"{RATE_DECIMALS} decimals, as a string or a JSON number."
            ),
            "anyOf": [
                PROGRAM_PROPERTIES["points_per_unit"],
                {"type": "number", "exclusiveMinimum": 0, "maximum": LARGEST_RATE},
            ],
        },
        "referral_friend_reward": {"anyOf": [_FRIEND_REWARD_FIELDS, {"type": "null"}]},
        "tiers": {
            "type": "array",
            "maxItems": MOST_TIERS,
            "items": _TIER_FIELDS,
            "description": "Replaces the shop's tiers; a tier keeps its members while its "
            "name stays the same. [] for none.",
        },
    },
}
PREVIEW_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order"],
    "properties": {
        "program": {**PROGRAM_CHANGES, "description": "Unsaved changes to the program."},
        "order": {
            "type": "object",
            "additionalProperties": False,
            "required": ["subtotal"],
            "properties": {
                "subtotal": {
                    "description": "After discounts, before shipping and tax, with at most "
                    '2 decimals, best as a string ("100.00").',
                    "anyOf": [
                        {"type": "string", "pattern": DECIMAL_TEXT},
                        {"type": "number", "minimum": 0, "maximum": LARGEST_SUBTOTAL},
                    ],
                },
                "source": {"enum": ["web", "pos"], "description": "web unless sent."},
            },
        },
    },
}
PREVIEW = _object(
    {
        "points": {**COUNT, "description": "For a member without a tier."},
        "pending_days": {
            **COUNT,
            "maximum": LONGEST_HOLD_DAYS,
            "description": "Days the points stay pending; 0: available at once.",
        },
        "by_tier": {
            "type": "array",
            "maxItems": MOST_TIERS,
            "description": "For a member of each tier, lowest threshold first.",
            "items": _object({"tier": {"type": "string"}, "points": COUNT}),
        },
    }
)

MEMBER_PROPERTIES = {
    "customer_id": SHOPIFY_ID,
    "email": {"type": "string", "description": "Empty when unknown or redacted."},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "balance": {
        **POINTS,
        "description": "Points available to spend (below zero after a "
        "refund took back points already spent).",
    },
    "pending": {**COUNT, "description": "Points on hold until their order's hold ends."},
    "member_since": MOMENT,
}
MEMBER = _object(MEMBER_PROPERTIES)
ENTRY = _object(
    {
        "id": COUNT,
        "at": MOMENT,
        "points": POINTS,
        "pending_points": POINTS,
        "balance_after": POINTS,
        "reason": {"enum": list(Reason.values)},
        "reason_label": {"type": "string", "description": "The reason in the merchant's words."},
        "order_id": OPTIONAL_SHOPIFY_ID,
        "refund_id": OPTIONAL_SHOPIFY_ID,
        "actor": {
            "type": "string",
            "description": "The staff member's user id for a manual adjustment, else empty.",
        },
        "note": {"type": "string"},
    }
)
MEMBERS_PAGE = _object(
    {
        "members": {"type": "array", "items": MEMBER, "maxItems": MEMBERS_PAGE_SIZE},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    }
)
REFERRAL = _object(
    {
        "id": COUNT,
        "state": {
            "enum": list(ReferralState.values),
            "description": "visited, ordered (the friend's first paid order; the advocate's "
            "points on hold), rewarded, reversed (the order undone during the hold), refused.",
        },
        "state_label": {"type": "string", "description": "The state in the merchant's words."},
        "refusal_reason": {"enum": ["", *RefusalReason.values]},
        "refusal": {"type": "string", "description": "Why it was refused; empty otherwise."},
        "advocate": _object({"customer_id": SHOPIFY_ID, "email": {"type": "string"}}),
        "friend_customer_id": OPTIONAL_SHOPIFY_ID,
        "friend_email": {"type": "string"},
        "code": {"type": "string", "description": "The friend's discount code; may be empty."},
        "order_id": OPTIONAL_SHOPIFY_ID,
        "order_name": {"type": "string"},
        "points": {**COUNT, "description": "The advocate's points for this referral."},
        "visited_at": OPTIONAL_MOMENT,
        "ordered_at": OPTIONAL_MOMENT,
        "release_at": {
            **OPTIONAL_MOMENT,
            "description": "When the held points become available; null once released.",
        },
        "rewarded_at": OPTIONAL_MOMENT,
    }
)
REFERRALS_PAGE = _object(
    {
        "referrals": {"type": "array", "items": REFERRAL, "maxItems": REFERRALS_PAGE_SIZE},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    }
)
MEMBER_WITH_ENTRIES = _object(
    {
        **MEMBER_PROPERTIES,
        "tier": {
            "type": ["string", "null"],
            "description": "The VIP tier's name; null below the lowest tier or without tiers.",
        },
        "expiring": {
            "oneOf": [
                _object({"points": COUNT, "on": {"type": "string", "format": "date"}}),
                {"type": "null"},
            ],
            "description": "The available points that expire on that day (the shop's) unless "
            "the member earns or redeems first; null when none will.",
        },
        "entries": {"type": "array", "items": ENTRY, "maxItems": 100},
        "tier_changes": {
            "type": "array",
            "maxItems": 20,
            "description": "The member's newest moves between tiers, newest first.",
            "items": _object(
                {
                    "at": MOMENT,
                    "from": {"type": ["string", "null"], "description": "null: no tier."},
                    "to": {"type": ["string", "null"], "description": "null: no tier."},
                    "cause": {"enum": list(TierChangeCause.values)},
                    "cause_label": {"type": "string"},
                    "measure": {
                        "type": "integer",
                        "description": "What the member counted towards tiers then "
                        "(tier_basis over tier_window).",
                    },
                }
            ),
        },
    }
)
ADJUSTMENT = {
    "type": "object",
    "required": ["points", "reason"],
    "properties": {
        "points": {
            "type": "integer",
            "minimum": -LARGEST_ADJUSTMENT,
            "maximum": LARGEST_ADJUSTMENT,
            "not": {"const": 0},
            "description": "Positive adds points, negative takes them.",
        },
        "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": LONGEST_REASON,
            "pattern": "\\S",
            "description": "Why, as the member's history shows it; no NUL characters.",
        },
    },
}
ADJUSTED = _object({"entry": ENTRY, "balance": POINTS, "pending": COUNT})

REWARD = _object(
    {
        "id": COUNT,
        "kind": {"enum": list(RewardKind.values)},
        "name": {"type": "string", "description": "The merchant's, or one made from the value."},
        "points_cost": {"type": "integer", "minimum": 1, "maximum": HIGHEST_POINTS_COST},
        "value": {
            **AMOUNT_OR_PERCENT,
            "description": 'An amount in `currency` ("5.00"), or a percent ("10").',
        },
        "currency": {"type": "string", "description": "The shop's currency (read only)."},
        "minimum_subtotal": OPTIONAL_AMOUNT,
        "expires_after_days": EXPIRES_AFTER_DAYS,
        "product_id": OPTIONAL_SHOPIFY_ID,
        "enabled": {"type": "boolean"},
        "variable": {
            "type": "boolean",
            "description": "Whether members choose how many points to spend, in steps.",
        },
        "points_step": {"type": ["integer", "null"], "minimum": 1},
        "value_step": OPTIONAL_AMOUNT,
        "maximum_points": {"type": ["integer", "null"], "minimum": 1},
        "minimum_tier": {
            "type": ["string", "null"],
            "description": "The lowest VIP tier whose members may redeem it; null: everyone.",
        },
    }
)
REWARDS = _object({"rewards": {"type": "array", "items": REWARD}})
REWARD_FIELDS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "kind": REWARD["properties"]["kind"],
        "name": {
            "type": ["string", "null"],
            "maxLength": LONGEST_NAME,
            "description": "Empty or null: one is made from kind and value.",
        },
        "points_cost": REWARD["properties"]["points_cost"],
        "value": {
            **_AMOUNT,
            "description": 'An amount ("5.00") or, for percent_off, a percent of at most 100.',
        },
        "minimum_subtotal": {"anyOf": [*_AMOUNT["anyOf"], {"type": "null"}]},
        "expires_after_days": REWARD["properties"]["expires_after_days"],
        "product_id": {
            "anyOf": [SHOPIFY_ID, {"type": "integer", "minimum": 1}, {"type": "null"}],
            "description": "The Shopify product a free_product reward gives.",
        },
        "enabled": {"type": "boolean"},
        "variable": {"type": "boolean"},
        "points_step": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": HIGHEST_POINTS_COST,
            "description": "Variable rewards: points per step; points_cost is a multiple.",
        },
        "value_step": {
            "anyOf": [*_AMOUNT["anyOf"], {"type": "null"}],
            "description": "Variable rewards: what each step is worth, above 0.",
        },
        "maximum_points": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": HIGHEST_POINTS_COST,
            "description": "Variable rewards: the most points at once, a multiple of the step.",
        },
        "minimum_tier": {
            "type": ["string", "null"],
            "pattern": "\\S",
            "description": "The name of one of the program's tiers (any case): only its "
            "members and those of higher tiers may redeem it. null: everyone.",
        },
    },
}
NEW_REWARD = {
    **REWARD_FIELDS,
    "required": ["kind", "points_cost"],
    "description": (
        f"`value` is required too, above 0 (a percent at most 100), except for "
        f"{' and '.join(VALUELESS_KINDS)}, whose value is 0, and variable rewards, whose "
        "value is what points_cost buys; `product_id` is required for free_product and "
        "refused for the other kinds; `points_step`, `value_step` and `maximum_points` are "
        "required with `variable` (amount_off and store_credit only) and refused without."
    ),
}

IMPORT_STARTED = _object({"id": COUNT})
IMPORT = _object(
    {
        "id": COUNT,
        "status": {"enum": list(ImportStatus.values)},
        "total": {**COUNT, "description": "Data rows in the file."},
        "processed": COUNT,
        "imported": COUNT,
        "rejected": {
            "type": "array",
            "description": "The first rejected rows, numbered from 1 after the header.",
            "items": _object(
                {
                    "row": {"type": "integer", "minimum": 1},
                    "errors": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                }
            ),
        },
        "rejected_count": COUNT,
        "error": {"type": ["string", "null"], "description": "Why the import failed."},
        "created_at": MOMENT,
        "finished_at": OPTIONAL_MOMENT,
    }
)

PRIVACY_REQUESTS = _object(
    {
        "requests": {
            "type": "array",
            "items": _object(
                {
                    "id": COUNT,
                    "customer_id": OPTIONAL_SHOPIFY_ID,
                    "shopify_request_id": {"type": ["integer", "null"]},
                    "received_at": MOMENT,
                    "export_url": {"type": "string", "pattern": "^/api/admin/privacy-requests/"},
                }
            ),
        }
    }
)
PRIVACY_EXPORT = {
    "type": "object",
    "description": "Everything the app held about the customer when Shopify asked.",
    "required": ["shop", "customer_id", "generated_at", "member", "ledger", "orders"],
    "properties": {
        "shop": {"type": "string"},
        "customer_id": {"type": "integer"},
        "generated_at": MOMENT,
        "member": {"type": ["object", "null"]},
        "ledger": {"type": "array", "items": {"type": "object"}},
        "orders": {"type": "array", "items": {"type": "object"}},
    },
}

CSV_FILE = {"type": "string", "description": "UTF-8, comma separated, a header row first."}


def attachment(export: str) -> dict:
    """The Content-Disposition header of a file named for the shop, the export and the day."""
    return {
        "Content-Disposition": {
            "required": True,
            "schema": {
                "type": "string",
                "pattern": (
                    f'^attachment; filename="[a-z0-9_-]+-{export}-'
                    '[0-9]{4}-[0-9]{2}-[0-9]{2}\\.csv"$'
                ),
            },
        }
    }


INTEGRATIONS = _object(
    {
        "secret": {
            "type": "string",
            "minLength": 1,
            "description": "What review apps sign their deliveries with (base64 HMAC-SHA256).",
        },
        "judgeme_key_ending": {
            "type": ["string", "null"],
            "description": "The last four characters of the kept Judge.me key; null: none kept.",
        },
        "sources": {
            "type": "array",
            "items": _object(
                {
                    "name": {"enum": list(REVIEW_SOURCES)},
                    "url": {"type": "string", "description": "Where the source sends reviews."},
                }
            ),
        },
    }
)

JUDGEME_KEY_CHANGE = _object({"key": {"type": "string", "maxLength": LONGEST_JUDGEME_KEY}})

_NOTIFICATION_KIND = {"enum": list(NotificationKind.values)}
NOTIFICATION_TEMPLATE = _object(
    {
        "kind": _NOTIFICATION_KIND,
        "subject": {"type": "string", "minLength": 1, "maxLength": LONGEST_SUBJECT},
        "body": {"type": "string", "minLength": 1, "maxLength": LONGEST_BODY},
        "enabled": {"type": "boolean", "description": "false: this email is never sent."},
    }
)
NOTIFICATIONS = _object(
    {
        "templates": {"type": "array", "items": NOTIFICATION_TEMPLATE},
        "variables": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The names a template can show, as {{ name }}.",
        },
    }
)
NOTIFICATION_TEMPLATE_FIELDS = {
    "type": "object",
    "required": ["subject", "body", "enabled"],
    "additionalProperties": False,
    "properties": {
        "subject": {
            "type": "string",
            "minLength": 1,
            "maxLength": LONGEST_SUBJECT,
            "description": "One line of Django template text.",
        },
        "body": {
            "type": "string",
            "minLength": 1,
            "maxLength": LONGEST_BODY,
            "description": "Django template text, sent as plain text.",
        },
        "enabled": {"type": "boolean"},
    },
}

WIDGET = _object(
    {
        **{color: {"type": "string", "pattern": "^#[0-9a-f]{6}$"} for color in COLORS},
        "launcher_position": {"enum": list(LauncherPosition.values)},
        "texts": _object(
            {
                "en": _object(
                    {
                        name: {"type": "string", "minLength": 1, "maxLength": longest}
                        for name, (longest, _) in WIDGET_TEXTS.items()
                    }
                )
            }
        ),
    }
)
WIDGET_CHANGES = {
    "type": "object",
    "description": (
        "Any subset of the widget's settings; the others keep their values. Each colour pair "
        "(accent and its text, panel and its text) must stay readable."
    ),
    "additionalProperties": False,
    "properties": {
        **{
            color: {
                "type": "string",
                "pattern": "^#[0-9a-fA-F]{6}$",
                "description": "Answered in lowercase.",
            }
            for color in COLORS
        },
        "launcher_position": WIDGET["properties"]["launcher_position"],
        "texts": {
            "type": "object",
            "additionalProperties": False,
            "description": "By language; only English (en) for now.",
            "properties": {
                "en": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": (
                        "Plain text, trimmed, within the lengths the widget answers; no < or >, "
                        "and no control characters but line breaks in the two messages."
                    ),
                    "properties": {
                        name: {"type": "string", "pattern": "\\S"} for name in WIDGET_TEXTS
                    },
                }
            },
        },
    },
}

ONBOARDING = _object(
    {
        "steps": {
            "type": "array",
            "items": _object(
                {
                    "key": {"enum": ["program_reviewed", "widget_enabled", "first_reward"]},
                    "done": {"type": "boolean"},
                    "checked": {
                        "type": "boolean",
                        "description": "False when Shopify could not be asked whether the "
                        "step is done (the widget's app embed); `note` says what to do.",
                    },
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "url": {"type": "string", "description": "Where the merchant does the step."},
                    "note": {"type": ["string", "null"]},
                }
            ),
        },
        "complete": {"type": "boolean", "description": "Whether every step is done."},
    }
)

_MONEY = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}
_RATE = {
    "type": ["string", "null"],
    "pattern": "^[0-9]+\\.[0-9]{4}$",
    "description": "A share as a decimal (0.2500 is 25%); null when there is nothing to divide by.",
}
_FIGURES = {
    **{name: {"type": "integer"} for name in STATS_COUNTS},
    **{name: _MONEY for name in STATS_MONEY},
    "members": {**COUNT, "description": "Members at the end of the range or day."},
    "points_issued": {"type": "integer"},
    "points_removed": {"type": "integer"},
    "points_balance": {"type": "integer", "description": "Available points at the end."},
    "points_pending": {"type": "integer", "description": "Pending points at the end."},
    "points_outstanding": {"type": "integer", "description": "Available plus pending."},
    "outstanding_value": {
        "type": ["string", "null"],
        "pattern": "^-?[0-9]+\\.[0-9]{2}$",
        "description": "The outstanding points in shop currency; null without a point value.",
    },
    "redemption_rate": _RATE,
    "member_repeat_rate": _RATE,
    "nonmember_repeat_rate": _RATE,
}
STATS = _object(
    {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "timezone": {"type": "string", "description": "The shop's timezone, whose days these are."},
        "currency": {"type": "string"},
        "point_value": {
            "type": ["string", "null"],
            "pattern": "^[0-9]+\\.[0-9]{4}$",
            "description": "Shop currency per point at the best amount-off or store-credit "
            "reward; null when the catalogue has none.",
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        "totals": _object(_FIGURES),
        "days": {
            "type": "array",
            "items": _object({"date": {"type": "string", "format": "date"}, **_FIGURES}),
            "description": "Every day of the range, oldest first, zeros where nothing happened.",
        },
    }
)

REVIEW = _object(
    {
        "id": COUNT,
        "source": {"enum": list(REVIEW_SOURCES)},
        "review_id": {"type": "string", "description": "The review's id in the sending app."},
        "state": {
            "enum": list(ReviewStatus.values),
            "description": "received (not decided yet), rewarded, refused (see `outcome`), "
            "failed (see `outcome`; replay it with manage.py review_deliveries).",
        },
        "state_label": {"type": "string", "description": "The state in the merchant's words."},
        "member": {
            "oneOf": [
                _object({"customer_id": SHOPIFY_ID, "email": {"type": "string"}}),
                {"type": "null"},
            ],
            "description": "The member who wrote it; null when none was found.",
        },
        "product_id": {
            **OPTIONAL_SHOPIFY_ID,
            "description": "The reviewed product; null when the review did not say.",
        },
        "rating": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": 5,
            "description": "As the review app sent it, shown only: points never depend on it. "
            "null when it sent none from 0 to 5.",
        },
        "has_photo": {
            "type": ["boolean", "null"],
            "description": "Whether the reviewer sent a photo; null when the review could not "
            "be read.",
        },
        "points": {**COUNT, "description": "The points it earned; 0 unless rewarded."},
        "outcome": {
            "type": "string",
            "description": "Why it earned no points (refused, failed); empty otherwise.",
        },
        "received_at": MOMENT,
        "processed_at": OPTIONAL_MOMENT,
    }
)
REVIEWS_PAGE = _object(
    {
        "reviews": {"type": "array", "items": REVIEW, "maxItems": REVIEWS_PAGE_SIZE},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    }
)

NOTIFICATION_PREVIEW_FIELDS = {
    "type": "object",
    "required": ["subject", "body"],
    "additionalProperties": False,
    "properties": {
        name: NOTIFICATION_TEMPLATE_FIELDS["properties"][name] for name in ("subject", "body")
    },
}
NOTIFICATION_PREVIEW = _object(
    {
        "subject": {"type": "string", "description": "The subject filled in, one line."},
        "body": {"type": "string", "description": "The body filled in, as plain text."},
        "values": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "The sample values used, by name: those every email has and "
            "those this kind's events record.",
        },
    }
)
