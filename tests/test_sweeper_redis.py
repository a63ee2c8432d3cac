"""What the sweeper counts as outstanding on the real Redis broker: the messages waiting in
the queue and those live workers hold, not those of a worker that was killed holding them
(docs/RELIABILITY.md, "The sweeper")."""

import os

import pytest
from django.conf import settings
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from config import jobs
from tests.conftest import uses_redis

pytestmark = pytest.mark.skipif(
    not uses_redis(), reason="needs DRAMATIQ_BROKER_URL pointing at Redis (.ci/run sets it)"
)

QUEUE = "deliveries"


@pytest.fixture
def redis_broker(monkeypatch):
    broker = RedisBroker(
        url=settings.DRAMATIQ_BROKER_URL, namespace=f"perennial-sweeper-test-{os.getpid()}"
    )
    broker.declare_queue(QUEUE)
    monkeypatch.setattr(jobs, "broker", broker)
    yield broker
    keys = broker.client.keys(f"{broker.namespace}:*")
    if keys:
        broker.client.delete(*keys)
    broker.close()


def send(broker: RedisBroker, count: int) -> None:
    for number in range(count):
        broker.enqueue(Message(QUEUE, "process_delivery", (number,), {}, {}))


def test_waiting_and_live_workers_messages_count_and_a_dead_workers_do_not(redis_broker):
    send(redis_broker, 5)
    assert jobs.outstanding_messages(QUEUE) == 5

    # A worker fetches two (they leave the queue for its own set) and is then killed: its
    # heartbeat stops.
    worker = redis_broker.consume(QUEUE, prefetch=2, timeout=100)
    fetched = [next(worker), next(worker)]
    assert all(message is not None for message in fetched)
    assert jobs.outstanding_messages(QUEUE) == 5

    heartbeats = f"{redis_broker.namespace}:__heartbeats__"
    [(worker_id, beat)] = redis_broker.client.zrange(heartbeats, 0, -1, withscores=True)
    redis_broker.client.zadd(heartbeats, {worker_id: beat - redis_broker.heartbeat_timeout - 1})

    assert jobs.outstanding_messages(QUEUE) == 3
