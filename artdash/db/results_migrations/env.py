"""Alembic environment of the results database (version table: alembic_version_results)."""

from alembic import context
from alembic.ddl.postgresql import PostgresqlImpl

from artdash.db.results_migrate import VERSION_TABLE
from artdash.db.results_schema import metadata

config = context.config


class DuckDBImpl(PostgresqlImpl):
    """Alembic speaks to DuckDB (through duckdb-engine) as to PostgreSQL."""

    __dialect__ = "duckdb"


def run() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                          include_name=lambda name, type_, parent: type_ != "table" or name in metadata.tables)
        context.run_migrations()


run()
