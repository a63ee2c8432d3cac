"""Session-token authentication for the embedded admin.

Two decorators, one per kind of request Shopify admin makes:

- `embedded_api_view` for fetches under /api/: App Bridge sends the session token as a
  bearer token. Without a valid one the answer is an empty 401 carrying
  `X-Shopify-Retry-Invalid-Session-Request: 1`, which makes App Bridge retry with a fresh
  token.
- `embedded_document_view` for page loads: Shopify admin puts the session token in the
  `id_token` query parameter. Without a valid one we redirect to the bounce page with
  `shopify-reload=<this URL>`; it only loads App Bridge, which fetches a new token and
  reloads that URL with it (Shopify, "session token bounce page").

Both attach `request.shop` and `request.session_token`. A shop seen for the first time,
uninstalled, or without a usable offline token is installed there and then by token
exchange, before the view runs.
"""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from loyalty.models import Shop, is_shop_domain
from loyalty.ratelimit import shop_limit_response
from loyalty.services.shops import shop_install_with_session_token, shop_needs_install
from loyalty.shopify.admin_api import AdminApiError
from loyalty.shopify.oauth import InvalidSubjectToken, TokenRequestError
from loyalty.shopify.session_tokens import InvalidSessionToken, SessionToken, decode_session_token

logger = logging.getLogger(__name__)

RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"
View = Callable[..., HttpResponse]


class ShopifyUnavailable(Exception):
    """Installing the shop failed because Shopify refused or did not answer."""


def embedded_api_view(view: View) -> View:
    """Require a valid bearer session token; answer 401 (retry) without one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        try:
            if scheme != "Bearer":
                raise InvalidSessionToken("no bearer token")
            session_token = decode_session_token(token.strip())
            shop = _installed_shop(session_token)
        except (InvalidSessionToken, InvalidSubjectToken):
            return retry_with_new_session_token()
        except ShopifyUnavailable:
            response = HttpResponse(status=502)
        else:
            request.shop = shop
            request.session_token = session_token
            # Per shop, once it is known: a merchant's script cannot crowd out the others.
            response = shop_limit_response(
                "admin-api", "RATE_LIMIT_ADMIN_API", shop.domain
            ) or view(request, *args, **kwargs)
        return with_embedded_headers(response, session_token.shop)

    return wrapper


def embedded_document_view(view: View) -> View:
    """Require a valid `id_token` on a page load; send it through the bounce page without one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            session_token = decode_session_token(request.GET.get("id_token", ""))
            shop = _installed_shop(session_token)
        except (InvalidSessionToken, InvalidSubjectToken):
            return redirect_to_bounce_page(request)
        except ShopifyUnavailable:
            response = render(
                request,
                "admin/auth_error.html",
                {
                    "message": "Shopify did not answer while setting up Perennial. "
                    "Reload the page to try again."
                },
                status=502,
            )
        else:
            request.shop = shop
            request.session_token = session_token
            response = view(request, *args, **kwargs)
        return with_embedded_headers(response, session_token.shop)

    return wrapper


def retry_with_new_session_token() -> HttpResponse:
    """The empty 401 that tells App Bridge to fetch a fresh session token and retry."""
    response = HttpResponse(status=401)
    response[RETRY_HEADER] = "1"
    add_never_cache_headers(response)
    return response


def redirect_to_bounce_page(request: HttpRequest) -> HttpResponse:
    """Send a page load without a valid id_token to the bounce page, which reloads it."""
    shop = request.GET.get("shop", "")
    if not is_shop_domain(shop):
        return render(
            request,
            "admin/auth_error.html",
            {"message": "Open Perennial from your Shopify admin."},
            status=400,
        )
    params = request.GET.copy()
    params.pop("id_token", None)
    # Point App Bridge at our public URL, not the Host header a proxy may have rewritten.
    reload_url = f"{settings.APP_URL}{request.path}"
    if params:
        reload_url += f"?{params.urlencode()}"
    params["shopify-reload"] = reload_url
    response = HttpResponseRedirect(f"{reverse('session-token-bounce')}?{params.urlencode()}")
    return with_embedded_headers(response, shop)


def with_embedded_headers(response: HttpResponse, shop_domain: str) -> HttpResponse:
    """Let only this shop's admin frame the response, and keep it out of caches."""
    response["Content-Security-Policy"] = (
        f"frame-ancestors https://{shop_domain} https://admin.shopify.com;"
    )
    add_never_cache_headers(response)
    return response


def _installed_shop(session_token: SessionToken) -> Shop:
    shop = Shop.objects.filter(domain=session_token.shop).first()
    if not shop_needs_install(shop):
        return shop
    try:
        return shop_install_with_session_token(session_token=session_token)
    except InvalidSubjectToken:
        raise
    except (TokenRequestError, AdminApiError) as exc:
        logger.warning("installing %s failed: %s", session_token.shop, exc)
        raise ShopifyUnavailable(str(exc)) from exc
