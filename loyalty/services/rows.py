"""Single-statement inserts for the crediting hot path.

Django's get_or_create costs up to four statements (select, savepoint, insert, release)
and its ORM compiles each one anew; crediting an order does several. These helpers say
the same in one `INSERT … ON CONFLICT … RETURNING`, which PostgreSQL and SQLite both
speak, and hand back a model instance exactly as a query would have loaded it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def insert_or_lock(obj: M, *, unique: Sequence[str]) -> M:
    """Insert `obj`, or if a row with the same `unique` columns exists, return that row.

    Either way the row comes back locked for the rest of the transaction (a conflicting
    row is touched by `DO UPDATE`, which takes its row lock), so this is
    `select_for_update().get_or_create()` in one statement.
    """
    first = connection.ops.quote_name(unique[0])
    row = _insert(obj, unique, f"DO UPDATE SET {first} = EXCLUDED.{first}")
    assert row is not None  # DO UPDATE always returns the row
    return row


def insert_if_absent(obj: M, *, unique: Sequence[str]) -> M | None:
    """Insert `obj` and return it as stored, or None if the `unique` columns already
    name a row (which is left as it is)."""
    return _insert(obj, unique, "DO NOTHING")


def _insert(obj: M, unique: Sequence[str], action: str) -> M | None:
    meta = obj._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    every = list(meta.concrete_fields)
    # Every name spliced in is a quoted identifier from the model's own metadata.
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    target = ", ".join(quote(c) for c in unique)
    returned = ", ".join(quote(f.column) for f in every)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
    sql += f"ON CONFLICT ({target}) {action} RETURNING {returned}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    loaded = [_from_db(f, value) for f, value in zip(every, row, strict=True)]
    return type(obj).from_db(connection.alias, [f.attname for f in every], loaded)


def _from_db(field: models.Field, value: object) -> object:
    # What the query compiler does to each column: the backend's converters (SQLite hands
    # back decimals and times as text), then the field's own.
    column = field.get_col(field.model._meta.db_table)
    for convert in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
        value = convert(value, column, connection)
    return value
