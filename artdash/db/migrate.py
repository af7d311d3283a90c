"""Apply Alembic migrations programmatically (used by `make run`, the app and the CLI): one
runner, two histories — the catalog's and the results database's, which has its own version
table so the results may live in the catalog's database or in one of their own.

    >>> CATALOG.upgrade(engine); RESULTS.current(engine)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


@dataclass(frozen=True)
class History:
    """One migration history: its folder of revisions and the table that records where a
    database is (None: Alembic's own ``alembic_version``)."""

    folder: Path
    version_table: str | None = None

    def _config(self, engine: Engine | None = None) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(self.folder))
        if engine is not None:
            cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
            cfg.attributes["engine"] = engine
        return cfg

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Bring the database up to ``revision`` (default: the newest)."""
        command.upgrade(self._config(engine), revision)

    def downgrade(self, engine: Engine, revision: str) -> None:
        """Take the schema back to ``revision`` ("base" removes every table of this history)."""
        command.downgrade(self._config(engine), revision)

    def current(self, engine: Engine) -> str | None:
        """The database's revision in this history (None before the first migration)."""
        opts = {"version_table": self.version_table} if self.version_table else {}
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts=opts).get_current_revision()

    def head(self) -> str:
        """The newest revision (the history ships with the package)."""
        head = ScriptDirectory.from_config(self._config()).get_current_head()
        assert head is not None
        return head

    def known(self) -> list[str]:
        """Every revision this ArtDash can upgrade from, oldest first."""
        return [r.revision for r in reversed(list(ScriptDirectory.from_config(self._config()).walk_revisions()))]

    def is_up_to_date(self, engine: Engine) -> bool:
        """Whether the database is at the newest revision."""
        return self.current(engine) == self.head()


HERE = Path(__file__).parent
CATALOG = History(HERE / "migrations")
RESULTS = History(HERE / "results_migrations", "alembic_version_results")
MIGRATIONS_DIR = CATALOG.folder

# The catalog's, by the names its callers use.
upgrade_database = CATALOG.upgrade
downgrade_database = CATALOG.downgrade
current_revision = CATALOG.current
head_revision = CATALOG.head
known_revisions = CATALOG.known
is_up_to_date = CATALOG.is_up_to_date
