"""The dramatiq broker, chosen by DRAMATIQ_BROKER_URL.

redis://… and amqp://… give a real broker served by `worker:` processes. An empty URL gives
an in-process runner: a stub broker drained by worker threads inside the web process (and
a scheduler thread for the periodic jobs), so `runserver` alone credits points.
"""

import logging
import threading
import time

import dramatiq
from django.conf import settings
from django.db import close_old_connections
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)


class DatabaseConnections(Middleware):
    """Give each job a healthy database connection and return it afterwards."""

    def before_process_message(self, broker, message):
        close_old_connections()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        close_old_connections()

    after_skip_message = after_process_message


def _make_broker() -> dramatiq.Broker:
    url = settings.DRAMATIQ_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from dramatiq.brokers.redis import RedisBroker
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Short timeouts and no retries: if Redis hangs, webhook intake must still answer
        # well inside Shopify's 5 seconds (the delivery is stored; the sweeper sends it).
        client = redis.Redis.from_url(
            url,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        broker = RedisBroker(client=client)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    elif url:
        raise ValueError(f"DRAMATIQ_BROKER_URL must start with redis:// or amqp://, got {url!r}")
    else:
        broker = StubBroker()
    broker.add_middleware(DatabaseConnections())
    return broker


broker = _make_broker()
dramatiq.set_broker(broker)

_in_process_lock = threading.Lock()
_in_process_worker: dramatiq.Worker | None = None


def is_in_process() -> bool:
    return isinstance(broker, StubBroker)


def start_in_process_runner() -> None:
    """Start the worker and scheduler threads of the embedded job runner (once)."""
    global _in_process_worker
    if not is_in_process():
        return
    with _in_process_lock:
        if _in_process_worker is not None:
            return
        import loyalty.tasks  # noqa: F401  (registers actors and schedules)
        import webhooks.tasks  # noqa: F401

        broker.emit_after("process_boot")
        _in_process_worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        _in_process_worker.start()
        from dramatiq_crontab import scheduler

        threading.Thread(target=scheduler.start, name="perennial-scheduler", daemon=True).start()
        logger.info("in-process job runner started")


def outstanding_messages(queue_name: str) -> int:
    """Messages of a queue not yet acknowledged by a worker (waiting or in progress).

    The sweeper uses it to tell a delivery whose job message was lost from one that is
    simply waiting behind a backlog.
    """
    if isinstance(broker, StubBroker):
        queue = broker.queues.get(queue_name)
        return queue.unfinished_tasks if queue is not None else 0
    if broker.__class__.__name__ == "RedisBroker":
        return _redis_outstanding(queue_name)
    ready, delayed, _dead = broker.get_queue_message_counts(queue_name)
    return ready + delayed


def _redis_outstanding(queue_name: str) -> int:
    # dramatiq's Redis layout (its dispatch.lua): the queue's list holds the waiting message
    # ids; a worker moves what it fetches into its own `__acks__` set until it acknowledges
    # them, and keeps a heartbeat. A worker killed with messages fetched leaves them in its
    # set until the broker's rare maintenance gives them back; counting them would have the
    # sweeper wait for jobs no one is running, so only live workers' sets count.
    client, namespace = broker.client, broker.namespace
    alive_since = time.time() * 1000 - broker.heartbeat_timeout
    workers = client.zrangebyscore(f"{namespace}:__heartbeats__", alive_since, "+inf")
    pipe = client.pipeline(transaction=False)
    pipe.llen(f"{namespace}:{queue_name}")
    for worker in workers:
        pipe.scard(f"{namespace}:__acks__.{worker.decode()}.{queue_name}")
    return sum(int(count) for count in pipe.execute())
