"""The daily-jobs runner: every shop's jobs for its own day, idempotent, catching up missed
days in order (at most CATCH_UP_DAYS), by hand with `run_daily_jobs` and hourly by cron."""

import io
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from loyalty import daily
from loyalty.daily import CATCH_UP_DAYS, daily_jobs_run, days_to_run
from loyalty.models import DailyRun, LedgerEntry, Member, Reason
from loyalty.services.birthdays import birthday_set
from loyalty.services.ledger import points_record
from tests import factories
from tests.shopify_signing import ALICE, BOB

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("run_daily_jobs", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def last_day(shop) -> date:
    return DailyRun.objects.get(shop=shop).last_day


def entries(reason: str) -> list[tuple[int, int]]:
    return list(
        LedgerEntry.objects.filter(reason=reason)
        .order_by("member__customer_id")
        .values_list("member__customer_id", "points")
    )


@pytest.fixture
def recording_jobs(monkeypatch):
    """The runner's jobs replaced by one that notes each (shop, day) it is given."""
    calls: list[tuple[str, date]] = []

    def note(*, shop, day):
        calls.append((shop.domain, day))

    monkeypatch.setattr(daily, "DAILY_JOBS", [("note", note)])
    return calls


# --- Which days run ----------------------------------------------------------------------------


def test_days_to_run():
    today = date(2026, 3, 10)
    assert days_to_run(last_day=None, today=today) == [today]
    assert days_to_run(last_day=today, today=today) == [today]
    assert days_to_run(last_day=date(2026, 3, 20), today=today) == [today]
    assert days_to_run(last_day=date(2026, 3, 7), today=today) == [
        date(2026, 3, 8),
        date(2026, 3, 9),
        date(2026, 3, 10),
    ]
    caught_up = days_to_run(last_day=date(2025, 1, 1), today=today)
    assert len(caught_up) == CATCH_UP_DAYS == 31
    assert (caught_up[0], caught_up[-1]) == (today - timedelta(days=30), today)


def test_a_missed_week_is_caught_up_in_order(recording_jobs):
    shop = factories.shop()
    run("--date", "2026-03-01")
    run("--date", "2026-03-09")

    assert recording_jobs == [(ALICE, date(2026, 3, d)) for d in range(1, 10)]
    assert last_day(shop) == date(2026, 3, 9)


def test_replaying_an_old_day_runs_only_it_and_keeps_the_record(recording_jobs):
    shop = factories.shop()
    run("--date", "2026-03-09")
    run("--date", "2026-03-02")

    assert recording_jobs == [(ALICE, date(2026, 3, 9)), (ALICE, date(2026, 3, 2))]
    assert last_day(shop) == date(2026, 3, 9)


def test_each_shop_runs_its_own_today(recording_jobs):
    """At 2026-03-09 20:00 UTC it is already the 10th in Auckland."""
    auckland = factories.shop(ALICE)
    auckland.timezone = "Pacific/Auckland"
    auckland.save()
    factories.shop(BOB)

    with mock.patch("django.utils.timezone.now", return_value=at("2026-03-09T20:00:00")):
        printed = run()

    assert sorted(recording_jobs) == [(ALICE, date(2026, 3, 10)), (BOB, date(2026, 3, 9))]
    assert "alice.myshopify.com\t2026-03-10\tdone" in printed


def test_one_shop_and_only_installed_shops(recording_jobs):
    factories.shop(ALICE)
    gone = factories.shop(BOB)
    run("--date", "2026-03-09", "--shop", ALICE)
    gone.uninstalled_at = at("2026-03-01T00:00:00")
    gone.save()
    run("--date", "2026-03-10")

    assert recording_jobs == [(ALICE, date(2026, 3, 9)), (ALICE, date(2026, 3, 10))]


def test_bad_arguments_say_what_to_fix(recording_jobs):
    factories.shop()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--date", "2026-02-30")
    with pytest.raises(CommandError, match="no shop nobody.myshopify.com"):
        run("--shop", "nobody.myshopify.com")
    assert recording_jobs == []


def test_a_failing_shop_stops_at_its_failed_day_and_the_others_go_on(monkeypatch):
    alice, bob = factories.shop(ALICE), factories.shop(BOB)
    ran: list[tuple[str, date]] = []

    def fragile(*, shop, day):
        if shop.domain == ALICE and day == date(2026, 3, 5):
            raise RuntimeError("database went away")
        ran.append((shop.domain, day))

    monkeypatch.setattr(daily, "DAILY_JOBS", [("fragile", fragile)])
    daily_jobs_run(day=date(2026, 3, 3))
    report = daily_jobs_run(day=date(2026, 3, 6))

    assert report.failed == {ALICE: "2026-03-05: database went away"}
    assert (last_day(alice), last_day(bob)) == (date(2026, 3, 4), date(2026, 3, 6))
    assert (ALICE, date(2026, 3, 6)) not in ran
    with pytest.raises(CommandError, match="1 shops failed"):
        run("--date", "2026-03-06")


def test_the_scheduler_runs_it_every_hour():
    from dramatiq_crontab import scheduler

    import loyalty.tasks  # noqa: F401 - registers the cron entries

    job = next(job for job in scheduler.get_jobs() if job.name == "run_daily_jobs")
    fields = {field.name: str(field) for field in job.trigger.fields}
    assert (fields["minute"], fields["hour"]) == ("7", "*")


# --- The real jobs, replayed -------------------------------------------------------------------


def test_running_a_day_twice_changes_nothing():
    shop = factories.shop(birthday_points=100, expiry_days=30, expiry_reminder_days=None)
    birthday_set(shop=shop, customer_id=1001, month=3, day=9, now=at("2026-01-01T00:00:00"))
    ben = factories.member(shop, 1002)
    with mock.patch("django.utils.timezone.now", return_value=at("2026-02-07T12:00:00")):
        points_record(member=ben, points=50, reason=Reason.SIGNUP_BONUS, idempotency_key="b")

    run("--date", "2026-03-09")
    first = list(LedgerEntry.objects.order_by("pk").values_list("pk", "points", "reason"))
    run("--date", "2026-03-09")

    assert list(LedgerEntry.objects.order_by("pk").values_list("pk", "points", "reason")) == first
    assert entries(Reason.BIRTHDAY_BONUS) == [(1001, 100)]
    assert entries(Reason.POINTS_EXPIRED) == [(1002, -50)]


def test_catching_up_a_missed_week_awards_and_expires_as_each_day_would_have():
    shop = factories.shop(birthday_points=100, expiry_days=30, expiry_reminder_days=5)
    for customer_id, day in ((1001, 3), (1002, 6), (1003, 12)):
        birthday_set(
            shop=shop, customer_id=customer_id, month=3, day=day, now=at("2026-01-01T00:00:00")
        )
    ben = Member.objects.get(customer_id=1002)
    with mock.patch("django.utils.timezone.now", return_value=at("2026-02-04T12:00:00")):
        points_record(member=ben, points=40, reason=Reason.SIGNUP_BONUS, idempotency_key="b")
    run("--date", "2026-03-01")

    # The scheduler was down from the 2nd to the 8th; the 9th's run does them all.
    printed = run("--date", "2026-03-09")

    assert printed.count("\tdone") == 8
    assert entries(Reason.BIRTHDAY_BONUS) == [(1001, 100), (1002, 100)]
    # Ben's 40 expired on March 6 (30 days after February 4), before that day's birthday
    # points, which stay: they are new activity.
    assert entries(Reason.POINTS_EXPIRED) == [(1002, -40)]
    ben.refresh_from_db()
    assert ben.balance == 100
    assert last_day(shop) == date(2026, 3, 9)
