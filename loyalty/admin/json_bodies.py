"""What every endpoint that takes a JSON object (the admin API, the app proxy) reads it with."""

import json
from typing import Any


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
