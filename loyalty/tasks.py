"""Periodic loyalty jobs, scheduled by `manage.py crontab` (README, "Processes")."""

import dramatiq
from dramatiq_crontab import cron

from config.jobs import broker
from loyalty.services.orders import pending_points_release


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def release_pending_points() -> None:
    # Bounded: what is not released this minute is released the next.
    pending_points_release(limit=5000)
