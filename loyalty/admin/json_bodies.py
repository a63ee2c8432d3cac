"""What every endpoint that takes a JSON object (the admin API, the app proxy) reads it with,
and the admin API's answer to fields at fault."""

import json
from typing import Any

from django.http import JsonResponse


def json_object(body: bytes, **options: Any) -> dict | None:
    """`body` as a JSON object, or None when it is not one: not UTF-8 JSON, another JSON
    value, nested deeper than the parser can go, or holding a number `parse_float` refuses.
    `options` go to json.loads (such as parse_float=Decimal, so money stays exact).
    """
    try:
        document = json.loads(body, **options)
    # UnicodeDecodeError is a ValueError; RecursionError (a hundred thousand "[") and
    # decimal.InvalidOperation (an ArithmeticError: 1e-9999999999999999999 as a Decimal)
    # are not.
    except (ValueError, RecursionError, ArithmeticError):
        return None
    return document if isinstance(document, dict) else None


def field_errors(errors: dict[str, list[str]]) -> JsonResponse:
    """The 400 every admin API write answers invalid input with: the messages by field."""
    return JsonResponse({"errors": errors}, status=400)
