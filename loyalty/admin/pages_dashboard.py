"""The Dashboard (app home): how the program is doing over the last 7, 30 or 90 days, and
the first-run checklist until it is done.

The figures are those of `GET /api/admin/stats` (the same reads and the same formatting of
rates and money), read from the pre-aggregated daily figures; the charts are inline SVG
drawn here (loyalty/admin/charts.py), so the page needs no script to show them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from loyalty.admin import stats as stats_api
from loyalty.admin.auth import embedded_document_view
from loyalty.admin.charts import Series, line_chart
from loyalty.admin.pages import admin_page, embed_params
from loyalty.services.onboarding import onboarding_checklist
from loyalty.stats.counters import shop_day
from loyalty.stats.reads import stats_for_range

RANGES = (7, 30, 90)
DEFAULT_RANGE = 30
# What the checklist's link says for each step not yet done.
STEP_ACTIONS = {
    "program_reviewed": "Review the program",
    "widget_enabled": "Open the theme editor",
    "first_reward": "Create a reward",
}


@require_GET
@embedded_document_view
def dashboard(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    days = _range_days(request.GET.get("days", ""))
    last = shop_day(timezone.now(), shop.timezone)
    first = last - timedelta(days=days - 1)
    found = stats_for_range(shop=shop, first=first, last=last)
    totals = stats_api.figures_document(found.totals, found.point_value)
    daily = [(day.day, stats_api.figures_document(day, found.point_value)) for day in found.days]
    embed = embed_params(request)
    return admin_page(
        request,
        "admin/home.html",
        {
            "onboarding": _checklist(shop, urlencode(embed)),
            "range_label": f"{_day(first)} – {_day(last)}, {last.year} ({shop.timezone})",
            "range_choices": [
                {
                    "label": f"{choice} days",
                    "query": urlencode({**embed, "days": choice}),
                    "current": choice == days,
                }
                for choice in RANGES
            ],
            "cards": dashboard_cards(totals, currency=shop.currency, notes=found.notes),
            "charts": dashboard_charts(daily),
        },
    )


def dashboard_cards(totals: dict, *, currency: str, notes: list[str]) -> list[dict]:
    """The figures for the range as cards: `key`, `label`, `value` and `detail` texts.

    `totals` is the range's figures as `GET /api/admin/stats` answers them.
    """
    value = totals["outstanding_value"]
    return [
        _card(
            "members",
            "Members",
            _count(totals["members"]),
            f"{_count(totals['members_joined'])} joined in these days",
        ),
        _card("points_issued", "Points issued", _count(totals["points_issued"])),
        _card("points_redeemed", "Points redeemed", _count(totals["points_redeemed"])),
        _card("points_expired", "Points expired", _count(totals["points_expired"])),
        _card(
            "points_outstanding",
            "Outstanding points",
            _count(totals["points_outstanding"]),
            f"{_count(totals['points_pending'])} of them pending",
        ),
        _card(
            "outstanding_value",
            "Liability",
            _money(value, currency) if value is not None else "—",
            "What the outstanding points are worth at your best reward"
            if value is not None
            else " ".join(notes),
        ),
        _card(
            "redemption_rate",
            "Redemption rate",
            _percent(totals["redemption_rate"]),
            "Points redeemed per point issued",
        ),
        _card(
            "reward_order_revenue",
            "Revenue from rewards",
            _money(totals["reward_order_revenue"], currency),
            f"{_count(totals['reward_orders'])} orders used a reward",
        ),
        _card(
            "member_repeat_rate",
            "Repeat purchase rate",
            f"{_percent(totals['member_repeat_rate'])} members",
            f"{_percent(totals['nonmember_repeat_rate'])} non-members",
        ),
    ]


def dashboard_charts(daily: list[tuple[date, dict]]) -> list[dict]:
    """The charts of the range's days: each with its SVG, its lines and a table's rows."""
    days = [day for day, _ in daily]
    issued = [figures["points_issued"] for _, figures in daily]
    redeemed = [figures["points_redeemed"] for _, figures in daily]
    outstanding = [figures["points_outstanding"] for _, figures in daily]
    span = f"from {_day(days[0])} to {_day(days[-1])}" if days else "in no days"
    flow = [Series("Issued", issued, "issued"), Series("Redeemed", redeemed, "redeemed")]
    balance = [Series("Outstanding", outstanding, "outstanding")]
    return [
        _chart(
            "points-flow",
            "Points issued and redeemed per day",
            f"{_count(sum(issued))} points issued and {_count(sum(redeemed))} redeemed {span}.",
            days,
            flow,
        ),
        _chart(
            "points-outstanding",
            "Outstanding points",
            f"Outstanding points went from {_count(outstanding[0] if days else 0)} to "
            f"{_count(outstanding[-1] if days else 0)} {span}.",
            days,
            balance,
        ),
    ]


def _chart(chart_id: str, title: str, description: str, days, series) -> dict:
    return {
        "title": title,
        "svg": line_chart(
            chart_id=chart_id, title=title, description=description, days=days, series=series
        ),
        "series": series,
        "rows": [
            {"day": day, "values": [_count(line.values[i]) for line in series]}
            for i, day in enumerate(days)
        ],
    }


def _checklist(shop, embed_query: str) -> dict:
    checklist = onboarding_checklist(shop=shop)
    steps = []
    for step in checklist["steps"]:
        external = step["url"].startswith("https://")
        steps.append(
            {
                **step,
                "action": STEP_ACTIONS.get(step["key"], "Open"),
                # The theme editor is Shopify admin's own page: it opens in the whole
                # window, not inside the app's frame. The app's pages keep shop and host.
                "external": external,
                "link": step["url"] if external else f"{step['url']}?{embed_query}",
            }
        )
    return {
        "steps": steps,
        "complete": checklist["complete"],
        "done_count": sum(step["done"] for step in steps),
    }


def _range_days(text: str) -> int:
    return int(text) if text in {str(choice) for choice in RANGES} else DEFAULT_RANGE


def _card(key: str, label: str, value: str, detail: str = "") -> dict:
    return {"key": key, "label": label, "value": value, "detail": detail}


def _count(number: int) -> str:
    return f"{number:,}"


def _money(amount: str, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"


def _percent(rate: str | None) -> str:
    """ "0.2500" as "25.0%"; "—" when there is nothing to divide by."""
    if rate is None:
        return "—"
    return f"{Decimal(rate) * 100:.1f}%"


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"
