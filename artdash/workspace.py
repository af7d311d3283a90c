"""One handle on everything ArtDash stores: settings, database engine, sessions, media.

    >>> from artdash.workspace import Workspace
    >>> ws = Workspace.open()              # reads ARTDASH_* variables, migrates, seeds the taxonomy
    >>> with ws.session() as s:
    ...     titles = catalog.list_titles(s)
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from artdash.access import audit
from artdash.catalog.personas import load_archetypes
from artdash.catalog.taxonomy import load_default_taxonomy
from artdash.config import Settings, private_folder
from artdash.db.engine import make_engine, session_factory
from artdash.db.migrate import upgrade_database
from artdash.db.models import Persona
from artdash.media.store import MediaStore

_RESULTS_LOCK = threading.Lock()


@dataclass
class Workspace:
    """Settings, the catalog engine, guarded sessions, the media store and (lazily) the results engine."""
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: MediaStore
    # Whoever holds a trusted workspace has the database itself (the command line, the decision
    # service): its changes need no signed-in role. Chosen when it is opened, never flipped later.
    trusted: bool = False

    @classmethod
    def open(cls, settings: Settings | None = None, migrate: bool = True, trusted: bool = False) -> Workspace:
        """Connect; with ``migrate`` also bring the schema to the newest version and make sure
        the default taxonomy is there (both are no-ops when already done). ``trusted``: see
        :attr:`trusted` (the app's workspace never is)."""
        settings = settings or Settings.from_env()
        private_folder(settings.data_dir)  # password hashes, keys, logs: the owner's only
        engine = make_engine(settings.database_url)
        sessions = audit.guard(session_factory(engine))  # every change checked and recorded
        ws = cls(settings, engine, sessions, MediaStore(settings.media_dir), trusted)
        if migrate:
            upgrade_database(engine)
            with ws.transaction() as s:
                s.info["system"] = True  # first-run seeding, not a person's change
                load_default_taxonomy(s)
                if s.scalar(select(func.count()).select_from(Persona)) == 0:
                    load_archetypes(s, actor="artdash")
        return ws

    def as_trusted(self) -> Workspace:
        """The same databases and media, trusted (for a server-side caller handed an app's workspace)."""
        return self if self.trusted else replace(self, trusted=True)

    @property
    def videos(self) -> MediaStore:
        """Videos an editor chose to keep (content-addressed, like images; not in backups)."""
        return MediaStore(self.settings.data_dir / "videos")

    @contextmanager
    def transaction(self):
        """A session whose work is committed at the end of the block (rolled back on error)."""
        with self.sessions() as session, session.begin():
            if self.trusted:
                session.info["trusted"] = True
            yield session

    def session(self) -> Session:
        """A session for reading (the caller closes it; use ``with``)."""
        return self.sessions()

    def has_schema(self) -> bool:
        """Whether the catalog database has been migrated at all."""
        return inspect(self.engine).has_table("titles")

    _results_engine: Engine | None = None

    @property
    def results_engine(self) -> Engine:
        """The results database (the catalog's own unless ARTDASH_RESULTS_DATABASE_URL says
        otherwise), migrated on first use."""
        with _RESULTS_LOCK:  # two threads (two browser sessions) must not both migrate it
            if self._results_engine is None:
                from artdash.db.results_migrate import upgrade_results

                url = self.settings.results_url
                engine = self.engine if url == self.settings.database_url else make_engine(url)
                upgrade_results(engine)
                self._results_engine = engine
        return self._results_engine

    def close(self) -> None:
        """Dispose of the engines."""
        if self._results_engine is not None and self._results_engine is not self.engine:
            self._results_engine.dispose()
        self.engine.dispose()
