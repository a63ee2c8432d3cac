"""Integrations in the embedded admin's JSON API: the secret review apps sign with, the
Judge.me key, and the URL each review source sends to."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import Shop
from loyalty.services.integrations import (
    LONGEST_JUDGEME_KEY,
    REVIEW_SOURCES,
    integration_secret_for,
    integration_secret_rotate,
    judgeme_key_ending,
    judgeme_key_set,
    review_source_url,
)


@api_operation(
    "GET",
    summary="The integration secret and review sources",
    description="The secret review apps sign with (made on first read), and each source's URL.",
    responses={200: Response("The shop's integrations.", schemas.INTEGRATIONS)},
)
@require_GET
@embedded_api_view
def integrations(request: HttpRequest) -> JsonResponse:
    """The shop's integration secret (made on first read) and the review sources' URLs."""
    return JsonResponse(_integrations(request.shop, integration_secret_for(shop=request.shop)))


@api_operation(
    "POST",
    summary="Replace the integration secret",
    description="Only the new secret is valid from now on: paste it into each review app.",
    responses={200: Response("The integrations with the new secret.", schemas.INTEGRATIONS)},
)
@require_POST
@embedded_api_view
def rotate_secret(request: HttpRequest) -> JsonResponse:
    """Replace the integration secret; answers the document with the new one."""
    return JsonResponse(_integrations(request.shop, integration_secret_rotate(shop=request.shop)))


@api_operation(
    "PUT",
    summary="Keep the key Judge.me signs with",
    description=(
        "Judge.me signs its review webhooks with the merchant's Judge.me private API token "
        "(or its OAuth app's secret). Send it as `key` to have those webhooks accepted; an "
        "empty `key` forgets it. The key is never shown again, only its last four characters."
    ),
    request_body=json_request("The key.", schemas.JUDGEME_KEY_CHANGE),
    responses={
        200: Response("The integrations after the change.", schemas.INTEGRATIONS),
        400: errors(
            "`key` missing, not a string, too long or unstorable; an unknown key under its "
            "own name; or `body`."
        ),
    },
)
@require_http_methods(["PUT"])
@embedded_api_view
def judgeme_key(request: HttpRequest) -> JsonResponse:
    """Keep or forget the Judge.me signing key; answers the integrations document."""
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ['Send a JSON object: {"key": "…"}.']})
    unknown = sorted(set(body) - {"key"})
    if unknown:
        return field_errors({name: ["Unknown key: send only `key`."] for name in unknown})
    key = body.get("key")
    if not isinstance(key, str):
        return field_errors({"key": ["Paste the Judge.me key (an empty text removes it)."]})
    key = key.strip()
    problem = unstorable_character(key) or (
        f"At most {LONGEST_JUDGEME_KEY} characters." if len(key) > LONGEST_JUDGEME_KEY else ""
    )
    if problem:
        return field_errors({"key": [problem]})
    judgeme_key_set(shop=request.shop, key=key)
    return JsonResponse(_integrations(request.shop, integration_secret_for(shop=request.shop)))


def _integrations(shop: Shop, secret: str) -> dict:
    return {
        "secret": secret,
        "judgeme_key_ending": judgeme_key_ending(shop=shop),
        "sources": [
            {"name": source, "url": review_source_url(shop=shop, source=source)}
            for source in REVIEW_SOURCES
        ],
    }
