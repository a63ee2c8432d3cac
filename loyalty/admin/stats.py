"""The Dashboard's figures in the embedded admin's JSON API (docs/dashboard.md defines them)."""

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation, errors, query
from loyalty.stats.counters import ANSWERED_COUNTS, MONEY_FIGURES, shop_day
from loyalty.stats.reads import DayFigures, money_value, stats_for_range

DEFAULT_DAYS = 30
MOST_DAYS = 366
# ASCII digits only: date.fromisoformat alone also reads other scripts' digits.
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RATE = Decimal("0.0001")
CENT = Decimal("0.01")


@api_operation(
    "GET",
    summary="The Dashboard's figures",
    description=(
        "Totals for the range and every day of it, in the shop's timezone (docs/dashboard.md "
        "defines each figure). Without `from` and `to`: the last 30 days."
    ),
    parameters=(
        query(
            "from", {"type": "string"}, "The first day, YYYY-MM-DD (default: 29 days before `to`)."
        ),
        query("to", {"type": "string"}, "The last day, YYYY-MM-DD (default: today)."),
    ),
    responses={
        200: Response("The figures.", schemas.STATS),
        400: errors(
            "`from` or `to` is not a date, `from` is after `to`, or the range is over 366 days."
        ),
    },
)
@require_GET
@embedded_api_view
def stats(request: HttpRequest) -> JsonResponse:
    """Figures for `from`..`to` (YYYY-MM-DD days in the shop's timezone, both included, at
    most 366 days; the last 30 days by default): totals for the range and every day."""
    shop = request.shop
    today = shop_day(timezone.now(), shop.timezone)
    first, last, errors = _range(request.GET.get("from"), request.GET.get("to"), today)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    found = stats_for_range(shop=shop, first=first, last=last)
    value = found.point_value

    def figures(day: DayFigures) -> dict:
        return figures_document(day, value)

    return JsonResponse(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": shop.timezone,
            "currency": shop.currency,
            "point_value": str(value.quantize(RATE, rounding=ROUND_HALF_UP)) if value else None,
            "notes": found.notes,
            "totals": figures(found.totals),
            "days": [{"date": day.day.isoformat(), **figures(day)} for day in found.days],
        }
    )


def figures_document(day: DayFigures, point_value: Decimal | None) -> dict:
    """One day's (or the range's) figures as `GET /api/admin/stats` answers them."""
    counts = day.counts
    outstanding_value = money_value(day.points_outstanding, point_value)
    return {
        **{name: counts[name] for name in ANSWERED_COUNTS},
        # "0.00" on a day without orders too, not "0".
        **{name: str(Decimal(counts[name]).quantize(CENT)) for name in MONEY_FIGURES},
        "members": day.members,
        "points_issued": day.points_issued,
        "points_removed": day.points_removed,
        "points_balance": day.points_balance,
        "points_pending": day.points_pending,
        "points_outstanding": day.points_outstanding,
        "outstanding_value": str(outstanding_value) if outstanding_value is not None else None,
        "redemption_rate": _rate(counts["points_redeemed"], day.points_issued),
        "member_repeat_rate": _rate(counts["member_repeat_orders"], counts["member_orders"]),
        "nonmember_repeat_rate": _rate(
            counts["nonmember_repeat_orders"], counts["nonmember_orders"]
        ),
    }


def _rate(part: int, whole: int) -> str | None:
    """part / whole as a decimal string (0.2500 is 25%); None when there is no whole."""
    if whole <= 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP))


def _range(
    first_text: str | None, last_text: str | None, today: date
) -> tuple[date, date, dict[str, list[str]]]:
    """The days asked for, or the errors naming each field at fault."""
    errors: dict[str, list[str]] = {}
    first = _day(first_text) if first_text else None
    last = _day(last_text) if last_text else today
    if first_text and first is None:
        errors["from"] = ["Enter from as a date like 2026-11-01."]
    if last is None:
        errors["to"] = ["Enter to as a date like 2026-11-30."]
    if errors:
        return today, today, errors
    if first is None:
        # Not before the first day a date can hold.
        first = last - timedelta(days=min(DEFAULT_DAYS - 1, (last - date.min).days))
    if first > last:
        return today, today, {"from": ["Choose a from date on or before the to date."]}
    days = (last - first).days + 1
    if days > MOST_DAYS:
        return (
            today,
            today,
            {"to": [f"Choose at most {MOST_DAYS} days; from {first} to {last} is {days:,} days."]},
        )
    return first, last, {}


def _day(text: str) -> date | None:
    text = text.strip()
    if not DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
