"""Integrations in the embedded admin's JSON API: the secret review apps sign with, and the
URL each review source sends to."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.openapi import Response, api_operation
from loyalty.models import Shop
from loyalty.services.integrations import (
    REVIEW_SOURCES,
    integration_secret_for,
    integration_secret_rotate,
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


def _integrations(shop: Shop, secret: str) -> dict:
    return {
        "secret": secret,
        "sources": [
            {"name": source, "url": review_source_url(shop=shop, source=source)}
            for source in REVIEW_SOURCES
        ],
    }
