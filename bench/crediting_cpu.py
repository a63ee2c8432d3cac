"""Worker CPU and SQL statements per order on the crediting path, in one process.

Stores N orders/create deliveries (bench/crediting_orders.py) in the bench database and
settles each through webhooks.processing.delivery_process, the function the worker's job
calls, counting statements (CaptureQueriesContext) and CPU (time.process_time()). No broker,
no threads: what one order costs the worker's Python, to compare changes to that path.
Usage: PERENNIAL_BENCH_DB=<db> python bench/crediting_cpu.py --orders 2000 [--show 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import crediting_orders
import harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--show", type=int, default=0, help="print the SQL of the first N")
    args = parser.parse_args()
    harness.database_create()
    try:
        harness.django_setup()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tests.factories import shop
        from webhooks.processing import delivery_process

        orders = crediting_orders.orders_build(args.orders)
        shop(harness.SHOP, points_per_unit=1, rounding="down", hold_days=0)
        ids = crediting_orders.deliveries_store(orders)
        # Odd orders are counted (statement capture costs CPU itself), even ones timed.
        statements = counted = 0
        cpu = 0.0
        timed = 0
        for n, pk in enumerate(ids):
            if n % 2:
                connection.queries_log.clear()
                with CaptureQueriesContext(connection) as queries:
                    delivery_process(pk)
                statements += len(queries)
                counted += 1
                if n // 2 < args.show:
                    print(f"--- order {n}: {len(queries)} statements")
                    for query in queries.captured_queries:
                        print("   ", query["sql"][:160])
            else:
                start = time.process_time()
                delivery_process(pk)
                cpu += time.process_time() - start
                timed += 1
        ok, detail = crediting_orders.points_check(orders)
        print(
            f"{len(ids)} orders: {statements / counted:.1f} statements/order, "
            f"{cpu / timed * 1000:.2f} ms CPU/order; points {'ok' if ok else 'WRONG'}: "
            f"{detail}; load {os.getloadavg()[0]:.2f}"
        )
        sys.exit(0 if ok else 1)
    finally:
        harness.django_close()
        harness.database_drop()


if __name__ == "__main__":
    main()
