"""The admin API's OpenAPI document: valid, complete, and what the running app answers.

schemathesis sends each documented operation generated requests, valid and invalid, as
Alice's staff, through Django's WSGI handler, and checks every answer against the document:
no 500, a documented status code, content type, headers and body, and a 4xx for a request
the document says is invalid.
"""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from loyalty.admin import api_schemas, members, program_fields, reward_fields
from loyalty.admin import notifications as admin_notifications
from loyalty.admin.openapi import (
    METHODS,
    ROUTE_PARAMETER,
    admin_api_routes,
    openapi_document,
)
from loyalty.earning.orders import MAX_AMOUNT
from loyalty.models import (
    NotificationKind,
    Referral,
    ReferralState,
    RefusalReason,
    ReviewDelivery,
    ReviewStatus,
    RewardKind,
    Shop,
)
from loyalty.services.imports import member_import_create, member_import_run
from loyalty.services.members import member_adjust
from loyalty.services.privacy import customer_data_export
from loyalty.services.programs import FriendReward, TierSetting, program_update
from loyalty.services.referrals import referral_code_ensure, referral_visit
from loyalty.services.rewards import reward_create
from loyalty.shopify import oauth, tokens
from standin import server
from tests.shopify_signing import (
    ALICE,
    API_KEY,
    API_SECRET,
    BOB,
    OTHER_SECRET,
    as_merchant,
    session_token,
)
from tests.test_embedded_admin import installed_shop
from webhooks.models import Delivery, Status

DOCUMENT = "/api/admin/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
IMPORTED = (
    "customer_id,email,first_name,last_name,points\n"
    "1001,ada@example.com,Ada,Lovelace,500\n"
    "1002,grace@example.com,Grace,Hopper,0\n"
    "1003,=cmd,Alan,Turing,12\n"
    "x,not-an-email,,,-5\n"
)


def alice_with_everything() -> dict[str, list[int]]:
    """Alice's shop with some of every object the API shows; their ids by path parameter."""
    alice = installed_shop(ALICE, "Alice's Garden", currency="EUR")
    installed_shop(BOB, "Bob")
    member_import = member_import_create(shop=alice, csv_bytes=IMPORTED.encode())
    member_import_run(import_id=member_import.pk)
    ada = alice.members.get(customer_id=1001)
    member_adjust(member=ada, points=-75, reason="Damaged parcel", actor="77", key="seed:1")
    program_update(
        shop=alice,
        changes={
            "expiry_days": 365,
            "referral_friend_reward": FriendReward(
                kind=RewardKind.PERCENT_OFF,
                value=Decimal("12.5"),
                minimum_subtotal=Decimal("20.00"),
                expires_after_days=30,
            ),
            "tiers": [
                TierSetting(name="Silver", threshold=0, multiplier=Decimal(1)),
                TierSetting(name="Gold", threshold=400, multiplier=Decimal("1.25")),
            ],
        },
    )
    ada.tier = alice.tiers.get(name="Gold")
    ada.save(update_fields=["tier"])
    referral_code_ensure(member=ada)
    referral_visit(shop=alice, code=ada.referral_code, ip="192.0.2.1")
    Referral.objects.create(
        shop=alice,
        advocate=ada,
        state=ReferralState.REFUSED,
        refusal_reason=RefusalReason.SAME_CUSTOMER,
        friend_customer_id=1001,
        order_id=6001,
        order_name="#1001",
        ordered_at=timezone.now(),
    )
    made = [
        reward_create(shop=alice, kind=RewardKind.AMOUNT_OFF, points_cost=500, value=5),
        reward_create(shop=alice, kind=RewardKind.PERCENT_OFF, points_cost=800, value=10),
        reward_create(shop=alice, kind=RewardKind.FREE_SHIPPING, points_cost=300),
        reward_create(
            shop=alice, kind=RewardKind.FREE_PRODUCT, points_cost=900, product_id=7982003224742
        ),
    ]
    deliveries = [
        Delivery.objects.create(
            shop_domain=ALICE,
            topic="orders/paid",
            webhook_id=f"seed-{status}",
            body=b"{}",
            received_at=timezone.now() - timedelta(minutes=5),
            status=status,
            attempts=2,
            last_error="Traceback (most recent call last):\nKeyError: 'line_items'\n",
            next_attempt_at=timezone.now() + timedelta(minutes=4),
        )
        for status in (Status.FAILED, Status.PROCESSED, Status.RECEIVED)
    ]
    data_request = customer_data_export(shop=alice, customer_id=1001, shopify_request_id=77)
    for n, body in enumerate((b'{"rating": 4, "has_photo": true}', b'{"rating": "?"}')):
        ReviewDelivery.objects.create(
            shop=alice,
            source="generic",
            review_id=f"seed-{n}",
            body=body,
            received_at=timezone.now(),
            status=ReviewStatus.REFUSED,
            outcome="review_id is missing",
            member=ada if n == 0 else None,
            product_id=7001 if n == 0 else None,
            processed_at=timezone.now(),
        )
    return {
        "customer_id": [1001, 1002, 1003],
        "reward_id": [reward.pk for reward in made],
        "delivery_id": [delivery.pk for delivery in deliveries],
        "import_id": [member_import.pk],
        "request_id": [data_request.pk],
        "kind": list(NotificationKind.values),
    }


@pytest.fixture
def wsgi_app(db, admin_settings):
    """The app as a WSGI server runs it, inside the test's transaction.

    Django closes a connection left in a transaction at each request's start and end; the
    test client stops that, and so must we, or the test's transaction would be lost.
    """
    admin_settings.ALLOWED_HOSTS = [*admin_settings.ALLOWED_HOSTS, "localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def shopify(admin_settings):
    """The Shopify stand-in, whose live theme for Alice has the widget's app embed on: the
    onboarding checklist asks it, at once, rather than wait on an unreachable Shopify."""
    standin = server.start(
        api_key=API_KEY, api_secret=API_SECRET, app_url="http://perennial.test", port=0
    )
    admin_settings.SHOPIFY_ADMIN_ORIGIN = standin.origin_template
    standin.state.set_app_embed(ALICE, "loyalty-widget", enabled=True)
    # Theme checks are remembered per shop id, which another test's shop may have had.
    cache.clear()
    yield standin
    standin.stop()
    cache.clear()


@pytest.fixture
def alices_ids(wsgi_app, shopify) -> dict[str, list[int]]:
    ids = alice_with_everything()
    # Alice's access token as the stand-in issued it, for the theme check.
    access = shopify.state.issue_access_token(ALICE, expiring=True)
    refresh = shopify.state.issue_refresh_token(ALICE)
    tokens.store_offline_token(
        shop=Shop.objects.get(domain=ALICE),
        token=oauth.OfflineToken(
            access_token=access.value,
            scope=access.scope,
            expires_at=timezone.now() + timedelta(hours=1),
            refresh_token=refresh.value,
            refresh_token_expires_at=timezone.now() + timedelta(days=90),
        ),
    )
    return ids


# The document the view serves (test_the_document_is_valid_openapi checks they are equal).
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.auth(refresh_interval=None)
class AlicesStaff:
    """A fresh session token of Alice's staff for each request (they last a minute).

    As an auth provider, not a fixed header: schemathesis then knows which requests it
    sends without a token on purpose, and expects their 401.
    """

    def get(self, case, context) -> str:
        return session_token(shop=ALICE)

    def set(self, case, data, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_app_answers_as_its_document_says(case, data, wsgi_app, alices_ids):
    # Host belongs to the server in front of the app: Django refuses a malformed one with
    # its own 400 page before any view runs, and the document describes the views.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "host"}
    if not case.meta.generation.mode.is_negative:
        # Random ids are almost never Alice's: send hers most of the time, so that the
        # answers about her objects are checked too, not only the 404s.
        for name, value in case.path_parameters.items():
            ids = [value, *alices_ids.get(name, [])]
            case.path_parameters[name] = data.draw(st.sampled_from(ids))
    if routes_to_its_view(case):
        case.call_and_validate(app=wsgi_app, checks=[*CHECKS, negative_data_rejection])
    else:
        # An id that is not digits makes a URL of no path in the document: Django's 404.
        assert case.call(app=wsgi_app).status_code == 404


def routes_to_its_view(case) -> bool:
    """Whether Django routes the case's URL to the pattern its operation documents."""
    try:
        match = resolve(unquote(case.formatted_path))
    except Resolver404:
        return False
    return "/" + ROUTE_PARAMETER.sub(r"{\1}", match.route) == case.path


def test_the_document_is_valid_openapi(client):
    response = client.get(DOCUMENT)

    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document == openapi_document()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["sessionToken"]["bearerFormat"] == "JWT"


@pytest.mark.django_db
def test_every_method_an_admin_url_accepts_is_documented(client, admin_settings):
    """Each method is tried on each /api/admin/ URL with a bad token: a method the view
    accepts gets past the method check (401, or 200 for the public document), one it does
    not gets 405 with an Allow header. Both are exactly the documented methods."""
    document = client.get(DOCUMENT).json()
    routes = admin_api_routes()
    assert len(routes) == len(document["paths"])
    for route in routes:
        url = route.path.format(**dict.fromkeys(route.converters, 1))
        documented = {method.upper() for method in document["paths"].get(route.path, {})}
        accepted = set()
        for method in METHODS:
            response = client.generic(method, url, headers={"Authorization": "Bearer x"})
            if response.status_code == 405:
                assert set(response["Allow"].split(", ")) == documented, (method, route.path)
            else:
                accepted.add(method)
        assert accepted == documented, route.path


def secured_operations() -> list:
    """Every documented operation that takes a session token."""
    return [
        schema[path][method.upper()]
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
        if operation.get("security") != []
    ]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-token",
        f"Bearer {session_token(shop=ALICE, secret=OTHER_SECRET)}",
        f"Bearer {session_token(shop=ALICE, lifetime=-120)}",
        f"Basic {session_token(shop=ALICE)}",
    ],
    ids=["none", "garbage", "wrong-secret", "expired", "not-bearer"],
)
def test_without_a_valid_session_token_every_operation_answers_the_documented_401(
    wsgi_app, authorization
):
    secured = secured_operations()
    # All but the document itself.
    assert len(secured) == sum(len(item) for item in schema.raw_schema["paths"].values()) - 1
    for operation in secured:
        case = operation.Case(
            path_parameters=dict.fromkeys(re.findall(r"{(\w+)}", operation.path), 1),
            headers={"Authorization": authorization} if authorization else {},
        )
        response = case.call(app=wsgi_app)

        assert response.status_code == 401, operation.label
        assert response.headers["x-shopify-retry-invalid-session-request"] == ["1"]
        assert response.content == b""
        case.validate_response(response, checks=CHECKS)


# One request for each answer each operation documents, the session token's 401 and 502
# aside (tested for every operation below): (method, path, status, werkzeug open kwargs,
# path parameters when not Alice's first object of the kind).
NOT_HERS = 999_999
HER_SECOND = "Alice's second object of the kind"
EXAMPLES = [
    ("GET", "/api/admin/openapi.json", 200, {}, {}),
    ("GET", "/api/admin/program", 200, {}, {}),
    (
        "PUT",
        "/api/admin/program",
        200,
        {
            "json": {
                "points_per_unit": "2.5",
                "referral_friend_reward": {"kind": "amount_off", "value": "5.00"},
                "tiers": [{"name": "Gold", "threshold": 500, "multiplier": 1.5}],
            }
        },
        {},
    ),
    ("PUT", "/api/admin/program", 400, {"json": {"hold_days": -1}}, {}),
    (
        "POST",
        "/api/admin/program/preview",
        200,
        {"json": {"program": {"points_per_unit": 2}, "order": {"subtotal": "100.00"}}},
        {},
    ),
    ("POST", "/api/admin/program/preview", 400, {"json": {"order": {"subtotal": "-1"}}}, {}),
    ("GET", "/api/admin/members", 200, {"query_string": {"q": "ada"}}, {}),
    ("GET", "/api/admin/members", 400, {"query_string": {"cursor": "nope"}}, {}),
    ("GET", "/api/admin/referrals", 200, {"query_string": {"state": "refused"}}, {}),
    ("GET", "/api/admin/referrals", 400, {"query_string": {"cursor": "nope"}}, {}),
    ("GET", "/api/admin/reviews", 200, {"query_string": {"state": "refused"}}, {}),
    ("GET", "/api/admin/reviews", 400, {"query_string": {"source": "yotpo"}}, {}),
    ("GET", "/api/admin/members/{customer_id}", 200, {}, {}),
    ("GET", "/api/admin/members/{customer_id}", 404, {}, {"customer_id": NOT_HERS}),
    (
        "POST",
        "/api/admin/members/{customer_id}/adjustments",
        201,
        {"json": {"points": 10, "reason": "Goodwill"}, "headers": {"Idempotency-Key": "k-1"}},
        {},
    ),
    ("POST", "/api/admin/members/{customer_id}/adjustments", 400, {"json": {"points": 0}}, {}),
    (
        "POST",
        "/api/admin/members/{customer_id}/adjustments",
        404,
        {"json": {"points": 10, "reason": "Goodwill"}},
        {"customer_id": NOT_HERS},
    ),
    ("GET", "/api/admin/deliveries", 200, {"query_string": {"status": "failed"}}, {}),
    ("GET", "/api/admin/deliveries", 400, {"query_string": {"status": "lost"}}, {}),
    ("POST", "/api/admin/deliveries/{delivery_id}/replay", 202, {}, {}),
    ("POST", "/api/admin/deliveries/{delivery_id}/replay", 404, {}, {"delivery_id": NOT_HERS}),
    # Alice's second delivery is processed.
    ("POST", "/api/admin/deliveries/{delivery_id}/replay", 409, {}, {"delivery_id": HER_SECOND}),
    ("GET", "/api/admin/rewards", 200, {}, {}),
    (
        "POST",
        "/api/admin/rewards",
        201,
        {"json": {"kind": "percent_off", "points_cost": 800, "value": "10"}},
        {},
    ),
    ("POST", "/api/admin/rewards", 400, {"json": {"kind": "percent_off"}}, {}),
    ("PATCH", "/api/admin/rewards/{reward_id}", 200, {"json": {"enabled": False}}, {}),
    ("PATCH", "/api/admin/rewards/{reward_id}", 400, {"json": {"points_cost": 0}}, {}),
    ("PATCH", "/api/admin/rewards/{reward_id}", 404, {"json": {}}, {"reward_id": NOT_HERS}),
    ("DELETE", "/api/admin/rewards/{reward_id}", 204, {}, {}),
    ("DELETE", "/api/admin/rewards/{reward_id}", 404, {}, {"reward_id": NOT_HERS}),
    ("GET", "/api/admin/exports/members.csv", 200, {}, {}),
    ("GET", "/api/admin/exports/ledger.csv", 200, {"query_string": {"from": "2026-01-01"}}, {}),
    ("GET", "/api/admin/exports/ledger.csv", 400, {"query_string": {"from": "yesterday"}}, {}),
    (
        "POST",
        "/api/admin/imports/members",
        202,
        {"data": IMPORTED.encode(), "content_type": "text/csv"},
        {},
    ),
    ("POST", "/api/admin/imports/members", 400, {}, {}),
    ("GET", "/api/admin/imports/{import_id}", 200, {}, {}),
    ("GET", "/api/admin/imports/{import_id}", 404, {}, {"import_id": NOT_HERS}),
    ("GET", "/api/admin/privacy-requests", 200, {}, {}),
    ("GET", "/api/admin/integrations", 200, {}, {}),
    ("POST", "/api/admin/integrations/rotate-secret", 200, {}, {}),
    ("PUT", "/api/admin/integrations/judgeme-key", 200, {"json": {"key": "jm-token-1234"}}, {}),
    ("PUT", "/api/admin/integrations/judgeme-key", 400, {"json": {"key": 1234}}, {}),
    ("GET", "/api/admin/widget", 200, {}, {}),
    ("GET", "/api/admin/notifications", 200, {}, {}),
    (
        "PUT",
        "/api/admin/notifications/{kind}",
        200,
        {"json": {"subject": "Hi {{ first_name }}", "body": "{{ points }}", "enabled": False}},
        {},
    ),
    (
        "PUT",
        "/api/admin/notifications/{kind}",
        400,
        {"json": {"subject": "{% if %}", "body": "ok", "enabled": True}},
        {},
    ),
    (
        "PUT",
        "/api/admin/notifications/{kind}",
        404,
        {"json": {"subject": "Hi", "body": "ok", "enabled": True}},
        {"kind": "anniversary"},
    ),
    (
        "POST",
        "/api/admin/notifications/{kind}/preview",
        200,
        {"json": {"subject": "{{ points }} points", "body": "Hi {{ first_name }}"}},
        {},
    ),
    (
        "POST",
        "/api/admin/notifications/{kind}/preview",
        400,
        {"json": {"subject": "Hi", "body": "{% url 'nowhere' %}"}},
        {},
    ),
    (
        "POST",
        "/api/admin/notifications/{kind}/preview",
        404,
        {"json": {"subject": "Hi", "body": "ok"}},
        {"kind": "anniversary"},
    ),
    (
        "PUT",
        "/api/admin/widget",
        200,
        {"json": {"accent_color": "#2A6B3C", "texts": {"en": {"panel_title": "Perks"}}}},
        {},
    ),
    ("PUT", "/api/admin/widget", 400, {"json": {"accent_color": "green"}}, {}),
    ("GET", "/api/admin/onboarding", 200, {}, {}),
    (
        "GET",
        "/api/admin/stats",
        200,
        {"query_string": {"from": "2026-01-01", "to": "2026-01-31"}},
        {},
    ),
    (
        "GET",
        "/api/admin/stats",
        400,
        {"query_string": {"from": "2026-02-01", "to": "2026-01-31"}},
        {},
    ),
    ("POST", "/api/admin/onboarding/program-reviewed", 200, {}, {}),
    ("GET", "/api/admin/privacy-requests/{request_id}/export", 200, {}, {}),
    (
        "GET",
        "/api/admin/privacy-requests/{request_id}/export",
        404,
        {},
        {"request_id": NOT_HERS},
    ),
]


def test_the_examples_cover_every_documented_answer():
    documented = {
        (method.upper(), path, int(status))
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if status not in ("401", "429", "502")
    }
    assert {(method, path, status) for method, path, status, *_ in EXAMPLES} == documented


@pytest.mark.parametrize(
    ("method", "path", "status", "sent", "ids"),
    EXAMPLES,
    ids=[f"{method} {path} {status}" for method, path, status, *_ in EXAMPLES],
)
def test_each_documented_answer_is_what_the_app_answers(
    wsgi_app, alices_ids, method, path, status, sent, ids
):
    """The generated requests rarely make a good import or reward: each answer once, for sure."""
    parameters = {}
    for name in re.findall(r"{(\w+)}", path):
        chosen = ids.get(name)
        parameters[name] = alices_ids[name][1] if chosen == HER_SECOND else chosen
        parameters[name] = parameters[name] or alices_ids[name][0]
    case = schema[path][method].Case(path_parameters=parameters)
    sent = dict(sent)
    headers = {**as_merchant(ALICE), **sent.pop("headers", {})}

    response = Client(wsgi_app).open(case.formatted_path, method=method, headers=headers, **sent)

    assert response.status_code == status, response.get_data()
    case.validate_response(response, checks=CHECKS)


def test_a_shop_shopify_cannot_install_gets_the_documented_502(wsgi_app):
    """Carol's shop is new, and Shopify does not answer the token exchange."""
    client = Client(wsgi_app)
    secured = secured_operations()
    for operation in secured:
        case = operation.Case(
            path_parameters=dict.fromkeys(re.findall(r"{(\w+)}", operation.path), 1)
        )
        headers = {"Authorization": f"Bearer {session_token(shop='carol.myshopify.com')}"}

        response = client.open(
            case.formatted_path, method=operation.method.upper(), headers=headers
        )

        assert response.status_code == 502, operation.label
        # The one 5xx the API documents: Shopify's failure, not the app's.
        case.validate_response(response, excluded_checks=[not_a_server_error], checks=CHECKS)


def test_a_shop_over_its_rate_limit_gets_the_documented_429(wsgi_app, alices_ids, settings):
    """Alice's staff have used the hour's one request: every operation is refused, as
    documented, before it does anything."""
    settings.RATE_LIMIT_ADMIN_API = (1, 3600)
    client = Client(wsgi_app)
    assert client.get("/api/shop", headers=as_merchant(ALICE)).status_code == 200
    for operation in secured_operations():
        case = operation.Case(
            path_parameters=dict.fromkeys(re.findall(r"{(\w+)}", operation.path), 1)
        )

        response = client.open(
            case.formatted_path, method=operation.method.upper(), headers=as_merchant(ALICE)
        )

        assert response.status_code == 429, operation.label
        assert int(response.headers["Retry-After"]) >= 1
        case.validate_response(response, checks=CHECKS)


def hostile_requests(operation: dict) -> list[tuple[str, dict]]:
    """Requests the generator rarely or never makes, each as (what, werkzeug open kwargs):
    NUL in each query parameter; a JSON body nested 100,000 deep, and NUL or a lone
    surrogate in each of its fields; a multipart body without a boundary."""
    requests = [
        (f"NUL in {parameter['name']}", {"query_string": {parameter["name"]: "a\x00b"}})
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    ]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        json_body = {"content_type": "application/json"}
        requests.append(("nested body", {"data": "[" * 100_000 + "]" * 100_000, **json_body}))
        for field in content["application/json"]["schema"].get("properties", {}):
            for escape in ("\\u0000", "\\ud800"):
                data = f'{{"{field}": "a{escape}b"}}'
                requests.append((f"{escape} in {field}", {"data": data, **json_body}))
    if "multipart/form-data" in content:
        requests.append(("no boundary", {"data": b"file", "content_type": "multipart/form-data"}))
    return requests


def test_hostile_input_gets_a_documented_answer_never_a_500(wsgi_app, alices_ids):
    client = Client(wsgi_app)
    sent = 0
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            ids = {name: alices_ids.get(name, [1])[0] for name in re.findall(r"{(\w+)}", path)}
            case = schema[path][method.upper()].Case(path_parameters=ids)
            for what, request in hostile_requests(operation):
                response = client.open(
                    case.formatted_path,
                    method=method.upper(),
                    headers=as_merchant(ALICE),
                    **request,
                )
                assert response.status_code == 400, (case.operation.label, what)
                case.validate_response(response, checks=CHECKS)
                sent += 1
    assert sent >= 40


def test_the_schemas_carry_the_views_limits():
    """api_schemas cannot import the views (they import it), so it repeats their limits."""
    assert (api_schemas.RATE_DECIMALS, api_schemas.LARGEST_RATE) == (
        program_fields.RATE_DECIMALS,
        program_fields.LARGEST_RATE,
    )
    assert api_schemas.LONGEST_HOLD_DAYS == program_fields.LONGEST_HOLD_DAYS
    assert api_schemas.LARGEST_POINTS == program_fields.LARGEST_POINTS
    assert api_schemas.LARGEST_REFERRAL_CAP == program_fields.LARGEST_REFERRAL_CAP
    assert api_schemas.LONGEST_EXPIRY_DAYS == program_fields.LONGEST_EXPIRY_DAYS
    assert api_schemas.LONGEST_REMINDER_DAYS == program_fields.LONGEST_REMINDER_DAYS
    assert api_schemas.MOST_TIERS == program_fields.MOST_TIERS
    assert api_schemas.LONGEST_TIER_NAME == program_fields.LONGEST_TIER_NAME
    assert api_schemas.LARGEST_THRESHOLD == program_fields.LARGEST_THRESHOLD
    assert (api_schemas.LARGEST_MULTIPLIER, api_schemas.MULTIPLIER_DECIMALS) == (
        program_fields.LARGEST_MULTIPLIER,
        program_fields.MULTIPLIER_DECIMALS,
    )
    assert api_schemas.LARGEST_SUBTOTAL == MAX_AMOUNT
    assert api_schemas.LARGEST_ADJUSTMENT == members.LARGEST_ADJUSTMENT
    assert api_schemas.LONGEST_REASON == members.LONGEST_REASON
    assert api_schemas.LONGEST_IDEMPOTENCY_KEY == members.LONGEST_IDEMPOTENCY_KEY
    assert api_schemas.HIGHEST_POINTS_COST == reward_fields.HIGHEST_POINTS_COST
    assert api_schemas.AMOUNT_LIMIT == reward_fields.AMOUNT_LIMIT
    assert api_schemas.LONGEST_NAME == reward_fields.LONGEST_NAME
    assert api_schemas.LONGEST_EXPIRY_DAYS == reward_fields.LONGEST_EXPIRY_DAYS
    assert api_schemas.LONGEST_SUBJECT == admin_notifications.LONGEST_SUBJECT
    assert api_schemas.LONGEST_BODY == admin_notifications.LONGEST_BODY
