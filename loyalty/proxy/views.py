"""The storefront's API, reached through Shopify's app proxy (/apps/loyalty/… on the shop)."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from loyalty import selectors
from loyalty.models import Shop, is_shop_domain

from .signature import app_proxy_request_valid


def app_proxy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only requests Shopify signed reach the view, with `request.shop_domain` and
    `request.customer_id` (None for a guest) taken from the signed query, never from
    anything else the browser sends."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not app_proxy_request_valid(request.GET):
            return JsonResponse(
                {"error": "This request was not signed by Shopify's app proxy, or is stale."},
                status=401,
            )
        shop_domain = request.GET.get("shop", "")
        customer = request.GET.get("logged_in_customer_id", "")
        if not is_shop_domain(shop_domain) or (customer and not customer.isdigit()):
            return JsonResponse({"error": "The app proxy parameters are malformed."}, status=400)
        request.shop_domain = shop_domain
        request.customer_id = int(customer) if customer else None
        response = view(request, *args, **kwargs)
        # Per-customer answers: never cached by Shopify's or anyone's shared cache.
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


@require_GET
@app_proxy
def account(request: HttpRequest) -> HttpResponse:
    shop = Shop.objects.filter(domain=request.shop_domain).first()
    if shop is not None and not shop.is_installed:
        return JsonResponse({"error": "Perennial is not installed on this shop."}, status=404)
    if request.customer_id is None:
        return JsonResponse({"guest": True, "balance": 0, "pending": 0})
    return JsonResponse(selectors.member_account(shop=shop, customer_id=request.customer_id))
