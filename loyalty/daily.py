"""The daily jobs: what runs once per shop and day, in the shop's timezone (docs/dates.md).

`daily_jobs_run` is what the hourly cron (loyalty.tasks.run_daily_jobs) and
`manage.py run_daily_jobs` call. Each job is idempotent for (shop, day), so running a day
twice changes nothing; a shop's days missed (a scheduler down) are caught up in order, at
most CATCH_UP_DAYS of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from loyalty.models import DailyRun, Shop
from loyalty.services.birthdays import birthdays_daily
from loyalty.services.expiry import expiry_daily
from loyalty.services.tiers import tiers_daily
from loyalty.stats.counters import shop_day

logger = logging.getLogger(__name__)

# Each job: (name, function(*, shop, day)), run in this order for each day. Expiry comes
# first: points due to expire on a day expire before that day's bonuses restart the clock.
DAILY_JOBS: list[tuple[str, Callable[..., None]]] = [
    ("points_expiry", expiry_daily),
    ("birthdays", birthdays_daily),
    # Nightly: members whose rolling window (or refunds) left them below their tier move down.
    ("tiers", tiers_daily),
]

# A shop whose jobs have not run for longer than this catches up only its last this-many
# days: a birthday from months ago is better missed than awarded out of the blue.
CATCH_UP_DAYS = 31


@dataclass
class DailyRunReport:
    """What one call ran: the (shop domain, day) pairs done, and the failures by shop."""

    ran: list[tuple[str, date]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def days_to_run(*, last_day: date | None, today: date) -> list[date]:
    """The days a shop runs now, in order: every day after `last_day` up to `today` (at most
    CATCH_UP_DAYS), or just `today` when it already ran (a replay, or the next hour's run)."""
    if last_day is None or last_day >= today:
        return [today]
    first = max(last_day + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def daily_jobs_run(
    *,
    day: date | None = None,
    shop_domain: str | None = None,
    now: datetime | None = None,
) -> DailyRunReport:
    """Run the daily jobs of every installed shop (or of `shop_domain`) up to `day`, or
    up to each shop's own today (its timezone) when `day` is None.

    A job that raises stops that shop's run there, logged and reported, and its record
    stays at the last day completed, so the next run tries that day again; other shops go on.
    """
    now = now or timezone.now()
    shops = Shop.objects.filter(uninstalled_at__isnull=True).order_by("pk")
    if shop_domain is not None:
        shops = shops.filter(domain=shop_domain)
    report = DailyRunReport()
    for shop in shops:
        today = day or shop_day(now, shop.timezone)
        record = DailyRun.objects.filter(shop=shop).first()
        for run_day in days_to_run(last_day=record.last_day if record else None, today=today):
            try:
                for _name, job in DAILY_JOBS:
                    job(shop=shop, day=run_day)
            except Exception as exc:  # noqa: BLE001 - one shop's failure must not stop the others
                logger.exception("daily jobs of %s for %s failed", shop.domain, run_day)
                report.failed[shop.domain] = f"{run_day}: {exc}"
                break
            _day_done(shop=shop, day=run_day)
            report.ran.append((shop.domain, run_day))
    return report


def _day_done(*, shop: Shop, day: date) -> None:
    # Never moves back: replaying an old day leaves the record where it was.
    record, made = DailyRun.objects.get_or_create(
        shop=shop, defaults={"last_day": day, "finished_at": timezone.now()}
    )
    if not made and day > record.last_day:
        DailyRun.objects.filter(pk=record.pk, last_day__lt=day).update(
            last_day=day, finished_at=timezone.now()
        )
