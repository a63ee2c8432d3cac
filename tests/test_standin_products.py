"""The stand-in's products: made and deleted through /_standin/products, read with
`product(id:)` as the GraphQL Admin API answers it (null once deleted, scope read_products)."""

import pytest
import requests

from loyalty.shopify.admin_api import AdminApiError, admin_graphql
from tests import redeeming
from tests.redeeming import install
from tests.shopify_signing import ALICE, BOB

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify

READ = (
    "query Read($id: ID!) { product(id: $id) { id title"
    " priceRangeV2 { minVariantPrice { amount currencyCode }"
    " maxVariantPrice { amount currencyCode } } variants(first: 10) { nodes { price } } } }"
)
GID = "gid://shopify/Product/501"


def test_a_product_made_through_the_control_route_answers_its_price_range(shopify):
    shop = install()
    made = requests.post(
        f"{shopify.url}/_standin/products",
        json={"shop": ALICE, "id": 501, "prices": ["12.00", "15.00"], "title": "Mug"},
        timeout=5,
    )
    assert made.status_code == 200, made.text

    product = admin_graphql(shop, READ, {"id": GID})["product"]

    assert product["id"] == GID and product["title"] == "Mug"
    assert product["priceRangeV2"] == {
        "minVariantPrice": {"amount": "12.00", "currencyCode": "USD"},
        "maxVariantPrice": {"amount": "15.00", "currencyCode": "USD"},
    }
    assert [v["price"] for v in product["variants"]["nodes"]] == ["12.00", "15.00"]


def test_a_deleted_product_and_another_shops_product_read_as_null(shopify):
    alice = install()
    bob = install(BOB)
    shopify.state.set_product(ALICE, 501, ["8.00"])

    assert admin_graphql(bob, READ, {"id": GID})["product"] is None
    deleted = requests.delete(
        f"{shopify.url}/_standin/products", params={"shop": ALICE, "id": "501"}, timeout=5
    )
    again = requests.delete(
        f"{shopify.url}/_standin/products", params={"shop": ALICE, "id": "501"}, timeout=5
    )

    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 501})
    assert again.status_code == 404
    assert admin_graphql(alice, READ, {"id": GID})["product"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"shop": ALICE, "id": 501, "prices": []},
        {"shop": ALICE, "id": 501, "prices": ["-1"]},
        {"shop": ALICE, "id": 501, "prices": ["NaN"]},
        {"shop": ALICE, "id": "mug", "prices": ["1.00"]},
        {"shop": "nowhere", "id": 501, "prices": ["1.00"]},
    ],
)
def test_the_control_route_refuses_a_product_it_cannot_make(shopify, body):
    answer = requests.post(f"{shopify.url}/_standin/products", json=body, timeout=5)

    assert answer.status_code == 400
    assert shopify.state.products == {}


def test_without_read_products_the_product_field_is_access_denied(shopify):
    shopify.state.scopes = ("read_orders", "write_discounts")
    shop = install()
    shopify.state.set_product(ALICE, 501, ["8.00"])

    with pytest.raises(AdminApiError) as denied:
        admin_graphql(shop, READ, {"id": GID})

    [error] = denied.value.errors
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["extensions"]["requiredAccess"] == "`read_products` access scope."
