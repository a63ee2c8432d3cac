"""Acknowledgement to visible points: how long after the app acknowledges an order's
webhook a shopper sees the points through the app proxy, at a steady rate of new orders.

Run by bench/crediting.py, with gunicorn (the Procfile's `web:`) and one worker process
(`worker:`) serving a shop whose members already hold points. Senders POST one signed
`orders/create` delivery every 1/rate s to `/webhooks`, each a new order of a random
customer among `customers`, and note when its 200 arrived. A customer is only drawn when
no order of theirs is in flight, so each order has one exact balance to wait for. A
watcher reads those customers' balances from the database every WATCH_SECONDS (one
indexed query) to learn when an order has been committed; the order is then asked for
through `GET /proxy/api/account`, signed as Shopify's app proxy signs it, and counts as
visible when that answer, showing the new balance, has arrived.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from urllib.parse import urlencode

import harness

from standin.signing import app_proxy_params, webhook_headers

WATCH_SECONDS = 0.02
# Enough that a slow acknowledgement never holds the next send back (the rate stays
# steady; a server that falls behind shows in the acknowledgement times).
SENDER_THREADS = 16
# Enough that an order ready to be asked for never waits for a free asker.
ASKER_THREADS = 16
# How long to wait, after the last send, for the last orders to become visible.
SETTLE_SECONDS = 60.0
FIRST_ORDER_ID = 90_000_000


@dataclass
class Order:
    order_id: int
    customer_id: int
    balance: int
    due: float
    sent: float = 0.0
    acknowledged: float = 0.0
    committed: float = 0.0
    asked: float = 0.0
    visible: float = 0.0


@dataclass
class Latency:
    """What one ack-to-visible run measured (times in s on this process's monotonic clock)."""

    rate: float
    seconds: float
    customers: int
    orders: list[Order] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    proxy_requests: int = 0

    @property
    def acknowledged(self) -> list[Order]:
        return [order for order in self.orders if order.acknowledged]

    @property
    def visible(self) -> list[Order]:
        return [order for order in self.orders if order.visible]

    def sent_rate(self) -> float:
        acked = self.acknowledged
        if len(acked) < 2:
            return 0.0
        return (len(acked) - 1) / (acked[-1].sent - acked[0].sent)

    def max_lateness_ms(self) -> float:
        return max((order.sent - order.due for order in self.orders if order.sent), default=0) * 1e3


def points_of(subtotal: Decimal) -> int:
    """The bench shop's program: 1 point per unit of currency, rounded down."""
    return int(subtotal.to_integral_value(rounding=ROUND_FLOOR))


class Run:
    """One run's shared state: the orders in flight, by customer, and what each expects."""

    def __init__(self, *, port: int, shop_id: int, balances: dict[int, int], result: Latency):
        self.port = port
        self.shop_id = shop_id
        self.balances = dict(balances)
        self.result = result
        self.lock = threading.Lock()
        self.in_flight: dict[int, Order] = {}
        self.to_ask: queue.Queue[Order | None] = queue.Queue()
        self.rng = random.Random(13)
        self.sending_done = threading.Event()

    def order_draw(self, n: int, due: float) -> tuple[Order, bytes, dict[str, str]]:
        # Imported here: the factories need Django set up, which the caller does.
        from tests.factories import order_payload

        with self.lock:
            while True:
                customer_id = self.rng.randint(1, self.result.customers)
                if customer_id not in self.in_flight:
                    break
            subtotal = Decimal(self.rng.randint(100, 40000)) / 100
            self.balances[customer_id] = self.balances.get(customer_id, 0) + points_of(subtotal)
            order = Order(FIRST_ORDER_ID + n, customer_id, self.balances[customer_id], due)
            self.in_flight[customer_id] = order
            self.result.orders.append(order)
        body = json.dumps(order_payload(order.order_id, customer_id, str(subtotal))).encode()
        headers = webhook_headers(
            topic="orders/create", shop=harness.SHOP, body=body, secret=harness.APP_SECRET
        )
        return order, body, headers

    def send(self, indexes: queue.Queue[int]) -> None:
        """Sender thread: POST each due delivery, noting when its acknowledgement came."""
        while True:
            try:
                n = indexes.get_nowait()
            except queue.Empty:
                return
            due = self.started + n / self.result.rate
            time.sleep(max(0.0, due - time.monotonic()))
            order, body, headers = self.order_draw(n, due)
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                order.sent = time.monotonic()
                conn.request("POST", "/webhooks", body=body, headers=headers)
                answer = conn.getresponse()
                text = answer.read()[:200]
                if answer.status == 200:
                    order.acknowledged = time.monotonic()
                else:
                    # Left in flight: that customer's balance is no longer certain.
                    self.result.refused.append(f"{answer.status} {text!r}")
            except OSError as error:
                self.result.refused.append(f"{type(error).__name__}: {error}")
            finally:
                conn.close()

    def watch(self) -> None:
        """Watcher thread: when has each acknowledged order's balance been committed?"""
        with harness.bench_db() as conn:
            while not (self.sending_done.is_set() and not self._waiting()):
                waiting = self._waiting()
                if waiting:
                    found = dict(
                        conn.execute(
                            "SELECT customer_id, balance FROM loyalty_member "
                            "WHERE shop_id = %s AND customer_id = ANY(%s)",
                            [self.shop_id, [order.customer_id for order in waiting]],
                        )
                    )
                    now = time.monotonic()
                    for order in waiting:
                        if found.get(order.customer_id) == order.balance:
                            order.committed = now
                            self.to_ask.put(order)
                time.sleep(WATCH_SECONDS)
                if time.monotonic() > self.deadline:
                    return

    def _waiting(self) -> list[Order]:
        with self.lock:
            return [o for o in self.in_flight.values() if o.acknowledged and not o.committed]

    def _asking(self) -> bool:
        with self.lock:
            return any(o.committed and not o.visible for o in self.in_flight.values())

    def ask(self) -> None:
        """Asker thread: GET the account through the app proxy until it shows the balance."""
        while (order := self.to_ask.get()) is not None:
            asked = time.monotonic()
            balance = self.account_balance(order.customer_id)
            if balance == order.balance:
                order.asked = asked
                order.visible = time.monotonic()
                with self.lock:
                    del self.in_flight[order.customer_id]
            elif time.monotonic() < self.deadline:
                time.sleep(WATCH_SECONDS)
                self.to_ask.put(order)

    def account_balance(self, customer_id: int) -> int | None:
        params = app_proxy_params(
            shop=harness.SHOP, logged_in_customer_id=str(customer_id), secret=harness.APP_SECRET
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", f"/proxy/api/account?{urlencode(params)}")
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        with self.lock:
            self.result.proxy_requests += 1
        return json.loads(body)["balance"] if answer.status == 200 else None

    def run(self, sample: Callable[[], None]) -> None:
        """Send for the run's seconds, wait for the last to show, calling `sample` (the
        CPU and memory meters) about every second meanwhile."""
        total = int(self.result.rate * self.result.seconds)
        indexes: queue.Queue[int] = queue.Queue()
        for n in range(total):
            indexes.put(n)
        self.started = time.monotonic() + 0.2
        self.deadline = self.started + self.result.seconds + SETTLE_SECONDS
        senders = [
            threading.Thread(target=self.send, args=(indexes,)) for _ in range(SENDER_THREADS)
        ]
        helpers = [threading.Thread(target=self.watch)]
        helpers += [threading.Thread(target=self.ask) for _ in range(ASKER_THREADS)]
        for thread in senders + helpers:
            thread.start()
        while any(thread.is_alive() for thread in senders):
            sample()
            time.sleep(1.0)
        self.sending_done.set()
        # The watcher ends when every acknowledged order has been committed; the askers
        # when each of those has shown through the app proxy (or at the deadline).
        while helpers[0].is_alive() or (self._asking() and time.monotonic() < self.deadline):
            sample()
            helpers[0].join(timeout=1.0)
        for _ in range(ASKER_THREADS):
            self.to_ask.put(None)
        for thread in helpers:
            thread.join()


def ack_to_visible(
    *,
    port: int,
    shop_id: int,
    rate: float,
    seconds: float,
    customers: int,
    sample: Callable[[], None],
) -> Latency:
    """Run the steady load against the app on `port` (see the module's docstring)."""
    with harness.bench_db() as conn:
        balances = dict(
            conn.execute(
                "SELECT customer_id, balance FROM loyalty_member "
                "WHERE shop_id = %s AND customer_id <= %s",
                [shop_id, customers],
            )
        )
    result = Latency(rate=rate, seconds=seconds, customers=customers)
    Run(port=port, shop_id=shop_id, balances=balances, result=result).run(sample)
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def warm_up(*, port: int, shop_id: int, count: int = 20) -> None:
    """A few deliveries (customers outside the measured ones) and account reads, so every
    gunicorn worker and worker thread has loaded the app and opened its connections
    before anything is timed; each must succeed, or the setup is wrong."""
    from tests.factories import order_payload

    result = Latency(rate=1.0, seconds=0.0, customers=0)
    run = Run(port=port, shop_id=shop_id, balances={}, result=result)
    for n in range(count):
        customer_id = 9_000_000 + n
        body = json.dumps(order_payload(FIRST_ORDER_ID - 1 - n, customer_id, "10.00")).encode()
        headers = webhook_headers(
            topic="orders/create", shop=harness.SHOP, body=body, secret=harness.APP_SECRET
        )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", "/webhooks", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
        finally:
            conn.close()
        if answer.status != 200:
            raise RuntimeError(f"warm-up delivery got {answer.status}")
    deadline = time.monotonic() + 60
    for n in range(count):
        while run.account_balance(9_000_000 + n) != 10:
            if time.monotonic() > deadline:
                raise RuntimeError("the warm-up orders were not credited within 60 s")
            time.sleep(0.1)
