"""Given a shop, when members join and orders, refunds, adjustments and imports happen,
then the Dashboard's daily figures say exactly what happened, on the shop's days, and
equal the figures recomputed from the ledger, members and orders."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from loyalty.daily import daily_jobs_run
from loyalty.earning.orders import Customer, order_facts, refund_facts
from loyalty.models import (
    BuyerFirstOrder,
    DailyFigures,
    LedgerEntry,
    Member,
    Order,
    Reason,
    Reward,
    Tier,
)
from loyalty.services.imports import member_import_create, member_import_run
from loyalty.services.integrations import integration_secret_for
from loyalty.services.members import member_adjust, member_from_customer, signup_bonus_award
from loyalty.services.orders import order_settle, pending_points_release, refund_record
from loyalty.services.programs import program_update
from loyalty.services.redemptions import reward_redeem
from loyalty.services.referrals import referral_code_ensure, referral_visit
from loyalty.services.rewards import reward_create
from loyalty.stats.counters import FIGURES, REASON_FIGURES, entry_figures, figures_add
from loyalty.stats.orders import order_reward_record
from loyalty.stats.reads import stats_for_range
from loyalty.stats.rebuild import figures_computed, figures_differences, figures_live
from standin.reviews import generic_review, review_request
from tests import factories
from tests.conftest import needs_postgres
from tests.factories import order_payload, refund_payload
from tests.test_concurrency import in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Set the time every `timezone.now()` (and so every created_at) reads."""

    def set_time(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_time


def settle(shop, **kwargs):
    """An order webhook; the order was placed now unless `created_at` says when."""
    kwargs.setdefault("created_at", timezone.now().isoformat())
    return order_settle(shop=shop, facts=order_facts(order_payload(**kwargs)))


def totals(shop, first="2026-11-01", last="2026-11-30"):
    return stats_for_range(
        shop=shop, first=date.fromisoformat(first), last=date.fromisoformat(last)
    ).totals


def assert_live_equals_rebuilt(shop):
    computed, _ = figures_computed(shop=shop)
    assert figures_differences(computed=computed, live=figures_live(shop=shop)) == []


def test_every_ledger_reason_has_its_figures():
    assert set(REASON_FIGURES) == set(Reason.values)
    for adds, takes in REASON_FIGURES.values():
        assert {adds, takes} <= set(FIGURES)


def test_only_daily_figures_can_be_added_to():
    shop = factories.shop()
    with pytest.raises(ValueError, match="not a daily figure: points"):
        figures_add(shop_id=shop.pk, day=date(2026, 11, 2), slot=0, counts={"points": 1})
    assert not DailyFigures.objects.exists()


def test_an_entry_counts_its_points_once_by_direction_and_its_pending_moves():
    assert entry_figures(reason=Reason.ORDER_EARNED, points=0, pending_points=70) == {
        "points_change": 0,
        "pending_change": 70,
        "points_earned": 70,
        "pending_added": 70,
    }
    assert entry_figures(reason=Reason.POINTS_RELEASED, points=70, pending_points=-70) == {
        "points_change": 70,
        "pending_change": -70,
        "pending_released": 70,
    }
    assert entry_figures(reason=Reason.MANUAL_ADJUSTMENT, points=-5, pending_points=0) == {
        "points_change": -5,
        "pending_change": 0,
        "points_adjusted_down": 5,
    }


def test_a_mixed_day_of_work_gives_exact_figures_equal_to_the_rebuilt_ones(clock):
    shop = factories.shop(signup_points=50)
    clock("2026-11-02T10:00:00+00:00")
    ada = member_from_customer(shop=shop, customer=Customer(customer_id=1001))
    signup_bonus_award(member=ada)
    clock("2026-11-02T11:00:05+00:00")
    # Ada was a member an hour before: a member's order, 100 points, 105.00 with shipping.
    settle(shop, order_id=5001, customer_id=1001, shipping="5.00")
    # Bob's first order makes him a member: a non-member's order.
    settle(shop, order_id=5002, customer_id=1002, subtotal="40.00")
    # Two guest orders from one email: the second is a repeat.
    settle(shop, order_id=5003, customer_id=None, subtotal="30.00", email="g@example.com")
    settle(shop, order_id=5004, customer_id=None, subtotal="20.00", email="G@Example.com ")
    settle(shop, order_id=5005, customer_id=1001, subtotal="60.00")
    settle(shop, order_id=5006, customer_id=1001, subtotal="999.00", test=True)
    refund_record(shop=shop, facts=refund_facts(refund_payload(5001, 9001, [("25.00", "0.00")])))
    settle(shop, order_id=5005, customer_id=1001, subtotal="60.00", cancelled=True)
    bob = Member.objects.get(shop=shop, customer_id=1002)
    member_adjust(member=ada, points=10, reason="Goodwill", actor="staff 42", key="k1")
    member_adjust(member=bob, points=-5, reason="Typo", actor="staff 42", key="k2")
    csv = b"customer_id,email,first_name,last_name,points\n1003,cy@example.com,Cy,Young,200\n"
    member_import_run(import_id=member_import_create(shop=shop, csv_bytes=csv).pk)
    # The next day points are held for 14 days, then released.
    program_update(shop=shop, changes={"hold_days": 14})
    clock("2026-11-03T10:00:00+00:00")
    settle(
        shop, order_id=5007, customer_id=1002, subtotal="70.00", created_at="2026-11-03T09:00:00Z"
    )
    clock("2026-11-18T10:00:00+00:00")
    assert pending_points_release() == 1

    figures = totals(shop)
    assert figures.counts == {
        "members_joined": 3,
        "points_earned": 100 + 40 + 60 + 70,
        "points_bonus": 50,
        "points_imported": 200,
        "points_adjusted_up": 10,
        "points_redeemed": 0,
        "points_expired": 0,
        "points_reversed": 25 + 60,
        "points_adjusted_down": 5,
        "pending_added": 70,
        "pending_released": 70,
        "points_change": 440,
        "pending_change": 0,
        "member_orders": 3,
        "member_repeat_orders": 2,
        "nonmember_orders": 3,
        "nonmember_repeat_orders": 1,
        "order_revenue": Decimal("325.00"),
        "reward_orders": 0,
        "reward_order_revenue": Decimal("0.00"),
    }
    assert (figures.points_issued, figures.points_removed) == (530, 90)
    assert (figures.members, figures.points_balance, figures.points_pending) == (3, 440, 0)
    assert sum(m.balance for m in Member.objects.filter(shop=shop)) == 440
    days = {
        d.day.isoformat(): d
        for d in stats_for_range(shop=shop, first=date(2026, 11, 1), last=date(2026, 11, 30)).days
    }
    assert len(days) == 30
    assert (days["2026-11-01"].members, days["2026-11-01"].points_outstanding) == (0, 0)
    assert (days["2026-11-02"].points_balance, days["2026-11-02"].points_pending) == (370, 0)
    assert (days["2026-11-03"].points_balance, days["2026-11-03"].points_pending) == (370, 70)
    assert (days["2026-11-17"].points_balance, days["2026-11-17"].points_pending) == (370, 70)
    assert (days["2026-11-18"].points_balance, days["2026-11-18"].points_pending) == (440, 0)
    assert days["2026-11-03"].counts["member_repeat_orders"] == 1
    assert_live_equals_rebuilt(shop)

    call_command("figures_rebuild", "--shop", shop.domain)
    assert DailyFigures.objects.filter(shop=shop, slot__gt=0).count() == 0
    assert totals(shop).counts == figures.counts
    call_command("figures_rebuild", "--check")


def test_the_check_names_a_counter_that_drifted(clock):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    settle(shop, order_id=5001, customer_id=1001, created_at="2026-11-02T09:00:00Z")
    DailyFigures.objects.filter(shop=shop, points_earned__gt=0).update(points_earned=99)
    with pytest.raises(CommandError, match="1 daily figures differ"):
        call_command("figures_rebuild", "--check", "--shop", shop.domain)


def test_an_earlier_order_arriving_late_makes_the_former_first_order_a_repeat(clock):
    shop = factories.shop()
    clock("2026-11-10T12:00:00+00:00")
    member_from_customer(shop=shop, customer=Customer(customer_id=1001))
    # Placed on the 9th, before the customer was a member; its webhook comes last.
    settle(shop, order_id=5002, customer_id=1001, created_at="2026-11-10T13:00:00Z")
    settle(shop, order_id=5003, customer_id=1001, created_at="2026-11-11T13:00:00Z")
    settle(shop, order_id=5001, customer_id=1001, created_at="2026-11-09T13:00:00Z")
    # Redelivered, it changes nothing.
    settle(shop, order_id=5001, customer_id=1001, created_at="2026-11-09T13:00:00Z")

    days = {
        d.day.isoformat(): d.counts
        for d in stats_for_range(shop=shop, first=date(2026, 11, 9), last=date(2026, 11, 11)).days
    }
    assert (
        days["2026-11-09"]["nonmember_orders"],
        days["2026-11-09"]["nonmember_repeat_orders"],
    ) == (1, 0)
    assert (days["2026-11-10"]["member_orders"], days["2026-11-10"]["member_repeat_orders"]) == (
        1,
        1,
    )
    assert (days["2026-11-11"]["member_orders"], days["2026-11-11"]["member_repeat_orders"]) == (
        1,
        1,
    )
    first = BuyerFirstOrder.objects.get(shop=shop)
    assert first.order_id == 5001
    assert_live_equals_rebuilt(shop)


def test_days_are_the_shops_own_in_auckland_and_los_angeles(clock):
    auckland = factories.shop("auckland.myshopify.com")
    los_angeles = factories.shop("la.myshopify.com")
    auckland.timezone, los_angeles.timezone = "Pacific/Auckland", "America/Los_Angeles"
    auckland.save()
    los_angeles.save()
    # 11:30 UTC on the 25th is 00:30 on the 26th in Auckland (NZDT, UTC+13).
    clock("2026-11-25T11:30:00+00:00")
    settle(auckland, order_id=1, customer_id=1, subtotal="10.00", created_at="2026-11-25T10:29:00Z")
    settle(auckland, order_id=2, customer_id=2, subtotal="20.00", created_at="2026-11-25T11:00:00Z")
    # 07:59 UTC on the 26th is 23:59 on the 25th in Los Angeles (PST, UTC-8).
    clock("2026-11-26T07:59:30+00:00")
    settle(
        los_angeles, order_id=3, customer_id=3, subtotal="30.00", created_at="2026-11-26T07:59:00Z"
    )
    clock("2026-11-26T08:30:00+00:00")
    settle(
        los_angeles, order_id=4, customer_id=4, subtotal="40.00", created_at="2026-11-26T08:00:00Z"
    )

    def day(shop, on):
        return totals(shop, on, on).counts

    assert (
        day(auckland, "2026-11-25")["nonmember_orders"],
        day(auckland, "2026-11-25")["points_earned"],
    ) == (1, 0)
    assert day(auckland, "2026-11-26")["nonmember_orders"] == 1
    assert (
        day(auckland, "2026-11-26")["points_earned"],
        day(auckland, "2026-11-26")["members_joined"],
    ) == (30, 2)
    assert (
        day(los_angeles, "2026-11-25")["points_earned"],
        day(los_angeles, "2026-11-25")["nonmember_orders"],
    ) == (30, 1)
    assert (
        day(los_angeles, "2026-11-26")["points_earned"],
        day(los_angeles, "2026-11-26")["nonmember_orders"],
    ) == (40, 1)
    assert_live_equals_rebuilt(auckland)
    assert_live_equals_rebuilt(los_angeles)


def test_outstanding_points_start_from_every_earlier_day_and_take_late_counts(clock):
    shop = factories.shop()
    clock("2026-01-15T10:00:00+00:00")
    alice = member_from_customer(shop=shop, customer=Customer(customer_id=1001))
    member_adjust(member=alice, points=300, reason="Welcome back", actor="staff", key="k1")
    clock("2026-11-02T10:00:00+00:00")
    member_adjust(member=alice, points=-100, reason="Typo", actor="staff", key="k2")
    # An order placed in October, delivered now: counted on its own day.
    settle(
        shop, order_id=5001, customer_id=1001, subtotal="10.00", created_at="2026-10-31T10:00:00Z"
    )

    november = stats_for_range(shop=shop, first=date(2026, 11, 1), last=date(2026, 11, 3))
    assert [d.points_outstanding for d in november.days] == [300, 210, 210]
    assert [d.members for d in november.days] == [1, 1, 1]
    assert november.totals.counts["member_orders"] == 0
    assert totals(shop, "2026-10-31", "2026-10-31").counts["member_orders"] == 1


def test_point_value_is_the_best_money_per_point_of_the_enabled_money_rewards():
    shop = factories.shop()
    assert (
        stats_for_range(shop=shop, first=date(2026, 11, 1), last=date(2026, 11, 1)).point_value
        is None
    )

    def reward(kind, value, cost, **extra):
        Reward.objects.create(shop=shop, kind=kind, value=Decimal(value), points_cost=cost, **extra)

    reward("amount_off", "5.00", 500)  # 0.01 a point
    reward("store_credit", "10.00", 800)  # 0.0125 a point
    reward("percent_off", "50", 10)  # not money the shop owes
    reward("amount_off", "100.00", 100, enabled=False)
    reward("store_credit", "100.00", 100, deleted_at=timezone.now())
    found = stats_for_range(shop=shop, first=date(2026, 11, 1), last=date(2026, 11, 1))
    assert (found.point_value, found.notes) == (Decimal("0.0125"), [])


def test_reward_revenue_counts_an_order_once_whether_marked_before_or_after_it_is_counted(clock):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    settle(
        shop, order_id=5001, customer_id=1001, shipping="5.00", created_at="2026-11-02T09:00:00Z"
    )
    counted = Order.objects.get(shop=shop, order_id=5001)
    order_reward_record(shop=shop, order=counted)
    order_reward_record(shop=shop, order=counted)
    unpaid = settle(
        shop, order_id=5002, customer_id=1002, subtotal="40.00", financial_status="pending"
    )
    order_reward_record(shop=shop, order=unpaid)
    settle(shop, order_id=5002, customer_id=1002, subtotal="40.00")

    figures = totals(shop).counts
    assert (figures["reward_orders"], figures["reward_order_revenue"]) == (2, Decimal("145.00"))
    assert figures["order_revenue"] == Decimal("145.00")
    assert_live_equals_rebuilt(shop)


def test_reading_a_range_costs_the_same_few_queries_however_long_it_is(
    clock, django_assert_num_queries
):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    settle(shop, order_id=5001, customer_id=1001)
    for last in (date(2026, 11, 2), date(2027, 11, 1)):
        with django_assert_num_queries(3):
            stats_for_range(shop=shop, first=date(2026, 11, 2), last=last)


def test_rebuild_fills_in_orders_stored_before_the_dashboard(clock):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    settle(shop, order_id=5001, customer_id=1001, subtotal="80.00")
    clock("2026-11-02T10:00:01+00:00")
    settle(shop, order_id=5002, customer_id=1001, subtotal="20.00")
    # As a row from before migration 0008 looks, and no figures at all.
    Order.objects.filter(shop=shop).update(
        placed_at=None, revenue=None, member_order=None, buyer=""
    )
    DailyFigures.objects.filter(shop=shop).delete()
    BuyerFirstOrder.objects.filter(shop=shop).delete()

    call_command("figures_rebuild", "--shop", shop.domain)
    figures = totals(shop).counts
    assert (figures["members_joined"], figures["points_earned"]) == (1, 100)
    assert (figures["nonmember_orders"], figures["member_orders"]) == (1, 1)
    assert (figures["member_repeat_orders"], figures["order_revenue"]) == (1, Decimal("100.00"))
    # Counting goes on from the rebuilt first orders.
    clock("2026-11-03T10:00:00+00:00")
    settle(
        shop, order_id=5003, customer_id=1001, subtotal="5.00", created_at="2026-11-03T09:00:00Z"
    )
    assert totals(shop).counts["member_repeat_orders"] == 2
    assert_live_equals_rebuilt(shop)


def test_order_counts_go_to_the_order_days_slot_rows(clock):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    for customer_id in range(1, 17):
        settle(shop, order_id=5000 + customer_id, customer_id=customer_id, subtotal="1.00")
    slots = set(DailyFigures.objects.filter(shop=shop).values_list("slot", flat=True))
    assert len(slots) == 8
    assert totals(shop).counts["nonmember_orders"] == 16
    assert_live_equals_rebuilt(shop)


def test_figures_of_one_shop_never_count_anothers(clock):
    alice, bob = factories.shop(), factories.shop("bob.myshopify.com")
    clock("2026-11-02T10:00:00+00:00")
    settle(alice, order_id=5001, customer_id=1001, subtotal="80.00")
    assert totals(alice).counts["points_earned"] == 80
    assert totals(bob).counts["points_earned"] == 0
    assert (totals(bob).members, totals(bob).points_outstanding) == (0, 0)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_crediting_keeps_the_live_counters_equal_to_the_rebuilt_ones():
    shop = factories.shop(signup_points=5)
    for customer_id in range(1, 7):
        member = member_from_customer(shop=shop, customer=Customer(customer_id=customer_id))
        signup_bonus_award(member=member)
    later = timezone.now() + timedelta(hours=1)
    orders = [
        order_payload(
            order_id=5000 + n,
            customer_id=None if n % 5 == 0 else n % 12 + 1,
            subtotal=f"{10 + n}.00",
            email=f"guest{n % 3}@example.com",
            cancelled=n % 11 == 0,
            created_at=(later + timedelta(minutes=n % 7)).isoformat(),
        )
        for n in range(60)
    ]
    # Every order delivered twice, and the refunds of a few, all at once.
    jobs = [lambda p=p: order_settle(shop=shop, facts=order_facts(p)) for p in orders * 2]
    jobs += [
        lambda n=n: refund_record(
            shop=shop, facts=refund_facts(refund_payload(5000 + n, 9000 + n, [("5.00", "0.00")]))
        )
        for n in range(1, 60, 4)
    ]
    jobs += [
        lambda n=n: member_adjust(
            member=Member.objects.get(shop=shop, customer_id=n % 6 + 1),
            points=n - 10,
            reason="Goodwill",
            actor="staff",
            key=f"k{n}",
        )
        for n in range(20)
        if n != 10
    ]
    in_threads(jobs)

    assert_live_equals_rebuilt(shop)
    figures = totals(shop, "2026-01-01", "2026-12-31")
    counts = figures.counts
    assert counts["member_orders"] + counts["nonmember_orders"] == 60
    guests = len([n for n in range(60) if n % 5 == 0])
    buyers = len({n % 12 + 1 for n in range(60) if n % 5}) + 3
    assert counts["member_repeat_orders"] + counts["nonmember_repeat_orders"] == 60 - buyers
    assert counts["nonmember_orders"] >= guests
    assert counts["members_joined"] == Member.objects.filter(shop=shop).count() == 12
    balances = Member.objects.filter(shop=shop).values_list("balance", "pending")
    assert figures.points_outstanding == sum(b + p for b, p in balances)
    assert DailyFigures.objects.filter(shop=shop).values("slot").distinct().count() > 1


def test_the_buyer_is_the_customer_an_earlier_delivery_named_and_a_guest_needs_an_email(clock):
    shop = factories.shop()
    clock("2026-11-02T10:00:00+00:00")
    settle(shop, order_id=5001, customer_id=1001)
    clock("2026-11-02T10:00:01+00:00")
    settle(shop, order_id=5002, customer_id=1001, financial_status="pending")
    # Its paid delivery comes without the customer: still customer 1001's second order.
    settle(shop, order_id=5002, customer_id=None, email="")
    settle(shop, order_id=5003, customer_id=None, email="")
    settle(shop, order_id=5004, customer_id=None, email="")

    figures = totals(shop).counts
    assert (figures["member_orders"], figures["member_repeat_orders"]) == (1, 1)
    assert (figures["nonmember_orders"], figures["nonmember_repeat_orders"]) == (3, 0)
    assert_live_equals_rebuilt(shop)


def test_an_order_is_placed_when_shopify_processed_it_and_is_worth_its_total():
    payload = order_payload(
        subtotal="80.00", shipping="4.50", line_tax="6.40", created_at="2026-11-02T09:00:00Z"
    )
    payload["processed_at"] = "2026-11-01T23:30:00-05:00"
    facts = order_facts(payload)
    assert facts.placed_at == datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    assert (facts.total_price, facts.email) == (Decimal("90.90"), "c1001@example.com")
    del payload["processed_at"]
    assert order_facts(payload).placed_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_issue_12s_reasons_keep_the_live_counters_equal_to_the_rebuilt_ones(client, clock):
    shop = factories.shop(
        review_points=50,
        birthday_points=25,
        referral_advocate_points=40,
        referral_friend_reward_kind="amount_off",
        referral_friend_reward_value=Decimal("10.00"),
        hold_days=14,
        expiry_days=30,
        expiry_reminder_days=7,
    )
    Tier.objects.create(shop=shop, name="Gold", threshold=100, multiplier="2", entry_points=11)
    clock("2026-11-02T10:00:00+00:00")
    settle(shop, order_id=5001, customer_id=1001, product_id=7001)
    ada = Member.objects.get(shop=shop, customer_id=1001)
    Member.objects.filter(pk=ada.pk).update(birthday_month=11, birthday_day=3)
    body = generic_review(shop=shop.domain, review_id="r-1", product_id=7001, customer_id=1001)
    signed = review_request(
        source="generic", review=body, secret=integration_secret_for(shop=shop), shop=shop.domain
    )
    answer = client.post(
        signed.path, data=signed.body, content_type="application/json", headers=signed.headers
    )
    assert answer.json()["status"] == "rewarded"
    # Two friends: one's order stays and rewards Ada after the hold, one's is refunded in it.
    code = referral_code_ensure(member=ada)
    for n, friend in enumerate((2001, 2002)):
        referral = referral_visit(shop=shop, code=code, ip=f"192.0.2.{n}")
        order_settle(
            shop=shop,
            facts=order_facts(
                order_payload(6001 + n, friend, "30.00", discount_codes=[referral.code])
            ),
            discount_codes=[referral.code],
        )
    refund_record(shop=shop, facts=refund_facts(refund_payload(6002, 9002, [("30.00", "0.00")])))
    clock("2026-11-03T10:00:00+00:00")
    daily_jobs_run(day=date(2026, 11, 3), shop_domain=shop.domain)
    clock("2026-11-17T10:00:00+00:00")
    pending_points_release()
    five_off = reward_create(shop=shop, kind="amount_off", points_cost=100, value=Decimal("5"))
    reward_redeem(shop=shop, customer_id=1001, reward=five_off)
    clock("2026-12-20T10:00:00+00:00")
    daily_jobs_run(day=date(2026, 12, 20), shop_domain=shop.domain)

    ada.refresh_from_db()
    reasons = set(LedgerEntry.objects.filter(shop=shop).values_list("reason", flat=True))
    assert {
        Reason.REVIEW_REWARDED,
        Reason.REFERRAL_REWARDED,
        Reason.REFERRAL_REVERSED,
        Reason.BIRTHDAY_BONUS,
        Reason.TIER_ENTRY,
        Reason.REWARD_REDEEMED,
        Reason.POINTS_EXPIRED,
    } <= reasons
    figures = totals(shop, "2026-11-01", "2026-12-31").counts
    # Ada: 100 earned, then bonuses 50 + 25 + 11 + 40 and the refunded friend's 40 (added
    # pending, reversed), 100 redeemed, and the 126 left expired on December 20 with the
    # kept friend's 30.
    assert figures["points_bonus"] == 50 + 25 + 11 + 40 + 40
    assert figures["points_reversed"] == 40 + 30
    assert figures["points_redeemed"] == 100
    assert figures["points_expired"] == (100 + 50 + 25 + 11 + 40 - 100) + 30
    assert ada.balance == 0
    assert_live_equals_rebuilt(shop)
    call_command("figures_rebuild", "--check")
