"""The stand-in checks a discount's input as Shopify documents it, so a redemption that
passes here sends every required field, in the right shape."""

import pytest

from loyalty.shopify.admin_api import admin_graphql
from loyalty.shopify.discounts import BASIC_CREATE, DISCOUNT_BY_CODE, FREE_SHIPPING_CREATE
from tests import redeeming
from tests.redeeming import install, knobs

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify

COMPLETE = {
    "title": "5.00 USD off (PRN-AAAA-BBBB)",
    "code": "PRN-AAAA-BBBB",
    "startsAt": "2026-11-26T10:00:00Z",
    "endsAt": None,
    "context": {"customers": {"add": ["gid://shopify/Customer/1001"]}},
    "usageLimit": 1,
    "appliesOncePerCustomer": True,
    "customerGets": {
        "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
        "items": {"all": True},
    },
}


def create(shop, query=BASIC_CREATE, root="discountCodeBasicCreate", **changes) -> dict:
    discount = {k: v for k, v in (COMPLETE | changes).items() if v is not ...}
    return admin_graphql(shop, query, {"discount": discount})[root]


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"title": ...}, ["basicCodeDiscount", "title"], "BLANK"),
        ({"startsAt": ...}, ["basicCodeDiscount", "startsAt"], "BLANK"),
        ({"context": ...}, ["basicCodeDiscount", "context"], "BLANK"),
        (
            {"context": {"customers": {"add": ["1001"]}}},
            ["basicCodeDiscount", "context", "customers", "add"],
            "INVALID",
        ),
        ({"usageLimit": 0}, ["basicCodeDiscount", "usageLimit"], "INVALID"),
        (
            {"customerGets": {"value": {"percentage": 10}, "items": {"all": True}}},
            ["basicCodeDiscount", "customerGets", "value"],
            "VALUE_OUTSIDE_RANGE",
        ),
        (
            {"customerGets": {"value": {"percentage": 0.5}, "items": {}}},
            ["basicCodeDiscount", "customerGets", "items"],
            "INVALID",
        ),
        (
            {"minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "-1"}}},
            [
                "basicCodeDiscount",
                "minimumRequirement",
                "subtotal",
                "greaterThanOrEqualToSubtotal",
            ],
            "INVALID",
        ),
        ({"endsAt": "2026-11-26T09:00:00Z"}, ["basicCodeDiscount", "endsAt"], "INVALID"),
    ],
)
def test_an_incomplete_or_malformed_discount_is_refused_and_nothing_made(
    shopify, changes, field, code
):
    shop = install()

    payload = create(shop, **changes)

    assert payload["codeDiscountNode"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert shopify.state.discounts == {}


def test_a_complete_discount_is_made_and_found_again_by_its_code_in_any_case(shopify):
    shop = install()

    made = create(shop)
    shipping = create(
        shop,
        FREE_SHIPPING_CREATE,
        "discountCodeFreeShippingCreate",
        code="PRN-CCCC-DDDD",
        customerGets=...,
    )
    found = admin_graphql(shop, DISCOUNT_BY_CODE, {"code": "prn-aaaa-bbbb"})
    missing = admin_graphql(shop, DISCOUNT_BY_CODE, {"code": "PRN-NONE-NONE"})

    assert made["userErrors"] == [] and shipping["userErrors"] == []
    assert found["codeDiscountNodeByCode"]["id"] == made["codeDiscountNode"]["id"]
    assert missing["codeDiscountNodeByCode"] is None


def test_the_refuse_knob_answers_user_errors_for_the_next_mutations_only(shopify):
    shop = install()
    knobs(shopify, refuse_count=1)

    refused = create(shop)
    made = create(shop)

    assert refused["userErrors"][0]["message"] == "Refused by the stand-in (refuse_count)"
    assert made["userErrors"] == []
    assert len(shopify.state.discounts) == 1


def test_store_credit_needs_an_owner_shopify_knows(shopify):
    from loyalty.shopify.discounts import STORE_CREDIT

    shop = install()
    credit = {"creditAmount": {"amount": "5.00", "currencyCode": "USD"}}

    bad = admin_graphql(shop, STORE_CREDIT, {"owner": "1001", "credit": credit})
    good = admin_graphql(
        shop, STORE_CREDIT, {"owner": "gid://shopify/Customer/1001", "credit": credit}
    )

    assert bad["storeCreditAccountCredit"]["userErrors"][0]["code"] == "OWNER_NOT_FOUND"
    assert good["storeCreditAccountCredit"]["storeCreditAccountTransaction"]["amount"] == {
        "amount": "5.00",
        "currencyCode": "USD",
    }
