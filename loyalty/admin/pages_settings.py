"""The Settings page: the storefront widget's look, the review integrations, and the
customer data requests Shopify sent.

Reads go through the functions the JSON API uses; the widget saves through
`PUT /api/admin/widget`, and the secret is revealed and rotated through
`/api/admin/integrations` (static/admin/settings.js), so it never sits in the page.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from loyalty.admin import widget as widget_api
from loyalty.admin.auth import embedded_document_view
from loyalty.admin.pages import admin_page
from loyalty.models import LauncherPosition
from loyalty.models.widget import WIDGET_TEXTS
from loyalty.selectors import privacy_requests_recent
from loyalty.services.integrations import (
    LONGEST_JUDGEME_KEY,
    REVIEW_SOURCES,
    judgeme_key_ending,
    review_source_url,
)
from loyalty.services.widget import widget_settings_for

# What a merchant calls each of the widget's texts, in the order the form shows them.
TEXT_LABELS = {
    "launcher_label": "Launcher button",
    "panel_title": "Panel title",
    "guest_title": "Heading for guests",
    "guest_message": "Message for guests",
    "member_title": "Heading for members",
    "member_message": "Message for members",
}
MULTILINE_TEXTS = ("guest_message", "member_message")
SOURCE_LABELS = {"judgeme": "Judge.me", "generic": "Any other review app"}


@require_GET
@embedded_document_view
def settings_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    widget = widget_api.widget_document(widget_settings_for(shop=shop))
    texts = [
        {
            "name": name,
            "label": label,
            "value": widget["texts"]["en"][name],
            "longest": WIDGET_TEXTS[name][0],
            "multiline": name in MULTILINE_TEXTS,
        }
        for name, label in TEXT_LABELS.items()
    ]
    sources = [
        {"label": SOURCE_LABELS[source], "url": review_source_url(shop=shop, source=source)}
        for source in REVIEW_SOURCES
    ]
    return admin_page(
        request,
        "admin/settings.html",
        {
            "widget": widget,
            "texts": texts,
            "launcher_positions": LauncherPosition.choices,
            "integration_sources": sources,
            "judgeme_key_ending": judgeme_key_ending(shop=shop),
            "judgeme_key_longest": LONGEST_JUDGEME_KEY,
            "privacy_requests": privacy_requests_recent(shop=shop),
        },
    )
