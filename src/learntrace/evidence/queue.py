"""The queue of facts not sealed yet (`Pending`), filled by the database itself.

Every fact table has an AFTER INSERT trigger that adds (source, id) to evidence_pending in the
inserting transaction: a fact is queued exactly when it commits, whoever writes it (the ORM, a
bulk import, direct SQL), and a rolled-back fact leaves nothing. The triggers are (re)installed
after every `migrate`, because SQLite drops a table's triggers when a migration rebuilds it."""

from django.db import connection as default_connection

from learntrace.evidence.sources import SOURCES, model

# PostgreSQL: one statement-level trigger per table, so a bulk insert queues its rows in one INSERT.
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION evidence_queue_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evidence_pending (source, fact_id) SELECT TG_ARGV[0]::smallint, id FROM inserted_facts;
    RETURN NULL;
END
$$"""


def _statements(vendor: str, quote, tables: set[str]) -> list[str]:
    statements = [_POSTGRES_FUNCTION] if vendor == "postgresql" else []
    for code in SOURCES:
        if model(code)._meta.db_table not in tables:
            continue  # a source added by a later migration than the one migrated to
        table = quote(model(code)._meta.db_table)
        if vendor == "postgresql":
            statements += [f"DROP TRIGGER IF EXISTS evidence_queue ON {table}",
                           f"CREATE TRIGGER evidence_queue AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
                           f"inserted_facts FOR EACH STATEMENT EXECUTE FUNCTION evidence_queue_facts('{code}')"]
        else:
            name = quote(f"evidence_queue_{model(code)._meta.db_table}")
            statements.append(f"CREATE TRIGGER IF NOT EXISTS {name} AFTER INSERT ON {table} "
                              f"BEGIN INSERT INTO evidence_pending (source, fact_id) VALUES ({code}, NEW.id); END")
    return statements


def install_triggers(connection=default_connection) -> None:
    """Idempotent; does nothing before the queue's table exists (a migration back past it)."""
    tables = set(connection.introspection.table_names())
    if "evidence_pending" not in tables:
        return
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, connection.ops.quote_name, tables):
            cursor.execute(statement)


def after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    install_triggers(connections[using])
