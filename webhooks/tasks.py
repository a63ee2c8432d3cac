"""Jobs of the webhook inbox: process one delivery, and sweep up any left behind."""

import logging
import time

import dramatiq
from dramatiq_crontab import cron

from config.jobs import broker, start_in_process_runner

from . import processing

logger = logging.getLogger(__name__)

QUEUE = processing.QUEUE
# After the broker fails, intake stops trying it for this long: each try could cost a
# timeout, and every delivery is stored anyway for the sweeper to send.
BROKER_PAUSE_SECONDS = 5.0
_broker_paused_until = 0.0


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=3, min_backoff=2000)
def process_delivery(delivery_id: int) -> None:
    # Handler failures are recorded on the delivery and retried by the sweeper; an
    # exception reaching here is infrastructure (database gone) and dramatiq retries it.
    processing.delivery_process(delivery_id)


@cron("* * * * *")
@dramatiq.actor(broker=broker, max_retries=0)
def sweep_deliveries() -> None:
    sent = processing.deliveries_sweep(send=delivery_enqueue)
    if sent:
        logger.info("sweeper re-sent %d deliveries", sent)


def delivery_enqueue(delivery_id: int) -> bool:
    """Send a stored delivery to the workers. False if the broker could not take it: the
    delivery stays stored and the sweeper sends it later."""
    global _broker_paused_until
    start_in_process_runner()
    if time.monotonic() < _broker_paused_until:
        return False
    try:
        process_delivery.send(delivery_id)
    except Exception:  # noqa: BLE001 - any broker failure: the row is safe, log and go on
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker unavailable; delivery %s waits for the sweeper", delivery_id)
        return False
    return True
