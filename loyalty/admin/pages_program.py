"""The Program page: every program setting, grouped as a merchant thinks of them.

The page shows the program document the JSON API answers (`GET /api/admin/program`) and
saves through `PUT /api/admin/program` from static/admin/program.js, so the validation and
the defaults live in one place; the preview beside it asks `/api/admin/program/preview`.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from loyalty.admin import program as program_api
from loyalty.admin.auth import embedded_document_view
from loyalty.admin.pages import _page
from loyalty.models.program import FRIEND_REWARD_KINDS
from loyalty.services.programs import program_for


@require_GET
@embedded_document_view
def program_page(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    return _page(
        request,
        "admin/program.html",
        {
            "program": program_api._program(shop, program_for(shop=shop)),
            "friend_reward_kinds": [(kind.value, kind.label) for kind in FRIEND_REWARD_KINDS],
        },
    )
