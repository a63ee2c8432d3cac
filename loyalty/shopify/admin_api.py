"""A small client for the GraphQL Admin API.

One call is one POST to /admin/api/<SHOPIFY_API_VERSION>/graphql.json with the shop's
offline token, repeated only as Shopify's rate limit and failures ask
(docs/shopify-sync.md, "The GraphQL client"). Inputs always travel as GraphQL variables,
never spliced into the query. A 401 means the token died early (revoked, or expired in
flight): refresh once and retry once.
"""

from __future__ import annotations

import logging
import random
import re
import time

import requests
from django.conf import settings

from loyalty.models import Shop
from loyalty.shopify import oauth, throttle, tokens

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Full-jitter exponential backoff for 5xx and network failures: a random wait between 0 and
# BACKOFF_BASE * 2**(attempt - 1) seconds, never more than BACKOFF_CAP.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A rate-limit wait shorter than this is not worth a pause.
SHORTEST_WAIT = 0.01
# A 429 without Retry-After waits this long.
DEFAULT_RETRY_AFTER = 1.0
_OPERATION = re.compile(r"^\s*(query|mutation)\b\s*([_A-Za-z]\w*)?")
_FIRST_FIELD = re.compile(r"{\s*([_A-Za-z]\w*)")


class AdminApiError(Exception):
    """A GraphQL Admin API call failed.

    `status` is the HTTP status (None if Shopify could not be reached or did not answer in
    time; 401 if the shop has no working token), `errors` the GraphQL `errors` list when
    Shopify sent one. `transient` is True when trying again later may work (throttled, 429,
    5xx, network).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        errors: list | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []
        if transient is None:
            transient = status is None or status == 429 or status >= 500 or _throttled(self.errors)
        self.transient = transient


def admin_graphql(
    shop: Shop, query: str, variables: dict | None = None, *, timeout: float | None = None
) -> dict:
    """Run `query` for `shop` and return its `data`.

    `timeout` is the whole call's budget in seconds, waits and retries included
    (SHOPIFY_HTTP_TIMEOUT unless a caller needs less, or a job more). Waits for the shop's
    rate limit, retries THROTTLED, 429, 5xx and network failures (a mutation whose request
    timed out after it was sent is not retried: it may have run), at most MAX_ATTEMPTS times.
    Raises AdminApiError when it still fails, on a non-2xx answer, or on any GraphQL
    `errors` (mutations report business problems in `userErrors` inside `data`; callers
    check those).
    """
    budget = settings.SHOPIFY_HTTP_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + budget
    payload = {"query": query, "variables": variables or {}}
    operation, is_mutation = _operation(query)
    access_token = _token(shop, rejected=None)
    refreshed = False
    attempt = 0
    while True:
        attempt += 1
        wait = throttle.wait_before(shop.domain, operation)
        if wait >= SHORTEST_WAIT:
            logger.info(
                "Admin API %s for %s waits %.2f s for the rate limit", operation, shop.domain, wait
            )
            _pause(wait, deadline, _over_budget(shop, operation, wait, budget))
        try:
            response = _send(shop, access_token, payload, _left(deadline, shop, operation, budget))
        except requests.RequestException as exc:
            error = AdminApiError(
                f"could not reach the Admin API for {shop.domain}: {exc}", status=None
            )
            if is_mutation and isinstance(exc, requests.ReadTimeout):
                raise error from exc
            _retry_or_raise(error, _backoff(attempt), attempt, deadline)
            continue
        if response.status_code == 401 and not refreshed:
            refreshed = True
            access_token = _token(shop, rejected=access_token)
            attempt -= 1
            continue
        body = _body(response)
        extensions = body.get("extensions")
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        status = throttle.observe(shop.domain, operation, cost)
        _log_cost(shop, operation, response.status_code, cost, status)
        if response.status_code == 429:
            wait = _retry_after(response)
            logger.info(
                "Admin API answered 429 to %s for %s; retrying in %.2f s",
                operation,
                shop.domain,
                wait,
            )
            _retry_or_raise(_error(shop, response, body), wait, attempt, deadline)
        elif response.status_code >= 500:
            _retry_or_raise(_error(shop, response, body), _backoff(attempt), attempt, deadline)
        elif _throttled(_as_list(body.get("errors"))):
            requested = cost.get("requestedQueryCost") if isinstance(cost, dict) else None
            wait = throttle.refill_wait(requested, status)
            wait = _backoff(attempt) if wait is None else wait
            logger.info(
                "Admin API throttled %s for %s (cost %s); retrying in %.2f s",
                operation,
                shop.domain,
                requested,
                wait,
            )
            _retry_or_raise(_error(shop, response, body), wait, attempt, deadline)
        else:
            return _data(shop, response, body)


def graphql_url(shop: Shop) -> str:
    return f"{oauth.shop_origin(shop.domain)}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json"


def _operation(query: str) -> tuple[str, bool]:
    """The operation's name for logs (its first root field if unnamed), and whether it is a
    mutation."""
    text = re.sub(r"#[^\n]*", "", query)
    found = _OPERATION.match(text)
    kind = found.group(1) if found else "query"
    name = found.group(2) if found and found.group(2) else None
    if name is None:
        field = _FIRST_FIELD.search(text)
        name = field.group(1) if field else kind
    return name, kind == "mutation"


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
    return requests.post(
        graphql_url(shop),
        json=payload,
        headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
        timeout=timeout,
    )


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _left(deadline: float, shop: Shop, operation: str, budget: float) -> float:
    """One request's timeout: SHOPIFY_HTTP_TIMEOUT, or less if the budget has less left (a
    hung request is given up, and a query retried, while the budget still allows)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise AdminApiError(
            f"the Admin API call {operation} for {shop.domain} ran out of its {budget:g} s",
            status=None,
        )
    return min(left, settings.SHOPIFY_HTTP_TIMEOUT)


def _pause(wait: float, deadline: float, error: AdminApiError) -> None:
    if time.monotonic() + wait > deadline:
        raise error
    _sleep(wait)


def _over_budget(shop: Shop, operation: str, wait: float, budget: float) -> AdminApiError:
    return AdminApiError(
        f"Shopify's rate limit for {shop.domain} needs {wait:.1f} s before {operation}, "
        f"more than the call's {budget:g} s; try again later",
        status=None,
        transient=True,
    )


def _retry_or_raise(error: AdminApiError, wait: float, attempt: int, deadline: float) -> None:
    if attempt >= MAX_ATTEMPTS or time.monotonic() + wait > deadline:
        raise error
    _sleep(wait)


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def _retry_after(response: requests.Response) -> float:
    # Shopify sends seconds, possibly with a fraction ("Retry-After: 2.0").
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _log_cost(
    shop: Shop, operation: str, http_status: int, cost: object, status: dict | None
) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    cost = cost if isinstance(cost, dict) else {}
    logger.debug(
        "Admin API %s for %s: HTTP %s, cost requested %s actual %s, %s of %s points left",
        operation,
        shop.domain,
        http_status,
        cost.get("requestedQueryCost"),
        cost.get("actualQueryCost"),
        (status or {}).get("currentlyAvailable"),
        (status or {}).get("maximumAvailable"),
    )


def _body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _error(shop: Shop, response: requests.Response, body: dict) -> AdminApiError:
    errors = _as_list(body.get("errors"))
    if not 200 <= response.status_code < 300:
        return AdminApiError(
            f"Admin API answered HTTP {response.status_code} for {shop.domain}"
            + (f": {_messages(errors)}" if errors else ""),
            status=response.status_code,
            errors=errors,
        )
    return AdminApiError(
        f"Admin API errors for {shop.domain}: {_messages(errors)}",
        status=response.status_code,
        errors=errors,
    )


def _data(shop: Shop, response: requests.Response, body: dict) -> dict:
    if not 200 <= response.status_code < 300 or body.get("errors"):
        raise _error(shop, response, body)
    data = body.get("data")
    if not isinstance(data, dict):
        raise AdminApiError(
            f"Admin API answered without data for {shop.domain}", status=response.status_code
        )
    return data


def _throttled(errors: list) -> bool:
    return any(
        isinstance(error, dict)
        and isinstance(error.get("extensions"), dict)
        and error["extensions"].get("code") == "THROTTLED"
        for error in errors
    )


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
