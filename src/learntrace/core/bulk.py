"""Writing some columns of many rows at once, each row its own values.

Django's `bulk_update` writes `SET column = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END` for
every column: building those expressions costs Python about 4 ms a row for the 24 columns of a
standing, and the database compares each row's id with every WHEN. Here the rows travel as one
VALUES list joined on the primary key (`UPDATE … FROM (VALUES …)`, PostgreSQL and SQLite ≥ 3.33):
the statement's parts are made once per model and columns, and only the values are converted, by
the same field methods the ORM uses."""

from functools import cache

from django.db import connection

BATCH = 1000  # rows per statement (fewer where the database takes fewer parameters)


@cache
def _statement(model, fields: tuple[str, ...], vendor: str) -> tuple[str, str, str, tuple]:
    """(UPDATE … FROM (VALUES, one row's placeholders, ) AS v WHERE …, the columns: primary key first)."""
    meta, quote = model._meta, connection.ops.quote_name
    columns = (meta.pk, *(meta.get_field(name) for name in fields))
    # PostgreSQL types a VALUES list from its values: untyped parameters are cast to the column's type.
    placeholders = [f"%s::{field.cast_db_type(connection)}" if vendor == "postgresql" else "%s" for field in columns]
    table = quote(meta.db_table)
    # A VALUES list's columns are column1, column2, … on both databases; column1 is the primary key.
    assignments = ", ".join(f"{quote(field.column)} = v.column{n}" for n, field in enumerate(columns[1:], start=2))
    return (f"UPDATE {table} SET {assignments} FROM (VALUES ", f"({', '.join(placeholders)})",
            f") AS v WHERE {table}.{quote(meta.pk.column)} = v.column1", columns)


def update_rows(model, objects, fields) -> int:
    """Write `fields` (names) of each of `objects` (saved instances of `model`) as they are set on it;
    answers how many rows were written."""
    objects, fields = list(objects), tuple(fields)
    head, row, tail, columns = _statement(model, fields, connection.vendor)
    limit = connection.features.max_query_params  # None: no limit (PostgreSQL)
    per_statement = max(min(BATCH, limit // len(columns)), 1) if limit else BATCH
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            batch = objects[start:start + per_statement]
            params = [field.get_db_prep_save(getattr(obj, field.attname), connection)
                      for obj in batch for field in columns]
            cursor.execute(head + ", ".join([row] * len(batch)) + tail, params)
            written += cursor.rowcount
    return written
