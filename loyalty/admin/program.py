"""The loyalty program's settings in the embedded admin's JSON API, and their live preview."""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.program_fields import plain_decimal, program_changes
from loyalty.earning.orders import MAX_AMOUNT
from loyalty.models import Program, RewardKind, Shop
from loyalty.models.reward import percent_text
from loyalty.services.programs import (
    FriendReward,
    ProgramInvalid,
    program_for,
    program_friend_reward,
    program_preview,
    program_tiers,
    program_update,
)

ORDER_SOURCES = ("web", "pos")
ORDER_FIELDS = ("subtotal", "source")
PREVIEW_FIELDS = ("program", "order")


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
        return JsonResponse(program_document(request.shop, program_for(shop=request.shop)))
    body = _json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object of the program settings to change."]})
    changes, errors = program_changes(body)
    if errors:
        return field_errors(errors)
    try:
        saved = program_update(shop=request.shop, changes=changes)
    except ProgramInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(program_document(request.shop, saved))


@api_operation(
    "POST",
    summary="Preview what an order earns",
    description=(
        "Points an example order earns under the saved program with the unsaved changes "
        "applied, for a member without a tier and for each tier; saves nothing."
    ),
    request_body=json_request(
        "The example order and the unsaved changes.", schemas.PREVIEW_REQUEST
    ),
    responses={
        200: Response("What the order earns.", schemas.PREVIEW),
        400: errors(
            "Each key at fault by its path (`program.hold_days`, `order.subtotal`), or `body`."
        ),
    },
)
@require_POST
@embedded_api_view
def preview(request: HttpRequest) -> JsonResponse:
    """What a shopper earns for an example order under the saved program with unsaved
    changes applied; saves nothing."""
    body = _json_object(request.body)
    if body is None:
        return field_errors(
            {"body": ['Send a JSON object such as {"order": {"subtotal": "100.00"}}.']}
        )
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in PREVIEW_FIELDS:
            errors[key] = [f"Send only {' and '.join(PREVIEW_FIELDS)}; leave {key!r} out."]
    draft = body.get("program", {})
    changes: dict[str, Any] = {}
    if isinstance(draft, dict):
        changes, program_errors = program_changes(draft, prefix="program.")
        errors.update(program_errors)
    else:
        errors["program"] = ["Send the unsaved program settings as an object, or {} for none."]
    order, order_errors = _example_order(body.get("order"))
    errors.update(order_errors)
    if errors:
        return field_errors(errors)
    try:
        earned = program_preview(shop=request.shop, changes=changes, **order)
    except ProgramInvalid as exc:
        return field_errors({f"program.{key}": messages for key, messages in exc.errors.items()})
    return JsonResponse(
        {
            "points": earned.points,
            "pending_days": earned.pending_days,
            "by_tier": [{"tier": name, "points": points} for name, points in earned.by_tier],
        }
    )


def _example_order(sent: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The preview's example order as program_preview's arguments, and its errors."""
    if not isinstance(sent, dict):
        return {}, {
            "order": ['Send the example order as an object, such as {"subtotal": "100.00"}.']
        }
    errors: dict[str, list[str]] = {}
    for key in sent:
        if key not in ORDER_FIELDS:
            errors[f"order.{key}"] = [f"An example order has only {' and '.join(ORDER_FIELDS)}."]
    subtotal = plain_decimal(
        sent.get("subtotal"), smallest=Decimal(0), largest=MAX_AMOUNT, places=2
    )
    if subtotal is None:
        errors["order.subtotal"] = [
            f"Enter the order's subtotal after discounts, before shipping and tax, from 0 to "
            f'{MAX_AMOUNT:,} with at most 2 decimals, such as "100.00".'
        ]
    source = sent.get("source", "web")
    if source not in ORDER_SOURCES:
        errors["order.source"] = ['Choose "web" (online store) or "pos" (Shopify POS).']
    return {"subtotal": subtotal, "source": source}, errors


def _json_object(body: bytes) -> dict | None:
    # Decimals, not floats: 2.675 must stay 2.675.
    return json_object(body, parse_float=Decimal)


def _decimal_text(number: Decimal) -> str:
    # "1", not "1.0000"; "100", not "1E+2".
    return format(number.normalize(), "f")


def program_document(shop: Shop, program: Program) -> dict:
    """The program as `GET /api/admin/program` answers it (and the Program page shows it)."""
    return {
        "points_per_unit": _decimal_text(program.points_per_unit),
        "rounding": program.rounding,
        "pos_orders_earn": program.pos_orders_earn,
        "hold_days": program.hold_days,
        "signup_points": program.signup_points,
        "birthday_points": program.birthday_points,
        "review_points": program.review_points,
        "review_photo_bonus_points": program.review_photo_bonus_points,
        "referral_advocate_points": program.referral_advocate_points,
        "referral_friend_reward": _friend_reward(program_friend_reward(program=program)),
        "referral_monthly_cap": program.referral_monthly_cap,
        "expiry_days": program.expiry_days,
        "expiry_reminder_days": program.expiry_reminder_days,
        "expired_code_points_return": program.expired_code_points_return,
        "tier_basis": program.tier_basis,
        "tier_window": program.tier_window,
        "tiers": [
            {
                "name": tier.name,
                "threshold": tier.threshold,
                "multiplier": _decimal_text(tier.multiplier),
                "entry_points": tier.entry_points,
            }
            for tier in program_tiers(shop=shop)
        ],
    }


def _friend_reward(reward: FriendReward | None) -> dict | None:
    if reward is None:
        return None
    percent = reward.kind == RewardKind.PERCENT_OFF
    return {
        "kind": reward.kind,
        "value": percent_text(reward.value) if percent else f"{reward.value:.2f}",
        "minimum_subtotal": (
            f"{reward.minimum_subtotal:.2f}" if reward.minimum_subtotal is not None else None
        ),
        "expires_after_days": reward.expires_after_days,
    }
