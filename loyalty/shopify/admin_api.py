"""A small client for the GraphQL Admin API.

One call is one POST to /admin/api/<SHOPIFY_API_VERSION>/graphql.json with the shop's
offline token. Inputs always travel as GraphQL variables, never spliced into the query.
A 401 means the token died early (revoked, or expired in flight): refresh once and retry
once. Throttling and backoff belong in `_send`, the one place a request leaves.
"""

import requests
from django.conf import settings

from loyalty.models import Shop
from loyalty.shopify import oauth, tokens


class AdminApiError(Exception):
    """A GraphQL Admin API call failed.

    `status` is the HTTP status (None if Shopify could not be reached; 401 if the shop has
    no working token), `errors` the GraphQL `errors` list when Shopify sent one.
    """

    def __init__(self, message: str, *, status: int | None, errors: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []


def admin_graphql(
    shop: Shop, query: str, variables: dict | None = None, *, timeout: float | None = None
) -> dict:
    """Run `query` for `shop` and return its `data`.

    Raises AdminApiError on a transport failure, a non-2xx answer, or any GraphQL `errors`
    (mutations report business problems in `userErrors` inside `data`; callers check those).
    `timeout` is seconds per request, SHOPIFY_HTTP_TIMEOUT unless a caller needs less.
    """
    payload = {"query": query, "variables": variables or {}}
    access_token = _token(shop, rejected=None)
    timeout = settings.SHOPIFY_HTTP_TIMEOUT if timeout is None else timeout
    response = _send(shop, access_token, payload, timeout)
    if response.status_code == 401:
        response = _send(shop, _token(shop, rejected=access_token), payload, timeout)
    return _data(shop, response)


def graphql_url(shop: Shop) -> str:
    return f"{oauth.shop_origin(shop.domain)}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json"


def _token(shop: Shop, *, rejected: str | None) -> str:
    try:
        if rejected is None:
            return tokens.access_token_for(shop)
        return tokens.access_token_after_rejection(shop, rejected=rejected)
    except tokens.AccessTokenUnavailable as exc:
        raise AdminApiError(str(exc), status=401) from exc
    except oauth.TokenRequestError as exc:
        raise AdminApiError(str(exc), status=exc.status) from exc


def _send(shop: Shop, access_token: str, payload: dict, timeout: float) -> requests.Response:
    try:
        return requests.post(
            graphql_url(shop),
            json=payload,
            headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise AdminApiError(
            f"could not reach the Admin API for {shop.domain}: {exc}", status=None
        ) from exc


def _data(shop: Shop, response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = _as_list(body.get("errors"))
    if not 200 <= response.status_code < 300:
        raise AdminApiError(
            f"Admin API answered HTTP {response.status_code} for {shop.domain}"
            + (f": {_messages(errors)}" if errors else ""),
            status=response.status_code,
            errors=errors,
        )
    if errors:
        raise AdminApiError(
            f"Admin API errors for {shop.domain}: {_messages(errors)}",
            status=response.status_code,
            errors=errors,
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise AdminApiError(
            f"Admin API answered without data for {shop.domain}", status=response.status_code
        )
    return data


def _as_list(errors: object) -> list:
    # GraphQL errors come as a list; Shopify's HTTP-level errors as a string or an object.
    if not errors:
        return []
    return errors if isinstance(errors, list) else [errors]


def _messages(errors: list) -> str:
    return "; ".join(
        str(error.get("message", error)) if isinstance(error, dict) else str(error)
        for error in errors
    )
