"""VIP tiers as the merchant sets them and the shopper meets them: entry points and
tier-only rewards in the admin API, the account answer and redemptions, and placing every
member again after the tiers change."""

from datetime import date

import pytest

from loyalty import tasks
from loyalty.models import LedgerEntry, Member, Reason, Tier, TierChange
from loyalty.services import tiers as tiers_service
from loyalty.services.redemptions import TierRequired, reward_redeem
from loyalty.services.tiers import tier_tally_add, tiers_recompute
from tests import factories
from tests.redeeming import member_with, proxy_query, redeem
from tests.redeeming import reward as reward_made
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_admin_data_pages import page, text
from tests.test_admin_program_api import change, read
from tests.test_admin_rewards_api import create, patch
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

SILVER = {"name": "Silver", "threshold": 100, "multiplier": "1.5", "entry_points": 0}
GOLD = {"name": "Gold", "threshold": 500, "multiplier": "2", "entry_points": 50}


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def member_in(shop, tier_name, customer_id=1001, points=1000) -> Member:
    member = member_with(shop, points, customer_id)
    member.tier = Tier.objects.get(shop=shop, name=tier_name) if tier_name else None
    member.save(update_fields=["tier"])
    return member


def test_entry_points_are_saved_read_and_refused_out_of_range(client, shops):
    response = change(
        client, {"tiers": [GOLD, {k: v for k, v in SILVER.items() if k != "entry_points"}]}
    )
    assert response.status_code == 200, response.content
    assert read(client)["tiers"] == [SILVER, GOLD]

    for bad in (-1, 1_000_001, "5", True):
        response = change(client, {"tiers": [{**GOLD, "entry_points": bad}]})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["tiers[0].entry_points"]
    assert Tier.objects.get(shop__domain=ALICE, name="Gold").entry_points == 50


def test_a_reward_names_its_minimum_tier_in_any_case_within_its_own_shop(client, shops):
    change(client, {"tiers": [SILVER, GOLD]})
    response = create(
        client, {"kind": "amount_off", "points_cost": 500, "value": "5", "minimum_tier": "gOLD"}
    )
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["minimum_tier"] == "Gold"

    cleared = patch(client, made["id"], {"minimum_tier": None})
    assert cleared.json()["minimum_tier"] is None

    # Bob has no tiers: Alice's "Gold" is not his to name.
    response = create(
        client, {"kind": "amount_off", "points_cost": 5, "value": "5", "minimum_tier": "Gold"}, BOB
    )
    assert response.status_code == 400
    assert response.json()["errors"]["minimum_tier"] == [
        "No tier is called 'Gold'. The shop's tiers: none yet; add tiers on the Program page."
    ]


def test_a_tier_a_reward_needs_cannot_be_deleted(client, shops):
    change(client, {"tiers": [SILVER, GOLD]})
    create(
        client,
        {
            "kind": "free_shipping",
            "points_cost": 300,
            "name": "VIP shipping",
            "minimum_tier": "Gold",
        },
    )

    response = change(client, {"tiers": [SILVER]})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "tiers": [
            "Rewards only a tier can redeem need it: VIP shipping. Change their minimum tier "
            "on the Rewards page first, or keep the tier."
        ]
    }
    assert [t["name"] for t in read(client)["tiers"]] == ["Silver", "Gold"]


def test_a_tier_only_reward_is_shown_unaffordable_and_refused_below_its_tier(client):
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Silver", threshold=100, multiplier="1.5")
    Tier.objects.create(shop=shop, name="Gold", threshold=500, multiplier="2")
    vip = reward_made(shop, points_cost=300, minimum_tier="Gold")
    member_in(shop, "Silver", 1001)
    member_in(shop, "Gold", 1002)

    silver_view = client.get("/proxy/api/account?" + proxy_query()).json()["rewards"][0]
    assert (silver_view["affordable"], silver_view["minimum_tier"], silver_view["reason"]) == (
        False,
        "Gold",
        "tier_required",
    )
    gold_view = client.get("/proxy/api/account?" + proxy_query(customer="1002")).json()
    assert (gold_view["rewards"][0]["affordable"], gold_view["rewards"][0]["reason"]) == (
        True,
        None,
    )

    response = redeem(client, {"reward_id": vip.pk})
    assert response.status_code == 409
    assert response.json() == {
        "error": "This reward is for Gold members and higher tiers; reach Gold to redeem it.",
        "code": "tier_required",
    }
    silver = Member.objects.get(shop=shop, customer_id=1001)
    assert silver.balance == 1000
    assert not LedgerEntry.objects.filter(member=silver, reason=Reason.REWARD_REDEEMED).exists()
    with pytest.raises(TierRequired):
        reward_redeem(shop=shop, customer_id=1003, reward=vip)


def recompute_all(shop) -> list[int]:
    batches, after_id = [], 0
    while (last := tiers_recompute(shop=shop, after_id=after_id)) is not None:
        batches.append(last)
        after_id = last
    return batches


def test_changing_the_tiers_recomputes_everyone_in_batches(monkeypatch):
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Silver", threshold=100, multiplier="1.5")
    gold = Tier.objects.create(
        shop=shop, name="Gold", threshold=500, multiplier="2", entry_points=50
    )
    day = date(2026, 10, 1)
    members = []
    for customer_id, points in ((1, 50), (2, 150), (3, 300), (4, 600), (5, 0)):
        member = member_in(shop, None, customer_id, points=0)
        tier_tally_add(member=member, day=day, points=points)
        members.append(member)
    members[3].tier = gold  # reached before the change
    members[3].save(update_fields=["tier"])
    # Gold now starts at 250, Silver at 40.
    Tier.objects.filter(shop=shop, name="Silver").update(threshold=40)
    Tier.objects.filter(pk=gold.pk).update(threshold=250)
    monkeypatch.setattr(tiers_service, "RECOMPUTE_BATCH", 2)

    done = recompute_all(shop)

    assert done == [members[1].pk, members[3].pk, members[4].pk]
    placed = {
        m.customer_id: m.tier.name if m.tier else None
        for m in Member.objects.filter(shop=shop).select_related("tier")
    }
    assert placed == {1: "Silver", 2: "Silver", 3: "Gold", 4: "Gold", 5: None}
    assert TierChange.objects.filter(shop=shop, cause="recomputed").count() == 3
    # Member 3 reached Gold: its entry points, once; member 4 was already there.
    entries = LedgerEntry.objects.filter(shop=shop, reason=Reason.TIER_ENTRY)
    assert [(e.member.customer_id, e.points) for e in entries] == [(3, 50)]
    recompute_all(shop)  # again: everyone is where they belong, nothing moves
    assert TierChange.objects.filter(shop=shop).count() == 3


def test_saving_tiers_basis_or_window_sends_the_recompute_job(
    client, shops, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks, "tiers_recompute_enqueue", sent.append)
    alice = shops[0]
    with django_capture_on_commit_callbacks(execute=True):
        change(client, {"tiers": [SILVER]})
        change(client, {"tier_window": "rolling_12_months"})
        change(client, {"signup_points": 5})
    assert sent == [alice.pk, alice.pk]


def test_the_recompute_job_runs_batch_after_batch(monkeypatch):
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Silver", threshold=0, multiplier="1.5")
    for customer_id in range(1, 6):
        member_in(shop, None, customer_id, points=0)
    monkeypatch.setattr(tiers_service, "RECOMPUTE_BATCH", 2)
    sent = []
    monkeypatch.setattr(tasks.recompute_tiers, "send", lambda *args: sent.append(args))

    tasks.recompute_tiers.fn(shop.pk, 0)
    while sent:
        tasks.recompute_tiers.fn(*sent.pop())

    assert Member.objects.filter(shop=shop, tier__name="Silver").count() == 5
    assert TierChange.objects.filter(shop=shop).count() == 5


def test_the_member_detail_shows_the_tier_history_to_its_own_shop_only(client, shops):
    alice = shops[0]
    change(client, {"tiers": [SILVER, GOLD]})
    member = member_in(alice, None, 1001, points=0)
    alice.refresh_from_db()
    tier_tally_add(member=member, day=date(2026, 10, 1), points=120)
    tiers_service.tier_after_earning(member=member, program=alice.program, day=date(2026, 10, 1))

    response = client.get("/api/admin/members/1001", headers=as_merchant())
    assert response.status_code == 200
    [moved] = response.json()["tier_changes"]
    assert (moved["from"], moved["to"], moved["cause"], moved["measure"]) == (
        None,
        "Silver",
        "earned",
        120,
    )
    assert moved["cause_label"] == "Reached by an order"
    assert client.get("/api/admin/members/1001", headers=as_merchant(BOB)).status_code == 404
    html = page(client, "/members/1001")
    assert '<s-section heading="VIP tier history">' in html
    assert "No tier → Silver Reached by an order 120" in text(html)
