"""Apply Alembic migrations programmatically (used by `make run`, the app and the CLI)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    command.upgrade(_config(engine), revision)


def downgrade_database(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` ("base" removes every table)."""
    command.downgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The catalog database's schema revision (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision of the catalog's migration history."""
    head = ScriptDirectory.from_config(_config_without_engine()).get_current_head()
    assert head is not None  # the history ships with the package
    return head


def _config_without_engine() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def is_up_to_date(engine: Engine) -> bool:
    """Whether the catalog database is at the newest revision."""
    return current_revision(engine) == head_revision()


def known_revisions() -> list[str]:
    """Every catalog schema revision this ArtDash can upgrade from, oldest first."""
    script = ScriptDirectory.from_config(_config_without_engine())
    return [r.revision for r in reversed(list(script.walk_revisions()))]
