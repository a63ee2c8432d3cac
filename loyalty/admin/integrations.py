"""Integrations in the embedded admin's JSON API: the secret review apps sign with, and the
URL each review source sends to."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from loyalty.admin.auth import embedded_api_view
from loyalty.services.integrations import (
    REVIEW_SOURCES,
    integration_secret_for,
    integration_secret_rotate,
    review_source_url,
)


@require_GET
@embedded_api_view
def integrations(request: HttpRequest) -> JsonResponse:
    """The shop's integration secret (made on first read) and the review sources' URLs."""
    return JsonResponse(_integrations(integration_secret_for(shop=request.shop)))


@require_POST
@embedded_api_view
def rotate_secret(request: HttpRequest) -> JsonResponse:
    """Replace the integration secret; answers the document with the new one."""
    return JsonResponse(_integrations(integration_secret_rotate(shop=request.shop)))


def _integrations(secret: str) -> dict:
    return {
        "secret": secret,
        "sources": [
            {"name": source, "url": review_source_url(source)} for source in REVIEW_SOURCES
        ],
    }
