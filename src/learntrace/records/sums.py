"""Running sums of credited time (`CreditedHour`), kept by the database itself.

Triggers on the fact table keep, in the transaction that writes a fact, the sum of its person's
credited seconds in its hour, kind and category: whoever writes (a beat, a check-in, an import,
direct SQL), a fact is in the sums exactly when it commits, and a rolled-back one leaves nothing.
No watermark is needed, so facts committing out of the order of their ids are neither missed nor
counted twice, and a reader needs no lock: the sums and the facts agree in every snapshot.

A new fact adds to its row (an upsert, under that row's lock until the writer commits: only the
same person's facts of the same hour, kind and category wait for each other). A fact deleted or
changed, which the application never does, has its hour counted again from the facts. The triggers
are (re)installed after every `migrate`, because SQLite drops a table's triggers when a migration
rebuilds it."""

import datetime as dt
import functools
from contextlib import contextmanager

from django.db import connection as default_connection

from learntrace.records import codes

HOUR = dt.timedelta(hours=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

FACTS, SUMS = "records_creditedtime", "records_creditedhour"
_COLUMNS = "employee_id, hour, kind, category_id, seconds, last_at"


def hour_of(moment: dt.datetime) -> int:
    """The hour (counted from the epoch) that contains `moment`."""
    return (moment - EPOCH) // HOUR


def start_of_hour(hour: int) -> dt.datetime:
    return EPOCH + hour * HOUR


@functools.cache
def years_start_on_hours(zone) -> bool:
    """Whether every calendar year in `zone` (from 1971 to 2100) begins on a whole hour of UTC, so that
    a year's time is a sum of whole hours. True for most zones (UTC+8, UTC-5, …); not for UTC+5:30."""
    return all(dt.datetime(year, 1, 1, tzinfo=zone).utcoffset() % HOUR == dt.timedelta(0)
               for year in range(1971, 2101))


def hour_sql(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"floor(extract(epoch FROM {column}) / 3600)::integer"
    # SQLite keeps a moment as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]"; the fraction is cut off
    # before strftime reads it, which would round 59.9995 seconds up into the next hour.
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) / 3600"


def _kind_in_numbers(connection) -> bool:
    """Whether the facts keep `kind` as its number (codes.py; since records 0010), not its word: the
    sums keep the word. A migration back past 0010 and forward again builds them from words."""
    if connection.vendor == "postgresql":
        sql = ("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
               "AND attname = 'kind' AND NOT attisdropped")
    else:
        sql = "SELECT type FROM pragma_table_info(%s) WHERE name = 'kind'"
    with connection.cursor() as cursor:
        cursor.execute(sql, [FACTS])
        (column_type,) = cursor.fetchone()
    return column_type.lower() == "smallint"


def _word(numbers: bool, column: str, *, postgresql: bool) -> str:
    """SQL for the word of the fact's kind in `column`."""
    return codes.words_sql(codes.KIND_CODES, column, postgresql=postgresql) if numbers else column


# A fact's hour counted again from the facts, for a fact deleted or changed.
def _postgres_recount(numbers: bool) -> str:
    word = _word(numbers, "fact_kind", postgresql=True)
    return f"""
CREATE OR REPLACE FUNCTION records_credited_hour_recount(person bigint, moment timestamptz,
                                                         fact_kind {"smallint" if numbers else "varchar"},
                                                         fact_category bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    counted integer := {hour_sql("postgresql", "moment")};
BEGIN
    DELETE FROM {SUMS} s WHERE s.employee_id = person AND s.hour = counted AND s.kind = {word}
        AND s.category_id = fact_category;
    INSERT INTO {SUMS} ({_COLUMNS})
    SELECT person, counted, {word}, fact_category, sum(f.seconds), max(f.occurred_at)
    FROM {FACTS} f
    WHERE f.employee_id = person AND f.occurred_at >= to_timestamp(counted * 3600.0)
        AND f.occurred_at < to_timestamp((counted + 1) * 3600.0) AND f.kind = fact_kind
        AND f.category_id = fact_category AND f.seconds > 0
    HAVING count(*) > 0;
END
$$"""


def _postgres_functions(numbers: bool) -> list[str]:
    return [f"DROP FUNCTION IF EXISTS records_credited_hour_recount(bigint, timestamptz, "
            f"{'varchar' if numbers else 'smallint'}, bigint)", _postgres_recount(numbers), f"""
CREATE OR REPLACE FUNCTION records_credited_hours_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {SUMS} AS s ({_COLUMNS})
    VALUES (NEW.employee_id, {hour_sql("postgresql", "NEW.occurred_at")},
            {_word(numbers, "NEW.kind", postgresql=True)}, NEW.category_id, NEW.seconds, NEW.occurred_at)
    ON CONFLICT (employee_id, hour, kind, category_id)
    DO UPDATE SET seconds = s.seconds + EXCLUDED.seconds, last_at = greatest(s.last_at, EXCLUDED.last_at);
    RETURN NULL;
END
$$""", """
CREATE OR REPLACE FUNCTION records_credited_hours_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM records_credited_hour_recount(OLD.employee_id, OLD.occurred_at, OLD.kind, OLD.category_id);
    IF TG_OP = 'UPDATE' THEN
        PERFORM records_credited_hour_recount(NEW.employee_id, NEW.occurred_at, NEW.kind, NEW.category_id);
    END IF;
    RETURN NULL;
END
$$""", f"""
CREATE OR REPLACE FUNCTION records_credited_hours_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {SUMS};
    RETURN NULL;
END
$$"""]

_CHANGED = ("OLD.employee_id IS DISTINCT FROM NEW.employee_id OR OLD.occurred_at IS DISTINCT FROM NEW.occurred_at "
            "OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.category_id IS DISTINCT FROM NEW.category_id "
            "OR OLD.seconds IS DISTINCT FROM NEW.seconds")
_CHANGED_COLUMNS = "employee_id, occurred_at, kind, category_id, seconds"

# Facts of no seconds (a beat that credited nothing) leave the sums alone: no row, no lock, no write.
# Facts deleted by an archive leave them alone too: records/archive.py moves their seconds to the
# archived hours and counts each touched hour again once, not once per fact.
ARCHIVING = "learntrace.archiving"  # a PostgreSQL setting, on for the transaction that deletes them
TRIGGERS = ("records_credited_hours_add", "records_credited_hours_delete", "records_credited_hours_update",
            "records_credited_hours_truncate")
_POSTGRES_TRIGGERS = [
    f"CREATE TRIGGER records_credited_hours_add AFTER INSERT ON {FACTS} FOR EACH ROW WHEN (NEW.seconds > 0) "
    f"EXECUTE FUNCTION records_credited_hours_add()",
    f"CREATE TRIGGER records_credited_hours_delete AFTER DELETE ON {FACTS} FOR EACH ROW WHEN (OLD.seconds > 0 "
    f"AND current_setting('{ARCHIVING}', true) IS DISTINCT FROM 'on') "
    f"EXECUTE FUNCTION records_credited_hours_recount()",
    f"CREATE TRIGGER records_credited_hours_update AFTER UPDATE OF {_CHANGED_COLUMNS} ON {FACTS} FOR EACH ROW "
    f"WHEN ({_CHANGED}) EXECUTE FUNCTION records_credited_hours_recount()",
    f"CREATE TRIGGER records_credited_hours_truncate AFTER TRUNCATE ON {FACTS} FOR EACH STATEMENT "
    f"EXECUTE FUNCTION records_credited_hours_clear()",
]


def _sqlite_recount(row: str, numbers: bool) -> str:
    hour, word = hour_sql("sqlite", f"{row}.occurred_at"), _word(numbers, f"{row}.kind", postgresql=False)
    return (f"DELETE FROM {SUMS} WHERE employee_id = {row}.employee_id AND hour = {hour} "
            f"AND kind = {word} AND category_id = {row}.category_id; "
            f"INSERT INTO {SUMS} ({_COLUMNS}) SELECT {row}.employee_id, {hour}, {word}, "
            f"{row}.category_id, sum(seconds), max(occurred_at) FROM {FACTS} WHERE employee_id = {row}.employee_id "
            f"AND kind = {row}.kind AND category_id = {row}.category_id AND seconds > 0 "
            f"AND {hour_sql('sqlite', 'occurred_at')} = {hour} HAVING count(*) > 0;")


def _sqlite_triggers(numbers: bool) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS records_credited_hours_add AFTER INSERT ON {FACTS} WHEN NEW.seconds > 0 "
        f"BEGIN INSERT INTO {SUMS} ({_COLUMNS}) VALUES (NEW.employee_id, {hour_sql('sqlite', 'NEW.occurred_at')}, "
        f"{_word(numbers, 'NEW.kind', postgresql=False)}, NEW.category_id, NEW.seconds, NEW.occurred_at) "
        f"ON CONFLICT (employee_id, hour, kind, category_id) DO UPDATE "
        f"SET seconds = seconds + excluded.seconds, last_at = max(last_at, excluded.last_at); END",
        f"CREATE TRIGGER IF NOT EXISTS records_credited_hours_delete AFTER DELETE ON {FACTS} WHEN OLD.seconds > 0 "
        f"BEGIN {_sqlite_recount('OLD', numbers)} END",
        f"CREATE TRIGGER IF NOT EXISTS records_credited_hours_update AFTER UPDATE OF {_CHANGED_COLUMNS} ON {FACTS} "
        f"WHEN {_CHANGED} BEGIN {_sqlite_recount('OLD', numbers)} {_sqlite_recount('NEW', numbers)} END",
    ]


@contextmanager
def archiving(connection=default_connection):
    """Within a transaction: deleting facts does not count their hours again (the archive does it
    once per hour, records/archive.py).
    PostgreSQL: a setting of this transaction that the delete trigger reads. SQLite: the trigger is
    dropped and created again in the same transaction (SQLite's DDL is transactional and its
    writers take turns, so no other writer can delete meanwhile)."""
    if not connection.in_atomic_block:
        raise RuntimeError("archiving() needs a transaction")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [ARCHIVING])
            yield
            cursor.execute("SELECT set_config(%s, 'off', true)", [ARCHIVING])
            return
        cursor.execute("DROP TRIGGER IF EXISTS records_credited_hours_delete")
        yield
        cursor.execute(_sqlite_triggers(_kind_in_numbers(connection))[1])


def recount(hours: list[tuple], connection=default_connection) -> None:
    """Count the given hours again from the facts, each once: [(employee id, hour, kind as the facts
    keep it, category id)]. For facts deleted under `archiving()`."""
    if not hours:
        return
    numbers = _kind_in_numbers(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the delete trigger's own function
            cursor.execute("SELECT count(records_credited_hour_recount(e, to_timestamp(h * 3600.0), k, c)) FROM "
                           f"unnest(%s::bigint[], %s::integer[], %s::{'smallint' if numbers else 'varchar'}[], "
                           "%s::bigint[]) AS t(e, h, k, c)", [list(column) for column in zip(*hours, strict=True)])
            return
        hour, word = hour_sql("sqlite", "occurred_at").replace("%", "%%"), _word(numbers, "kind", postgresql=False)
        words = {number: name for name, number in codes.KIND_CODES.items()}
        for employee_id, counted, kind, category_id in hours:  # SQLite: as its delete trigger does
            cursor.execute(f"DELETE FROM {SUMS} WHERE employee_id = %s AND hour = %s AND kind = %s "
                           f"AND category_id = %s", [employee_id, counted, words.get(kind, kind), category_id])
            cursor.execute(f"INSERT INTO {SUMS} ({_COLUMNS}) SELECT employee_id, {hour}, {word}, category_id, "
                           f"sum(seconds), max(occurred_at) FROM {FACTS} WHERE employee_id = %s AND kind = %s "
                           f"AND category_id = %s AND seconds > 0 AND {hour} = %s "
                           f"GROUP BY employee_id, kind, category_id", [employee_id, kind, category_id, counted])


def install_triggers(connection=default_connection) -> None:
    """Idempotent; does nothing before the sums' table exists (a migration back past it)."""
    if SUMS not in set(connection.introspection.table_names()):
        return
    drop_triggers(connection)
    numbers = _kind_in_numbers(connection)
    with connection.cursor() as cursor:
        postgresql = connection.vendor == "postgresql"
        for statement in (_postgres_functions(numbers) + _POSTGRES_TRIGGERS) if postgresql \
                else _sqlite_triggers(numbers):
            cursor.execute(statement)


def drop_triggers(connection=default_connection) -> None:
    on = f" ON {FACTS}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


def rebuild(employee_ids=None, connection=default_connection) -> None:
    """Count the sums again from the facts: of everyone, or of `employee_ids`. For a migration and
    for facts written with the triggers off (a bulk load); the triggers keep them otherwise."""
    hour = hour_sql(connection.vendor, "occurred_at").replace("%", "%%")  # a statement with parameters
    kind = _word(_kind_in_numbers(connection), "kind", postgresql=connection.vendor == "postgresql")
    where, params = "", []
    if employee_ids is not None:
        employee_ids = list(employee_ids)
        if not employee_ids:
            return
        where = f" AND employee_id IN ({', '.join(['%s'] * len(employee_ids))})"
        params = employee_ids
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SUMS} WHERE 1 = 1{where}", params)
        cursor.execute(f"INSERT INTO {SUMS} ({_COLUMNS}) SELECT employee_id, {hour}, {kind}, category_id, "
                       f"sum(seconds), max(occurred_at) FROM {FACTS} WHERE seconds > 0{where} "
                       f"GROUP BY employee_id, {hour}, kind, category_id", params)


def after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    install_triggers(connections[using])
