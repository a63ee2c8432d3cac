"""Shopper emails in the embedded admin: the JSON API's templates (each kind's subject,
body and switch) and their preview, and the Emails page that edits them through both
(docs/notifications.md)."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from loyalty.admin import api_schemas as schemas
from loyalty.admin.auth import embedded_api_view, embedded_document_view
from loyalty.admin.json_bodies import field_errors, json_object
from loyalty.admin.openapi import Response, api_operation, errors, json_request
from loyalty.admin.pages import admin_page
from loyalty.admin.text_fields import unstorable_character
from loyalty.models import NotificationKind
from loyalty.services.notifications import (
    CONTEXT_NAMES,
    EVERY_EMAIL_VALUES,
    KIND_VALUES,
    NotificationTemplateInvalid,
    NotificationText,
    notification_preview,
    notification_sample,
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
        return _no_such_kind(kind)
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object with subject, body and enabled."]})
    fields, problems = _fields(body, ("subject", "body", "enabled"))
    if problems:
        return field_errors(problems)
    try:
        text = notification_template_set(shop=request.shop, kind=kind, **fields)
    except NotificationTemplateInvalid as exc:
        return field_errors(exc.errors)
    return JsonResponse(_document(text))


@api_operation(
    "POST",
    summary="Preview a shopper email",
    description="The subject and body filled in with sample values (the shop's name and "
    "lowest tier, example points, code and dates), as the email would be sent; saves "
    "nothing. Refuses what `PUT` refuses, with the same messages.",
    path_parameters={"kind": "The email's kind: " + ", ".join(NotificationKind.values) + "."},
    request_body=json_request("The draft template.", schemas.NOTIFICATION_PREVIEW_FIELDS),
    responses={
        200: Response("The email filled in.", schemas.NOTIFICATION_PREVIEW),
        400: errors("Each field at fault (a template that does not compile), or `body`."),
        404: errors("There is no email of this kind."),
    },
)
@require_POST
@embedded_api_view
def notification_preview_view(request: HttpRequest, kind: str) -> JsonResponse:
    """Fill a draft template in with sample values; saves nothing."""
    if kind not in NotificationKind.values:
        return _no_such_kind(kind)
    body = json_object(request.body)
    if body is None:
        return field_errors({"body": ["Send a JSON object with subject and body."]})
    fields, problems = _fields(body, ("subject", "body"))
    if problems:
        return field_errors(problems)
    try:
        subject, text = notification_preview(shop=request.shop, kind=kind, **fields)
    except NotificationTemplateInvalid as exc:
        return field_errors(exc.errors)
    values = notification_sample(shop=request.shop, kind=kind)
    return JsonResponse(
        {
            "subject": subject,
            "body": text,
            "values": {name: str(value) for name, value in values.items()},
        }
    )


def _no_such_kind(kind: str) -> JsonResponse:
    return JsonResponse(
        {"errors": {"kind": [f"There is no email {kind!r}: use one of the listed kinds."]}},
        status=404,
    )


def _fields(
    body: dict[str, Any], names: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The `names` of a template read from a JSON body, and the problems by field."""
    fields: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name in body:
        if name not in names:
            # A preview reads no switch: "enabled" is a template's field, but not one sent here.
            problems[name] = [
                "Not a field of an email template: leave it out."
                if name != "enabled"
                else "A preview takes only subject and body: leave it out."
            ]
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
    if "enabled" not in names:
        return fields, problems
    if not isinstance(body.get("enabled"), bool):
        problems["enabled"] = ["Send true to send this email, false to switch it off."]
    else:
        fields["enabled"] = body["enabled"]
    return fields, problems


def _document(text: NotificationText) -> dict[str, Any]:
    return {"kind": text.kind, "subject": text.subject, "body": text.body, "enabled": text.enabled}


# When each kind is sent, and what each value is, in the merchant's words (the Emails page).
KIND_HINTS = {
    NotificationKind.POINTS_EARNED: "When an order earns points, held points included.",
    NotificationKind.REWARD_READY: "When a redeemed reward's code or store credit is ready.",
    NotificationKind.POINTS_EXPIRING: "The program's reminder days before points expire "
    "(Program, Expiry).",
    NotificationKind.TIER_REACHED: "When a member moves up to a VIP tier.",
    NotificationKind.BIRTHDAY: "On the shopper's birthday, when the birthday points are given.",
}
VALUE_HINTS = {
    "shop_name": "your shop's name",
    "first_name": "the shopper's first name; may be empty, so write "
    "{{ first_name|default:'there' }}",
    "balance": "their points balance when the email is sent",
    "points": "the points this event gave",
    "tier": "the VIP tier reached",
    "code": "the discount code (empty for store credit)",
    "expiring_points": "how many points will expire",
    "expiring_on": "the day they expire (YYYY-MM-DD)",
    "available_on": "the day held points can be spent (YYYY-MM-DD); empty when the order's "
    "points are not held",
}
assert set(VALUE_HINTS) == set(CONTEXT_NAMES), "every value a template can show is explained"


@require_GET
@embedded_document_view
def notifications_page(request: HttpRequest) -> HttpResponse:
    """The Emails page: each kind with its switch, subject and body, the values it can show,
    and its preview drawn with the page (static/admin/notifications.js redraws it as the
    merchant types, through the preview API; the forms save through PUT)."""
    shop = request.shop
    emails = []
    for text in notification_texts(shop=shop):
        try:
            subject, body = notification_preview(
                shop=shop, kind=text.kind, subject=text.subject, body=text.body
            )
            preview = {"subject": subject, "body": body, "errors": {}}
        except NotificationTemplateInvalid as exc:
            # Stored before templates were filled in when saved: say so, never a 500.
            preview = {"subject": "", "body": "", "errors": exc.errors}
        emails.append(
            {
                "text": text,
                "label": NotificationKind(text.kind).label,
                "hint": KIND_HINTS[text.kind],
                "values": [(name, VALUE_HINTS[name]) for name in _names(text.kind)],
                "preview": preview,
            }
        )
    return admin_page(
        request,
        "admin/notifications.html",
        {
            "emails": emails,
            "longest_subject": LONGEST_SUBJECT,
            "longest_body": LONGEST_BODY,
        },
    )


def _names(kind: str) -> tuple[str, ...]:
    """The values an email of `kind` can show: every email's, then its events' own."""
    return (*EVERY_EMAIL_VALUES, *KIND_VALUES[kind])
