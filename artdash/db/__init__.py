"""Data layer: typed models, engines, migrations.

Its modules load when first used (:mod:`artdash.lazy`): migrations (Alembic) only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artdash import lazy

if TYPE_CHECKING:
    from artdash.db.engine import make_engine, session_factory
    from artdash.db.migrate import current_revision, downgrade_database, upgrade_database

__all__ = ["make_engine", "session_factory", "upgrade_database", "downgrade_database", "current_revision"]

__getattr__, __dir__ = lazy.exports(__name__, {
    "artdash.db.engine": ("make_engine", "session_factory",),
    "artdash.db.migrate": ("current_revision", "downgrade_database", "upgrade_database",),
})
