"""Authorization-code OAuth, for installs that start outside Shopify admin.

Installs from the App Store or the Dev Dashboard are Shopify-managed and go through token
exchange on the first load (loyalty.admin.auth); this flow serves a merchant who types
their shop into /auth/install?shop=… (Shopify, "Implement authorization code grant
manually").
"""

import logging
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from loyalty.models import is_shop_domain
from loyalty.ratelimit import ip_rate_limited
from loyalty.services.shops import shop_install_with_authorization_code
from loyalty.shopify import oauth
from loyalty.shopify.admin_api import AdminApiError

logger = logging.getLogger(__name__)

STATE_COOKIE = "perennial_oauth_state"
STATE_SALT = "perennial.oauth.state"
STATE_MAX_AGE = 600


@require_GET
@ip_rate_limited("auth", "RATE_LIMIT_AUTH")
def install(request: HttpRequest) -> HttpResponse:
    shop = request.GET.get("shop", "")
    if not is_shop_domain(shop):
        return _bad_request(
            request,
            "That is not a Shopify store address. Use the store's myshopify.com domain, "
            "for example your-store.myshopify.com.",
        )
    state = secrets.token_urlsafe(32)
    response = HttpResponseRedirect(oauth.authorize_url(shop_domain=shop, state=state))
    # The callback compares Shopify's `state` with this cookie: only the browser that
    # started the install can finish it.
    response.set_signed_cookie(
        STATE_COOKIE,
        state,
        salt=STATE_SALT,
        max_age=STATE_MAX_AGE,
        path="/auth/callback",
        secure=settings.APP_URL.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )
    return response


@require_GET
@ip_rate_limited("auth", "RATE_LIMIT_AUTH")
def callback(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    shop = params.get("shop", "")
    expected_state = request.get_signed_cookie(
        STATE_COOKIE, default="", salt=STATE_SALT, max_age=STATE_MAX_AGE
    )
    if not oauth.is_valid_oauth_hmac(params):
        return _bad_request(request, "This install link was not signed by Shopify.")
    if not oauth.states_match(expected_state, params.get("state", "")):
        return _bad_request(
            request,
            "This install link has expired or was started in another browser. "
            "Start the install again.",
        )
    if not is_shop_domain(shop):
        return _bad_request(request, "The store address Shopify sent back is not valid.")
    if not params.get("code"):
        return _bad_request(request, "Shopify did not send an authorization code.")
    try:
        shop_install_with_authorization_code(shop_domain=shop, code=params["code"])
    except oauth.TokenRequestError as exc:
        logger.warning("authorization-code install of %s failed: %s", shop, exc)
        if exc.status is not None and exc.status < 500:
            return _bad_request(
                request, "Shopify did not accept this install. Start the install again."
            )
        return _shopify_unavailable(request)
    except AdminApiError as exc:
        logger.warning("reading %s after its install failed: %s", shop, exc)
        return _shopify_unavailable(request)
    response = HttpResponseRedirect(
        f"{oauth.shop_origin(shop)}/admin/apps/{settings.SHOPIFY_API_KEY}"
    )
    response.delete_cookie(STATE_COOKIE, path="/auth/callback")
    return response


def _shopify_unavailable(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "admin/auth_error.html",
        {"message": "Shopify did not answer. Start the install again in a minute."},
        status=502,
    )


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "admin/auth_error.html", {"message": message}, status=400)
