"""A free product reward gives one unit free, however many the shopper puts in the cart: the
discount is one unit's price (the product's most expensive variant, read from Shopify when
redeemed) off that product only, for that customer only."""

from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import LedgerEntry, Reason, Redemption, RedemptionStatus
from loyalty.shopify.discounts import Grant, grant_make
from tests import redeeming
from tests.redeeming import discounts, install, member_with, redeem, reward
from tests.shopify_signing import ALICE

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify

MUG = 7982003224742
MUG_GID = f"gid://shopify/Product/{MUG}"


def product_reads(standin) -> list[dict]:
    with standin.state.lock:
        return [c for c in standin.state.calls if c.get("root_fields") == ["product"]]


def test_the_discount_is_one_unit_of_the_dearest_variant_off_that_product(client, shopify):
    shop = install()
    member = member_with(shop, 1000)
    shopify.state.set_product(ALICE, MUG, ["12.00", "15.00"], title="Mug")
    mug = reward(shop, "free_product", points_cost=800, product_id=MUG)

    response = redeem(client, {"reward_id": mug.pk})

    assert response.status_code == 201, response.content
    assert response.json()["balance"] == 200
    [made] = discounts(shopify)
    terms = made["input"]
    assert made["type"] == "DiscountCodeBasic"
    assert terms["customerGets"] == {
        "value": {"discountAmount": {"amount": "15.00", "appliesOnEachItem": False}},
        "items": {"products": {"productsToAdd": [MUG_GID]}},
    }
    assert terms["context"] == {"customers": {"add": ["gid://shopify/Customer/1001"]}}
    assert (terms["usageLimit"], terms["appliesOncePerCustomer"]) == (1, True)
    # The product is read by a query whose id travels as a variable.
    [read] = product_reads(shopify)
    assert read["variables"] == {"id": MUG_GID}
    assert MUG_GID not in read["query"]
    redemption = Redemption.objects.get(pk=response.json()["id"])
    assert redemption.status == RedemptionStatus.READY
    member.refresh_from_db()
    assert member.balance == 200


def test_the_price_is_read_when_redeemed_not_when_the_reward_was_made(client, shopify):
    shop = install()
    member_with(shop, 2000)
    mug = reward(shop, "free_product", points_cost=800, product_id=MUG)
    shopify.state.set_product(ALICE, MUG, ["9.50"])
    assert redeem(client, {"reward_id": mug.pk}).status_code == 201
    # The merchant changes the price in Shopify admin.
    shopify.state.set_product(ALICE, MUG, ["11.25", "10.00"])
    assert redeem(client, {"reward_id": mug.pk}).status_code == 201

    amounts = [
        d["input"]["customerGets"]["value"]["discountAmount"]["amount"] for d in discounts(shopify)
    ]
    assert amounts == ["9.50", "11.25"]


def test_a_product_deleted_at_shopify_refuses_the_redemption_and_gives_the_points_back(
    client, shopify
):
    shop = install()
    member = member_with(shop, 1000)
    mug = reward(shop, "free_product", points_cost=800, product_id=MUG)

    response = redeem(client, {"reward_id": mug.pk})

    assert response.status_code == 502, response.content
    answer = response.json()
    assert (answer["code"], answer["status"], answer["balance"]) == (
        "reward_not_created",
        "failed",
        1000,
    )
    assert discounts(shopify) == []
    redemption = Redemption.objects.get(pk=answer["id"])
    assert redemption.status == RedemptionStatus.FAILED
    assert f"product {MUG_GID} no longer exists" in redemption.last_error
    refund = LedgerEntry.objects.get(member=member, reason=Reason.REDEMPTION_REFUNDED)
    assert refund.points == 800
    assert "choose another product for the reward" in refund.note
    member.refresh_from_db()
    assert member.balance == 1000


def test_without_read_products_the_redemption_is_refused_and_the_points_come_back(client, shopify):
    # A shop that installed before the app asked for read_products.
    shopify.state.scopes = ("read_customers", "write_discounts")
    shop = install()
    member = member_with(shop, 1000)
    shopify.state.set_product(ALICE, MUG, ["12.00"])
    mug = reward(shop, "free_product", points_cost=800, product_id=MUG)

    response = redeem(client, {"reward_id": mug.pk})

    assert response.status_code == 502
    assert discounts(shopify) == []
    redemption = Redemption.objects.get(pk=response.json()["id"])
    assert "read_products" in redemption.last_error
    member.refresh_from_db()
    assert member.balance == 1000


def test_a_retry_after_the_product_went_keeps_the_discount_an_earlier_try_made(shopify):
    # The first try made the discount but its answer was lost; the merchant then deleted
    # the product. The retry must answer the discount that exists, not refund the points.
    shop = install()
    shopify.state.set_product(ALICE, MUG, ["12.00"])
    grant = Grant(
        code="PRN-MUGS-FREE",
        title="Free mug (PRN-MUGS-FREE)",
        kind="free_product",
        value=Decimal("0"),
        currency="USD",
        customer_id=1001,
        starts_at=timezone.now(),
        product_id=MUG,
    )
    made = grant_make(shop, grant)
    shopify.state.delete_product(ALICE, MUG)

    assert grant_make(shop, grant) == made
    assert len(discounts(shopify)) == 1
