"""Migrations: empty → head, a downgrade/upgrade round trip, and models that match them."""

import artimages
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from artdash import catalog
from artdash.config import Settings
from artdash.db import current_revision, downgrade_database, make_engine, upgrade_database
from artdash.db.migrate import head_revision
from artdash.db.models import Base
from artdash.workspace import Workspace

TABLES = {"facets", "tags", "titles", "title_tags", "variants", "variant_tags", "tag_suggestions", "personas",
          "persona_affinities", "editors_picks"}


def test_empty_to_head(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    assert TABLES <= set(inspect(engine).get_table_names())
    upgrade_database(engine)  # running again changes nothing
    engine.dispose()


def test_models_match_the_migrations(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def test_downgrade_and_upgrade_round_trip(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    downgrade_database(engine, "base")
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade_database(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upgrading_keeps_existing_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    settings = Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path), "ARTDASH_DATABASE_URL": url})
    ws = Workspace.open(settings)
    with ws.transaction() as s:
        title = catalog.create_title(s, name="Kept", actor="a", genres=["drama"])
    catalog.upload_files(ws.sessions, ws.store, title.id, [("k.jpg", artimages.jpeg())], "a")
    ws.close()
    again = Workspace.open(settings)  # the app and CLI migrate on every start
    with again.session() as s:
        assert [t.name for t in catalog.list_titles(s)] == ["Kept"]
        assert len(catalog.list_variants(s, title.id)) == 1
    again.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_upgrade_from_0001_keeps_catalog_data(tmp_path):
    """A database made by the first release upgrades to the personas schema with its data."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade_database(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO titles (name, kind, synopsis, created_at, updated_at, created_by, "
                             "updated_by, version) VALUES ('Old Title', 'movie', '', '2026-01-01', '2026-01-01', "
                             "'a', 'a', 1)")
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM titles").scalar() == "Old Title"
        assert conn.exec_driver_sql("SELECT count(*) FROM personas").scalar() == 0
    downgrade_database(engine, "0001")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM titles").scalar() == "Old Title"
    engine.dispose()


def test_upgrade_from_0005_keeps_accounts_and_their_passwords(database_url):
    """Accounts made before the session epoch existed keep working (epoch 0), both ways."""
    from sqlalchemy.orm import Session

    from artdash.access import auth

    engine = make_engine(database_url)
    upgrade_database(engine, "0005")
    hashed = auth.hash_password("correct horse battery")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (name, role, password_hash, created_at, failed_sign_ins) "
                             f"VALUES ('ada', 'admin', '{hashed}', '2026-01-01', 0)")
    upgrade_database(engine)
    with engine.connect() as conn:
        assert tuple(conn.exec_driver_sql("SELECT name, session_epoch FROM users").one()) == ("ada", 0)
    with Session(engine) as s:
        assert auth.sign_in(s, "ada", "correct horse battery").role == "admin"
    downgrade_database(engine, "0005")
    with engine.connect() as conn:
        assert tuple(conn.exec_driver_sql("SELECT name, password_hash FROM users").one()) == ("ada", hashed)
    engine.dispose()


def test_the_newest_revision_is_read_from_the_files_as_alembic_reads_it():
    from artdash.db.migrate import CATALOG, RESULTS

    for history in (CATALOG, RESULTS):
        assert history.newest() == history.head()


def test_opening_an_up_to_date_workspace_does_not_load_alembic(tmp_path):
    """The fast path: a database at the newest revision is opened without Alembic; an older one
    is still upgraded through it."""
    import subprocess
    import sys

    from artdash.config import Settings
    from artdash.db.migrate import CATALOG, RESULTS
    from artdash.workspace import Workspace

    env = {"ARTDASH_DATA_DIR": str(tmp_path)}
    ws = Workspace.open(Settings.from_env(env))
    ws.results_engine  # noqa: B018  (migrated on first use)
    ws.close()
    code = ("import sys; from artdash.config import Settings; from artdash.workspace import Workspace; "
            f"ws = Workspace.open(Settings.from_env({env!r})); ws.results_engine; "
            "print('alembic' in sys.modules)")
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
    ws = Workspace.open(Settings.from_env(env), migrate=False)
    CATALOG.downgrade(ws.engine, CATALOG.known()[-2])
    assert CATALOG.stored(ws.engine) == CATALOG.known()[-2]
    CATALOG.upgrade(ws.engine)
    assert CATALOG.stored(ws.engine) == CATALOG.head() and RESULTS.stored(ws.results_engine) == RESULTS.head()
    ws.close()
