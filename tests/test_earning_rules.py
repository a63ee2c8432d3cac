"""The points rules, as pure functions, with exact numbers."""

from decimal import Decimal

import pytest

from loyalty.earning.orders import (
    PayloadError,
    RefundFacts,
    net_points,
    order_facts,
    points_for,
    refund_base,
    refund_facts,
)
from tests.factories import order_payload, refund_payload

D = Decimal


@pytest.mark.parametrize(
    ("base", "rate", "rounding", "points"),
    [
        ("100.00", "1", "down", 100),
        ("99.99", "1", "down", 99),
        ("99.50", "1", "nearest", 100),
        ("99.49", "1", "nearest", 99),
        ("10.00", "2.5", "down", 25),
        ("10.01", "0.1", "down", 1),
        ("9.99", "0.1", "down", 0),
        ("9.99", "0.1", "nearest", 1),
        ("0.00", "1", "down", 0),
        ("0.99", "1", "down", 0),
        ("1234.56", "1", "down", 1234),
        ("100.00", "0", "down", 0),
    ],
)
def test_points_for_an_amount(base, rate, rounding, points):
    assert points_for(D(base), points_per_unit=D(rate), rounding=rounding) == points


def test_net_points_after_refunds_is_cumulative_and_never_drifts():
    # P=100 on B=100.00; three refunds of 33.33 each: refund by refund rounding would lose
    # a point each time (-34, -34, -34 = -102); cumulatively the order keeps exactly 1.
    earned, base = 100, D("100.00")
    assert net_points(earned=earned, base=base, refunded=D("33.33")) == 66
    assert net_points(earned=earned, base=base, refunded=D("66.66")) == 33
    assert net_points(earned=earned, base=base, refunded=D("99.99")) == 0
    assert net_points(earned=earned, base=base, refunded=D("100.00")) == 0
    # A refund larger than the base never takes back more than was earned.
    assert net_points(earned=earned, base=base, refunded=D("150.00")) == 0
    assert net_points(earned=7, base=D("3.00"), refunded=D("1.00")) == 4  # floor(7*2/3)=4
    assert net_points(earned=0, base=D("0"), refunded=D("5")) == 0


def test_refund_base_removes_tax_only_when_prices_include_it():
    assert refund_base(line_subtotal=D("120"), line_tax=D("20"), taxes_included=True) == D("100")
    assert refund_base(line_subtotal=D("100"), line_tax=D("20"), taxes_included=False) == D("100")


def test_order_base_is_subtotal_after_discounts_without_shipping_or_tax():
    facts = order_facts(order_payload(subtotal="84.50"))
    assert facts.earning_base == D("84.50")
    assert facts.paid and not facts.cancelled and facts.customer.customer_id == 1001


def test_tax_inclusive_shop_earns_on_the_price_without_tax():
    # UK shop: £120.00 subtotal includes £20.00 VAT on the line items.
    facts = order_facts(
        order_payload(subtotal="120.00", currency="GBP", taxes_included=True, line_tax="20.00")
    )
    assert facts.earning_base == D("100.00")
    assert facts.currency == "GBP"
    assert points_for(facts.earning_base, points_per_unit=D("1"), rounding="down") == 100


def test_multi_currency_order_earns_on_shop_money_not_presentment_money():
    payload = order_payload(subtotal="100.00", currency="EUR")
    payload["current_subtotal_price_set"]["presentment_money"] = {
        "amount": "16000",
        "currency_code": "JPY",
    }
    facts = order_facts(payload)
    assert facts.earning_base == D("100.00") and facts.currency == "EUR"


def test_order_first_seen_after_a_refund_earns_on_the_base_before_it():
    refund = refund_payload(refund_id=1, lines=[("30.00", "0.00")])
    payload = order_payload(
        subtotal="100.00", financial_status="partially_refunded", refunds=[refund]
    )
    # As Shopify reports it then: the current subtotal already has the refund taken off.
    assert payload["current_subtotal_price_set"]["shop_money"]["amount"] == "70.00"
    facts = order_facts(payload)
    assert facts.paid
    assert facts.earning_base == D("100.00")
    assert [r.line_subtotal for r in facts.refunds] == [D("30.00")]


@pytest.mark.parametrize("status", ["pending", "authorized", "voided", "partially_paid", ""])
def test_unpaid_statuses_are_not_paid(status):
    assert not order_facts(order_payload(financial_status=status)).paid


def test_refund_ignores_shipping():
    facts = refund_facts(refund_payload(lines=[("25.00", "5.00")], shipping="8.00"))
    assert (facts.line_subtotal, facts.line_tax) == (D("25.00"), D("5.00"))
    assert isinstance(facts, RefundFacts)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("id"),
        lambda p: p.update(id="abc"),
        lambda p: p.update(id=True),
        lambda p: p.pop("current_subtotal_price_set") and p.pop("current_subtotal_price"),
        lambda p: p["current_subtotal_price_set"]["shop_money"].update(amount="-5.00"),
        lambda p: p["current_subtotal_price_set"]["shop_money"].update(amount="NaN"),
        lambda p: p["current_subtotal_price_set"]["shop_money"].update(amount="1e30"),
        lambda p: p["current_subtotal_price_set"]["shop_money"].update(amount=None),
        lambda p: p.update(line_items="nope", taxes_included=True),
        lambda p: p.update(refunds=[{"id": 1, "refund_line_items": [7]}]),
    ],
)
def test_garbled_order_payloads_raise_a_clear_error(mutate):
    payload = order_payload()
    mutate(payload)
    with pytest.raises(PayloadError):
        order_facts(payload)


def test_not_an_object_is_a_payload_error():
    with pytest.raises(PayloadError):
        order_facts([1, 2])
    with pytest.raises(PayloadError):
        refund_facts("refund")
