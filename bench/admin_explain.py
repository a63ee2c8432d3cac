"""The query plans behind admin API requests, for bench/admin_scale.py.

A request is made in this process with Django's test client; every SQL statement it runs
that reads the big tables is caught, then run again under EXPLAIN (ANALYZE, BUFFERS). The
summary keeps each scan node, the buffers and the execution time, so a report shows at a
glance whether an index served the request or a whole table was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tables whose full scan at a million members would miss the target by far.
BIG_TABLES = ("loyalty_member", "loyalty_ledgerentry")
# Statements on these are explained too; the daily figures hold a few rows per shop-day,
# so a sequential scan of them is the planner's right choice while the table is small.
EXPLAINED_TABLES = (*BIG_TABLES, "loyalty_dailyfigures")
SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan)")


@dataclass
class Plan:
    sql: str
    lines: list[str]

    @property
    def full_scans(self) -> list[str]:
        return [
            line.strip()
            for line in self.lines
            if "Seq Scan on" in line and any(f" {table} " in f"{line} " for table in BIG_TABLES)
        ]

    def summary(self) -> list[str]:
        kept = []
        for line in self.lines:
            text = line.rstrip()
            scan_buffers = "Buffers:" in text and kept and SCAN.search(kept[-1])
            if SCAN.search(text) or "Execution Time" in text or scan_buffers:
                kept.append(text)
        return kept


def plans_for(path: str, headers: dict[str, str]) -> list[Plan]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement on the big tables (and the daily
    figures) a GET of `path` runs."""
    from django.db import connection
    from django.test import Client

    statements: list[tuple[str, tuple]] = []

    def catch(execute, sql, params, many, context):
        if any(table in sql for table in EXPLAINED_TABLES) and sql.lstrip().upper().startswith(
            "SELECT"
        ):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    client = Client(HTTP_HOST="127.0.0.1")
    with connection.execute_wrapper(catch):
        response = client.get(path, headers=headers)
    if response.status_code >= 500:
        raise RuntimeError(f"{path} answered {response.status_code} in this process")
    plans = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans.append(Plan(sql=sql, lines=[row[0] for row in cursor.fetchall()]))
    return plans
