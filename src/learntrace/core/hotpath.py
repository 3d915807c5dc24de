"""Writing rows with the fewest steps, for the one path that runs for every heartbeat.

The ORM compiles a query object for each `save()` or `update()`; here the statement
text is built once per model and set of columns and only the values are converted
(by the same field methods the ORM uses), so it stays portable across SQLite and
PostgreSQL. Everywhere else, use the ORM."""

from functools import cache

from django.db import connection


@cache
def _update_sql(model, fields: tuple[str, ...]) -> tuple[str, tuple]:
    meta, quote = model._meta, connection.ops.quote_name
    columns = tuple(meta.get_field(name) for name in fields)
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", columns


@cache
def _insert_sql(model, fields: tuple[str, ...]) -> tuple[str, tuple]:
    meta, quote = model._meta, connection.ops.quote_name
    columns = tuple(meta.get_field(name) for name in fields)
    names = ", ".join(quote(field.column) for field in columns)
    return f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", columns


def update_columns(model, pk, values: dict) -> None:
    """`values` maps field names or attnames ("employee_id") to Python values."""
    sql, columns = _update_sql(model, tuple(values))
    params = [field.get_db_prep_save(value, connection) for field, value in zip(columns, values.values(), strict=True)]
    params.append(model._meta.pk.get_db_prep_save(pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_row(model, values: dict) -> None:
    sql, columns = _insert_sql(model, tuple(values))
    params = [field.get_db_prep_save(value, connection) for field, value in zip(columns, values.values(), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@cache
def _converters(model, field_name: str) -> tuple:
    field = model._meta.get_field(field_name)
    col = field.get_col(model._meta.db_table)
    return tuple(connection.ops.get_db_converters(col) + field.get_db_converters(connection)), col


def load(model, field_names: tuple[str, ...], values) -> object:
    """A model instance from raw column values, converted as the ORM would (other fields deferred)."""
    converted = []
    for name, value in zip(field_names, values, strict=True):
        converters, col = _converters(model, name)
        for converter in converters:
            value = converter(value, col, connection)
        converted.append(value)
    by_attname = {model._meta.get_field(name).attname: value
                  for name, value in zip(field_names, converted, strict=True)}
    # from_db() takes the values in the model's own field order.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in by_attname]
    return model.from_db(connection.alias, names, [by_attname[name] for name in names])


def column_list(model, alias: str, field_names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(model._meta.get_field(name).column)}" for name in field_names)
