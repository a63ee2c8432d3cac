"""The session-token bounce page, the scripts every embedded page loads, and a health check.

App home, the Dashboard, is in pages_dashboard.py."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from loyalty.admin.auth import with_embedded_headers
from loyalty.models import is_shop_domain


@require_GET
def session_token_bounce(request: HttpRequest) -> HttpResponse:
    """Load App Bridge and nothing else: it fetches a session token and opens `shopify-reload`."""
    shop = request.GET.get("shop", "")
    reload_url = request.GET.get("shopify-reload", "")
    if not is_shop_domain(shop) or not _is_app_url(reload_url):
        return render(
            request,
            "admin/auth_error.html",
            {"message": "Open Perennial from your Shopify admin."},
            status=400,
        )
    response = render(request, "bounce.html", _scripts())
    return with_embedded_headers(response, shop)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _scripts() -> dict[str, str]:
    return {
        "api_key": settings.SHOPIFY_API_KEY,
        "app_bridge_url": settings.SHOPIFY_APP_BRIDGE_URL,
        "polaris_url": settings.SHOPIFY_POLARIS_URL,
    }


def _is_app_url(url: str) -> bool:
    # App Bridge navigates to this URL with a fresh token: it must stay inside the app.
    if "\\" in url:
        return False
    return url.startswith(f"{settings.APP_URL}/") or (
        url.startswith("/") and not url.startswith("//")
    )
