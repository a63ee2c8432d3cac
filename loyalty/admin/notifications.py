"""Shopper emails in the embedded admin's JSON API: each kind's subject, body and switch
(docs/notifications.md)."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import NotificationKind
from loyalty.services.notifications import (
    CONTEXT_NAMES,
    NotificationTemplateInvalid,
    NotificationText,
    notification_template_set,
    notification_texts,
)

LONGEST_SUBJECT = 200
LONGEST_BODY = 10_000


@api_operation(
    "GET",
    summary="The shopper emails",
    description="Each kind's subject, body and switch (the English default until changed), "
    "and the values a template can show.",
    responses={200: Response("The shop's email templates.", schemas.NOTIFICATIONS)},
)
@require_GET
@embedded_api_view
def notifications(request: HttpRequest) -> JsonResponse:
    """Every kind's template, and the names a template can use."""
    texts = notification_texts(shop=request.shop)
    return JsonResponse(
        {"templates": [_document(text) for text in texts], "variables": list(CONTEXT_NAMES)}
    )


@api_operation(
    "PUT",
    summary="Change a shopper email",
    description="Replaces the kind's subject, body and switch. The subject and body are Django "
    "template text rendered as plain text with only the listed variables.",
    path_parameters={"kind": "The email's kind: " + ", ".join(NotificationKind.values) + "."},
    request_body=json_request("The whole template.", schemas.NOTIFICATION_TEMPLATE_FIELDS),
    responses={
        200: Response("The template as stored.", schemas.NOTIFICATION_TEMPLATE),
        400: errors("Each field at fault (a template that does not compile), or `body`."),
        404: errors("There is no email of this kind."),
    },
)
@require_http_methods(["PUT"])
@embedded_api_view
def notification(request: HttpRequest, kind: str) -> JsonResponse:
    """Replace one kind's template; answers it as stored."""
    if kind not in NotificationKind.values:
        return JsonResponse(
            {"errors": {"kind": [f"There is no email {kind!r}: use one of the listed kinds."]}},
            status=404,
        )
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object with subject, body and enabled."]})
    fields, problems = _fields(body)
    if problems:
        return field_errors(problems)
    try:
        text = notification_template_set(shop=request.shop, kind=kind, **fields)
    except NotificationTemplateInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(_document(text))


def _fields(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    fields: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name in body:
        if name not in ("subject", "body", "enabled"):
            problems[name] = ["Not a field of an email template: leave it out."]
    for name, longest in (("subject", LONGEST_SUBJECT), ("body", LONGEST_BODY)):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            problems[name] = ["Write some text."]
        elif len(value) > longest:
            problems[name] = [f"Keep it to {longest} characters at most."]
        elif unstorable_character(value):
            problems[name] = [unstorable_character(value)]
        else:
            fields[name] = value
    if not isinstance(body.get("enabled"), bool):
        problems["enabled"] = ["Send true to send this email, false to switch it off."]
    else:
        fields["enabled"] = body["enabled"]
    return fields, problems


def _document(text: NotificationText) -> dict[str, Any]:
    return {"kind": text.kind, "subject": text.subject, "body": text.body, "enabled": text.enabled}
