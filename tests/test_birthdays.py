"""Birthdays: a shopper gives theirs through the app proxy once, changes it at most once a
year, and the daily job awards the program's birthday points on the shop's day, once a year."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from loyalty.models import BirthdayChange, DailyFigures, LedgerEntry, Member, Reason
from loyalty.services.birthdays import birthday_set, birthdays_daily, birthdays_on
from loyalty.services.members import member_redact
from standin.signing import app_proxy_params
from tests import factories

pytestmark = pytest.mark.django_db

ALICE, BOB = "alice.myshopify.com", "bob.myshopify.com"


def proxy_query(shop: str, customer: str) -> str:
    params = app_proxy_params(
        shop=shop, logged_in_customer_id=customer, secret=settings.SHOPIFY_API_SECRET
    )
    return urlencode(params, doseq=True)


def give_birthday(client: Client, body, *, shop: str = ALICE, customer: str = "1001"):
    return client.post(
        "/proxy/api/birthday?" + proxy_query(shop, customer),
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )


def account(client: Client, *, shop: str = ALICE, customer: str = "1001") -> dict:
    return client.get("/proxy/api/account?" + proxy_query(shop, customer)).json()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def birthday_entries(member: Member) -> list[tuple[int, str]]:
    return list(
        LedgerEntry.objects.filter(member=member, reason=Reason.BIRTHDAY_BONUS)
        .order_by("sequence")
        .values_list("points", "idempotency_key")
    )


# --- Giving a birthday -------------------------------------------------------------------------


def test_a_shopper_gives_their_birthday_and_the_widget_shows_it(client: Client):
    factories.shop()
    with mock.patch("django.utils.timezone.now", return_value=at("2026-03-10T12:00:00")):
        response = give_birthday(client, {"month": 7, "day": 14})

    assert response.status_code == 200
    expected = {"month": 7, "day": 14, "changeable_on": "2027-03-10"}
    assert response.json() == {"birthday": expected}
    assert "no-store" in response["Cache-Control"]
    assert account(client)["birthday"] == expected
    member = Member.objects.get(customer_id=1001)
    assert (member.birthday_month, member.birthday_day) == (7, 14)
    assert list(BirthdayChange.objects.values_list("member_id", "month", "day")) == [
        (member.pk, 7, 14)
    ]


def test_a_customer_without_points_becomes_a_member_by_giving_it(client: Client):
    factories.shop()
    assert not Member.objects.exists()

    assert give_birthday(client, {"month": 1, "day": 2}, customer="555").status_code == 200

    assert Member.objects.get().customer_id == 555


def test_february_29_is_a_birthday(client: Client):
    factories.shop()
    response = give_birthday(client, {"month": 2, "day": 29})
    assert response.status_code == 200
    assert response.json()["birthday"]["day"] == 29


@pytest.mark.parametrize(
    "body",
    [
        {"month": 2, "day": 30},
        {"month": 4, "day": 31},
        {"month": 13, "day": 1},
        {"month": 0, "day": 1},
        {"month": 6, "day": 0},
        {"month": "6", "day": 1},
        {"month": 6, "day": 1.5},
        {"month": True, "day": 1},
        {"month": 6},
        [6, 1],
        "not json",
    ],
)
def test_a_date_that_does_not_exist_is_a_400(client: Client, body):
    factories.shop()
    response = give_birthday(client, body)
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_birthday", "bad_request"}
    assert response.json()["error"]
    assert not BirthdayChange.objects.exists()


def test_a_form_or_text_post_is_a_415_and_deep_json_a_400(client: Client):
    """Another site's page may post a form or text/plain without asking first; JSON needs
    a CORS preflight it cannot pass, so only JSON is read."""
    factories.shop()
    form = client.post(
        "/proxy/api/birthday?" + proxy_query(ALICE, "1001"),
        data="month=7&day=14",
        content_type="application/x-www-form-urlencoded",
    )
    assert (form.status_code, form.json()["code"]) == (415, "bad_content_type")
    deep = give_birthday(client, "[" * 100_000)
    assert (deep.status_code, deep.json()["code"]) == (400, "bad_request")
    assert not BirthdayChange.objects.exists()


def test_guests_cannot_give_a_birthday(client: Client):
    factories.shop()
    response = give_birthday(client, {"month": 7, "day": 14}, customer="")
    assert response.status_code == 403
    assert response.json()["code"] == "guest"
    assert not Member.objects.exists()


def test_an_unsigned_request_changes_nothing(client: Client):
    factories.shop()
    query = proxy_query(ALICE, "1001").replace("signature=", "signature=0")
    response = client.post(
        "/proxy/api/birthday?" + query,
        data=json.dumps({"month": 7, "day": 14}),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not Member.objects.exists()


def test_a_change_within_a_year_is_a_409_and_after_a_year_is_saved(client: Client):
    factories.shop()
    with mock.patch("django.utils.timezone.now", return_value=at("2026-03-10T12:00:00")):
        give_birthday(client, {"month": 7, "day": 14})
    with mock.patch("django.utils.timezone.now", return_value=at("2027-03-09T12:00:00")):
        refused = give_birthday(client, {"month": 8, "day": 1})
        # The same birthday again is no change.
        same = give_birthday(client, {"month": 7, "day": 14})
    with mock.patch("django.utils.timezone.now", return_value=at("2027-03-10T12:00:00")):
        changed = give_birthday(client, {"month": 8, "day": 1})
    with mock.patch("django.utils.timezone.now", return_value=at("2027-06-01T12:00:00")):
        again = give_birthday(client, {"month": 9, "day": 1})

    assert refused.status_code == 409
    assert refused.json()["code"] == "birthday_locked"
    assert refused.json()["changeable_on"] == "2027-03-10"
    assert "2027-03-10" in refused.json()["error"]
    assert same.status_code == 200
    assert changed.status_code == 200
    assert changed.json()["birthday"] == {"month": 8, "day": 1, "changeable_on": "2028-03-09"}
    assert again.status_code == 409
    assert list(BirthdayChange.objects.order_by("changed_at").values_list("month", "day")) == [
        (7, 14),
        (8, 1),
    ]


def test_each_shop_keeps_its_own_birthday_for_the_same_customer(client: Client):
    alice, bob = factories.shop(ALICE), factories.shop(BOB)
    give_birthday(client, {"month": 7, "day": 14}, shop=ALICE)
    give_birthday(client, {"month": 12, "day": 25}, shop=BOB)

    assert account(client, shop=ALICE)["birthday"]["month"] == 7
    assert account(client, shop=BOB)["birthday"]["month"] == 12
    assert Member.objects.get(shop=alice).birthday_day == 14
    assert Member.objects.get(shop=bob).birthday_day == 25


def test_an_uninstalled_shop_is_a_404(client: Client):
    shop = factories.shop()
    shop.uninstalled_at = at("2026-01-01T00:00:00")
    shop.save()
    assert give_birthday(client, {"month": 7, "day": 14}).status_code == 404


# --- The birthday job --------------------------------------------------------------------------


def with_birthday(shop, customer_id: int, month: int, day: int) -> Member:
    factories.member(shop, customer_id)
    return birthday_set(
        shop=shop,
        customer_id=customer_id,
        month=month,
        day=day,
        now=at("2026-01-01T00:00:00"),
    )


def test_birthday_points_on_the_day_once_however_often_the_day_runs():
    shop = factories.shop(birthday_points=250)
    ada = with_birthday(shop, 1001, 7, 14)
    ben = with_birthday(shop, 1002, 7, 15)

    birthdays_daily(shop=shop, day=date(2026, 7, 13))
    assert birthday_entries(ada) == []
    birthdays_daily(shop=shop, day=date(2026, 7, 14))
    birthdays_daily(shop=shop, day=date(2026, 7, 14))

    assert birthday_entries(ada) == [(250, f"birthday:{ada.pk}:2026")]
    assert birthday_entries(ben) == []
    ada.refresh_from_db()
    assert ada.balance == 250
    counted = DailyFigures.objects.filter(shop=shop).values_list("points_bonus", flat=True)
    assert sum(counted) == 250


def test_every_year_brings_one_more():
    shop = factories.shop(birthday_points=100)
    ada = with_birthday(shop, 1001, 3, 1)
    for year in (2026, 2027, 2028):
        birthdays_daily(shop=shop, day=date(year, 3, 1))
    assert [points for points, _ in birthday_entries(ada)] == [100, 100, 100]
    assert [key.rsplit(":", 1)[1] for _, key in birthday_entries(ada)] == [
        "2026",
        "2027",
        "2028",
    ]


def test_a_leap_day_birthday_is_celebrated_on_february_28_in_other_years():
    shop = factories.shop(birthday_points=100)
    leap = with_birthday(shop, 1001, 2, 29)
    late_feb = with_birthday(shop, 1002, 2, 28)

    for day in (date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 28), date(2028, 2, 29)):
        birthdays_daily(shop=shop, day=day)

    assert [key for _, key in birthday_entries(leap)] == [
        f"birthday:{leap.pk}:2027",
        f"birthday:{leap.pk}:2028",
    ]
    assert len(birthday_entries(late_feb)) == 2
    # 2028 is a leap year: the leap birthday is on the 29th, not the 28th.
    leap_2028 = LedgerEntry.objects.get(idempotency_key=f"birthday:{leap.pk}:2028")
    feb_28_2028 = LedgerEntry.objects.get(idempotency_key=f"birthday:{late_feb.pk}:2028")
    assert leap_2028.sequence == 2
    assert feb_28_2028.sequence == 2
    assert birthdays_on(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthdays_on(date(2028, 2, 28)) == [(2, 28)]
    assert birthdays_on(date(2028, 2, 29)) == [(2, 29)]


def test_no_birthday_points_when_the_program_gives_none():
    shop = factories.shop(birthday_points=0)
    ada = with_birthday(shop, 1001, 7, 14)
    birthdays_daily(shop=shop, day=date(2026, 7, 14))
    assert birthday_entries(ada) == []


def test_a_redacted_member_gets_nothing():
    shop = factories.shop(birthday_points=100)
    ada = with_birthday(shop, 1001, 7, 14)
    member_redact(shop=shop, customer_id=1001)
    birthdays_daily(shop=shop, day=date(2026, 7, 14))
    assert birthday_entries(ada) == []


def test_the_day_is_the_shops_own(client: Client):
    """At 2026-07-13 13:00 UTC it is already the 14th in Auckland, still the 13th in
    Los Angeles: the hourly run awards Auckland's member and not yet the other."""
    auckland = factories.shop(ALICE, birthday_points=100)
    auckland.timezone = "Pacific/Auckland"
    auckland.save()
    los_angeles = factories.shop(BOB, birthday_points=100)
    los_angeles.timezone = "America/Los_Angeles"
    los_angeles.save()
    kiwi = with_birthday(auckland, 1001, 7, 14)
    angeleno = with_birthday(los_angeles, 1001, 7, 14)

    with mock.patch("django.utils.timezone.now", return_value=at("2026-07-13T13:00:00")):
        call_command("run_daily_jobs", stdout=io.StringIO())
    assert len(birthday_entries(kiwi)) == 1
    assert birthday_entries(angeleno) == []

    # 07:00 UTC on the 14th is midnight in Los Angeles.
    with mock.patch("django.utils.timezone.now", return_value=at("2026-07-14T07:00:00")):
        call_command("run_daily_jobs", stdout=io.StringIO())
    assert len(birthday_entries(kiwi)) == 1
    assert len(birthday_entries(angeleno)) == 1
    assert account(client, shop=BOB)["balance"] == 100


def test_a_birthday_given_after_the_day_waits_for_next_year():
    shop = factories.shop(birthday_points=100)
    birthdays_daily(shop=shop, day=date(2026, 7, 14))
    ada = with_birthday(shop, 1001, 7, 14)
    birthdays_daily(shop=shop, day=date(2026, 7, 15))
    assert birthday_entries(ada) == []
    birthdays_daily(shop=shop, day=date(2026, 7, 14) + timedelta(days=365))
    assert [key for _, key in birthday_entries(ada)] == [f"birthday:{ada.pk}:2027"]
