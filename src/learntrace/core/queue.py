"""The task queue's PostgreSQL storage, made safe to build while the database is down.

Huey's own PostgreSQL storage creates its tables when it is built, and it is built when
Django starts: a web worker or a command started during a database outage would die at
start-up. Here the tables are created on the storage's first connection instead, so
starting never touches the database and the first use after an outage creates them.
"""

import huey
from huey import storage

# Any fixed number: serialises the `create table if not exists` of processes starting together.
SCHEMA_LOCK_KEY = 7_411_205_301


class LazySchemaPostgresStorage(storage.PostgresStorage):
    def __init__(self, *args, **kwargs):
        self.schema_ready = False
        super().__init__(*args, **{**kwargs, "create_tables": False})

    def _create_connection(self):
        conn = self._connect()
        if not self.schema_ready:
            try:
                with conn.transaction():
                    conn.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                    for statement in self.ddl:
                        conn.execute(statement)
            except Exception:
                self._close_quiet(conn)
                raise
            self.schema_ready = True
        return conn


class PostgresHuey(huey.PostgresHuey):
    storage_class = LazySchemaPostgresStorage
