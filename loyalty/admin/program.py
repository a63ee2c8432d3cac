"""The loyalty program's settings in the embedded admin's JSON API."""

import json
import re
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.models import Program, Rounding
from loyalty.services.programs import PROGRAM_SETTINGS, program_for, program_update

LARGEST_RATE = Decimal(1000)
RATE_DECIMALS = 4
SMALLEST_RATE = Decimal(1).scaleb(-RATE_DECIMALS)
LONGEST_HOLD_DAYS = 365
LARGEST_SIGNUP_POINTS = 1_000_000
# Plain digits with an optional fraction: no exponents, signs, spaces or underscores.
RATE_TEXT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)


@api_operation(
    "GET",
    summary="The loyalty program",
    description="How the shop's members earn; the defaults until the shop changes them.",
    responses={200: Response("The program.", schemas.PROGRAM)},
)
@api_operation(
    "PUT",
    summary="Change the loyalty program",
    description=(
        "Changes the keys sent and answers the whole program; nothing changes when any key "
        "is at fault. Orders already paid keep the points they earned."
    ),
    request_body=json_request("The settings to change.", schemas.PROGRAM_CHANGES),
    responses={
        200: Response("The program after the change.", schemas.PROGRAM),
        400: errors("Each key at fault, an unknown key under its own name, or `body`."),
    },
)
@require_http_methods(["GET", "PUT"])
@embedded_api_view
def program(request: HttpRequest) -> JsonResponse:
    """GET answers the program document; PUT changes the keys it is sent and answers it."""
    if request.method == "GET":
        return JsonResponse(_program(program_for(shop=request.shop)))
    try:
        # Decimals, not floats: 2.675 must stay 2.675.
        body = json.loads(request.body, parse_float=Decimal)
    # RecursionError: arrays nested thousands deep.
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return _errors({"body": ["Send a JSON object of the program settings to change."]})
    changes, errors = _changes(body)
    if errors:
        return _errors(errors)
    return JsonResponse(_program(program_update(shop=request.shop, changes=changes)))


def _changes(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The validated changes, and the errors by key (nothing is changed if there are any)."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in body.items():
        if name not in PROGRAM_SETTINGS:
            settings = ", ".join(PROGRAM_SETTINGS)
            errors[name] = [f"This is not a program setting; the settings are {settings}."]
            continue
        parsed, error = PARSERS[name](value)
        if error:
            errors[name] = [error]
        else:
            changes[name] = parsed
    return changes, errors


def _points_per_unit(value: Any) -> tuple[Decimal | None, str]:
    problem = (
        f"Enter the points per unit of currency as a number above 0 and at most "
        f'{LARGEST_RATE:,}, with at most {RATE_DECIMALS} decimals, such as "1" or "2.5".'
    )
    is_text = isinstance(value, str) and RATE_TEXT.fullmatch(value)
    # bool is an int in Python, not in JSON.
    is_number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if not (is_text or is_number):
        return None, problem
    rate = Decimal(value)
    # Range first: normalising 1E+999999999 overflows, and 1E-999999999 becomes 0.
    if not rate.is_finite() or not SMALLEST_RATE <= rate <= LARGEST_RATE:
        return None, problem
    rate = rate.normalize()
    if rate.as_tuple().exponent < -RATE_DECIMALS:
        return None, problem
    return rate, ""


def _rounding(value: Any) -> tuple[str | None, str]:
    if value in Rounding.values:
        return value, ""
    return None, 'Choose "down" (always round points down) or "nearest" (round to nearest).'


def _pos_orders_earn(value: Any) -> tuple[bool | None, str]:
    if isinstance(value, bool):
        return value, ""
    return None, "Say true or false: whether orders taken in store (Shopify POS) earn points."


def _whole_number(value: Any, largest: int, problem: str) -> tuple[int | None, str]:
    # bool is an int in Python, not in JSON.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= largest:
        return value, ""
    return None, problem


def _hold_days(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        LONGEST_HOLD_DAYS,
        f"Enter a whole number of days from 0 to {LONGEST_HOLD_DAYS}, such as 14.",
    )


def _signup_points(value: Any) -> tuple[int | None, str]:
    return _whole_number(
        value,
        LARGEST_SIGNUP_POINTS,
        f"Enter a whole number of points from 0 to {LARGEST_SIGNUP_POINTS:,}, such as 100.",
    )


PARSERS = {
    "points_per_unit": _points_per_unit,
    "rounding": _rounding,
    "pos_orders_earn": _pos_orders_earn,
    "hold_days": _hold_days,
    "signup_points": _signup_points,
}


def _program(program: Program) -> dict:
    return {
        # "1", not "1.0000"; "100", not "1E+2".
        "points_per_unit": format(program.points_per_unit.normalize(), "f"),
        "rounding": program.rounding,
        "pos_orders_earn": program.pos_orders_earn,
        "hold_days": program.hold_days,
        "signup_points": program.signup_points,
    }


def _errors(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)
