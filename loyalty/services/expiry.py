"""Points expiry: a member's points expire `Program.expiry_days` after they last earned or
redeemed (docs/dates.md); the daily job writes the expiry entries and records the
reminders due before it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from loyalty.models import ExpiryReminder, Member, NotificationKind, Program, Reason, Shop
from loyalty.selectors import expiry_date
from loyalty.stats.counters import shop_day, shop_zone

from .ledger import points_record
from .notifications import notification_record
from .programs import program_for
from .rows import insert_if_absent


def expiry_daily(*, shop: Shop, day: date) -> None:
    """Expire the points of every member of the shop whose last activity was `expiry_days`
    or more before `day` (the shop's day): one entry each for exactly their available
    balance, keyed by member and activity so it is written once. Then record the reminders
    falling due. Running a day again changes nothing."""
    program = program_for(shop=shop)
    if not program.expiry_days:
        return
    # Active on this day or before: expired by `day`.
    expired_before = _day_start(day - timedelta(days=program.expiry_days - 1), shop.timezone)
    due = Member.objects.filter(
        shop=shop, balance__gt=0, last_activity_at__lt=expired_before
    ).order_by("pk")
    for member_id in list(due.values_list("pk", flat=True)):
        _expire(member_id=member_id, shop=shop, expired_before=expired_before)
    if program.expiry_reminder_days:
        _reminders_record(shop=shop, day=day, program=program, expired_before=expired_before)


def _expire(*, member_id: int, shop: Shop, expired_before: datetime) -> None:
    with transaction.atomic():
        # Under the member's lock: earning or redeeming since the query above keeps the
        # points, and the amount taken is the balance at this moment.
        member = Member.objects.select_for_update().get(pk=member_id)
        if member.balance <= 0 or member.last_activity_at >= expired_before:
            return
        member.shop = shop
        active_on = shop_day(member.last_activity_at, shop.timezone)
        points_record(
            member=member,
            points=-member.balance,
            reason=Reason.POINTS_EXPIRED,
            idempotency_key=f"expired:{member.pk}:{member.last_activity_at.isoformat()}",
            note=f"No points earned or redeemed since {active_on}",
        )


def _reminders_record(*, shop: Shop, day: date, program: Program, expired_before: datetime) -> None:
    # Members whose points expire within the reminder's days after `day` and who have no
    # reminder for their last activity yet: the hourly reruns of a day skip those already
    # recorded (and the unique member and activity settles a race).
    remind_before = expired_before + timedelta(days=program.expiry_reminder_days)
    recorded = ExpiryReminder.objects.filter(
        member=OuterRef("pk"), activity_at=OuterRef("last_activity_at")
    )
    members = Member.objects.filter(
        ~Exists(recorded),
        shop=shop,
        balance__gt=0,
        last_activity_at__gte=expired_before,
        last_activity_at__lt=remind_before,
    ).order_by("pk")
    for member in members.only("pk", "shop_id", "balance", "last_activity_at"):
        with transaction.atomic():
            reminder = insert_if_absent(
                ExpiryReminder(
                    shop=shop,
                    member=member,
                    points=member.balance,
                    activity_at=member.last_activity_at,
                    expires_on=expiry_date(
                        member=member, program=program, timezone_name=shop.timezone
                    ),
                    due_on=day,
                ),
                unique=("member_id", "activity_at"),
            )
            if reminder is not None:
                notification_record(
                    member=member,
                    kind=NotificationKind.POINTS_EXPIRING,
                    key=f"expiry:{reminder.activity_at.isoformat()}",
                    expiring_points=reminder.points,
                    expiring_on=reminder.expires_on.isoformat(),
                )


def _day_start(day: date, timezone_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop_zone(timezone_name))
