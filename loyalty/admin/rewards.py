"""The rewards catalogue in the embedded admin's JSON API: list, create, change, delete."""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.reward_fields import PARSERS
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
        catalogue = (
            Reward.objects.filter(shop=request.shop, deleted_at__isnull=True)
            .select_related("minimum_tier")
            .order_by("points_cost", "id")
        )
        return JsonResponse(
            {"rewards": [reward_document(reward, currency) for reward in catalogue]}
        )
    fields, errors = _fields(request.body)
    if errors:
        return field_errors(errors)
    try:
        created = reward_create(shop=request.shop, **fields)
    except RewardInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(reward_document(created, currency), status=201)


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
            return field_errors(errors)
        changed = reward_update(reward=found, **fields)
    except RewardGone:
        return _not_found(reward_id)
    except RewardInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(reward_document(changed, request.shop.currency))


def _fields(body: bytes) -> tuple[dict, dict[str, list[str]]]:
    """The body's reward fields as Python values, and the errors of those that are not.

    A field sent as null is None: cleared where it may be, an error where it may not.
    """
    # Decimal, not float: a value of 0.1 must stay exactly 0.1.
    document = json_object(body, parse_float=Decimal, parse_constant=_no_constant)
    if document is None:
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


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def reward_document(reward: Reward, currency: str) -> dict:
    """The reward as the API answers it, amounts as strings in the shop's `currency`."""
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
        "variable": reward.variable,
        "points_step": reward.points_step,
        "value_step": f"{reward.value_step:.2f}" if reward.value_step is not None else None,
        "maximum_points": reward.maximum_points,
        "minimum_tier": reward.minimum_tier.name if reward.minimum_tier_id else None,
    }


def _not_found(reward_id: int) -> JsonResponse:
    return JsonResponse(
        {"errors": {"id": [f"This shop has no reward {reward_id}; it may have been deleted."]}},
        status=404,
    )
