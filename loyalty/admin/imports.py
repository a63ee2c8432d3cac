"""Member imports in the embedded admin's JSON API: upload a CSV, then follow its job."""

from functools import partial

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.http import require_GET, require_POST

from loyalty import tasks
from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors
from loyalty.admin.openapi import RequestBody, Response, api_operation, errors
from loyalty.models import MemberImport
from loyalty.services.imports import LARGEST_FILE_BYTES, ImportFileError, member_import_create

SEND_A_FILE = (
    "Send a CSV file as the multipart field file, or as a text/csv body, with the header "
    "customer_id,email,first_name,last_name,points."
)


@api_operation(
    "POST",
    summary="Import members with starting balances",
    description=(
        "Stores the CSV and answers at once; a background job imports it row by row. At most "
        "10 MB and 200,000 members; the first line must be exactly "
        "customer_id,email,first_name,last_name,points."
    ),
    request_body=RequestBody(
        "The CSV file (UTF-8).",
        {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                },
                "encoding": {"file": {"contentType": "text/csv"}},
            },
            "text/csv": {"schema": schemas.CSV_FILE},
        },
    ),
    responses={
        202: Response("The import is queued; follow it by its id.", schemas.IMPORT_STARTED),
        400: errors("No file, too large, not UTF-8, or another header (named `file`)."),
    },
)
@require_POST
@embedded_api_view
def member_imports(request: HttpRequest) -> JsonResponse:
    """Store a CSV of members with starting balances; answers 202 with the import's id.

    The rows are validated and imported by a background job; follow it with
    `GET /api/admin/imports/{id}`.
    """
    csv_bytes = _uploaded_csv(request)
    if csv_bytes is None:
        return field_errors({"file": [SEND_A_FILE]})
    try:
        member_import = member_import_create(shop=request.shop, csv_bytes=csv_bytes)
    except ImportFileError as exc:
        return field_errors({"file": [str(exc)]})
    # After commit: a worker must find the row it is sent.
    transaction.on_commit(partial(tasks.member_import_enqueue, member_import.pk))
    return JsonResponse({"id": member_import.pk}, status=202)


@api_operation(
    "GET",
    summary="An import's progress",
    path_parameters={"import_id": "The id the upload answered."},
    responses={
        200: Response("How far the import has got.", schemas.IMPORT),
        404: errors("This shop has no such import."),
    },
)
@require_GET
@embedded_api_view
def member_import(request: HttpRequest, import_id: int) -> JsonResponse:
    found = MemberImport.objects.filter(shop=request.shop, pk=import_id).first()
    if found is None:
        return JsonResponse(
            {"errors": {"id": [f"This shop has no import with id {import_id}."]}}, status=404
        )
    return JsonResponse(
        {
            "id": found.pk,
            "status": found.status,
            "total": found.total,
            "processed": found.processed,
            "imported": found.imported,
            "rejected": found.rejected,
            "rejected_count": found.rejected_count,
            "error": found.error or None,
            "created_at": found.created_at.isoformat(),
            "finished_at": found.finished_at.isoformat() if found.finished_at else None,
        }
    )


def _uploaded_csv(request: HttpRequest) -> bytes | None:
    """The uploaded file's bytes (at most one byte over the limit), or None without one."""
    if request.content_type == "multipart/form-data":
        try:
            upload = request.FILES.get("file")
        except MultiPartParserError:
            # No boundary, or a body that is not multipart: as good as no file.
            return None
        return upload.read(LARGEST_FILE_BYTES + 1) if upload is not None else None
    if request.content_type in ("text/csv", "text/plain"):
        return request.read(LARGEST_FILE_BYTES + 1)
    return None
