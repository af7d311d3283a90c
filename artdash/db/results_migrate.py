"""The results database's migrations: :data:`artdash.db.migrate.RESULTS`, by the names its
callers use (Alembic is taught to speak to DuckDB in the history's ``env.py``, where it runs)."""

from __future__ import annotations

from artdash.db.migrate import RESULTS

MIGRATIONS_DIR = RESULTS.folder
VERSION_TABLE = RESULTS.version_table

upgrade_results = RESULTS.upgrade
downgrade_results = RESULTS.downgrade
results_revision = RESULTS.current
known_results_revisions = RESULTS.known
