"""The storefront metafields: marked stale by every change, written in batches of 25 by the
shop's job, coalesced, and converging through a throttled or failing Shopify (the stand-in)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.jobs import outstanding_messages
from loyalty import tasks
from loyalty.models import Member, Reward, Shop, StorefrontSync, Tier
from loyalty.services import storefront_sync as sync
from loyalty.services.ledger import points_record
from loyalty.services.programs import TierSetting, program_update
from loyalty.services.rewards import reward_create
from loyalty.services.widget import widget_settings_update
from loyalty.shopify import admin_api
from loyalty.shopify.admin_api import AdminApiError
from standin.throttle import fault_from
from tests.test_admin_api_client import waits  # noqa: F401 - autouse: waits not slept
from tests.test_oauth_and_tokens import install, shopify  # noqa: F401

ALICE = "alice.myshopify.com"
BOB = "bob.myshopify.com"
LOYALTY = "app--1--loyalty"  # where the stand-in keeps "$app:loyalty" (app id 1)


@pytest.fixture(autouse=True)
def no_pending_jobs():
    """Each test starts with no shop's sync job remembered as waiting."""

    def forget() -> None:
        tasks._storefront_pending.clear()
        tasks._storefront_sent_at.clear()
        client = getattr(tasks.broker, "client", None)
        if client is not None:
            for key in client.scan_iter("perennial:storefront-sync*"):
                client.delete(key)

    forget()
    yield
    forget()


def installed(shopify, domain=ALICE) -> Shop:  # noqa: F811
    shop = install(domain)
    with shopify.state.lock:
        shopify.state.calls.clear()
    return shop


def members(shop: Shop, count: int, *, tier: Tier | None = None, first: int = 1001) -> list:
    made = Member.objects.bulk_create(
        Member(shop=shop, customer_id=first + n, email=f"c{first + n}@example.com", tier=tier)
        for n in range(count)
    )
    return list(Member.objects.filter(pk__in=[m.pk for m in made]).order_by("customer_id"))


def earn(member: Member, points: int, key: str) -> None:
    points_record(member=member, reason="order_earned", idempotency_key=key, points=points)


def written(shopify, domain=ALICE) -> dict[tuple[int, str], str]:  # noqa: F811
    """(customer id, key) -> value of the loyalty metafields the stand-in holds."""
    with shopify.state.lock:
        return {
            (int(owner.rsplit("/", 1)[1]), key): record["value"]
            for (shop, owner, namespace, key), record in shopify.state.metafields.items()
            if shop == domain and namespace == LOYALTY
        }


def set_calls(shopify, domain=ALICE) -> list[int]:  # noqa: F811
    """How many metafields each successful metafieldsSet call carried, in order."""
    with shopify.state.lock:
        return [
            len(call["variables"]["metafields"])
            for call in shopify.state.calls
            if call["shop"] == domain
            and call.get("root_fields") == ["metafieldsSet"]
            and call["status"] == 200
            and "fault" not in call
        ]


def stale(shop: Shop) -> int:
    return StorefrontSync.objects.filter(shop=shop, version__gt=F("synced_version")).count()


@pytest.mark.django_db
def test_sixty_members_without_tiers_take_five_calls_of_at_most_25(shopify):  # noqa: F811
    shop = installed(shopify)
    crowd = members(shop, 60)
    for n, member in enumerate(crowd):
        earn(member, 10 + n, f"order-{n}")

    run = sync.storefront_sync_run(shop=shop)

    # 60 members x (balance, pending) = 120 metafields
    assert set_calls(shopify) == [25, 25, 25, 25, 20]
    assert (run.calls, run.members, run.more) == (5, 60, False)
    values = written(shopify)
    assert len(values) == 120
    for n, member in enumerate(crowd):
        assert values[(member.customer_id, "balance")] == str(10 + n)
        assert values[(member.customer_id, "pending")] == "0"
    assert stale(shop) == 0


@pytest.mark.django_db
def test_sixty_members_with_a_tier_take_eight_calls(shopify):  # noqa: F811
    shop = installed(shopify)
    gold = Tier.objects.create(shop=shop, name="Gold", threshold=100)
    for n, member in enumerate(members(shop, 60, tier=gold)):
        earn(member, 5, f"order-{n}")

    sync.storefront_sync_run(shop=shop)

    # 60 x 3 = 180 metafields: 7 full calls and 5 left; a member may straddle two calls
    assert set_calls(shopify) == [25] * 7 + [5]
    values = written(shopify)
    assert {values[(1001 + n, "tier")] for n in range(60)} == {"Gold"}
    assert StorefrontSync.objects.filter(shop=shop, tier_written=True).count() == 60
    assert stale(shop) == 0


@pytest.mark.django_db
def test_a_member_changed_ten_times_is_written_once_with_the_final_balance(shopify):  # noqa: F811
    shop = installed(shopify)
    (member,) = members(shop, 1)
    for n in range(10):
        earn(member, 7, f"order-{n}")
    points_record(member=member, reason="order_earned", idempotency_key="held", pending_points=30)

    run = sync.storefront_sync_run(shop=shop)

    assert run.calls == 1 and set_calls(shopify) == [2]
    assert written(shopify) == {(1001, "balance"): "70", (1001, "pending"): "30"}
    assert StorefrontSync.objects.get(member=member).version == 11


@pytest.mark.django_db
def test_a_change_during_the_write_stays_stale_for_the_next_run(shopify, monkeypatch):  # noqa: F811
    shop = installed(shopify)
    (member,) = members(shop, 1)
    earn(member, 10, "first")
    call = sync.admin_graphql

    def meanwhile_another_order(*args, **kwargs):
        answer = call(*args, **kwargs)
        earn(Member.objects.get(pk=member.pk), 5, "second")
        return answer

    monkeypatch.setattr(sync, "admin_graphql", meanwhile_another_order)
    sync.storefront_sync_run(shop=shop)
    monkeypatch.setattr(sync, "admin_graphql", call)

    assert written(shopify)[(1001, "balance")] == "10"
    assert stale(shop) == 1
    sync.storefront_sync_run(shop=shop)
    assert written(shopify)[(1001, "balance")] == "15"
    assert stale(shop) == 0


@pytest.mark.django_db
def test_a_throttled_and_failing_shopify_still_converges(shopify, waits):  # noqa: F811
    shop = installed(shopify)
    crowd = members(shop, 40)
    for n, member in enumerate(crowd):
        earn(member, n + 1, f"order-{n}")
    # A small bucket (the 80 metafields need 4 mutations of 10 points), a throttle and two
    # 503s on metafieldsSet along the way.
    with shopify.state.lock:
        bucket = shopify.state.bucket(ALICE)
        bucket.maximum, bucket.restore_rate, bucket.available = 15.0, 5.0, 15.0
    # Their customer tags are current (a batch of tags costs more than this bucket holds):
    # this test is about the metafields.
    StorefrontSync.objects.filter(shop=shop).update(tags="perennial-member")
    for kind, count in (("throttled", 1), ("http_503", 2)):
        with shopify.state.lock:
            shopify.state.faults.setdefault(ALICE, []).append(
                stand_in_fault(kind=kind, count=count, operation="metafieldsSet")
            )

    run = sync.storefront_sync_run(shop=shop)

    assert run.members == 40
    values = written(shopify)
    assert all(values[(m.customer_id, "balance")] == str(n + 1) for n, m in enumerate(crowd))
    assert set_calls(shopify) == [25, 25, 25, 5]
    assert waits  # it waited for the bucket, the throttle and the 503s
    assert stale(shop) == 0


@pytest.mark.django_db
def test_a_shopify_down_for_good_leaves_the_rest_stale_for_later(shopify):  # noqa: F811
    shop = installed(shopify)
    for n, member in enumerate(members(shop, 20)):
        earn(member, 1, f"order-{n}")
    with shopify.state.lock:
        shopify.state.faults[ALICE] = [
            stand_in_fault(kind="http_503", count=admin_api.MAX_ATTEMPTS, operation="metafieldsSet")
        ]

    with pytest.raises(AdminApiError) as failed:
        sync.storefront_sync_run(shop=shop)

    assert failed.value.transient
    assert stale(shop) == 20
    assert sync.storefront_stale_shops() == [shop.pk]
    sync.storefront_sync_run(shop=shop)
    assert stale(shop) == 0 and len(written(shopify)) == 40


@pytest.mark.django_db
def test_each_shop_writes_only_its_own_members(shopify):  # noqa: F811
    alice, bob = installed(shopify, ALICE), installed(shopify, BOB)
    (ann,) = members(alice, 1, first=1001)
    (ben,) = members(bob, 1, first=2001)
    earn(ann, 11, "a")
    earn(ben, 22, "b")
    assert sorted(sync.storefront_stale_shops()) == sorted([alice.pk, bob.pk])

    sync.storefront_sync_run(shop=alice)

    assert written(shopify, ALICE) == {(1001, "balance"): "11", (1001, "pending"): "0"}
    assert written(shopify, BOB) == {}
    assert sync.storefront_stale_shops() == [bob.pk]
    with shopify.state.lock:
        tokens = {call["shop"] for call in shopify.state.calls}
    assert tokens == {ALICE}


@pytest.mark.django_db
def test_a_member_who_loses_their_tier_has_it_deleted(shopify):  # noqa: F811
    shop = installed(shopify)
    program_update(shop=shop, changes={"tiers": [TierSetting("Gold", 100, Decimal("1.5"))]})
    gold = Tier.objects.get(shop=shop)
    (member,) = members(shop, 1, tier=gold)
    earn(member, 150, "order")
    sync.storefront_sync_run(shop=shop)
    assert written(shopify)[(1001, "tier")] == "Gold"

    program_update(shop=shop, changes={"tiers": []})  # the tier goes, the member has none
    run = sync.storefront_sync_run(shop=shop)

    assert written(shopify) == {(1001, "balance"): "150", (1001, "pending"): "0"}
    assert run.members == 1
    assert StorefrontSync.objects.get(member=member).tier_written is False


@pytest.mark.django_db
def test_a_renamed_tier_is_rewritten_for_its_members(shopify):  # noqa: F811
    shop = installed(shopify)
    program_update(shop=shop, changes={"tiers": [TierSetting("Gold", 100, Decimal("1.5"))]})
    (member,) = members(shop, 1, tier=Tier.objects.get(shop=shop))
    earn(member, 150, "order")
    sync.storefront_sync_run(shop=shop)

    # The same tier (it keeps its id and members), spelt anew.
    program_update(shop=shop, changes={"tiers": [TierSetting("GOLD", 100, Decimal("1.5"))]})
    sync.storefront_sync_run(shop=shop)

    assert written(shopify)[(1001, "tier")] == "GOLD"


@pytest.mark.django_db
def test_a_member_shopify_refuses_is_skipped_and_the_others_written(shopify):  # noqa: F811
    shop = installed(shopify)
    odd = Tier.objects.create(shop=shop, name="Two\nlines", threshold=1)
    plain, refused = members(shop, 2)
    Member.objects.filter(pk=refused.pk).update(tier=odd)
    earn(plain, 3, "a")
    earn(Member.objects.get(pk=refused.pk), 4, "b")

    run = sync.storefront_sync_run(shop=shop)

    assert run.skipped == [refused.pk]
    # All or nothing: the first call (both members) wrote nothing; the second, without the
    # refused member, wrote the other.
    assert set_calls(shopify) == [5, 2]
    assert written(shopify) == {(1001, "balance"): "3", (1001, "pending"): "0"}
    assert stale(shop) == 0


@pytest.mark.django_db
def test_redacted_members_are_not_written(shopify):  # noqa: F811
    shop = installed(shopify)
    (member,) = members(shop, 1)
    earn(member, 3, "a")
    Member.objects.filter(pk=member.pk).update(redacted_at=timezone.now())

    run = sync.storefront_sync_run(shop=shop)

    assert run.calls == 0 and written(shopify) == {} and stale(shop) == 0


@pytest.mark.django_db
def test_widget_program_and_rewards_land_in_the_app_data_metafields(shopify):  # noqa: F811
    shop = installed(shopify)
    widget_settings_update(shop=shop, changes={"accent_color": "#0a3d2e"})
    program_update(
        shop=shop,
        changes={
            "signup_points": 100,
            "review_points": 50,
            "review_photo_bonus_points": 25,
            "tiers": [TierSetting("Silver", 500, Decimal("1.25"))],
        },
    )
    reward_create(shop=shop, kind="amount_off", points_cost=500, value=Decimal("5"))
    Reward.objects.create(shop=shop, kind="free_shipping", points_cost=300, enabled=False)

    run = sync.storefront_sync_run(shop=shop)

    assert run.app_data and run.calls == 1
    installation = shopify.state.app_installation_id(ALICE)
    with shopify.state.lock:
        stored = {
            key: (record["type"], json.loads(record["value"]))
            for (domain, owner, namespace, key), record in shopify.state.metafields.items()
            if (domain, owner, namespace) == (ALICE, installation, "loyalty")
        }
    assert stored["widget"] == (
        "json",
        {
            "accent_color": "#0a3d2e",
            "accent_text_color": "#ffffff",
            "panel_background_color": "#ffffff",
            "panel_text_color": "#1a1a1a",
            "launcher_position": "bottom_right",
            "texts": {
                "en": {
                    "launcher_label": "Rewards",
                    "panel_title": "Rewards",
                    "guest_title": "Join our rewards program",
                    "guest_message": "Create an account to earn points on every order and "
                    "turn them into discounts.",
                    "member_title": "Your rewards",
                    "member_message": "Spend your points on the rewards below.",
                }
            },
        },
    )
    reward = Reward.objects.get(shop=shop, enabled=True)
    assert stored["program"] == (
        "json",
        {
            "currency": "USD",
            "ways_to_earn": [
                {"key": "purchase", "points_per_unit": "1"},
                {"key": "signup", "points": 100},
                {"key": "review", "points": 50, "photo_bonus": 25},
            ],
            "tiers": [{"name": "Silver", "threshold": 500, "multiplier": "1.25"}],
            "tier_basis": "points_earned",
            "rewards": [
                {
                    "id": reward.pk,
                    "name": "5.00 USD off",
                    "kind": "amount_off",
                    "points_cost": 500,
                    "value": "5.00",
                    "minimum_subtotal": None,
                }
            ],
        },
    )
    assert stale(shop) == 0


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_sends_one_job_per_shop(shopify):  # noqa: F811
    alice, bob = installed(shopify, ALICE), installed(shopify, BOB)
    crowd = members(alice, 50)
    (ben,) = members(bob, 1, first=2001)
    queue = tasks.sync_storefront.queue_name + ".DQ"  # delayed messages
    before = outstanding_messages(queue)

    for n in range(200):
        with transaction.atomic():
            earn(crowd[n % 50], 1, f"order-{n}")
    earn(ben, 1, "bob-order")

    assert outstanding_messages(queue) - before == 2
    # Once Alice's job has started, the next change asks for another.
    tasks.sync_storefront.fn(alice.pk)
    assert written(shopify)[(1001, "balance")] == "4"
    tasks._storefront_sent_at.clear()  # as if more than a second had passed
    earn(crowd[0], 1, "later")
    assert outstanding_messages(queue) - before == 3


@pytest.mark.django_db(transaction=True)
def test_a_job_never_runs_beside_another_of_its_shop(shopify):  # noqa: F811
    # Two runs at once could land an older read's values last.
    shop = installed(shopify)
    (member,) = members(shop, 1)
    earn(member, 5, "order")
    queue = tasks.sync_storefront.queue_name + ".DQ"
    before = outstanding_messages(queue)
    assert tasks._storefront_claim(shop.pk, running=True)  # a run of this shop is under way

    tasks.sync_storefront.fn(shop.pk)

    assert set_calls(shopify) == []
    assert outstanding_messages(queue) - before == 1  # it asked to run again later
    tasks._storefront_release(shop.pk, running=True)
    tasks.sync_storefront.fn(shop.pk)
    assert written(shopify)[(1001, "balance")] == "5"


@pytest.mark.django_db
def test_the_minute_job_resends_only_shops_with_stale_rows(shopify, monkeypatch):  # noqa: F811
    alice, bob = installed(shopify, ALICE), installed(shopify, BOB)
    (ann,) = members(alice, 1)
    earn(ann, 1, "a")
    members(bob, 1, first=2001)
    asked: list[int] = []
    monkeypatch.setattr(tasks, "storefront_sync_request", asked.append)

    tasks.resync_stale_storefronts.fn()

    assert asked == [alice.pk]


def stand_in_fault(**fault):
    return fault_from(fault)
