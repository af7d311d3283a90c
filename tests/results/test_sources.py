"""Logs read where they live: a table with foreign column names in a real PostgreSQL database
(and in a SQLite file), aggregated there — only sums come back — and reviewed on Results like
any import, equal to the same log imported; refreshed, removed; never a password kept, never
a name pasted as SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from workspaces import make_settings

from artdash.demo import DEMO_TITLES, load_demo
from artdash.errors import NotFoundError, ValidationError
from artdash.results import queries, sources
from artdash.results.service import import_log, impression_log, remove_import
from artdash.workspace import Workspace

MAPPING = {"timestamp": "shown_at", "member_id": "viewer", "title_id": "show_id", "variant_id": "artwork_id",
           "played": "did_play", "play_seconds": "watch_secs", "country": "territory", "device": "platform",
           "experiment": "test_name", "cell": "arm", "policy": "served_by"}


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace.open(make_settings(tmp_path))
    load_demo(workspace, titles=DEMO_TITLES[:2])
    yield workspace
    workspace.close()


def the_log(ws, n=600) -> pd.DataFrame:
    """A log in the source's own words, for the catalog's variants."""
    with ws.session() as s:
        from artdash.db.models import Variant

        pairs = s.execute(sa.select(Variant.id, Variant.title_id)).all()
    start = datetime(2027, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        v, t = pairs[i % len(pairs)]
        played = i % 3 == 0
        rows.append({"shown_at": start + timedelta(hours=7 * i), "viewer": f"u{i % 40}", "show_id": t,
                     "artwork_id": v, "did_play": played, "watch_secs": 900.0 if i % 6 == 0 else (30.0 if played else 0.0),
                     "territory": ["FR", "US"][i % 2], "platform": ["tv", "phone", "web"][i % 3],
                     "test_name": "spring", "arm": ["A", "B"][i % 2], "served_by": "uniform"})
    rows.append({**rows[0], "artwork_id": 999_999, "show_id": 999})       # a variant this catalog does not have
    return pd.DataFrame(rows)


def as_import_csv(frame: pd.DataFrame) -> bytes:
    f = frame[frame["artwork_id"] != 999_999]
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(len(f))], "timestamp": [t.isoformat() for t in f["shown_at"]],
        "member_id": f["viewer"], "title_id": f["show_id"], "variant_id": f["artwork_id"], "policy": f["served_by"],
        "propensity": 0.5, "played": f["did_play"], "play_seconds": f["watch_secs"], "country": f["territory"],
        "device": f["platform"], "experiment": f["test_name"], "cell": f["arm"]}).to_csv(index=False).encode()


def totals(ws, experiment="spring"):
    with ws.results_engine.connect() as conn:
        frame = queries.variant_totals(conn, queries.Selection(experiment=experiment))
    return frame.sort_values("variant_id").reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgres"])
def source_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("postgres_url")


def test_a_foreign_table_is_aggregated_where_it_lives_and_equals_the_same_log_imported(ws, source_url, tmp_path,
                                                                                        monkeypatch):
    log = the_log(ws)
    warehouse = sa.create_engine(source_url)
    log.to_sql("artwork_impressions", warehouse, index=False)
    monkeypatch.setenv("WAREHOUSE_URL", source_url)
    report = sources.add_source(ws, "warehouse", "env:WAREHOUSE_URL", "artwork_impressions", MAPPING, "local-admin")
    assert report.impressions == len(log) - 1 and report.unknown_impressions == 1
    assert report.experiments == ("spring",)
    from_source = totals(ws)
    # the same rows imported the usual way, into another workspace: the same numbers
    other = Workspace.open(make_settings(tmp_path / "other"))
    try:
        load_demo(other, titles=DEMO_TITLES[:2])
        import_log(other, as_import_csv(log), "same.csv", "local-admin")
        imported = totals(other)
    finally:
        other.close()
    cols = ["variant_id", "impressions", "plays", "quality_plays"]
    pd.testing.assert_frame_equal(from_source[cols], imported[cols], check_dtype=False)
    assert from_source["play_seconds"].to_numpy() == pytest.approx(imported["play_seconds"].to_numpy())
    with ws.results_engine.connect() as conn:
        cells = queries.cell_totals(conn, "spring")
    assert cells["impressions"].sum() == len(log) - 1
    # refreshed after the source grew: its sums replace what it added before (not added twice)
    more = log.iloc[:60].assign(shown_at=lambda f: f["shown_at"] + timedelta(days=400))
    more.to_sql("artwork_impressions", warehouse, index=False, if_exists="append")
    again = sources.refresh_source(ws, "warehouse", "local-admin")
    assert again.impressions == len(log) - 1 + 60 and again.unknown_impressions == 1
    assert totals(ws)["impressions"].sum() == again.impressions
    assert sources.list_sources(ws.results_engine)[0].url == "env:WAREHOUSE_URL"        # no URL kept in clear
    with pytest.raises(ValidationError, match="is a results source"):
        remove_import(ws, sources.get_source(ws.results_engine, "warehouse").import_id, "local-admin")
    assert sources.remove_source(ws, "warehouse", "local-admin") == again.impressions
    assert totals(ws).empty
    with pytest.raises(NotFoundError):
        sources.get_source(ws.results_engine, "warehouse")
    warehouse.dispose()


def test_a_rebuild_keeps_what_sources_added(ws, tmp_path):
    from artdash.results.ingest import rebuild_rollups

    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse = sa.create_engine(url)
    the_log(ws, 120).to_sql("imp", warehouse, index=False)
    report = sources.add_source(ws, "w", url, "imp", MAPPING, "local-admin")
    rebuild_rollups(impression_log(ws), 300.0)
    assert totals(ws)["impressions"].sum() == report.impressions
    warehouse.dispose()


@pytest.mark.parametrize("url, words", [
    ("postgresql+psycopg://bob:secret@db.example/warehouse", "holds a password"),
    ("not a url", "not an SQLAlchemy URL"), ("env:lower_case", "not an SQLAlchemy URL")])
def test_a_url_with_a_password_or_no_url_is_refused(ws, url, words):
    with pytest.raises(ValidationError, match=words):
        sources.add_source(ws, "w", url, "imp", MAPPING, "local-admin")
    assert sources.list_sources(ws.results_engine) == []


def test_names_are_checked_against_the_catalog_never_pasted_as_sql(ws, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse = sa.create_engine(url)
    the_log(ws, 30).to_sql("imp", warehouse, index=False)
    with pytest.raises(ValidationError, match="no table or view"):
        sources.add_source(ws, "w", url, "imp; DROP TABLE imp", MAPPING, "local-admin")
    with pytest.raises(ValidationError, match="has no column"):
        sources.add_source(ws, "w", url, "imp", {**MAPPING, "played": 'did_play"; DROP TABLE imp; --'}, "local-admin")
    with pytest.raises(ValidationError, match="needs the source's column for timestamp"):
        sources.add_source(ws, "w", url, "imp", {k: v for k, v in MAPPING.items() if k != "timestamp"}, "local-admin")
    with pytest.raises(ValidationError, match="cannot map onto propensity"):
        sources.add_source(ws, "w", url, "imp", {**MAPPING, "propensity": "arm"}, "local-admin")
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM imp")).scalar_one() == 31          # untouched
    assert sources.list_sources(ws.results_engine) == []
    warehouse.dispose()


def test_only_admins_add_sources(ws, tmp_path):
    from artdash.access.auth import PermissionDenied, add_user

    with ws.transaction() as s:
        add_user(s, "ada", "admin", "local-admin", "a long enough password 1")
    with ws.transaction() as s:
        add_user(s, "eve", "editor", "ada", "a long enough password 2")
    with pytest.raises(PermissionDenied):
        sources.add_source(ws, "w", f"sqlite:///{tmp_path / 'w.db'}", "imp", MAPPING, "eve")


def test_a_file_that_is_not_a_database_is_refused_in_one_line(ws, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValidationError) as refused:
        sources.add_source(ws, "w", f"sqlite:///{junk}", "imp", MAPPING, "local-admin")
    assert "file is not a database" in str(refused.value) and "\n" not in str(refused.value)
    assert "SELECT" not in str(refused.value)


# --- trust pass 3: a source may not be ArtDash's own database ---------------------------------

OWN = {"timestamp": "created_at", "member_id": "username", "title_id": "id", "variant_id": "id",
       "played": "id", "play_seconds": "id", "experiment": "password_hash"}


def _database_file(ws):
    return sa.engine.make_url(ws.settings.database_url).database


@pytest.mark.parametrize("spelling", ["plain", "dotdot", "symlink", "hardlink", "copy", "results"])
def test_the_workspaces_own_database_in_any_spelling_is_refused(ws, tmp_path, spelling):
    """A source at the catalog (users' password hashes) is refused however its path is written;
    nothing is registered, and no hash reaches a name any role sees."""
    import os
    import sqlite3
    from pathlib import Path

    own = Path(_database_file(ws))
    if spelling == "plain":
        path = own
    elif spelling == "dotdot":
        path = own.parent / ".." / own.parent.name / own.name
    elif spelling == "symlink":
        path = tmp_path / "elsewhere.db"
        path.symlink_to(own)
    elif spelling == "hardlink":
        path = tmp_path / "hard.db"
        os.link(own, path)
    elif spelling == "copy":            # a backup unpacked somewhere else holds the same hashes
        path = tmp_path / "copy.db"
        with sqlite3.connect(own) as live, sqlite3.connect(path) as copy:
            live.backup(copy)
    else:
        path = own
    table = "users" if spelling != "results" else "results_imports"
    mapping = OWN if spelling != "results" else {**OWN, "timestamp": "created_at", "member_id": "source",
                                                  "experiment": "created_by"}
    with pytest.raises(ValidationError, match="cannot be ArtDash's own database"):
        sources.add_source(ws, "owndb", f"sqlite:///{path}", table, mapping, "local-admin")
    assert sources.list_sources(ws.results_engine) == []
    with ws.results_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM results_imports")).scalar_one() == 0


def test_an_env_url_pointing_at_the_own_database_later_is_refused_at_refresh(ws, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse = sa.create_engine(url)
    the_log(ws, 30).to_sql("imp", warehouse, index=False)
    warehouse.dispose()
    monkeypatch.setenv("WAREHOUSE_URL", url)
    sources.add_source(ws, "w", "env:WAREHOUSE_URL", "imp", MAPPING, "local-admin")
    monkeypatch.setenv("WAREHOUSE_URL", ws.settings.database_url)
    with pytest.raises(ValidationError, match="cannot be ArtDash's own database"):
        sources.refresh_source(ws, "w", "local-admin")
    assert sources.get_source(ws.results_engine, "w").impressions == 30


def test_the_workspaces_own_postgresql_database_is_refused_by_any_address(tmp_path, postgres_url):
    """A workspace on PostgreSQL: a source in the same database — another schema, another
    spelling of the host — is refused; a source in another database of that server is not
    (checked by identity: server start, port, database)."""
    from sqlalchemy.engine import make_url

    workspace = Workspace.open(make_settings(tmp_path, postgres_url))
    try:
        load_demo(workspace, titles=DEMO_TITLES[:1])
        base = make_url(postgres_url)
        for host in ("127.0.0.1", "localhost"):
            other = base.set(host=host).render_as_string(hide_password=False)   # same database, search_path given
            with pytest.raises(ValidationError, match="the same PostgreSQL database"):
                sources.add_source(workspace, "owndb", other, "users", OWN, "local-admin")
        assert sources.list_sources(workspace.results_engine) == []
    finally:
        workspace.close()


@pytest.mark.parametrize("url", ["postgresql+psycopg://bob@db.example/w?password=secret",
                                 "postgresql+psycopg://bob@db.example/w?PassWord=secret&sslmode=require"])
def test_a_password_in_the_urls_options_is_refused(ws, url):
    with pytest.raises(ValidationError, match="holds a password"):
        sources.add_source(ws, "w", url, "imp", MAPPING, "local-admin")
    assert sources.list_sources(ws.results_engine) == []


def test_a_sqlite_path_that_does_not_exist_is_refused_and_not_created(ws, tmp_path):
    missing = tmp_path / "nowhere" / "w.db"
    missing.parent.mkdir()
    with pytest.raises(ValidationError, match="there is no database file"):
        sources.add_source(ws, "w", f"sqlite:///{missing}", "imp", MAPPING, "local-admin")
    assert not missing.exists()


def test_a_source_is_opened_read_only(ws, tmp_path):
    """Only SELECTs are sent, and an SQLite source is opened read-only besides."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse = sa.create_engine(url)
    the_log(ws, 30).to_sql("imp", warehouse, index=False)
    warehouse.dispose()
    engine = sources._engine(url)
    with engine.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.exec_driver_sql("DELETE FROM imp")
    engine.dispose()


def test_an_unreachable_postgresql_source_is_the_sources_problem_not_artdashs(ws):
    with pytest.raises(ValidationError) as refused:
        sources.add_source(ws, "w", "postgresql+psycopg://nobody@127.0.0.1:1/nowhere", "imp", MAPPING, "local-admin")
    said = str(refused.value)
    assert "could not be reached" in said and "doctor" not in said and "backup" not in said


def test_names_a_source_gives_pass_the_import_rules(ws, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    log = the_log(ws, 30)
    log["test_name"] = "$argon2id$v=19$m=65536,t=3,p=4$" + "A" * 70
    warehouse = sa.create_engine(url)
    log.to_sql("imp", warehouse, index=False)
    warehouse.dispose()
    with pytest.raises(ValidationError, match="is not a name"):
        sources.add_source(ws, "w", url, "imp", MAPPING, "local-admin")
    assert sources.list_sources(ws.results_engine) == []
