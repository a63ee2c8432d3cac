"""Parsers for the program's settings as the JSON API receives them, shared by the program's
PUT and its live preview, so both refuse the same values with the same words.

`program_changes` answers the type-checked changes and the errors by key. A setting that is
a single value is named by its key (`hold_days`); a part of one that is an object or a list
by its path (`referral_friend_reward.value`, `tiers[1].multiplier`).
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loyalty.admin.reward_fields import PARSERS as REWARD_PARSERS
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import RewardKind, Rounding, TierBasis, TierWindow
from loyalty.models.program import FRIEND_REWARD_KINDS
from loyalty.services.programs import PROGRAM_SETTINGS, FriendReward, TierSetting

LARGEST_RATE = Decimal(1000)
RATE_DECIMALS = 4
SMALLEST_RATE = Decimal(1).scaleb(-RATE_DECIMALS)
LONGEST_HOLD_DAYS = 365
LARGEST_POINTS = 1_000_000
LARGEST_REFERRAL_CAP = 10_000
LONGEST_EXPIRY_DAYS = 3650
LONGEST_REMINDER_DAYS = 365
MOST_TIERS = 20
LONGEST_TIER_NAME = 64
LARGEST_THRESHOLD = 1_000_000_000
LARGEST_MULTIPLIER = Decimal(10)
MULTIPLIER_DECIMALS = 2
# Plain digits with an optional fraction: no exponents, signs, spaces or underscores.
DECIMAL_TEXT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)
FRIEND_REWARD_FIELDS = ("kind", "value", "minimum_subtotal", "expires_after_days")
TIER_FIELDS = ("name", "threshold", "multiplier", "entry_points")

Errors = dict[str, list[str]]


def program_changes(document: dict[str, Any], *, prefix: str = "") -> tuple[dict[str, Any], Errors]:
    """The validated changes in `document`, and the errors by key, each key after `prefix`
    (nothing may be changed if there are any)."""
    changes: dict[str, Any] = {}
    errors: Errors = {}
    for name, value in document.items():
        if name not in PROGRAM_SETTINGS:
            settings = ", ".join(PROGRAM_SETTINGS)
            errors[prefix + name] = [f"This is not a program setting; the settings are {settings}."]
        elif name in PARTS_PARSERS:
            parsed, part_errors = PARTS_PARSERS[name](value)
            for part, messages in part_errors.items():
                errors[prefix + name + part] = messages
            if not part_errors:
                changes[name] = parsed
        else:
            parsed, message = PARSERS[name](value)
            if message:
                errors[prefix + name] = [message]
            else:
                changes[name] = parsed
    return changes, errors


def plain_decimal(
    value: Any, *, smallest: Decimal, largest: Decimal, places: int
) -> Decimal | None:
    """`value` (a JSON number, or digits in a string) as a Decimal from `smallest` to
    `largest` with at most `places` decimals, without trailing zeros; None if it is not one."""
    is_text = isinstance(value, str) and DECIMAL_TEXT.fullmatch(value)
    # bool is an int in Python, not in JSON.
    is_number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if not (is_text or is_number):
        return None
    number = Decimal(value)
    # Range first: normalising 1E+999999999 overflows, and 1E-999999999 becomes 0.
    if not number.is_finite() or not smallest <= number <= largest:
        return None
    number = number.normalize()
    if number.as_tuple().exponent < -places:
        return None
    return number


def _points_per_unit(value: Any) -> tuple[Decimal | None, str]:
    rate = plain_decimal(value, smallest=SMALLEST_RATE, largest=LARGEST_RATE, places=RATE_DECIMALS)
    if rate is None:
        return None, (
            f"Enter the points per unit of currency as a number above 0 and at most "
            f'{LARGEST_RATE:,}, with at most {RATE_DECIMALS} decimals, such as "1" or "2.5".'
        )
    return rate, ""


def _choice(choices: type, problem: str) -> Callable[[Any], tuple[str | None, str]]:
    def parse(value: Any) -> tuple[str | None, str]:
        if isinstance(value, str) and value in choices.values:
            return value, ""
        return None, problem

    return parse


def _pos_orders_earn(value: Any) -> tuple[bool | None, str]:
    if isinstance(value, bool):
        return value, ""
    return None, "Say true or false: whether orders taken in store (Shopify POS) earn points."


def _expired_code_points_return(value: Any) -> tuple[bool | None, str]:
    if isinstance(value, bool):
        return value, ""
    return None, "Say true or false: whether a code that expires unused gives its points back."


def _whole_number(
    value: Any, *, smallest: int, largest: int, problem: str, optional: bool = False
) -> tuple[int | None, str]:
    if value is None and optional:
        return None, ""
    # bool is an int in Python, not in JSON.
    if isinstance(value, int) and not isinstance(value, bool) and smallest <= value <= largest:
        return value, ""
    return None, problem


def _points(example: int) -> Callable[[Any], tuple[int | None, str]]:
    problem = (
        f"Enter a whole number of points from 0 (off) to {LARGEST_POINTS:,}, such as {example}."
    )
    return lambda value: _whole_number(value, smallest=0, largest=LARGEST_POINTS, problem=problem)


def _hold_days(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        smallest=0,
        largest=LONGEST_HOLD_DAYS,
        problem=f"Enter a whole number of days from 0 to {LONGEST_HOLD_DAYS}, such as 14.",
    )


def _referral_monthly_cap(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        smallest=1,
        largest=LARGEST_REFERRAL_CAP,
        optional=True,
        problem=(
            f"Enter how many referrals a month one shopper can be rewarded for, from 1 to "
            f"{LARGEST_REFERRAL_CAP:,}, or null for no limit."
        ),
    )


def _expiry_days(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        smallest=1,
        largest=LONGEST_EXPIRY_DAYS,
        optional=True,
        problem=(
            f"Enter after how many days without earning or redeeming points expire, from 1 "
            f"to {LONGEST_EXPIRY_DAYS:,}, such as 365, or null for points that never expire."
        ),
    )


def _expiry_reminder_days(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        smallest=1,
        largest=LONGEST_REMINDER_DAYS,
        optional=True,
        problem=(
            f"Enter how many days before points expire to remind the shopper, from 1 to "
            f"{LONGEST_REMINDER_DAYS}, such as 30, or null for no reminder."
        ),
    )


def _referral_friend_reward(value: Any) -> tuple[FriendReward | None, Errors]:
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {
            "": [
                'Send the friend\'s reward as an object, such as {"kind": "amount_off", '
                '"value": "5.00"}, or null for none.'
            ]
        }
    errors: Errors = {}
    for key in value:
        if key == "points_cost":
            errors[".points_cost"] = ["A friend's reward costs no points; leave points_cost out."]
        elif key not in FRIEND_REWARD_FIELDS:
            errors[f".{key}"] = [
                f"A friend's reward has no {key!r}; use {', '.join(FRIEND_REWARD_FIELDS)}."
            ]
    kind = value.get("kind")
    if kind not in FRIEND_REWARD_KINDS:
        kinds = ", ".join(FRIEND_REWARD_KINDS)
        errors[".kind"] = [f"Choose the kind of discount code the friend gets: {kinds}."]
    terms: dict[str, Any] = {"kind": kind}
    for field in FRIEND_REWARD_FIELDS[1:]:
        if field == "value" and field not in value and kind == RewardKind.FREE_SHIPPING:
            terms[field] = Decimal(0)
            continue
        terms[field], message = REWARD_PARSERS[field](value.get(field))
        if message:
            errors[f".{field}"] = [message]
    if errors:
        return None, errors
    return FriendReward(**terms), {}


def _tier_name(value: Any) -> tuple[str | None, str]:
    if not isinstance(value, str) or not value.strip():
        return None, 'Enter the tier\'s name, such as "Gold".'
    if problem := unstorable_character(value):
        return None, problem
    if len(value.strip()) > LONGEST_TIER_NAME:
        return None, f"Keep the name to {LONGEST_TIER_NAME} characters or fewer."
    return value.strip(), ""


def _tier_threshold(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        smallest=0,
        largest=LARGEST_THRESHOLD,
        problem=(
            f"Enter where the tier starts as a whole number from 0 to {LARGEST_THRESHOLD:,}: "
            "points earned, or whole units of currency spent, as tier_basis says."
        ),
    )


def _tier_multiplier(value: Any) -> tuple[Decimal | None, str]:
    multiplier = plain_decimal(
        value, smallest=Decimal(1), largest=LARGEST_MULTIPLIER, places=MULTIPLIER_DECIMALS
    )
    if multiplier is None:
        return None, (
            f"Enter how many times the base points the tier earns, from 1 to "
            f'{LARGEST_MULTIPLIER} with at most {MULTIPLIER_DECIMALS} decimals, such as "1.25".'
        )
    return multiplier, ""


def _tier_entry_points(value: Any) -> tuple[int | None, str]:
    # Optional: tiers sent before entry rewards existed give none.
    points, message = _whole_number(
        value,
        smallest=0,
        largest=LARGEST_POINTS,
        optional=True,
        problem=(
            f"Enter the points a member is given on reaching the tier, from 0 (none) to "
            f"{LARGEST_POINTS:,}."
        ),
    )
    return (0 if points is None and not message else points), message


TIER_PARSERS = {
    "name": _tier_name,
    "threshold": _tier_threshold,
    "multiplier": _tier_multiplier,
    "entry_points": _tier_entry_points,
}


def _tiers(value: Any) -> tuple[list[TierSetting] | None, Errors]:
    if not isinstance(value, list):
        return None, {
            "": [
                'Send the tiers as a list of {"name", "threshold", "multiplier", "entry_points"}, '
                "or [] for none."
            ]
        }
    if len(value) > MOST_TIERS:
        return None, {"": [f"Keep to {MOST_TIERS} tiers or fewer."]}
    tiers: list[TierSetting] = []
    errors: Errors = {}
    for index, entry in enumerate(value):
        where = f"[{index}]"
        if not isinstance(entry, dict):
            errors[where] = ["Send each tier as an object with a name, threshold and multiplier."]
            continue
        for key in entry:
            if key not in TIER_FIELDS:
                errors[f"{where}.{key}"] = [f"A tier has no {key!r}; use {', '.join(TIER_FIELDS)}."]
        fields: dict[str, Any] = {}
        for key, parse in TIER_PARSERS.items():
            fields[key], message = parse(entry.get(key))
            if message:
                errors[f"{where}.{key}"] = [message]
        if not errors:
            tiers.append(TierSetting(**fields))
    if errors:
        return None, errors
    return tiers, {}


PARSERS = {
    "points_per_unit": _points_per_unit,
    "rounding": _choice(
        Rounding, 'Choose "down" (always round points down) or "nearest" (round to nearest).'
    ),
    "pos_orders_earn": _pos_orders_earn,
    "hold_days": _hold_days,
    "signup_points": _points(100),
    "birthday_points": _points(200),
    "review_points": _points(50),
    "review_photo_bonus_points": _points(25),
    "referral_advocate_points": _points(500),
    "referral_monthly_cap": _referral_monthly_cap,
    "expiry_days": _expiry_days,
    "expiry_reminder_days": _expiry_reminder_days,
    "expired_code_points_return": _expired_code_points_return,
    "tier_basis": _choice(
        TierBasis,
        'Choose what tiers count: "points_earned" or "amount_spent" (whole units of currency).',
    ),
    "tier_window": _choice(
        TierWindow,
        'Choose over what time tiers count: "lifetime" or "rolling_12_months".',
    ),
}
# Settings that are an object or a list: their errors are named by the path of each part.
PARTS_PARSERS = {"referral_friend_reward": _referral_friend_reward, "tiers": _tiers}
