"""The results database's migrations: :data:`artdash.db.migrate.RESULTS`, by the names its
callers use, and Alembic taught to speak to DuckDB."""

from __future__ import annotations

from alembic.ddl.postgresql import PostgresqlImpl

from artdash.db.migrate import RESULTS

MIGRATIONS_DIR = RESULTS.folder
VERSION_TABLE = RESULTS.version_table


class DuckDBImpl(PostgresqlImpl):
    """Alembic speaks to DuckDB (through duckdb-engine) as to PostgreSQL."""

    __dialect__ = "duckdb"


upgrade_results = RESULTS.upgrade
downgrade_results = RESULTS.downgrade
results_revision = RESULTS.current
known_results_revisions = RESULTS.known
