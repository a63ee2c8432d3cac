"""The rewards catalogue in the embedded admin's JSON API: list, create, change, delete."""

import json
from decimal import Decimal, InvalidOperation

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.models import Reward, RewardKind
from loyalty.models.reward import percent_text
from loyalty.services.rewards import (
    FIELDS,
    RewardGone,
    RewardInvalid,
    reward_create,
    reward_delete,
    reward_update,
)

HIGHEST_POINTS_COST = 10_000_000
# The value and minimum subtotal columns hold 12 digits, 2 of them after the point.
AMOUNT_LIMIT = Decimal("10000000000")
LONGEST_NAME = 100
LONGEST_EXPIRY_DAYS = 3650
READ_ONLY = ("id", "currency")


@api_operation(
    "GET",
    summary="The rewards catalogue",
    description="Cheapest first (then oldest first); deleted rewards are not listed.",
    responses={200: Response("The catalogue.", schemas.REWARDS)},
)
@api_operation(
    "POST",
    summary="Add a reward",
    request_body=json_request("The new reward.", schemas.NEW_REWARD),
    responses={
        201: Response("The reward, with its id.", schemas.REWARD),
        400: errors("Each field at fault (a missing one included), or `body`."),
    },
)
@require_http_methods(["GET", "POST"])
@embedded_api_view
def rewards(request: HttpRequest) -> JsonResponse:
    """GET: the catalogue, cheapest first. POST: add a reward; answers 201 with it."""
    currency = request.shop.currency
    if request.method == "GET":
        catalogue = Reward.objects.filter(shop=request.shop, deleted_at__isnull=True).order_by(
            "points_cost", "id"
        )
        return JsonResponse({"rewards": [_reward(reward, currency) for reward in catalogue]})
    fields, errors = _fields(request.body)
    if errors:
        return _errors(errors)
    try:
        created = reward_create(shop=request.shop, **fields)
    except RewardInvalid as exc:
        return _errors(exc.errors)
    return JsonResponse(_reward(created, currency), status=201)


@api_operation(
    "PATCH",
    summary="Change a reward",
    description=(
        "Changes the fields sent; nothing is saved when any is at fault. Changing `kind` to "
        "free_shipping or free_product sets `value` to 0, and away from free_product forgets "
        "`product_id`, unless the request sends them."
    ),
    path_parameters={"reward_id": "The reward's id."},
    request_body=json_request("The fields to change.", schemas.REWARD_FIELDS),
    responses={
        200: Response("The whole reward after the change.", schemas.REWARD),
        400: errors("Each field at fault, or `body`."),
        404: errors("This shop has no such reward, or it was deleted."),
    },
)
@api_operation(
    "DELETE",
    summary="Take a reward out of the catalogue",
    description="Its record stays for the redemptions that refer to it.",
    path_parameters={"reward_id": "The reward's id."},
    responses={
        204: Response("Deleted."),
        404: errors("This shop has no such reward, or it was deleted."),
    },
)
@require_http_methods(["PATCH", "DELETE"])
@embedded_api_view
def reward(request: HttpRequest, reward_id: int) -> HttpResponse:
    """PATCH: change any of the reward's fields; answers it whole. DELETE: answers 204."""
    found = Reward.objects.filter(shop=request.shop, pk=reward_id, deleted_at__isnull=True).first()
    if found is None:
        return _not_found(reward_id)
    try:
        if request.method == "DELETE":
            reward_delete(reward=found)
            return HttpResponse(status=204)
        fields, errors = _fields(request.body)
        if errors:
            return _errors(errors)
        changed = reward_update(reward=found, **fields)
    except RewardGone:
        return _not_found(reward_id)
    except RewardInvalid as exc:
        return _errors(exc.errors)
    return JsonResponse(_reward(changed, request.shop.currency))


def _fields(body: bytes) -> tuple[dict, dict[str, list[str]]]:
    """The body's reward fields as Python values, and the errors of those that are not.

    A field sent as null is None: cleared where it may be, an error where it may not.
    """
    try:
        # Decimal, not float: a value of 0.1 must stay exactly 0.1.
        document = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    # RecursionError: arrays nested thousands deep.
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        return {}, {"body": ['Send the reward as a JSON object, such as {"kind": …}.']}
    fields: dict = {}
    errors: dict[str, list[str]] = {}
    for key, sent in document.items():
        if key in READ_ONLY:
            errors[key] = [f"{key} cannot be changed; leave it out."]
            continue
        if key not in FIELDS:
            errors[key] = [f"A reward has no field {key!r}; use one of {', '.join(FIELDS)}."]
            continue
        parsed, message = PARSERS[key](sent)
        if message:
            errors[key] = [message]
        else:
            fields[key] = parsed
    return fields, errors


def _kind(sent) -> tuple[str | None, str]:
    if sent in RewardKind.values:
        return sent, ""
    return None, f"Choose a kind: {', '.join(RewardKind.values)}."


def _name(sent) -> tuple[str | None, str]:
    if sent is None:
        return None, ""
    if not isinstance(sent, str):
        return None, "Enter the name as text, or leave it empty for one made from the value."
    if "\x00" in sent:
        return None, "Remove the NUL character from the name."
    if not _is_text(sent):
        return None, "Type the name again: it holds a character that is not text."
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
    if amount != amount.quantize(Decimal("0.01")):
        return None, 'Use at most 2 decimal places, such as "4.99".'
    return amount, ""


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


PARSERS = {
    "kind": _kind,
    "name": _name,
    "points_cost": _points_cost,
    "value": _value,
    "minimum_subtotal": _minimum_subtotal,
    "expires_after_days": _expires_after_days,
    "product_id": _product_id,
    "enabled": _enabled,
}


def _is_text(text: str) -> bool:
    """False for a string with a lone surrogate (JSON's "\\ud800"), which no database stores."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _reward(reward: Reward, currency: str) -> dict:
    percent = reward.kind == RewardKind.PERCENT_OFF
    return {
        "id": reward.pk,
        "kind": reward.kind,
        "name": reward.title(currency),
        "points_cost": reward.points_cost,
        "value": percent_text(reward.value) if percent else f"{reward.value:.2f}",
        "currency": currency,
        "minimum_subtotal": (
            f"{reward.minimum_subtotal:.2f}" if reward.minimum_subtotal is not None else None
        ),
        "expires_after_days": reward.expires_after_days,
        # A string, as Shopify's ids exceed what JavaScript numbers hold exactly.
        "product_id": str(reward.product_id) if reward.product_id is not None else None,
        "enabled": reward.enabled,
    }


def _errors(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _not_found(reward_id: int) -> JsonResponse:
    return JsonResponse(
        {"errors": {"id": [f"This shop has no reward {reward_id}; it may have been deleted."]}},
        status=404,
    )
