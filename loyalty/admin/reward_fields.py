"""Parsers for a reward's fields as the JSON API receives them, shared by every endpoint that
takes a reward definition (the catalogue, the program's referral friend reward).

Each parser takes the sent JSON value and answers (the Python value, "") or (None, a message
a merchant can act on).
"""

from decimal import Decimal, InvalidOperation

from loyalty.admin.text_fields import unstorable_character
from loyalty.models import RewardKind

HIGHEST_POINTS_COST = 10_000_000
# The value and minimum subtotal columns hold 12 digits, 2 of them after the point.
AMOUNT_LIMIT = Decimal("10000000000")
CENT = Decimal("0.01")
LONGEST_NAME = 100
LONGEST_EXPIRY_DAYS = 3650


def _kind(sent) -> tuple[str | None, str]:
    if sent in RewardKind.values:
        return sent, ""
    return None, f"Choose a kind: {', '.join(RewardKind.values)}."


def _name(sent) -> tuple[str | None, str]:
    if sent is None:
        return None, ""
    if not isinstance(sent, str):
        return None, "Enter the name as text, or leave it empty for one made from the value."
    if problem := unstorable_character(sent):
        return None, problem
    if len(sent.strip()) > LONGEST_NAME:
        return None, f"Keep the name to {LONGEST_NAME} characters or fewer."
    return sent.strip(), ""


def _points_cost(sent) -> tuple[int | None, str]:
    # bool is an int in Python, not in JSON.
    if not isinstance(sent, int) or isinstance(sent, bool) or sent <= 0:
        return None, "Enter a whole number of points above 0, such as 500."
    if sent > HIGHEST_POINTS_COST:
        return None, f"A reward can cost at most {HIGHEST_POINTS_COST:,} points."
    return sent, ""


def _value(sent) -> tuple[Decimal | None, str]:
    if sent is None:
        return None, 'Enter what the reward is worth, such as "5.00" (or "10" percent).'
    return _amount(sent)


def _minimum_subtotal(sent) -> tuple[Decimal | None, str]:
    if sent is None:
        return None, ""
    return _amount(sent)


def _amount(sent) -> tuple[Decimal | None, str]:
    amount = None
    if isinstance(sent, Decimal | str) or (isinstance(sent, int) and not isinstance(sent, bool)):
        try:
            amount = Decimal(sent.strip() if isinstance(sent, str) else sent)
        except InvalidOperation:
            amount = None
    if amount is None or not amount.is_finite():
        return None, 'Enter a decimal number as a string, such as "5.00".'
    if amount < 0:
        return None, "Enter 0 or more."
    if amount >= AMOUNT_LIMIT:
        return None, f"Enter less than {AMOUNT_LIMIT:,}."
    cents = amount.quantize(CENT)
    if amount != cents:
        return None, 'Use at most 2 decimal places, such as "4.99".'
    # To the cent, as the column holds it: "5.000…0" written with 20,000 zeros (or
    # "0e-1000000") is more digits than PostgreSQL takes, and minus zero is zero.
    return cents.copy_abs(), ""


def _expires_after_days(sent) -> tuple[int | None, str]:
    if sent is None:
        return None, ""
    if not isinstance(sent, int) or isinstance(sent, bool) or not 0 < sent <= LONGEST_EXPIRY_DAYS:
        return None, (
            f"Enter a whole number of days from 1 to {LONGEST_EXPIRY_DAYS:,}, "
            "or null for codes that never expire."
        )
    return sent, ""


def _product_id(sent) -> tuple[int | None, str]:
    if sent is None:
        return None, ""
    if isinstance(sent, str) and sent.isascii() and sent.isdigit() and len(sent) <= 19:
        sent = int(sent)
    if not isinstance(sent, int) or isinstance(sent, bool) or not 0 < sent < 2**63:
        return None, 'Enter the Shopify product id as digits, such as "7982003224742".'
    return sent, ""


def _enabled(sent) -> tuple[bool | None, str]:
    if isinstance(sent, bool):
        return sent, ""
    return None, "Send true to offer the reward or false to hide it."


def _variable(sent) -> tuple[bool | None, str]:
    if isinstance(sent, bool):
        return sent, ""
    return None, "Send true to let members choose how many points to spend, or false."


def _points_step(sent) -> tuple[int | None, str]:
    if sent is None:
        return None, ""
    return _points_cost(sent)


def _value_step(sent) -> tuple[Decimal | None, str]:
    if sent is None:
        return None, ""
    amount, message = _amount(sent)
    if amount is not None and amount <= 0:
        return None, 'Enter what each step is worth, above 0, such as "1.00".'
    return amount, message


def _minimum_tier(sent) -> tuple[str | None, str]:
    if sent is None:
        return None, ""
    if not isinstance(sent, str) or not sent.strip():
        return (
            None,
            'Enter the name of the lowest tier that may redeem it, such as "Gold", or null.',
        )
    return sent.strip(), ""


PARSERS = {
    "kind": _kind,
    "name": _name,
    "points_cost": _points_cost,
    "value": _value,
    "minimum_subtotal": _minimum_subtotal,
    "expires_after_days": _expires_after_days,
    "product_id": _product_id,
    "enabled": _enabled,
    "variable": _variable,
    "points_step": _points_step,
    "value_step": _value_step,
    "maximum_points": _points_step,
    "minimum_tier": _minimum_tier,
}
