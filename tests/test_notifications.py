"""Shopper emails: recorded with the event that makes them, sent from the merchant's
templates by the sender job, at most one a day per shopper (docs/notifications.md)."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core import mail

from loyalty.earning.orders import order_facts
from loyalty.models import Member, Notification, NotificationKind, Reason, Tier
from loyalty.services.birthdays import birthdays_daily
from loyalty.services.expiry import expiry_daily
from loyalty.services.ledger import points_record
from loyalty.services.members import member_redact
from loyalty.services.notifications import (
    SKIPPED_DAILY_LIMIT,
    SKIPPED_NO_EMAIL,
    SKIPPED_REDACTED,
    SKIPPED_TEMPLATE_OFF,
    NotificationTemplateInvalid,
    notification_template_set,
    notifications_send,
)
from loyalty.services.orders import order_settle
from tests import factories, redeeming
from tests.factories import order_payload

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify

NOON = datetime(2026, 10, 1, 12, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def settle(
    shop, order_id: int, subtotal: str, now: datetime = NOON, customer_id: int = 1001, **options
):
    options.setdefault("first_name", "Ada")
    payload = order_payload(
        order_id=order_id, customer_id=customer_id, subtotal=subtotal, **options
    )
    return order_settle(shop=shop, facts=order_facts(payload), now=now)


def outbox() -> list[tuple[list[str], str, str]]:
    return [(message.to, message.subject, message.body) for message in mail.outbox]


def test_points_earned_on_an_order_are_emailed_with_the_values():
    shop = factories.shop()
    settle(shop, 1, "120.00")

    assert notifications_send(now=NOON) == 1

    assert outbox() == [
        (
            ["c1001@example.com"],
            "You earned 120 points at alice",
            "Hi Ada,\n\nYou earned 120 points. Your balance is now 120 points.\n\nalice",
        )
    ]
    assert mail.outbox[0].from_email == "loyalty@localhost"
    notification = Notification.objects.get()
    assert (notification.kind, notification.key, notification.context) == (
        NotificationKind.POINTS_EARNED,
        "order:1:earned",
        {"points": "120", "available_on": ""},
    )
    assert notification.sent_at == NOON
    # Sent once: the next run finds nothing.
    assert notifications_send(now=NOON) == 0
    assert len(mail.outbox) == 1


def test_held_points_are_emailed_with_the_day_they_become_available():
    # 14 days' hold from NOON (UTC); in Tokyo that evening is already the next day.
    shop = factories.shop(hold_days=14)
    shop.timezone = "Asia/Tokyo"
    shop.save(update_fields=["timezone"])
    settle(shop, 1, "120.00", now=at("2026-10-05T20:00:00"))

    assert notifications_send(now=at("2026-10-05T20:00:00")) == 1

    assert outbox()[0][2] == (
        "Hi Ada,\n\nYou earned 120 points. They are yours to spend from 2026-10-20, once the "
        "store's return period is over. Your balance is now 0 points.\n\nalice"
    )
    assert Notification.objects.get().context == {"points": "120", "available_on": "2026-10-20"}


def test_the_same_event_recorded_twice_is_one_notification():
    shop = factories.shop()
    settle(shop, 1, "120.00")
    settle(shop, 1, "120.00")

    assert Notification.objects.count() == 1


def test_at_most_one_email_a_day_per_shopper_in_the_shops_day():
    shop = factories.shop()
    shop.timezone = "America/New_York"
    shop.save()
    settle(shop, 1, "10.00")
    settle(shop, 2, "20.00")
    settle(shop, 3, "30.00", customer_id=1002)

    # 12:00 UTC is 08:00 in New York: Ada's first order is emailed, her second is not.
    assert notifications_send(now=NOON) == 2
    assert [subject for _, subject, _ in outbox()] == [
        "You earned 10 points at alice",
        "You earned 30 points at alice",
    ]
    assert Notification.objects.get(key="order:2:earned").skipped == SKIPPED_DAILY_LIMIT

    # 03:59 UTC the next day is still 23:59 on the 1st in New York: the same day.
    settle(shop, 4, "40.00", now=at("2026-10-02T03:59:00"))
    assert notifications_send(now=at("2026-10-02T03:59:00")) == 0
    assert Notification.objects.get(key="order:4:earned").skipped == SKIPPED_DAILY_LIMIT
    # 04:00 UTC is New York's next day: Ada may be emailed again.
    settle(shop, 5, "50.00", now=at("2026-10-02T04:00:00"))
    assert notifications_send(now=at("2026-10-02T04:00:00")) == 1
    assert outbox()[-1][1] == "You earned 50 points at alice"
    # Her balance when the email is sent: 10 + 20 + 40 + 50.
    assert outbox()[-1][2].endswith("Your balance is now 120 points.\n\nalice")


def test_a_switched_off_template_sends_nothing():
    shop = factories.shop()
    notification_template_set(
        shop=shop, kind="points_earned", subject="Points!", body="{{ points }}", enabled=False
    )
    settle(shop, 1, "120.00")

    assert notifications_send(now=NOON) == 0

    assert mail.outbox == []
    assert Notification.objects.get().skipped == SKIPPED_TEMPLATE_OFF


def test_a_redacted_member_or_one_without_email_is_never_emailed():
    shop = factories.shop()
    settle(shop, 1, "120.00")
    settle(shop, 2, "80.00", customer_id=1002)
    member_redact(shop=shop, customer_id=1001)
    Member.objects.filter(customer_id=1002).update(email="")

    assert notifications_send(now=NOON) == 0

    assert mail.outbox == []
    assert dict(Notification.objects.values_list("member__customer_id", "skipped")) == {
        1001: SKIPPED_REDACTED,
        1002: SKIPPED_NO_EMAIL,
    }


def test_the_merchants_template_shows_only_the_fixed_values_as_plain_text():
    shop = factories.shop()
    notification_template_set(
        shop=shop,
        kind="points_earned",
        subject="{{ points }} for {{ first_name }}",
        body="{{ shop_name }}: {{ balance }} {{ member.email }}{{ settings.SECRET_KEY }}.",
        enabled=True,
    )
    settle(shop, 1, "120.00", first_name="<b>Ada</b>")

    notifications_send(now=NOON)

    assert outbox() == [(["c1001@example.com"], "120 for <b>Ada</b>", "alice: 120 .")]


@pytest.mark.parametrize(
    ("subject", "body", "errors"),
    [
        ("{% if %}", "ok", ["subject"]),
        ("ok", "{% load static %}", ["body"]),
        ("Two\nlines", "{% endif %}", ["subject", "body"]),
    ],
)
def test_a_template_that_does_not_compile_is_refused(subject, body, errors):
    shop = factories.shop()
    with pytest.raises(NotificationTemplateInvalid) as refused:
        notification_template_set(
            shop=shop, kind="birthday", subject=subject, body=body, enabled=True
        )
    assert sorted(refused.value.errors) == sorted(errors)


def test_tier_reached_birthday_and_expiring_points_are_recorded_with_their_values():
    shop = factories.shop(birthday_points=25, expiry_days=30, expiry_reminder_days=7)
    Tier.objects.create(shop=shop, name="Gold", threshold=100)
    settle(shop, 1, "150.00")
    member = Member.objects.get(customer_id=1001)
    Member.objects.filter(pk=member.pk).update(birthday_month=10, birthday_day=5)
    with mock.patch("django.utils.timezone.now", return_value=at("2026-10-05T12:00:00")):
        birthdays_daily(shop=shop, day=date(2026, 10, 5))
        birthdays_daily(shop=shop, day=date(2026, 10, 5))
    expiry_daily(shop=shop, day=date(2026, 10, 29))

    rows = Notification.objects.filter(member=member).order_by("pk")
    assert [(n.kind, n.key, n.context) for n in rows] == [
        (NotificationKind.POINTS_EARNED, "order:1:earned", {"points": "150", "available_on": ""}),
        (
            NotificationKind.TIER_REACHED,
            f"tier:{Tier.objects.get().pk}:reached",
            {"tier": "Gold"},
        ),
        (NotificationKind.BIRTHDAY, "birthday:2026", {"points": "25"}),
        (
            NotificationKind.POINTS_EXPIRING,
            "expiry:2026-10-05T12:00:00+00:00",
            {"expiring_points": "175", "expiring_on": "2026-11-04"},
        ),
    ]


def test_the_tier_email_names_the_tier():
    shop = factories.shop()
    Tier.objects.create(shop=shop, name="Gold", threshold=100)
    settle(shop, 1, "150.00")
    Notification.objects.filter(kind=NotificationKind.POINTS_EARNED).delete()

    notifications_send(now=NOON)

    assert outbox() == [
        (
            ["c1001@example.com"],
            "Welcome to Gold at alice",
            "Hi Ada,\n\nYou have reached Gold. Your balance is 150 points.\n\nalice",
        )
    ]


def test_a_member_without_a_first_name_is_greeted_as_there():
    shop = factories.shop(birthday_points=25)
    member = factories.member(shop)
    with mock.patch("django.utils.timezone.now", return_value=NOON):
        points_record(member=member, points=5, reason=Reason.SIGNUP_BONUS, idempotency_key="s")
    Member.objects.filter(pk=member.pk).update(birthday_month=10, birthday_day=1)
    birthdays_daily(shop=shop, day=date(2026, 10, 1))

    notifications_send(now=NOON)

    assert outbox() == [
        (
            ["c1001@example.com"],
            "Happy birthday from alice",
            "Hi there,\n\nHappy birthday! We added 25 points to your balance, which is now 30 "
            "points.\n\nalice",
        )
    ]


def test_a_reward_made_at_shopify_is_emailed_with_its_code(client, shopify):
    shop = redeeming.install()
    redeeming.member_with(shop, 1200)
    Member.objects.filter(customer_id=1001).update(email="ada@example.com", first_name="Ada")
    five_off = redeeming.reward(shop, points_cost=500)

    answer = redeeming.redeem(client, {"reward_id": five_off.pk}).json()
    assert answer["status"] == "ready"
    assert notifications_send() == 1

    assert outbox() == [
        (
            ["ada@example.com"],
            f"Your reward from {shop.name or shop.domain} is ready",
            f"Hi Ada,\n\nYour reward is ready. Use the code {answer['code']} at checkout."
            f"\n\n{shop.name or shop.domain}",
        )
    ]
