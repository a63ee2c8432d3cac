"""JSON Schemas of what the admin API's views read and answer, for `api_operation`.

Each is written once here and kept true by tests/test_openapi.py, which checks the app's
real answers against them. The views import this module, so it cannot import their
limits: it repeats them, and the test checks that they still agree.
"""

from loyalty.models import ImportStatus, Reason, RewardKind, Rounding
from loyalty.models.reward import VALUELESS_KINDS
from loyalty.selectors import MEMBERS_PAGE_SIZE

# The views' limits (loyalty/admin/{program,members,rewards}.py).
RATE_DECIMALS = 4
LARGEST_RATE = 1000
LONGEST_HOLD_DAYS = 365
LARGEST_SIGNUP_POINTS = 1_000_000
LARGEST_ADJUSTMENT = 1_000_000
LONGEST_REASON = 500
LONGEST_IDEMPOTENCY_KEY = 150
HIGHEST_POINTS_COST = 10_000_000
AMOUNT_LIMIT = 10_000_000_000
LONGEST_NAME = 100
LONGEST_EXPIRY_DAYS = 3650

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


PROGRAM_PROPERTIES = {
    "points_per_unit": {
        "type": "string",
        "pattern": f"^[0-9]+(\\.[0-9]{{1,{RATE_DECIMALS}}})?$",
        "description": "Points per one unit of the shop's currency, without trailing zeros.",
    },
    "rounding": {"enum": list(Rounding.values)},
    "pos_orders_earn": {"type": "boolean"},
    "hold_days": {"type": "integer", "minimum": 0, "maximum": LONGEST_HOLD_DAYS},
    "signup_points": {"type": "integer", "minimum": 0, "maximum": LARGEST_SIGNUP_POINTS},
}
PROGRAM = _object(PROGRAM_PROPERTIES)
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
    },
}

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
MEMBER_WITH_ENTRIES = _object(
    {**MEMBER_PROPERTIES, "entries": {"type": "array", "items": ENTRY, "maxItems": 100}}
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
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]{1,2})?$",
            "description": 'An amount in `currency` ("5.00"), or a percent ("10").',
        },
        "currency": {"type": "string", "description": "The shop's currency (read only)."},
        "minimum_subtotal": {"type": ["string", "null"], "pattern": "^[0-9]+\\.[0-9]{2}$"},
        "expires_after_days": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": LONGEST_EXPIRY_DAYS,
        },
        "product_id": OPTIONAL_SHOPIFY_ID,
        "enabled": {"type": "boolean"},
    }
)
REWARDS = _object({"rewards": {"type": "array", "items": REWARD}})
_AMOUNT = {
    "anyOf": [
        {"type": "string", "pattern": DECIMAL_TEXT},
        {"type": "number", "minimum": 0, "exclusiveMaximum": AMOUNT_LIMIT},
    ],
    "description": 'A decimal with at most 2 places, best as a string ("5.00").',
}
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
    },
}
NEW_REWARD = {
    **REWARD_FIELDS,
    "required": ["kind", "points_cost"],
    "description": (
        f"`value` is required too, above 0 (a percent at most 100), except for "
        f"{' and '.join(VALUELESS_KINDS)}, whose value is 0; `product_id` is required for "
        "free_product and refused for the other kinds."
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
