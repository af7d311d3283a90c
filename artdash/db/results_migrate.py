"""Migrations of the results database: their own Alembic history and version table, so the
results may live in the catalog's database or in a database of their own."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.ddl.postgresql import PostgresqlImpl
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("results_migrations")
VERSION_TABLE = "alembic_version_results"


class DuckDBImpl(PostgresqlImpl):
    """Alembic speaks to DuckDB (through duckdb-engine) as to PostgreSQL."""

    __dialect__ = "duckdb"


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_results(engine: Engine, revision: str = "head") -> None:
    """Bring the results database to ``revision`` (the newest by default)."""
    command.upgrade(_config(engine), revision)


def downgrade_results(engine: Engine, revision: str) -> None:
    """Take the results database down to ``revision``."""
    command.downgrade(_config(engine), revision)


def known_results_revisions() -> list[str]:
    """Every results schema revision this ArtDash can upgrade from, oldest first."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


def results_revision(engine: Engine) -> str | None:
    """The results database's schema revision (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
