"""Writing some columns of many rows at once, each row its own values.

Django's `bulk_update` writes `SET column = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END` for
every column: building those expressions costs Python about 4 ms a row for the 24 columns of a
standing, and the database compares each row's id with every WHEN. Here the rows are joined on the
primary key (`UPDATE … FROM …`): on PostgreSQL each column travels as one array
(`FROM unnest(%s::bigint[], %s::integer[], …)`), so a statement has one parameter a column whatever
the number of rows, which psycopg adapts at once; on SQLite (≥ 3.33, no arrays) as a VALUES list of
one placeholder a value. The statement's parts are made once per model and columns, and only the
values are converted, by the same field methods the ORM uses."""

from functools import cache

from django.db import connection

BATCH = 1000  # rows per statement (fewer where the database takes fewer parameters)


@cache
def _statement(model, fields: tuple[str, ...], vendor: str) -> tuple[str, str, str, tuple]:
    """(the statement before the rows, one row's placeholders, the statement after them, the columns:
    primary key first). On PostgreSQL the whole statement is the first part: its parameters are the
    columns' arrays."""
    meta, quote = model._meta, connection.ops.quote_name
    columns = (meta.pk, *(meta.get_field(name) for name in fields))
    table = quote(meta.db_table)
    if vendor == "postgresql":
        # Each array is cast to its column's type: the values arrive untyped (or as text).
        arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in columns)
        names = [f"c{n}" for n in range(len(columns))]
        assignments = ", ".join(f"{quote(field.column)} = v.{name}" for name, field in zip(names[1:], columns[1:],
                                                                                             strict=True))
        return (f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "
                f"WHERE {table}.{quote(meta.pk.column)} = v.c0", "", "", columns)
    # A VALUES list's columns are column1, column2, … (SQLite); column1 is the primary key.
    assignments = ", ".join(f"{quote(field.column)} = v.column{n}" for n, field in enumerate(columns[1:], start=2))
    return (f"UPDATE {table} SET {assignments} FROM (VALUES ", f"({', '.join(['%s'] * len(columns))})",
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
        database = cursor.db  # the connection itself: `connection` looks it up on every attribute read
        for start in range(0, len(objects), per_statement):
            batch = objects[start:start + per_statement]
            values = [[field.get_db_prep_save(getattr(obj, field.attname), database) for obj in batch]
                      for field in columns]
            if row:
                cursor.execute(head + ", ".join([row] * len(batch)) + tail, [
                    value for n in range(len(batch)) for value in (column[n] for column in values)])
            else:
                cursor.execute(head, values)
            written += cursor.rowcount
    return written
