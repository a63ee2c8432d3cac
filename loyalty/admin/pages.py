"""The embedded admin's pages for members and rewards.

Thin: each page reads through `loyalty.selectors` and renders. Changes are made by the
page's forms through the JSON API (static/admin/app.js), so a page and a merchant's own
tools are validated by the same code (loyalty/admin/members.py and rewards.py).
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from loyalty import selectors
from loyalty.admin import exports as exports_api
from loyalty.admin import members as members_api
from loyalty.admin import rewards as rewards_api
from loyalty.admin.auth import embedded_document_view
from loyalty.admin.views import page_scripts
from loyalty.models import RewardKind
from loyalty.services import imports as imports_service
from loyalty.stats.counters import shop_day


@require_GET
@embedded_document_view
def members(request: HttpRequest) -> HttpResponse:
    """Search by email or name prefix, or exact customer id; a page at a time."""
    q = request.GET.get("q", "").strip()
    cursor = request.GET.get("cursor", "")
    after_id = members_api.member_cursor_position(cursor) if cursor else None
    if cursor and after_id is None:
        # A mangled "Next" link: start the listing over rather than fail.
        return admin_page(request, "admin/members.html", {"q": q, "cursor_lost": True, "found": []})
    found, more = selectors.members_search(shop=request.shop, q=q, after_id=after_id)
    next_url = None
    if more:
        next_url = page_url(
            request, "members-page", {"q": q, "cursor": members_api.member_cursor(found[-1].pk)}
        )
    return admin_page(
        request,
        "admin/members.html",
        {
            "q": q,
            "found": found,
            "next_url": next_url,
            "continued": bool(cursor),
            **_transfer_context(request),
        },
    )


@require_GET
@embedded_document_view
def members_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of members with starting balances and follow its import.

    The upload and the progress go through `/api/admin/imports/` (members_transfer.js).
    """
    return admin_page(
        request,
        "admin/members_import.html",
        {
            "header": ",".join(imports_service.HEADER),
            "largest_file_mb": imports_service.LARGEST_FILE_BYTES // (1024 * 1024),
            "most_rows": f"{imports_service.MOST_ROWS:,}",
            "most_points": f"{imports_service.MOST_POINTS:,}",
            "members_url": page_url(request, "members-page"),
        },
    )


@require_GET
@embedded_document_view
def member(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One member: balance, pending points, tier, history newest first, adjustments."""
    found = selectors.member_find(shop=request.shop, customer_id=customer_id)
    if found is None:
        return admin_page(
            request,
            "admin/members_missing.html",
            {"customer_id": customer_id, "members_url": page_url(request, "members-page")},
            status=404,
        )
    return admin_page(
        request,
        "admin/members_detail.html",
        {
            "member": found,
            "entries": selectors.member_entries(member=found),
            "entries_shown": selectors.MEMBER_ENTRIES_SHOWN,
            "tier": selectors.member_tier_name(member=found),
            "tier_changes": selectors.member_tier_changes(member=found),
            "largest_adjustment": f"{members_api.LARGEST_ADJUSTMENT:,}",
            "members_url": page_url(request, "members-page"),
        },
    )


@require_GET
@embedded_document_view
def rewards(request: HttpRequest) -> HttpResponse:
    """The catalogue, cheapest first, with the form that adds a reward."""
    currency = request.shop.currency
    catalogue = [
        (reward, rewards_api.reward_document(reward, currency))
        for reward in selectors.rewards_catalogue(shop=request.shop)
    ]
    return admin_page(
        request,
        "admin/rewards.html",
        {
            "catalogue": [
                {**shown, "url": page_url(request, "reward-page", reward_id=reward.pk)}
                for reward, shown in catalogue
            ],
            "kinds": RewardKind.choices,
            "currency": currency,
            "tiers": selectors.tier_names(shop=request.shop),
        },
    )


@require_GET
@embedded_document_view
def reward(request: HttpRequest, reward_id: int) -> HttpResponse:
    """One reward's form: change, disable or delete it."""
    found = selectors.reward_find(shop=request.shop, reward_id=reward_id)
    rewards_url = page_url(request, "rewards-page")
    if found is None:
        return admin_page(
            request,
            "admin/rewards_missing.html",
            {"reward_id": reward_id, "rewards_url": rewards_url},
            status=404,
        )
    shown = rewards_api.reward_document(found, request.shop.currency)
    return admin_page(
        request,
        "admin/rewards_detail.html",
        {
            "title": shown["name"],
            # The form holds the name the merchant gave, empty when it is made from the value.
            "reward": {**shown, "name": found.name},
            "kinds": RewardKind.choices,
            "currency": request.shop.currency,
            "tiers": selectors.tier_names(shop=request.shop),
            "rewards_url": rewards_url,
        },
    )


def _transfer_context(request: HttpRequest) -> dict:
    """The Members page's exports and import link; the points history defaults to the
    API's last 30 days, as the shop's days (members_transfer.js sends the shop's midnights)."""
    today = shop_day(timezone.now(), request.shop.timezone)
    return {
        "ledger_from": (today - timedelta(days=exports_api.DEFAULT_LEDGER_DAYS)).isoformat(),
        "ledger_to": today.isoformat(),
        "import_url": page_url(request, "members-import-page"),
    }


def admin_page(
    request: HttpRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render an embedded page with the shell's context (shop, script URLs, embed query)."""
    shell = {
        "shop": request.shop,
        "embed_query": urlencode(embed_params(request)),
        **page_scripts(),
    }
    return render(request, template, {**shell, **context}, status=status)


def page_url(request: HttpRequest, name: str, query: dict | None = None, **kwargs) -> str:
    """A link to another page that keeps shop and host, so the bounce page can reload it."""
    params = embed_params(request)
    params.update({key: value for key, value in (query or {}).items() if value})
    return f"{reverse(name, kwargs=kwargs)}?{urlencode(params)}"


def embed_params(request: HttpRequest) -> dict[str, str]:
    """The query every link between pages keeps (shop and host), for the bounce page."""
    # Never the id_token: a link opened later must fetch a fresh one through the bounce page.
    return {"embedded": "1", "shop": request.shop.domain, "host": request.GET.get("host", "")}
