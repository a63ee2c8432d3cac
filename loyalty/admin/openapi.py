"""The admin API's OpenAPI 3.1 document, built from the views that answer it.

Each view under `/api/admin/` declares its operations beside its code with `api_operation`;
`openapi_document()` walks the URL resolver (config/urls.py), so every path's template and
path parameters come from the URL pattern that routes it and cannot drift from it. Every
operation that takes a session token is given the answers `embedded_api_view` adds (401,
502) and the headers it puts on every answer, so a view declares only what it answers
itself. `tests/test_openapi.py` runs the app against the document with schemathesis.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern
from django.views.decorators.http import require_GET

from loyalty.admin.auth import RETRY_HEADER, View

ADMIN_API_PREFIX = "/api/admin/"
OPERATIONS_ATTRIBUTE = "openapi_operations"
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
# Bump on a change that breaks a client of the API.
API_VERSION = "1.0.0"
# `<int:customer_id>` in a route, `{customer_id}` in the document.
ROUTE_PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")

ERRORS = {
    "type": "object",
    "description": "Each field at fault, with what is wrong with it, for the merchant.",
    "required": ["errors"],
    "additionalProperties": False,
    "properties": {
        "errors": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1},
            },
        }
    },
}


@dataclass(frozen=True)
class Response:
    """One answer of an operation: `schema` describes its body (none when it has none)."""

    description: str
    schema: Mapping | None = None
    media_type: str = "application/json"
    headers: Mapping[str, Mapping] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestBody:
    """What an operation reads from its body: a schema for each media type it takes."""

    description: str
    content: Mapping[str, Mapping]
    required: bool = True


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str
    description: str
    parameters: tuple[Mapping, ...]
    path_parameters: Mapping[str, str]
    request_body: RequestBody | None
    responses: Mapping[int, Response]
    public: bool


def errors(description: str) -> Response:
    """An answer whose body is `{"errors": {"<field>": ["<message>", …]}}` (400, 404, 409)."""
    return Response(description, {"$ref": "#/components/schemas/Errors"})


def json_request(description: str, schema: Mapping) -> RequestBody:
    return RequestBody(description, {"application/json": {"schema": schema}})


def query(name: str, schema: Mapping, description: str) -> dict:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def header(name: str, schema: Mapping, description: str) -> dict:
    """An optional request header."""
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": schema,
        "description": description,
    }


UNAUTHORIZED = Response(
    "No valid session token (missing, expired, or signed for another app). The body is "
    "empty; App Bridge fetches a fresh token and retries.",
    headers={
        RETRY_HEADER: {
            "required": True,
            "description": "Always 1: tells App Bridge to retry with a new session token.",
            "schema": {"type": "string", "const": "1"},
        }
    },
)
SHOPIFY_UNAVAILABLE = Response(
    "The shop had to be installed first (token exchange) and Shopify refused or did not "
    "answer; retry later. The body is empty."
)
TOO_MANY_REQUESTS = Response(
    "The shop made more requests than RATE_LIMIT_ADMIN_API allows (docs/abuse.md); nothing "
    "was done. Retry after the seconds `Retry-After` says.",
    {
        "type": "object",
        "required": ["error", "code", "retry_after"],
        "properties": {
            "error": {"type": "string"},
            "code": {"const": "rate_limited"},
            "retry_after": {"type": "integer", "minimum": 1},
        },
    },
    headers={
        "Retry-After": {
            "required": True,
            "description": "Seconds until the shop's requests are counted afresh.",
            "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
        }
    },
)
# What `with_embedded_headers` puts on every answer to a valid session token.
EMBEDDED_HEADERS = {
    "Content-Security-Policy": {
        "required": True,
        "description": "Only the token's shop and Shopify admin may frame the answer.",
        "schema": {
            "type": "string",
            "pattern": r"^frame-ancestors https://\S+ https://admin\.shopify\.com;$",
        },
    },
    "Cache-Control": {
        "required": True,
        "description": "Never cached: every answer is one shop's data.",
        "schema": {"type": "string", "pattern": "no-store"},
    },
}


def api_operation(
    method: str,
    *,
    summary: str,
    responses: Mapping[int, Response],
    description: str = "",
    parameters: tuple[Mapping, ...] = (),
    path_parameters: Mapping[str, str] | None = None,
    request_body: RequestBody | None = None,
    public: bool = False,
) -> Callable[[View], View]:
    """Declare that the view answers `method`, for the OpenAPI document.

    Put it above the view's other decorators, once per method the view accepts.
    `responses` are the answers the view itself gives; unless `public`, the session
    token's 401 and 502 are added. `path_parameters` describes the URL pattern's
    parameters by name (their types come from the pattern's converters); `parameters`
    are query parameters and headers (`query`, `header`).
    """
    method = method.upper()
    if method not in METHODS:
        raise ImproperlyConfigured(f"{method} is not a method the admin API uses.")
    operation = Operation(
        method=method,
        summary=summary,
        description=description,
        parameters=tuple(parameters),
        path_parameters=dict(path_parameters or {}),
        request_body=request_body,
        responses=dict(responses),
        public=public,
    )

    def declare(view: View) -> View:
        declared = dict(getattr(view, OPERATIONS_ATTRIBUTE, {}))
        if method in declared:
            raise ImproperlyConfigured(f"{view.__qualname__} declares {method} twice.")
        declared[method] = operation
        setattr(view, OPERATIONS_ATTRIBUTE, declared)
        return view

    return declare


@dataclass(frozen=True)
class Route:
    """One URL pattern under /api/admin/: its OpenAPI path, converters and view."""

    path: str
    converters: Mapping[str, object]
    view: View
    name: str

    @property
    def operations(self) -> Mapping[str, Operation]:
        return getattr(self.view, OPERATIONS_ATTRIBUTE, {})


def admin_api_routes() -> list[Route]:
    """Every URL pattern under /api/admin/, in the order config/urls.py lists them."""
    return [
        route
        for route in _routes(get_resolver().url_patterns, "/", {})
        if route.path.startswith(ADMIN_API_PREFIX)
    ]


def _routes(patterns: list, prefix: str, converters: Mapping[str, object]) -> Iterator[Route]:
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            # re_path() patterns have no template to show; the admin API uses path() only.
            if (prefix + str(entry.pattern).lstrip("^")).startswith(ADMIN_API_PREFIX):
                raise ImproperlyConfigured("Route the admin API with path(), not re_path().")
            continue
        route = prefix + str(entry.pattern)
        known = {**converters, **entry.pattern.converters}
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route, known)
        elif isinstance(entry, URLPattern):
            path = ROUTE_PARAMETER.sub(r"{\1}", route)
            yield Route(path=path, converters=known, view=entry.callback, name=entry.name or "")


def openapi_document() -> dict:
    """The OpenAPI 3.1 document of every operation declared under /api/admin/."""
    paths: dict[str, dict] = {}
    for route in admin_api_routes():
        for method, operation in route.operations.items():
            item = paths.setdefault(route.path, {})
            item[method.lower()] = _operation_object(route, operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Perennial admin API",
            "version": API_VERSION,
            "description": (
                "The JSON API behind Perennial's embedded admin, for one shop at a time: the "
                "session token's. Invalid input is a 400 naming each field at fault; another "
                "shop's object is a 404; a method a path does not list is a 405 with an "
                "Allow header. Shopify ids are strings (they exceed what a JavaScript "
                "number holds exactly)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {"Errors": ERRORS},
            "headers": EMBEDDED_HEADERS,
            "responses": {
                "Unauthorized": _response_object(UNAUTHORIZED, embedded=False),
                "ShopifyUnavailable": _response_object(SHOPIFY_UNAVAILABLE, embedded=True),
                "TooManyRequests": _response_object(TOO_MANY_REQUESTS, embedded=True),
            },
            "securitySchemes": {
                "sessionToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "The Shopify session token App Bridge mints for the embedded app: "
                        "an HS256 JWT signed with the app's client secret, `dest` naming "
                        "the shop and `aud` the app's client id, valid for one minute."
                    ),
                }
            },
        },
        "security": [{"sessionToken": []}],
    }


def _operation_object(route: Route, operation: Operation) -> dict:
    parameters = [
        _path_parameter(route, name, operation.path_parameters.get(name, ""))
        for name in route.converters
    ]
    unknown = set(operation.path_parameters) - set(route.converters)
    if unknown:
        raise ImproperlyConfigured(
            f"{route.path} has no path parameter {', '.join(sorted(unknown))}."
        )
    responses = {
        str(status): _response_object(answer, embedded=not operation.public)
        for status, answer in sorted(operation.responses.items())
    }
    if not operation.public:
        responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
        responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
        responses["502"] = {"$ref": "#/components/responses/ShopifyUnavailable"}
    document = {
        "operationId": f"{operation.method.lower()}-{route.name}",
        # By what the path is about: "members", "rewards", "exports" …
        "tags": [route.path.removeprefix(ADMIN_API_PREFIX).split("/")[0].split(".")[0]],
        "summary": operation.summary,
        "parameters": [*parameters, *operation.parameters],
        "responses": responses,
    }
    if operation.description:
        document["description"] = operation.description
    if operation.request_body is not None:
        document["requestBody"] = {
            "description": operation.request_body.description,
            "required": operation.request_body.required,
            "content": operation.request_body.content,
        }
    if operation.public:
        document["security"] = []
    return document


def _path_parameter(route: Route, name: str, description: str) -> dict:
    converter = route.converters[name]
    if isinstance(converter, IntConverter):
        schema = {"type": "integer", "minimum": 0}
    else:
        # Any other converter: the text its regex matches.
        schema = {"type": "string", "pattern": f"^(?:{converter.regex})$"}
    parameter = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _response_object(answer: Response, *, embedded: bool) -> dict:
    document: dict = {"description": answer.description}
    shared = {name: {"$ref": f"#/components/headers/{name}"} for name in EMBEDDED_HEADERS}
    headers = {**(shared if embedded else {}), **answer.headers}
    if headers:
        document["headers"] = headers
    if answer.schema is not None:
        document["content"] = {answer.media_type: {"schema": answer.schema}}
    return document


@api_operation(
    "GET",
    summary="This document",
    description="The OpenAPI 3.1 document of the admin API, built from the running code.",
    responses={
        200: Response("The OpenAPI document.", {"type": "object", "required": ["openapi", "paths"]})
    },
    public=True,
)
@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    """The admin API's OpenAPI document.

    Served without a session token: it holds no shop's data, only what the open source
    code already says, and tools (schemathesis, client generators, API explorers) can read
    it without minting one.
    """
    return JsonResponse(openapi_document())
