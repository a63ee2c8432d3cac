"""Points expiry: points expire `expiry_days` after the member last earned or redeemed, on
the shop's day; the daily job writes one entry for exactly the available balance, once,
records the reminders due, and the widget and the admin show what expires when."""

import importlib
from datetime import UTC, date, datetime
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from loyalty.models import DailyFigures, ExpiryReminder, LedgerEntry, Member, Notification, Reason
from loyalty.services.expiry import expiry_daily
from loyalty.services.ledger import points_record
from standin.signing import app_proxy_params
from tests import factories
from tests.conftest import needs_postgres
from tests.shopify_signing import ALICE, BOB, as_merchant
from tests.test_embedded_admin import installed_shop

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record_at(moment: str, member: Member, points: int = 0, **entry) -> LedgerEntry:
    entry.setdefault("reason", Reason.ORDER_EARNED)
    entry.setdefault("idempotency_key", f"{entry['reason']}:{moment}")
    with mock.patch("django.utils.timezone.now", return_value=at(moment)):
        return points_record(member=member, points=points, **entry)


def expired(member: Member) -> list[tuple[int, str]]:
    return list(
        LedgerEntry.objects.filter(member=member, reason=Reason.POINTS_EXPIRED)
        .order_by("sequence")
        .values_list("points", "idempotency_key")
    )


def account(client: Client, *, shop: str = ALICE, customer: str = "1001") -> dict:
    params = app_proxy_params(
        shop=shop, logged_in_customer_id=customer, secret=settings.SHOPIFY_API_SECRET
    )
    return client.get("/proxy/api/account?" + urlencode(params, doseq=True)).json()


# --- What counts as activity -------------------------------------------------------------------


def test_earning_and_redeeming_restart_the_clock_and_nothing_else_does():
    shop = factories.shop()
    ada = factories.member(shop, 1001)
    record_at("2026-01-05T10:00:00", ada, pending_points=80, reason=Reason.ORDER_EARNED)
    record_at("2026-01-06T10:00:00", ada, points=80, pending_points=-80, reason="points_released")
    assert Member.objects.get(pk=ada.pk).last_activity_at == at("2026-01-05T10:00:00")

    record_at("2026-02-01T10:00:00", ada, points=-50, reason=Reason.REWARD_REDEEMED)
    record_at("2026-02-02T10:00:00", ada, points=50, reason=Reason.REDEMPTION_REFUNDED)
    record_at("2026-02-03T10:00:00", ada, points=-10, reason=Reason.ORDER_REFUNDED)
    record_at("2026-02-04T10:00:00", ada, points=-5, reason=Reason.MANUAL_ADJUSTMENT)
    assert Member.objects.get(pk=ada.pk).last_activity_at == at("2026-02-01T10:00:00")

    record_at("2026-03-01T10:00:00", ada, points=20, reason=Reason.MANUAL_ADJUSTMENT)
    record_at("2026-03-02T10:00:00", ada, points=5, reason=Reason.SIGNUP_BONUS)
    ada.refresh_from_db()
    assert ada.last_activity_at == at("2026-03-02T10:00:00")
    assert ada.balance == 90


# --- The expiry job ----------------------------------------------------------------------------


def test_points_expire_on_the_day_for_exactly_the_balance_once():
    shop = factories.shop(expiry_days=30, expiry_reminder_days=None)
    ada = factories.member(shop, 1001)
    ben = factories.member(shop, 1002)
    record_at("2026-01-01T12:00:00", ada, points=120, reason=Reason.SIGNUP_BONUS)
    record_at("2026-01-02T12:00:00", ben, points=70, reason=Reason.SIGNUP_BONUS)

    expiry_daily(shop=shop, day=date(2026, 1, 30))
    assert expired(ada) == []
    expiry_daily(shop=shop, day=date(2026, 1, 31))
    expiry_daily(shop=shop, day=date(2026, 1, 31))

    key = f"expired:{ada.pk}:{at('2026-01-01T12:00:00').isoformat()}"
    assert expired(ada) == [(-120, key)]
    assert expired(ben) == []
    ada.refresh_from_db()
    assert (ada.balance, ada.last_activity_at) == (0, at("2026-01-01T12:00:00"))
    counted = DailyFigures.objects.filter(shop=shop).values_list("points_expired", flat=True)
    assert sum(counted) == 120

    expiry_daily(shop=shop, day=date(2026, 2, 1))
    assert expired(ben) == [(-70, f"expired:{ben.pk}:{at('2026-01-02T12:00:00').isoformat()}")]
    assert len(expired(ada)) == 1


def test_pending_points_do_not_expire():
    shop = factories.shop(expiry_days=10, expiry_reminder_days=None)
    ada = factories.member(shop, 1001)
    record_at("2026-01-01T12:00:00", ada, points=40, reason=Reason.SIGNUP_BONUS)
    # Points on hold (a hold period longer than the expiry) stay when the others expire.
    record_at(
        "2026-01-01T13:00:00",
        ada,
        pending_points=25,
        reason=Reason.ORDER_EARNED,
        idempotency_key="order",
    )

    expiry_daily(shop=shop, day=date(2026, 1, 11))

    ada.refresh_from_db()
    assert (ada.balance, ada.pending) == (0, 25)
    assert [points for points, _ in expired(ada)] == [-40]


def test_a_member_who_earns_again_keeps_the_points_until_the_new_date():
    shop = factories.shop(expiry_days=30, expiry_reminder_days=None)
    ada = factories.member(shop, 1001)
    record_at("2026-01-01T12:00:00", ada, points=100, reason=Reason.SIGNUP_BONUS)
    expiry_daily(shop=shop, day=date(2026, 1, 31))
    record_at("2026-02-10T12:00:00", ada, points=30, reason=Reason.ORDER_EARNED)
    record_at("2026-02-20T12:00:00", ada, points=-10, reason=Reason.REWARD_REDEEMED)

    expiry_daily(shop=shop, day=date(2026, 3, 12))
    assert len(expired(ada)) == 1
    expiry_daily(shop=shop, day=date(2026, 3, 22))

    assert [points for points, _ in expired(ada)] == [-100, -20]
    ada.refresh_from_db()
    assert ada.balance == 0


def test_no_expiry_when_the_program_has_none_or_the_balance_is_not_positive():
    off = factories.shop(ALICE)
    ada = factories.member(off, 1001)
    record_at("2020-01-01T12:00:00", ada, points=100, reason=Reason.SIGNUP_BONUS)
    on = factories.shop(BOB, expiry_days=5, expiry_reminder_days=None)
    ben = factories.member(on, 1002)
    record_at("2020-01-01T12:00:00", ben, points=10, reason=Reason.SIGNUP_BONUS)
    record_at("2020-01-02T12:00:00", ben, points=-30, reason=Reason.ORDER_REFUNDED)

    expiry_daily(shop=off, day=date(2026, 1, 1))
    expiry_daily(shop=on, day=date(2026, 1, 1))

    assert expired(ada) == [] and expired(ben) == []
    assert Member.objects.get(pk=ben.pk).balance == -20


@pytest.mark.parametrize(
    ("timezone_name", "expires_on"),
    [("America/New_York", date(2026, 1, 31)), ("Asia/Tokyo", date(2026, 2, 1))],
)
def test_the_day_of_the_last_activity_is_the_shops(timezone_name, expires_on):
    """23:30 UTC on January 1 is still January 1 in New York, already January 2 in Tokyo."""
    shop = factories.shop(expiry_days=30, expiry_reminder_days=None)
    shop.timezone = timezone_name
    shop.save()
    ada = factories.member(shop, 1001)
    ada.shop = shop
    record_at("2026-01-01T23:30:00", ada, points=60, reason=Reason.SIGNUP_BONUS)

    expiry_daily(shop=shop, day=date.fromordinal(expires_on.toordinal() - 1))
    assert expired(ada) == []
    expiry_daily(shop=shop, day=expires_on)
    assert [points for points, _ in expired(ada)] == [-60]


# --- Reminders ---------------------------------------------------------------------------------


def test_a_reminder_is_recorded_once_when_the_expiry_is_near():
    shop = factories.shop(expiry_days=30, expiry_reminder_days=7)
    ada = factories.member(shop, 1001)
    record_at("2026-01-01T12:00:00", ada, points=90, reason=Reason.SIGNUP_BONUS)

    expiry_daily(shop=shop, day=date(2026, 1, 23))
    assert not ExpiryReminder.objects.exists()
    expiry_daily(shop=shop, day=date(2026, 1, 24))
    expiry_daily(shop=shop, day=date(2026, 1, 25))

    reminder = ExpiryReminder.objects.get()
    assert (reminder.member_id, reminder.points) == (ada.pk, 90)
    assert (reminder.expires_on, reminder.due_on) == (date(2026, 1, 31), date(2026, 1, 24))
    assert Notification.objects.get(member=ada).context == {
        "expiring_points": "90",
        "expiring_on": "2026-01-31",
    }

    # Active again: a new expiry date, a new reminder when it nears.
    record_at("2026-01-28T12:00:00", ada, points=10, reason=Reason.ORDER_EARNED)
    expiry_daily(shop=shop, day=date(2026, 2, 20))
    assert list(
        ExpiryReminder.objects.order_by("expires_on").values_list("expires_on", "points")
    ) == [
        (date(2026, 1, 31), 90),
        (date(2026, 2, 27), 100),
    ]


def test_no_reminders_when_the_program_sends_none():
    shop = factories.shop(expiry_days=30, expiry_reminder_days=None)
    ada = factories.member(shop, 1001)
    record_at("2026-01-01T12:00:00", ada, points=90, reason=Reason.SIGNUP_BONUS)
    expiry_daily(shop=shop, day=date(2026, 1, 30))
    assert not ExpiryReminder.objects.exists()


# --- What the shopper and the merchant see -----------------------------------------------------


def test_the_widget_shows_what_expires_when(client: Client):
    shop = factories.shop(expiry_days=90)
    shop.timezone = "Asia/Tokyo"
    shop.save()
    ada = factories.member(shop, 1001)
    ada.shop = shop
    record_at("2026-01-01T23:30:00", ada, points=60, reason=Reason.SIGNUP_BONUS)
    record_at("2026-01-01T23:40:00", ada, pending_points=15, idempotency_key="order")

    assert account(client)["expiring"] == {"points": 60, "on": "2026-04-02"}
    assert account(client, customer="999")["expiring"] is None
    assert account(client, customer="")["expiring"] is None


def test_nothing_shows_as_expiring_when_expiry_is_off(client: Client):
    shop = factories.shop()
    ada = factories.member(shop, 1001)
    record_at("2026-01-01T12:00:00", ada, points=60, reason=Reason.SIGNUP_BONUS)
    assert account(client)["expiring"] is None


def test_the_admin_member_detail_shows_it_and_only_to_its_own_shop(client: Client, admin_settings):
    alice = installed_shop(ALICE, "Alice")
    installed_shop(BOB, "Bob")
    factories.shop(ALICE, expiry_days=30, expiry_reminder_days=None)
    ada = factories.member(alice, 1001)
    record_at("2026-01-01T12:00:00", ada, points=60, reason=Reason.SIGNUP_BONUS)

    detail = client.get("/api/admin/members/1001", headers=as_merchant(ALICE))
    assert detail.status_code == 200
    assert detail.json()["expiring"] == {"points": 60, "on": "2026-01-31"}
    assert client.get("/api/admin/members/1001", headers=as_merchant(BOB)).status_code == 404


# --- The index ---------------------------------------------------------------------------------


@needs_postgres
def test_the_job_finds_due_members_through_the_partial_index():
    shop = factories.shop(expiry_days=30, expiry_reminder_days=None)
    Member.objects.bulk_create(Member(shop=shop, customer_id=10_000 + n) for n in range(5000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE loyalty_member")
    plan = (
        Member.objects.filter(shop=shop, balance__gt=0, last_activity_at__lt=at("2026-01-01T00:00"))
        .values_list("pk", flat=True)
        .explain()
    )
    assert "member_expiry_due" in plan
    assert "Seq Scan" not in plan


def test_the_migration_starts_existing_members_from_their_newest_activity():
    backfill = importlib.import_module("loyalty.migrations.0013_dates").BACKFILL_LAST_ACTIVITY
    shop = factories.shop()
    ada, ben, cy = (factories.member(shop, n) for n in (1001, 1002, 1003))
    record_at("2026-01-01T12:00:00", ada, points=50, reason=Reason.SIGNUP_BONUS)
    record_at("2026-02-01T12:00:00", ada, points=-20, reason=Reason.REWARD_REDEEMED)
    record_at("2026-03-01T12:00:00", ada, points=20, reason=Reason.REDEMPTION_REFUNDED)
    record_at("2026-01-05T12:00:00", ben, points=-5, reason=Reason.MANUAL_ADJUSTMENT)
    Member.objects.update(last_activity_at=None)

    with connection.cursor() as cursor:
        cursor.execute(backfill)

    assert dict(Member.objects.values_list("customer_id", "last_activity_at")) == {
        ada.customer_id: at("2026-02-01T12:00:00"),
        ben.customer_id: None,
        cy.customer_id: None,
    }
