"""Apply Alembic migrations programmatically (used by `make run`, the app and the CLI): one
runner, two histories — the catalog's and the results database's, which has its own version
table so the results may live in the catalog's database or in one of their own.

    >>> CATALOG.upgrade(engine); RESULTS.current(engine)

A database already at the newest revision is recognised without loading Alembic (its version
table read with one query, the newest revision read from the revision files): opening a
workspace — every CLI command, every decision-service start — does not pay Alembic's import and
script scan when there is nothing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*['"]([^'"]+)['"]""", re.M)
_PARENTS = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)


@dataclass(frozen=True)
class History:
    """One migration history: its folder of revisions and the table that records where a
    database is (None: Alembic's own ``alembic_version``)."""

    folder: Path
    version_table: str | None = None

    def _config(self, engine: Engine | None = None) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.folder))
        if engine is not None:
            cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
            cfg.attributes["engine"] = engine
        return cfg

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Bring the database up to ``revision`` (default: the newest)."""
        if revision == "head" and self.newest() is not None and self.stored(engine) == self.newest():
            return
        from alembic import command

        command.upgrade(self._config(engine), revision)

    def downgrade(self, engine: Engine, revision: str) -> None:
        """Take the schema back to ``revision`` ("base" removes every table of this history)."""
        from alembic import command

        command.downgrade(self._config(engine), revision)

    def current(self, engine: Engine) -> str | None:
        """The database's revision in this history (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        opts = {"version_table": self.version_table} if self.version_table else {}
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts=opts).get_current_revision()

    def head(self) -> str:
        """The newest revision (the history ships with the package)."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._config()).get_current_head()
        assert head is not None
        return head

    def known(self) -> list[str]:
        """Every revision this ArtDash can upgrade from, oldest first."""
        from alembic.script import ScriptDirectory

        return [r.revision for r in reversed(list(ScriptDirectory.from_config(self._config()).walk_revisions()))]

    def newest(self) -> str | None:
        """The newest revision as the revision files say it — the one no other names as its
        parent — read without Alembic (None unless there is exactly one)."""
        revisions: set[str] = set()
        parents: set[str] = set()
        for path in (self.folder / "versions").glob("*.py"):
            source = path.read_text(encoding="utf-8")
            revisions.update(_REVISION.findall(source))
            for down in _PARENTS.findall(source):
                parents.update(re.findall(r"""['"]([^'"]+)['"]""", down))
        heads = revisions - parents
        return next(iter(heads)) if len(heads) == 1 else None

    def stored(self, engine: Engine) -> str | None:
        """The revision the database's version table holds, by one plain query (None: no table,
        or not exactly one row)."""
        table = self.version_table or "alembic_version"
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
        except DBAPIError:
            return None
        return rows[0] if len(rows) == 1 else None

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
