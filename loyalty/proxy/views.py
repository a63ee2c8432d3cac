"""The storefront's API, reached through Shopify's app proxy (/apps/loyalty/… on the shop)."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty import selectors, tasks
from loyalty.admin.json_bodies import json_object
from loyalty.models import Member, RedemptionStatus, RewardKind, Shop, is_shop_domain
from loyalty.ratelimit import client_ip, proxy_rate_limited
from loyalty.services.birthdays import BirthdayInvalid, BirthdayLocked, birthday_set
from loyalty.services.redemptions import (
    NegativeBalance,
    NotEnoughPoints,
    RedemptionRefused,
    TierRequired,
    redemption_deliver,
    reward_redeem,
)
from loyalty.services.referrals import (
    referral_discount_make,
    referral_visit,
)

from .signature import app_proxy_request_valid

# Shopify ids are positive 64-bit integers.
_LARGEST_ID = 2**63 - 1


def app_proxy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only requests Shopify signed reach the view, with `request.shop` (None for a shop
    whose first webhook has not arrived yet; an uninstalled shop is a 404) and
    `request.customer_id` (None for a guest) taken from the signed query, never from
    anything else the browser sends."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not app_proxy_request_valid(request.GET):
            return _error(
                401,
                "This request was not signed by Shopify's app proxy, or is stale.",
                "bad_signature",
            )
        shop_domain = request.GET.get("shop", "")
        customer = request.GET.get("logged_in_customer_id", "")
        if not is_shop_domain(shop_domain) or (customer and not _shopify_id(customer)):
            return _error(400, "The app proxy parameters are malformed.", "bad_request")
        # With its program: the account answer reads it, and one round trip is cheaper
        # than two on every panel opened (docs/PERFORMANCE.md, the storefront at scale).
        shop = Shop.objects.filter(domain=shop_domain).select_related("program").first()
        if shop is not None and not shop.is_installed:
            return _error(404, "Perennial is not installed on this shop.", "not_installed")
        request.shop = shop
        request.customer_id = int(customer) if customer else None
        response = view(request, *args, **kwargs)
        # Per-customer answers: never cached by Shopify's or anyone's shared cache.
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


@require_GET
@app_proxy
@proxy_rate_limited()
def account(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        selectors.member_account(shop=request.shop, customer_id=request.customer_id)
    )


@require_POST
@app_proxy
@proxy_rate_limited(writes=True)
def redemptions(request: HttpRequest) -> HttpResponse:
    """Spend points on a reward: 201 with the code (or the store credit), 202 while Shopify
    is still making it (the code then shows in the account answer), 502 when Shopify
    refused it (the points are back). docs/redemptions.md lists every answer."""
    if request.shop is None:
        return _error(404, "Perennial is not installed on this shop.", "not_installed")
    if request.customer_id is None:
        return _error(403, "Sign in to your account to redeem rewards.", "guest")
    if request.content_type != "application/json":
        # A page on another site may post a form or text/plain here without the browser
        # asking the shop first; a JSON request it may not send without a CORS preflight.
        return _error(415, 'Send {"reward_id": <id>} as application/json.', "bad_content_type")
    reward_id, points, problem = _redemption_request(request.body)
    if problem:
        return _error(422, problem, "bad_request")
    reward = selectors.reward_find(shop=request.shop, reward_id=reward_id)
    if reward is None:
        return _error(
            404, "This reward does not exist; it may have been removed.", "unknown_reward"
        )
    try:
        redemption = reward_redeem(
            shop=request.shop, customer_id=request.customer_id, reward=reward, points=points
        )
    except RedemptionRefused as exc:
        status = 409 if isinstance(exc, NotEnoughPoints | NegativeBalance | TierRequired) else 422
        return _error(status, str(exc), exc.code)
    redemption, _ = redemption_deliver(
        redemption_id=redemption.pk, timeout=settings.REDEMPTION_SHOPIFY_TIMEOUT
    )
    if redemption.status == RedemptionStatus.PENDING:
        tasks.redemption_enqueue(redemption.pk, at=redemption.retry_at)
    balance = Member.objects.filter(pk=redemption.member_id).values_list("balance", flat=True)[0]
    if redemption.status == RedemptionStatus.READY:
        answer = {"id": redemption.pk, "status": redemption.status, "balance": balance}
        if redemption.kind == RewardKind.STORE_CREDIT:
            answer |= {"credited": f"{redemption.value:.2f}", "currency": redemption.currency}
        else:
            answer["code"] = redemption.code
        return JsonResponse(answer, status=201)
    if redemption.status == RedemptionStatus.FAILED:
        return JsonResponse(
            {
                "error": "The store could not create this reward right now; your points are back.",
                "code": "reward_not_created",
                "id": redemption.pk,
                "status": redemption.status,
                "balance": balance,
            },
            status=502,
        )
    return JsonResponse(
        {"id": redemption.pk, "status": RedemptionStatus.PENDING, "balance": balance}, status=202
    )


@require_POST
@app_proxy
@proxy_rate_limited(writes=True)
def birthday(request: HttpRequest) -> HttpResponse:
    """Save the shopper's birthday, `{"month", "day"}`: 200 with it, 400 for a date that
    does not exist, 409 for a change within a year of the last (docs/dates.md)."""
    if request.shop is None:
        return _error(404, "Perennial is not installed on this shop.", "not_installed")
    if request.customer_id is None:
        return _error(403, "Sign in to your account to add your birthday.", "guest")
    if request.content_type != "application/json":
        # As for redemptions: another site's form could otherwise post here unasked.
        return _error(415, 'Send {"month", "day"} as application/json.', "bad_content_type")
    document = json_object(request.body)
    if document is None:
        return _error(400, 'Send {"month": <1-12>, "day": <1-31>} as JSON.', "bad_request")
    try:
        member = birthday_set(
            shop=request.shop,
            customer_id=request.customer_id,
            month=document.get("month"),
            day=document.get("day"),
        )
    except BirthdayInvalid as exc:
        return _error(400, str(exc), "invalid_birthday")
    except BirthdayLocked as exc:
        answer = {"error": str(exc), "code": "birthday_locked"}
        return JsonResponse(answer | {"changeable_on": exc.changeable_on.isoformat()}, status=409)
    return JsonResponse({"birthday": selectors.member_birthday(member=member)})


@require_GET
@app_proxy
@proxy_rate_limited(writes=True)
def referral(request: HttpRequest, code: str) -> HttpResponse:
    """A member's referral link: record the visit and send the friend to the store with
    their discount applied (Shopify's /discount/<code> URL); an unknown code just goes to
    the store, recording nothing (docs/referrals.md)."""
    found = None
    if request.shop is not None:
        found = referral_visit(
            shop=request.shop, code=code, ip=client_ip(request, via_shopify=True)
        )
    if found is None or not referral_discount_make(
        referral=found, timeout=settings.REDEMPTION_SHOPIFY_TIMEOUT
    ):
        return HttpResponseRedirect("/")
    return HttpResponseRedirect(f"/discount/{quote(found.code)}?redirect=/")


def _redemption_request(body: bytes) -> tuple[int, int | None, str]:
    """The reward id and the chosen points from the body, or a message saying what's wrong."""
    document = json_object(body)
    if document is None:
        return 0, None, 'Send {"reward_id": <id>} as JSON.'
    reward_id, points = document.get("reward_id"), document.get("points")
    if not _whole(reward_id) or not 0 < reward_id <= _LARGEST_ID:
        return 0, None, "reward_id must be the id of a reward, a whole number."
    if points is not None and (not _whole(points) or points <= 0):
        return 0, None, "points must be a whole number above 0, or left out."
    return reward_id, points, ""


def _shopify_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= _LARGEST_ID


def _whole(value: object) -> bool:
    # bool is an int in Python, not in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def _error(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)
