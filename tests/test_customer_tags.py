"""Customer tags for Shopify Flow: the storefront sync run keeps `perennial-member` and
`perennial-tier-<slug>` current on each member's customer at the Shopify stand-in."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.earning.orders import order_facts
from loyalty.models import Member, StorefrontSync
from loyalty.services import storefront_sync as sync
from loyalty.services.members import member_redact
from loyalty.services.orders import order_settle
from loyalty.services.programs import TierSetting, program_update
from tests.factories import order_payload
from tests.test_storefront_sync import (  # noqa: F401 - the fixtures are used by name
    ALICE,
    earn,
    installed,
    members,
    no_pending_jobs,
    shopify,
    waits,
)

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 10, 1, 12, tzinfo=UTC)


def tags(shopify, customer_id: int = 1001) -> list[str]:  # noqa: F811
    with shopify.state.lock:
        return list(shopify.state.tags.get((ALICE, f"gid://shopify/Customer/{customer_id}"), []))


def tag_calls(shopify) -> list[list[str]]:  # noqa: F811
    """The root fields of each customer-tags call the stand-in answered."""
    with shopify.state.lock:
        return [
            call["root_fields"]
            for call in shopify.state.calls
            if call["shop"] == ALICE
            and set(call.get("root_fields") or []) & {"tagsAdd", "tagsRemove"}
        ]


def settle(shop, order_id: int, subtotal: str) -> None:
    payload = order_payload(order_id=order_id, subtotal=subtotal)
    order_settle(shop=shop, facts=order_facts(payload), now=NOON)


def test_a_tier_reached_then_lost_is_tagged_and_untagged(shopify):  # noqa: F811
    shop = installed(shopify)
    tiers = [TierSetting("Silver", 100, Decimal(1)), TierSetting("Gold Club", 500, Decimal(2))]
    program_update(shop=shop, changes={"tiers": tiers})
    with shopify.state.lock:
        shopify.state.tags[(ALICE, "gid://shopify/Customer/1001")] = ["wholesale"]

    settle(shop, 1, "150.00")
    sync.storefront_sync_run(shop=shop)
    assert tags(shopify) == ["wholesale", "perennial-member", "perennial-tier-silver"]

    settle(shop, 2, "400.00")
    run = sync.storefront_sync_run(shop=shop)
    assert Member.objects.get().tier.name == "Gold Club"
    assert tags(shopify) == ["wholesale", "perennial-member", "perennial-tier-gold-club"]
    assert run.tag_calls == 1
    assert tag_calls(shopify)[-1] == ["tagsRemove", "tagsAdd"]

    program_update(shop=shop, changes={"tiers": []})
    sync.storefront_sync_run(shop=shop)
    assert tags(shopify) == ["wholesale", "perennial-member"]
    assert StorefrontSync.objects.get(member__customer_id=1001).tags == "perennial-member"


def test_a_balance_change_with_the_same_tier_sends_no_tags(shopify):  # noqa: F811
    shop = installed(shopify)
    (member,) = members(shop, 1)
    earn(member, 10, "order-1")
    assert sync.storefront_sync_run(shop=shop).tag_calls == 1

    earn(member, 5, "order-2")
    run = sync.storefront_sync_run(shop=shop)

    assert (run.tag_calls, run.members) == (0, 1)
    assert tags(shopify) == ["perennial-member"]


def test_thirty_members_are_tagged_in_two_calls(shopify):  # noqa: F811
    shop = installed(shopify)
    for n, member in enumerate(members(shop, 30)):
        earn(member, 1, f"order-{n}")

    run = sync.storefront_sync_run(shop=shop)

    assert run.tag_calls == 2
    assert [len(fields) for fields in tag_calls(shopify)] == [25, 5]
    assert all(tags(shopify, 1001 + n) == ["perennial-member"] for n in range(30))


def test_a_redacted_member_is_never_tagged(shopify):  # noqa: F811
    shop = installed(shopify)
    (member,) = members(shop, 1)
    earn(member, 10, "order-1")
    member_redact(shop=shop, customer_id=1001)

    run = sync.storefront_sync_run(shop=shop)

    assert run.tag_calls == 0
    assert tags(shopify) == []
