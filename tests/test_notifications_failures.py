"""The email sender when sending fails: one refused address holds back no other email, a
mail server that is down loses nothing, and a row that keeps failing is given up in the end
with the error kept (docs/notifications.md)."""

from datetime import UTC, datetime, timedelta
from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected
from unittest import mock

import pytest
from django.core import mail

from loyalty.models import Notification, NotificationKind
from loyalty.services import notifications
from loyalty.services.notifications import (
    SKIPPED_ADDRESS_REFUSED,
    notification_record,
    notifications_send,
)
from tests import factories

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 10, 1, 12, tzinfo=UTC)
REAL_SEND = notifications.send_mail


def events(count: int) -> list[Notification]:
    shop = factories.shop()
    for customer_id in range(1001, 1001 + count):
        member = factories.member(shop, customer_id)
        notification_record(
            member=member, kind=NotificationKind.BIRTHDAY, key="birthday:2026", points=50
        )
    return list(Notification.objects.order_by("pk"))


def failing_for(addresses: set[str], error: Exception):
    def send(subject, body, sender, recipients):
        if set(recipients) & addresses:
            raise error
        return REAL_SEND(subject, body, sender, recipients)

    return mock.patch.object(notifications, "send_mail", side_effect=send)


def recipients() -> list[str]:
    return [message.to[0] for message in mail.outbox]


def test_a_refused_address_is_given_up_at_once_and_the_others_are_sent():
    refused = SMTPRecipientsRefused({"c1001@example.com": (550, b"no such user")})
    events(3)

    with failing_for({"c1001@example.com"}, refused):
        assert notifications_send(now=NOON) == 2

    assert recipients() == ["c1002@example.com", "c1003@example.com"]
    first = Notification.objects.get(member__customer_id=1001)
    assert first.sent_at is None
    assert first.attempts == 1
    assert first.skipped.startswith(SKIPPED_ADDRESS_REFUSED)
    assert "no such user" in first.last_error


def test_any_other_failure_is_tried_again_after_the_fresh_rows():
    events(3)
    with failing_for({"c1001@example.com"}, ValueError("template blew up")):
        assert notifications_send(now=NOON) == 2
    first = Notification.objects.get(member__customer_id=1001)
    assert (first.attempts, first.skipped, first.last_error) == (
        1,
        "",
        "ValueError: template blew up",
    )
    member = factories.member(first.shop, 1004)
    notification_record(member=member, kind=NotificationKind.BIRTHDAY, key="b", points=50)

    # The next run: the new row first, then the one that failed, which now goes.
    assert notifications_send(now=NOON + timedelta(minutes=5)) == 2

    assert recipients()[2:] == ["c1004@example.com", "c1001@example.com"]


def test_a_mail_server_that_is_down_ends_the_run_and_loses_nothing():
    down = SMTPServerDisconnected("Connection unexpectedly closed")
    events(6)
    every_address = {f"c{customer}@example.com" for customer in range(1001, 1007)}

    for run in range(10):
        with failing_for(every_address, down):
            assert notifications_send(now=NOON + timedelta(minutes=5 * run)) == 0

    # Three failures in a row end each run, and the least tried rows go first: three tries
    # a run, shared out, and nothing given up within the day.
    attempts = sorted(Notification.objects.values_list("attempts", flat=True))
    assert attempts == [5, 5, 5, 5, 5, 5]
    assert not Notification.objects.exclude(skipped="").exists()

    # Back up within the day: every email goes.
    assert notifications_send(now=NOON + timedelta(hours=2)) == 6
    assert sorted(recipients()) == sorted(every_address)


def test_a_row_that_keeps_failing_is_given_up_after_five_tries_and_a_day():
    events(1)
    broken = ValueError("always")
    with failing_for({"c1001@example.com"}, broken):
        for minutes in range(0, 25, 5):
            notifications_send(now=NOON + timedelta(minutes=minutes))
        row = Notification.objects.get()
        # Five tries, but not a day old yet: still waiting.
        assert (row.attempts, row.skipped) == (5, "")

        created = row.created_at
        notifications_send(now=created + timedelta(days=1, minutes=1))

    row.refresh_from_db()
    assert row.attempts == 6
    assert row.skipped == "Not sent after 5 tries: ValueError: always"
    assert notifications_send(now=created + timedelta(days=1, minutes=10)) == 0
    assert mail.outbox == []
