"""The Program page: every program setting, grouped as a merchant thinks of them.

The page shows the program document the JSON API answers (`GET /api/admin/program`) and
saves through `PUT /api/admin/program` from static/admin/program.js, so the validation and
the defaults live in one place; the preview beside it asks `/api/admin/program/preview`.
"""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from loyalty.admin import program as program_api
from loyalty.admin.auth import embedded_document_view
from loyalty.admin.pages import admin_page
from loyalty.models.program import FRIEND_REWARD_KINDS
from loyalty.services.programs import Preview, program_for, program_preview

# The preview's example order until the merchant types another (static/admin/program.js
# words its answers the same way).
EXAMPLE_SUBTOTAL = Decimal("100.00")


@require_GET
@embedded_document_view
def program_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    return admin_page(
        request,
        "admin/program.html",
        {
            "program": program_api.program_document(shop, program_for(shop=shop)),
            "friend_reward_kinds": [(kind.value, kind.label) for kind in FRIEND_REWARD_KINDS],
            "example_subtotal": EXAMPLE_SUBTOTAL,
            # Drawn with the page, so the answer is there before any script runs.
            "preview": preview_texts(
                program_preview(shop=shop, changes={}, subtotal=EXAMPLE_SUBTOTAL, source="web")
            ),
        },
    )


def preview_texts(preview: Preview) -> dict:
    """What an example order earns, in the words the page shows."""
    return {
        "points": _points(preview.points),
        "pending": (
            f", spendable after {preview.pending_days} "
            f"{'day' if preview.pending_days == 1 else 'days'}."
            if preview.pending_days
            else ", spendable at once."
        ),
        "by_tier": [f"{name} members earn {_points(points)}" for name, points in preview.by_tier],
    }


def _points(points: int) -> str:
    return f"{points:,} {'point' if points == 1 else 'points'}"
