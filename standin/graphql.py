"""`POST /admin/api/<version>/graphql.json`: auth, cost, throttling, the fault knobs and the
per-shop faults (standin/throttle.py).

Sources (shopify.dev page titles): "GraphQL Admin API rate limits" (cost, leaky bucket,
`extensions.cost`), "GraphQL Admin API reference" (`X-Shopify-Access-Token`, status codes
and error bodies), "Use expiring offline access tokens".
"""

from __future__ import annotations

from typing import Any

from .gql_text import GraphQLSyntaxError, parse_operation, project, undefined_field
from .operations import REQUIRED_SCOPES, RESOLVERS, Context
from .state import State
from .throttle import take_fault
from .web import Request, Response, json_response

INVALID_TOKEN = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
THROTTLED_ERROR = {
    "message": "Throttled",
    "extensions": {
        "code": "THROTTLED",
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    },
}


def _record(state: State, entry: dict[str, Any], status: int) -> None:
    entry["status"] = status
    with state.lock:
        state.calls.append(entry)


def _forced_failure(state: State) -> Response | None:
    """Consume the fault knobs in order: hang, then a forced HTTP status."""
    with state.lock:
        knobs = state.knobs
        hang = knobs.hang_count > 0
        if hang:
            knobs.hang_count -= 1
        seconds = knobs.hang_seconds
        status = 0
        if knobs.fail_count > 0:
            knobs.fail_count -= 1
            status = knobs.fail_status
    if hang:
        # Held past the client's timeout; stop() releases it at once.
        state.stopping.wait(seconds)
    return _http_failure(status) if status else None


def graphql(state: State, request: Request) -> Response:
    """Answer one GraphQL Admin API call for the shop in the path."""
    shop_domain = request.params["shop"]
    body = request.json()
    body = body if isinstance(body, dict) else {}
    query = body.get("query")
    variables = body.get("variables") if isinstance(body.get("variables"), dict) else {}
    token_value = request.headers.get("x-shopify-access-token", "")
    entry: dict[str, Any] = {
        "shop": shop_domain,
        "api_version": request.params["version"],
        "token": token_value,
        "query": query,
        "variables": variables,
        "operation_name": body.get("operationName"),
        "at": state.now(),
    }
    with state.lock:
        token = state.valid_access_token(token_value, shop_domain)
        if token is not None and token.first_used_at is None:
            token.first_used_at = state.now()
            # First use of a refreshed token retires the refresh token spent for it.
            spent = state.refresh_tokens.get(token.minted_by_refresh or "")
            if spent is not None:
                spent.retired = True
    if token is None:
        _record(state, entry, 401)
        return json_response(401, INVALID_TOKEN)
    failure = _forced_failure(state)
    if failure is not None:
        _record(state, entry, failure.status)
        return failure
    if not isinstance(query, str) or not query.strip():
        _record(state, entry, 400)
        return json_response(400, {"errors": {"query": "Required parameter missing or invalid"}})
    syntax_error: GraphQLSyntaxError | None = None
    try:
        operation = parse_operation(query, variables, body.get("operationName"))
    except GraphQLSyntaxError as error:
        operation, syntax_error = None, error
    root_fields = [field.name for field in operation.fields] if operation else []
    entry["root_fields"] = root_fields
    with state.lock:
        fault = take_fault(state.faults.get(shop_domain, []), root_fields)
    if fault is not None:
        entry["fault"] = fault.kind
        if fault.kind == "delay":
            # Held past the client's timeout; stop() releases it at once.
            state.stopping.wait(fault.seconds)
        elif fault.http_status:
            failure = _http_failure(fault.http_status, fault.seconds)
            _record(state, entry, failure.status)
            return failure
    if operation is None:
        _record(state, entry, 200)
        return json_response(200, {"errors": [{"message": f"Parse error: {syntax_error}"}]})
    response = _answer(
        state,
        shop_domain,
        operation,
        variables,
        token.scope.split(","),
        throttled=fault is not None and fault.kind == "throttled",
    )
    _record(state, entry, 200)
    return json_response(200, response)


def _http_failure(status: int, retry_after: float = 1.0) -> Response:
    if status == 429:
        return json_response(
            429, {"errors": [THROTTLED_ERROR]}, [("Retry-After", f"{retry_after:.1f}")]
        )
    return json_response(status, {"errors": "An unexpected error occurred"})


def _answer(
    state: State,
    shop_domain: str,
    operation: Any,
    variables: dict[str, Any],
    scopes: list[str],
    *,
    throttled: bool = False,
) -> dict:
    root_type = "Mutation" if operation.kind == "mutation" else "QueryRoot"
    unknown = [
        undefined_field(f.name, root_type) for f in operation.fields if f.name not in RESOLVERS
    ]
    if unknown:
        # Like graphql-ruby, a document naming unknown root fields is rejected unrun.
        return {"errors": unknown}
    bucket = state.bucket(shop_domain)
    cost = operation.requested_cost
    with state.lock:
        forced = throttled or state.knobs.throttle > 0
        if forced and not throttled:
            state.knobs.throttle -= 1
        if forced:
            bucket.refill(state.now())
        if forced or not bucket.take(cost, state.now()):
            # A throttled call runs nothing and is charged nothing.
            return {
                "errors": [THROTTLED_ERROR],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": cost,
                        "actualQueryCost": None,
                        "throttleStatus": bucket.status(),
                    }
                },
            }
    shop = state.shop(shop_domain)
    errors: list[dict[str, Any]] = []
    data = {}
    denied: list[dict[str, Any]] = []
    for field in operation.fields:
        needed = REQUIRED_SCOPES.get(field.name)
        if needed and not _granted(needed, scopes):
            denied.append(_access_denied(field.name, needed))
            data[field.alias] = None
            continue
        value = RESOLVERS[field.name](Context(state, shop, field.inputs(variables)))
        if isinstance(value, dict) and "__errors__" in value:
            # A resolver refusing its arguments (standin/orders.py): null and the errors.
            errors.extend(value["__errors__"])
            data[field.alias] = None
            continue
        type_name = field.name[:1].upper() + field.name[1:]
        if operation.kind == "mutation":
            type_name += "Payload"
        data[field.alias] = project(value, field.fields, type_name, errors, variables)
    with state.lock:
        cost_report = {
            "requestedQueryCost": cost,
            "actualQueryCost": cost,
            "throttleStatus": bucket.status(),
        }
    if errors:
        # Found only after running (the stand-in has no schema): see docs/standin.md.
        return {"errors": errors, "extensions": {"cost": cost_report}}
    if denied:
        # Shopify answers the other fields and null for the denied ones, beside the errors.
        return {"errors": denied, "data": data, "extensions": {"cost": cost_report}}
    return {"data": data, "extensions": {"cost": cost_report}}


def _granted(needed: str, scopes: list[str]) -> bool:
    # A write_ scope includes its read_ scope.
    return needed in scopes or needed.replace("read_", "write_", 1) in scopes


def _access_denied(field_name: str, scope: str) -> dict[str, Any]:
    # The shape Shopify answers (as Shopify/shopify_app's tests record it for `themes`).
    return {
        "message": (
            f"Access denied for {field_name} field. Required access: `{scope}` access scope."
        ),
        "path": [field_name],
        "extensions": {
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{scope}` access scope.",
        },
    }
