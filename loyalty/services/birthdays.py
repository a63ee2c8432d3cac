"""Birthdays: a shopper gives theirs (day and month) once, changes it at most once a year,
and the daily job awards the program's birthday points on the day (docs/dates.md)."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from loyalty.earning.orders import Customer
from loyalty.models import BirthdayChange, Member, NotificationKind, Reason, Shop
from loyalty.selectors import BIRTHDAY_CHANGE_AFTER

from .ledger import points_record
from .members import member_from_customer
from .notifications import notification_record
from .programs import program_for


class BirthdayInvalid(ValueError):
    """The month and day are not a date (February 29 is one)."""


class BirthdayLocked(Exception):
    """The birthday was set or changed less than a year ago; `changeable_on` says when it can
    be changed (a UTC date)."""

    def __init__(self, changeable_on: date) -> None:
        super().__init__(
            "Your birthday was saved less than a year ago; "
            f"you can change it from {changeable_on.isoformat()}."
        )
        self.changeable_on = changeable_on


def birthday_check(*, month: object, day: object) -> tuple[int, int]:
    """The month and day as whole numbers, or BirthdayInvalid saying what is wrong."""
    if not _whole(month) or not 1 <= month <= 12:
        raise BirthdayInvalid("month must be a whole number from 1 to 12.")
    # A leap year allows February 29.
    if not _whole(day) or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise BirthdayInvalid(f"day must be a day of month {month}.")
    return month, day


def birthday_set(
    *, shop: Shop, customer_id: int, month: object, day: object, now: datetime | None = None
) -> Member:
    """Save a shopper's birthday, making them a member if they are not one yet.

    The same birthday again changes nothing. Raises BirthdayInvalid for a date that does
    not exist, BirthdayLocked for a change within a year of the last one.
    """
    month, day = birthday_check(month=month, day=day)
    now = now or timezone.now()
    member = member_from_customer(shop=shop, customer=Customer(customer_id=customer_id))
    with transaction.atomic():
        # Locked, so two quick submissions cannot both count as the year's one change.
        member = Member.objects.select_for_update().get(pk=member.pk)
        if (member.birthday_month, member.birthday_day) == (month, day):
            return member
        if member.birthday_set_at is not None and now < member.birthday_set_at + (
            BIRTHDAY_CHANGE_AFTER
        ):
            raise BirthdayLocked((member.birthday_set_at + BIRTHDAY_CHANGE_AFTER).date())
        member.birthday_month, member.birthday_day, member.birthday_set_at = month, day, now
        member.save(update_fields=["birthday_month", "birthday_day", "birthday_set_at"])
        BirthdayChange.objects.create(
            shop=shop, member=member, month=month, day=day, changed_at=now
        )
    return member


def birthdays_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) birthdays celebrated on `day`: its own, and on February 28 of a
    year without a February 29, that one too."""
    celebrated = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        celebrated.append((2, 29))
    return celebrated


def birthdays_daily(*, shop: Shop, day: date) -> None:
    """Award the program's birthday points to every member whose birthday is `day` (the
    shop's day), once per member and year: running a day again awards nothing more."""
    program = program_for(shop=shop)
    if not program.birthday_points:
        return
    for month, day_of_month in birthdays_on(day):
        members = Member.objects.filter(
            shop=shop,
            birthday_month=month,
            birthday_day=day_of_month,
            redacted_at__isnull=True,
        ).order_by("pk")
        # About one member in 365: a list, even for a large shop.
        for member in list(members):
            member.shop = shop
            with transaction.atomic():
                points_record(
                    member=member,
                    points=program.birthday_points,
                    reason=Reason.BIRTHDAY_BONUS,
                    idempotency_key=f"birthday:{member.pk}:{day.year}",
                    note=f"Birthday {day.year}",
                )
                notification_record(
                    member=member,
                    kind=NotificationKind.BIRTHDAY,
                    key=f"birthday:{day.year}",
                    points=program.birthday_points,
                )


def _whole(value: object) -> bool:
    # bool is an int in Python, not in JSON.
    return isinstance(value, int) and not isinstance(value, bool)
