"""Given a shop and a member, when order and refund webhooks arrive (in any order), then
the member holds exactly the points the rules say."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.earning.orders import order_facts, refund_facts
from loyalty.models import LedgerEntry, Member, Order, Reason
from loyalty.services.ledger import points_record
from loyalty.services.orders import order_settle, pending_points_release, refund_record
from tests import factories
from tests.factories import order_payload, refund_payload

pytestmark = pytest.mark.django_db


def settle(shop, **kwargs):
    return order_settle(shop=shop, facts=order_facts(order_payload(**kwargs)))


def refund(shop, **kwargs):
    return refund_record(shop=shop, facts=refund_facts(refund_payload(**kwargs)))


def member_of(shop, customer_id=1001) -> Member:
    return Member.objects.get(shop=shop, customer_id=customer_id)


def assert_ledger_matches(member: Member) -> None:
    entries = LedgerEntry.objects.filter(member=member)
    assert member.balance == sum(e.points for e in entries)
    assert member.pending == sum(e.pending_points for e in entries)


def test_paid_order_earns_one_point_per_unit_rounded_down():
    shop = factories.shop()
    settle(shop, subtotal="84.99")
    member = member_of(shop)
    assert (member.balance, member.pending) == (84, 0)
    assert member.email == "c1001@example.com"
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.reason, entry.order_id, entry.points) == (Reason.ORDER_EARNED, 5001, 84)


def test_order_earns_once_whichever_webhooks_report_it_paid():
    shop = factories.shop()
    settle(shop, financial_status="pending")  # orders/create, not paid yet
    assert member_of(shop).balance == 0
    settle(shop)  # orders/paid
    settle(shop)  # orders/updated
    settle(shop)  # orders/paid delivered again
    assert member_of(shop).balance == 100
    assert LedgerEntry.objects.filter(shop=shop).count() == 1


def test_program_rate_and_nearest_rounding():
    shop = factories.shop(points_per_unit=Decimal("2.5"), rounding="nearest")
    settle(shop, subtotal="10.30")  # 25.75 -> 26
    assert member_of(shop).balance == 26


def test_tax_inclusive_order_earns_without_its_tax():
    shop = factories.shop()
    settle(shop, subtotal="120.00", taxes_included=True, line_tax="20.00", currency="GBP")
    assert member_of(shop).balance == 100


def test_orders_without_customer_test_orders_and_pos_when_off_earn_nothing():
    shop = factories.shop(pos_orders_earn=False)
    settle(shop, order_id=1, customer_id=None)
    settle(shop, order_id=2, test=True)
    settle(shop, order_id=3, source_name="pos")
    assert LedgerEntry.objects.filter(shop=shop).count() == 0
    reasons = dict(Order.objects.filter(shop=shop).values_list("order_id", "not_earning_reason"))
    assert reasons == {
        1: "no customer",
        2: "test order",
        3: "point-of-sale orders do not earn",
    }


def test_pos_orders_earn_by_default():
    shop = factories.shop()
    settle(shop, source_name="pos", subtotal="12.00")
    assert member_of(shop).balance == 12


def test_zero_and_tiny_orders_earn_nothing_and_write_nothing():
    shop = factories.shop()
    settle(shop, order_id=1, subtotal="0.00")
    settle(shop, order_id=2, subtotal="0.99")
    assert member_of(shop).balance == 0
    assert LedgerEntry.objects.filter(shop=shop).count() == 0


def test_partial_refunds_take_back_cumulatively_without_drift():
    shop = factories.shop()
    settle(shop, subtotal="100.00")
    refund(shop, refund_id=1, lines=[("33.33", "0.00")])
    assert member_of(shop).balance == 66
    refund(shop, refund_id=2, lines=[("33.33", "0.00")])
    assert member_of(shop).balance == 33
    refund(shop, refund_id=3, lines=[("33.33", "0.00")])
    assert member_of(shop).balance == 0
    refund(shop, refund_id=3, lines=[("33.33", "0.00")])  # redelivered
    member = member_of(shop)
    assert member.balance == 0
    assert_ledger_matches(member)
    assert list(
        LedgerEntry.objects.filter(member=member)
        .order_by("sequence")
        .values_list("points", flat=True)
    ) == [100, -34, -33, -33]


def test_full_refund_takes_back_exactly_what_was_earned_and_shipping_nothing():
    shop = factories.shop()
    settle(shop, subtotal="57.40")
    refund(shop, refund_id=1, lines=[("57.40", "0.00")], shipping="9.99")
    assert member_of(shop).balance == 0
    refund(shop, refund_id=2, lines=[("20.00", "0.00")])  # more than remains: nothing more
    assert member_of(shop).balance == 0


def test_refund_in_tax_inclusive_shop_removes_its_tax():
    shop = factories.shop()
    settle(shop, subtotal="120.00", taxes_included=True, line_tax="20.00")
    refund(shop, refund_id=1, lines=[("60.00", "10.00")])  # half the goods, incl. VAT
    assert member_of(shop).balance == 50


def test_shipping_only_refund_takes_nothing():
    shop = factories.shop()
    settle(shop, subtotal="40.00")
    refund(shop, refund_id=1, lines=[], shipping="5.00")
    assert member_of(shop).balance == 40


def test_cancel_after_refund_reverses_what_the_order_still_holds():
    shop = factories.shop()
    settle(shop, subtotal="100.00")
    refund(shop, refund_id=1, lines=[("25.00", "0.00")])
    settle(shop, subtotal="75.00", cancelled=True, financial_status="partially_refunded")
    member = member_of(shop)
    assert member.balance == 0
    assert [e.reason for e in LedgerEntry.objects.filter(member=member).order_by("sequence")] == [
        Reason.ORDER_EARNED,
        Reason.ORDER_REFUNDED,
        Reason.ORDER_CANCELLED,
    ]


def test_refund_before_its_order_still_comes_out_right():
    shop = factories.shop()
    refund(shop, refund_id=1, lines=[("40.00", "0.00")])
    assert not Member.objects.filter(shop=shop).exists()
    settle(shop, subtotal="100.00")
    assert member_of(shop).balance == 60


def test_refunds_out_of_order_end_at_the_cumulative_figure():
    shop = factories.shop()
    settle(shop, subtotal="90.00")
    refund(shop, refund_id=2, lines=[("10.00", "0.00")], created_at="2026-11-05T00:00:00Z")
    refund(shop, refund_id=1, lines=[("20.00", "0.00")], created_at="2026-11-04T00:00:00Z")
    assert member_of(shop).balance == 60  # floor(90 * 60 / 90)


def test_cancellation_before_the_paid_order_earns_nothing():
    shop = factories.shop()
    settle(shop, cancelled=True, financial_status="refunded")
    settle(shop)  # a late orders/paid
    assert member_of(shop).balance == 0
    assert LedgerEntry.objects.filter(shop=shop).count() == 0


def test_reversal_of_spent_points_can_go_negative_and_says_why():
    shop = factories.shop()
    settle(shop, subtotal="50.00")
    member = member_of(shop)
    points_record(
        member=member, points=-40, reason=Reason.MANUAL_ADJUSTMENT, idempotency_key="spend"
    )
    settle(shop, subtotal="50.00", cancelled=True)
    member.refresh_from_db()
    assert member.balance == -40
    last = LedgerEntry.objects.filter(member=member).latest("sequence")
    assert (last.reason, last.points) == (Reason.ORDER_CANCELLED, -50)


def test_held_points_are_pending_until_released():
    shop = factories.shop(hold_days=14)
    now = timezone.now()
    order_settle(shop=shop, facts=order_facts(order_payload(subtotal="30.00")), now=now)
    member = member_of(shop)
    assert (member.balance, member.pending) == (0, 30)
    refund(shop, refund_id=1, lines=[("10.00", "0.00")])
    member.refresh_from_db()
    assert (member.balance, member.pending) == (0, 20)
    assert pending_points_release(now=now + timedelta(days=13)) == 0
    assert pending_points_release(now=now + timedelta(days=14, seconds=1)) == 1
    assert pending_points_release(now=now + timedelta(days=15)) == 0
    member.refresh_from_db()
    assert (member.balance, member.pending) == (20, 0)
    refund(shop, refund_id=2, lines=[("5.00", "0.00")])
    member.refresh_from_db()
    assert (member.balance, member.pending) == (15, 0)
    assert_ledger_matches(member)


def test_idempotency_key_is_unique_per_shop_and_retry_returns_the_same_entry():
    shop = factories.shop()
    member = factories.member(shop)
    first = points_record(member=member, points=5, reason=Reason.SIGNUP_BONUS, idempotency_key="k")
    again = points_record(member=member, points=5, reason=Reason.SIGNUP_BONUS, idempotency_key="k")
    assert first.pk == again.pk
    member.refresh_from_db()
    assert member.balance == 5


def test_the_database_refuses_a_balance_that_does_not_add_up():
    shop = factories.shop()
    member = factories.member(shop)
    points_record(member=member, points=5, reason=Reason.SIGNUP_BONUS, idempotency_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            shop=shop,
            member=member,
            sequence=2,
            prev_sequence=1,
            prev_balance=5,
            points=3,
            balance_after=9,
            pending_after=0,
            reason="manual_adjustment",
            idempotency_key="bad",
        )


def test_ledger_entries_cannot_be_rewritten():
    shop = factories.shop()
    member = factories.member(shop)
    entry = points_record(member=member, points=5, reason=Reason.SIGNUP_BONUS, idempotency_key="k")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(points=500, balance_after=500)


def test_one_shops_order_never_touches_another_shops_member():
    alice = factories.shop("alice.myshopify.com")
    bob = factories.shop("bob.myshopify.com")
    settle(alice, subtotal="10.00")
    settle(bob, subtotal="20.00")  # same order id and customer id, different shop
    assert member_of(alice).balance == 10
    assert member_of(bob).balance == 20
