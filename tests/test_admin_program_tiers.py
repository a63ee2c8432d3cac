"""VIP tiers in the program API: a PUT of `tiers` replaces the list in one transaction."""

import pytest
from django.db import IntegrityError, connection, transaction

from loyalty.models import Member, Tier
from tests import factories
from tests.conftest import needs_postgres
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_admin_program_api import DEFAULTS, change, read
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db

SILVER = {"name": "Silver", "threshold": 500, "multiplier": "1.25", "entry_points": 0}
GOLD = {"name": "Gold", "threshold": 2000, "multiplier": "1.5", "entry_points": 50}


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice"), installed_shop(BOB, "Bob")


def tier_rows(domain=ALICE) -> list[tuple[str, int, str]]:
    return [
        (tier.name, tier.threshold, str(tier.multiplier))
        for tier in Tier.objects.filter(shop__domain=domain).order_by("threshold")
    ]


def test_tiers_are_saved_and_answered_lowest_first(client, shops):
    bronze = {"name": "Bronze", "threshold": 0, "multiplier": 1}
    response = change(client, {"tiers": [GOLD, bronze, SILVER]})
    assert response.status_code == 200, response.content
    tiers = [
        {"name": "Bronze", "threshold": 0, "multiplier": "1", "entry_points": 0},
        SILVER,
        GOLD,
    ]
    assert response.json() == DEFAULTS | {"tiers": tiers}
    assert read(client)["tiers"] == tiers
    assert tier_rows() == [("Bronze", 0, "1.00"), ("Silver", 500, "1.25"), ("Gold", 2000, "1.50")]


def test_multipliers_are_decimal_strings_or_json_numbers(client, shops):
    tiers = [
        {"name": "A", "threshold": 1, "multiplier": "2.50"},
        {"name": "B", "threshold": 2, "multiplier": 1.75},
        {"name": "C", "threshold": 3, "multiplier": "10"},
        {"name": "  D  ", "threshold": 1_000_000_000, "multiplier": 3},
    ]
    response = change(client, {"tiers": tiers})
    assert response.status_code == 200, response.content
    assert [(t["name"], t["multiplier"]) for t in response.json()["tiers"]] == [
        ("A", "2.5"),
        ("B", "1.75"),
        ("C", "10"),
        ("D", "3"),
    ]


def test_other_settings_leave_the_tiers_alone_and_an_empty_list_removes_them(client, shops):
    change(client, {"tiers": [SILVER, GOLD]})
    assert change(client, {"tier_basis": "amount_spent"}).json()["tiers"] == [SILVER, GOLD]
    assert tier_rows() == [("Silver", 500, "1.25"), ("Gold", 2000, "1.50")]

    assert change(client, {"tiers": []}).json() == DEFAULTS | {
        "tier_basis": "amount_spent",
        "tiers": [],
    }
    assert tier_rows() == []


def test_a_tier_kept_by_name_keeps_its_members_even_when_thresholds_swap(client, shops):
    alice, _ = shops
    change(
        client, {"tiers": [SILVER, GOLD, {"name": "Platinum", "threshold": 9000, "multiplier": 2}]}
    )
    silver, gold, platinum = Tier.objects.filter(shop=alice).order_by("threshold")
    ada = factories.member(alice, 1001)
    bea = factories.member(alice, 1002)
    cy = factories.member(alice, 1003)
    Member.objects.filter(pk=ada.pk).update(tier=silver)
    Member.objects.filter(pk=bea.pk).update(tier=gold)
    Member.objects.filter(pk=cy.pk).update(tier=platinum)

    # Gold and Silver swap thresholds (and Gold is renamed in another case), Platinum goes,
    # Diamond comes.
    response = change(
        client,
        {
            "tiers": [
                {"name": "GOLD", "threshold": 500, "multiplier": "1.5"},
                {"name": "Silver", "threshold": 2000, "multiplier": "1.1"},
                {"name": "Diamond", "threshold": 9000, "multiplier": "3"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert tier_rows() == [
        ("GOLD", 500, "1.50"),
        ("Silver", 2000, "1.10"),
        ("Diamond", 9000, "3.00"),
    ]
    assert Tier.objects.get(pk=gold.pk).name == "GOLD"
    assert Tier.objects.get(pk=silver.pk).threshold == 2000
    assert not Tier.objects.filter(pk=platinum.pk).exists()
    tiers_of = dict(Member.objects.filter(shop=alice).values_list("customer_id", "tier_id"))
    assert tiers_of == {1001: silver.pk, 1002: gold.pk, 1003: None}


@pytest.mark.parametrize(
    "tiers, fields",
    [
        ([SILVER, {**GOLD, "multiplier": "0.99"}], ["tiers[1].multiplier"]),
        ([{**SILVER, "multiplier": "10.01"}], ["tiers[0].multiplier"]),
        ([{**SILVER, "multiplier": "1.255"}], ["tiers[0].multiplier"]),
        ([{**SILVER, "multiplier": "1e1"}], ["tiers[0].multiplier"]),
        ([{**SILVER, "multiplier": True}], ["tiers[0].multiplier"]),
        ([{"name": "Silver", "threshold": 500}], ["tiers[0].multiplier"]),
        ([{**SILVER, "threshold": -1}], ["tiers[0].threshold"]),
        ([{**SILVER, "threshold": "500"}], ["tiers[0].threshold"]),
        ([{**SILVER, "threshold": 1_000_000_001}], ["tiers[0].threshold"]),
        ([{**SILVER, "name": "  "}], ["tiers[0].name"]),
        ([{**SILVER, "name": "x" * 65}], ["tiers[0].name"]),
        ([{**SILVER, "name": "Sil\x00ver"}], ["tiers[0].name"]),
        ([{**SILVER, "name": 7}], ["tiers[0].name"]),
        ([{**SILVER, "perk": "free socks"}], ["tiers[0].perk"]),
        ([SILVER, "Gold"], ["tiers[1]"]),
        ([SILVER, {**GOLD, "name": "silver"}], ["tiers[1].name"]),
        ([SILVER, {**GOLD, "threshold": 500}], ["tiers[1].threshold"]),
        ([SILVER, GOLD, {**GOLD, "name": "SILVER", "threshold": 500}],
         ["tiers[2].name", "tiers[2].threshold"]),
        ([{"name": f"T{n}", "threshold": n, "multiplier": "1"} for n in range(21)], ["tiers"]),
        ({"Silver": 500}, ["tiers"]),
    ],
)  # fmt: skip
def test_a_bad_tier_is_named_by_its_place_and_nothing_changes(client, shops, tiers, fields):
    change(client, {"tiers": [SILVER, GOLD]})

    response = change(client, {"tiers": tiers, "hold_days": 5})
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert sorted(errors) == fields
    assert all(errors[field] and errors[field][0] for field in fields)
    assert read(client) == DEFAULTS | {"tiers": [SILVER, GOLD]}


def test_a_replacement_that_fails_halfway_leaves_the_old_tiers(client, shops, monkeypatch):
    change(client, {"tiers": [SILVER, GOLD]})

    def broken_insert(*args, **kwargs):
        raise RuntimeError("database went away")

    # The failure comes after the old tiers are deleted and moved, at the insert of the new.
    monkeypatch.setattr(Tier.objects, "bulk_create", broken_insert)
    with pytest.raises(RuntimeError):
        change(
            client,
            {
                "tiers": [
                    {**GOLD, "threshold": 100},
                    {"name": "New", "threshold": 7, "multiplier": 2},
                ]
            },
        )
    assert tier_rows() == [("Silver", 500, "1.25"), ("Gold", 2000, "1.50")]


def test_the_database_refuses_tiers_that_break_the_rules(shops):
    alice, bob = shops
    Tier.objects.create(shop=alice, name="Gold", threshold=100, multiplier="1.5")
    for bad in [
        {"name": "gold", "threshold": 200, "multiplier": "1.5"},
        {"name": "Silver", "threshold": 100, "multiplier": "1.5"},
        {"name": "Silver", "threshold": 50, "multiplier": "0.9"},
        {"name": "", "threshold": 50, "multiplier": "1"},
        {"name": "Silver", "threshold": -1, "multiplier": "1"},
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Tier.objects.create(shop=alice, **bad)
    # Another shop may use the same name and threshold.
    Tier.objects.create(shop=bob, name="Gold", threshold=100, multiplier="2")
    assert tier_rows(BOB) == [("Gold", 100, "2.00")]


def test_one_shops_tiers_never_reach_another_shop(client, shops):
    change(client, {"tiers": [SILVER, GOLD]}, shop=ALICE)
    bronze = {"name": "Bronze", "threshold": 0, "multiplier": "1", "entry_points": 0}
    assert change(client, {"tiers": [bronze]}, shop=BOB).json()["tiers"] == [bronze]
    assert change(client, {"tiers": []}, shop=BOB).json()["tiers"] == []
    assert read(client, shop=ALICE)["tiers"] == [SILVER, GOLD]
    assert tier_rows(BOB) == []


def test_a_members_detail_names_their_tier(client, shops):
    alice, bob = shops
    change(client, {"tiers": [SILVER, GOLD]})
    ada = factories.member(alice, 1001)
    factories.member(alice, 1002)
    Member.objects.filter(pk=ada.pk).update(tier=Tier.objects.get(shop=alice, name="Gold"))

    def detail(customer_id, shop=ALICE):
        return client.get(f"/api/admin/members/{customer_id}", headers=as_merchant(shop))

    assert detail(1001).json()["tier"] == "Gold"
    assert detail(1002).json()["tier"] is None
    assert detail(1001, shop=BOB).status_code == 404

    # A tier that goes leaves its members without one.
    change(client, {"tiers": [SILVER]})
    assert detail(1001).json()["tier"] is None


@needs_postgres
def test_names_the_database_folds_together_are_a_400_not_a_500(client, shops):
    """Python's casefold keeps "İ" and "i" apart, PostgreSQL's lower() does not: the database's
    unique name is the last word, and its refusal is an error the merchant can act on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(%s) = lower(%s)", ["İ", "i"])
        if not cursor.fetchone()[0]:
            pytest.skip("this database's collation keeps İ and i apart")
    change(client, {"tiers": [SILVER]})

    for tiers in (
        [{"name": "İ", "threshold": 0, "multiplier": "1"}, {**SILVER, "name": "i"}],
        [{**SILVER, "name": "i"}, {"name": "İ", "threshold": 900, "multiplier": "2"}],
    ):
        response = change(client, {"tiers": tiers, "hold_days": 5})
        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == ["tiers"]
        assert read(client) == DEFAULTS | {"tiers": [SILVER]}
