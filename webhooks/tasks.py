"""Jobs of the webhook inbox: process one delivery, and sweep up any left behind."""

import logging

import dramatiq
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner

from . import processing

logger = logging.getLogger(__name__)

QUEUE = "deliveries"


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=3, min_backoff=2000)
def process_delivery(delivery_id: int) -> None:
    # Handler failures are recorded on the delivery and retried by the sweeper; an
    # exception reaching here is infrastructure (database gone) and dramatiq retries it.
    processing.delivery_process(delivery_id)


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def sweep_deliveries() -> None:
    sent = processing.deliveries_sweep(send=process_delivery.send)
    if sent:
        logger.info("sweeper re-sent %d deliveries", sent)


def delivery_enqueue(delivery_id: int) -> None:
    """Send a stored delivery to the workers; if the broker is down, the sweeper will."""
    start_in_process_runner()
    try:
        process_delivery.send(delivery_id)
    except Exception:  # noqa: BLE001 - any broker failure: the row is safe, log and go on
        logger.warning("broker unavailable; delivery %s waits for the sweeper", delivery_id)
