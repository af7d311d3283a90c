"""Data layer: typed models, engines, migrations."""

from artdash.db.engine import make_engine, session_factory
from artdash.db.migrate import current_revision, downgrade_database, upgrade_database

__all__ = ["make_engine", "session_factory", "upgrade_database", "downgrade_database", "current_revision"]
