"""Whatever Shopify delivers, each member ends with the points the rules give.

Hypothesis writes the stories of a few orders of two customers — created, paid (orders/paid
or orders/updated), partially refunded (refunds/create, and orders/updated carrying the
refunds), cancelled — and Shopify's delivery of them: each webhook possibly retried (same
webhook id), resent under a new webhook id with the same event id, delivered out of order
and late, its job run again.
Shoppers spend points between deliveries. Everything goes through the signed intake and the
real handlers. After each spend and at the end, the app agrees with a model written here
from the orders alone (docs/points.md), not from the app's code; `check_ledger` finds no
drift; and a balance is negative only after points were spent (a refund may then take back
more than is left, as docs/points.md allows).

Example counts come from the Hypothesis profile (tests/conftest.py): modest by default,
derandomized in CI.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from loyalty.models import Member
from loyalty.services.redemptions import RedemptionRefused, reward_redeem
from loyalty.services.rewards import reward_create
from standin import payloads
from standin.signing import webhook_headers
from tests import factories
from webhooks.models import Delivery, Status
from webhooks.processing import delivery_process

pytestmark = pytest.mark.django_db

CUSTOMERS = (1001, 1002)
REWARD_COST = 10
PAID = {"paid", "partially_refunded", "refunded"}
# Each example gets a shop of its own: Hypothesis runs every example in one test transaction.
_examples = itertools.count(1)


@dataclass(frozen=True)
class Event:
    """One thing that happened to an order, as Shopify reports it in one webhook."""

    event_id: str
    topic: str
    payload: dict


@dataclass
class Story:
    order_id: int
    customer_id: int
    cents: int
    events: list[Event]


def order_body(order_id, customer_id, cents, status, refunds=(), cancelled=False) -> dict:
    return payloads.order(
        order_id,
        customer_id,
        str(Decimal(cents) / 100),
        financial_status=status,
        refunds=list(refunds),
        cancelled=cancelled,
        email=f"c{customer_id}@example.com",
    )


@st.composite
def stories(draw, order_id: int) -> Story:
    customer_id = draw(st.sampled_from(CUSTOMERS))
    cents = draw(st.integers(0, 30_000))
    paid = draw(st.booleans())
    paid_at_once = paid and draw(st.booleans())
    ids = (f"{order_id}-{n}" for n in itertools.count())

    def event(topic, payload):
        return Event(next(ids), topic, payload)

    create_status = "paid" if paid_at_once else "pending"
    events = [event("orders/create", order_body(order_id, customer_id, cents, create_status))]
    if paid and not paid_at_once:
        topic = draw(st.sampled_from(["orders/paid", "orders/updated"]))
        events.append(event(topic, order_body(order_id, customer_id, cents, "paid")))
    refunds: list[dict] = []
    left = cents
    for n in range(draw(st.integers(0, 2)) if paid else 0):
        part = draw(st.integers(0, left))
        left -= part
        refund = payloads.refund(order_id, order_id * 10 + n + 1, [(str(Decimal(part) / 100), "0")])
        refunds.append(refund)
        events.append(event("refunds/create", refund))
        if draw(st.booleans()):
            status = "refunded" if left == 0 else "partially_refunded"
            body = order_body(order_id, customer_id, cents, status, refunds)
            events.append(event("orders/updated", body))
    if draw(st.booleans()):
        status = "refunded" if paid else "voided"
        body = order_body(order_id, customer_id, cents, status, refunds, cancelled=True)
        events.append(event("orders/cancelled", body))
    return Story(order_id, customer_id, cents, events)


@dataclass
class Model:
    """The rules of docs/points.md, from what the processed webhooks said about each order."""

    rate: Fraction
    nearest: bool
    held: bool
    stories: list[Story]
    applied: set[str] = field(default_factory=set)
    spent: dict[int, int] = field(default_factory=lambda: dict.fromkeys(CUSTOMERS, 0))

    def earned(self, cents: int) -> int:
        units = Fraction(cents, 100) * self.rate
        return floor(units + Fraction(1, 2)) if self.nearest else floor(units)

    def order_points(self, story: Story) -> int:
        said = [e for e in story.events if e.event_id in self.applied]
        orders = [e.payload for e in said if e.topic.startswith("orders/")]
        if not any(o["financial_status"] in PAID for o in orders):
            return 0
        if any(o["cancelled_at"] for o in orders):
            return 0  # cancelled before or after it was paid: it keeps nothing
        refunds = {e.payload["id"]: e.payload for e in said if e.topic == "refunds/create"}
        refunds |= {r["id"]: r for o in orders for r in o["refunds"]}
        refunded = sum(
            round(Decimal(line["subtotal_set"]["shop_money"]["amount"]) * 100)
            for r in refunds.values()
            for line in r["refund_line_items"]
        )
        if story.cents == 0:
            return 0
        kept = max(story.cents - refunded, 0)
        return floor(Fraction(self.earned(story.cents) * kept, story.cents))

    def points(self, customer_id: int) -> int:
        return sum(self.order_points(s) for s in self.stories if s.customer_id == customer_id)

    def available(self, customer_id: int) -> int:
        # Held points are all pending until a release job runs (none runs here).
        earned = 0 if self.held else self.points(customer_id)
        return earned - self.spent[customer_id]


def deliver(client: Client, shop_domain: str, event: Event, webhook_id: str) -> None:
    body = json.dumps(event.payload).encode()
    headers = webhook_headers(
        topic=event.topic,
        shop=shop_domain,
        body=body,
        secret=settings.SHOPIFY_API_SECRET,
        webhook_id=webhook_id,
        event_id=event.event_id,
    )
    response = client.post(
        "/webhooks",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200


@given(data=st.data())
def test_balances_follow_the_rules_whatever_shopify_delivers(data):
    n = next(_examples)
    rate = data.draw(st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(3, 2)]), "rate")
    nearest = data.draw(st.booleans(), "nearest")
    held = data.draw(st.booleans(), "held")
    shop = factories.shop(
        f"prop-{n}.myshopify.com",
        points_per_unit=Decimal(rate.numerator) / rate.denominator,
        rounding="nearest" if nearest else "down",
        hold_days=14 if held else 0,
    )
    reward = reward_create(shop=shop, kind="amount_off", points_cost=REWARD_COST, value=Decimal(1))
    orders = data.draw(st.integers(1, 4), "orders")
    story_list = [data.draw(stories(order_id=n * 100 + k), f"order {k}") for k in range(orders)]
    model = Model(rate=rate, nearest=nearest, held=held, stories=story_list)
    events = {e.event_id: e for s in story_list for e in s.events}

    # Shopify's side: every event once, some retried with the same webhook id, some sent
    # again as a new delivery of the same event; all in any order.
    sends = []
    for event in events.values():
        webhook_id = f"{n}:{event.event_id}"
        sends.append((event, webhook_id))
        if data.draw(st.booleans(), f"retry {event.event_id}"):
            sends.append((event, webhook_id))
        if data.draw(st.booleans(), f"resend {event.event_id}"):
            sends.append((event, f"{webhook_id}:again"))
    sends = data.draw(st.permutations(sends), "delivery order")

    client = Client()
    processed: list[int] = []

    def process(how_many: int) -> None:
        """The workers take `how_many` of the stored deliveries, any of them first."""
        backlog = list(
            Delivery.objects.filter(shop_domain=shop.domain, status=Status.RECEIVED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for _ in range(min(how_many, len(backlog))):
            # One pick at a time rather than a whole permutation: a long story stays
            # within what Hypothesis may draw for one example.
            pk = backlog.pop(data.draw(st.integers(0, len(backlog) - 1), "next job"))
            assert delivery_process(pk) == Status.PROCESSED
            model.applied.add(Delivery.objects.get(pk=pk).event_id)
            processed.append(pk)

    for event, webhook_id in sends:
        deliver(client, shop.domain, event, webhook_id)
        # The workers catch up on some of the backlog; the rest is late.
        process(data.draw(st.integers(0, len(events)), "caught up"))
        if data.draw(st.booleans(), "spend"):
            customer_id = data.draw(st.sampled_from(CUSTOMERS), "spender")
            spend(shop, reward, customer_id, model)

    process(len(events))
    # Each delivery is stored once, whatever Shopify sent twice.
    assert len(processed) == len(events)
    # A job that runs again (a redelivered message) changes nothing.
    for pk in processed:
        assert delivery_process(pk) == Status.PROCESSED

    for customer_id in CUSTOMERS:
        member = Member.objects.filter(shop=shop, customer_id=customer_id).first()
        if member is None:
            assert model.points(customer_id) == 0
            continue
        expected = model.points(customer_id)
        spent = model.spent[customer_id]
        assert (member.balance, member.pending) == (
            (-spent, expected) if held else (expected - spent, 0)
        ), f"customer {customer_id}"
        assert member.pending >= 0
        if member.balance < 0:
            assert spent > 0, "a balance went negative without any points spent"
    # Exits with an error (CommandError) on any drift between balances and ledger sums.
    call_command("check_ledger", shop=shop.domain, stdout=io.StringIO())
    if connection.vendor == "postgresql":
        # The ledger's chain keys are checked at commit, which a test never reaches: check
        # them now (it raises IntegrityError on a broken chain).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def spend(shop, reward, customer_id: int, model: Model) -> None:
    """A shopper redeems the reward; the app agrees with the model on whether they can."""
    if not Member.objects.filter(shop=shop, customer_id=customer_id).exists():
        return
    expected = model.available(customer_id) >= REWARD_COST
    try:
        reward_redeem(shop=shop, customer_id=customer_id, reward=reward)
    except RedemptionRefused:
        assert not expected, f"refused with {model.available(customer_id)} available"
        return
    assert expected, f"spent with only {model.available(customer_id)} available"
    model.spent[customer_id] += REWARD_COST
