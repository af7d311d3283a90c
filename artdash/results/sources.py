"""Logs read where they live: a results *source* is a table or view in another database (a
warehouse, the product's own PostgreSQL …), given by an SQLAlchemy URL, its name and a
mapping of its columns onto the impression log's. Nothing is copied: the rollups are
computed there, by that database, with the same GROUP BY text every engine runs
(:mod:`artdash.results.log.grouping`), and only those small sums come back — added to the
rollups the pages read as one import of kind ``source``. A refresh replaces exactly what the
source added last time.

Safety: only SELECTs are sent (in a read-only transaction where the database has one); the
table and column names are checked against the database's own catalog and quoted as
identifiers, never pasted as SQL; a URL is kept only without its password — give a password
through an environment variable (``env:MY_WAREHOUSE_URL``), read at each refresh.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import unicodedata
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.engine import make_url

from artdash import clock
from artdash.access import audit
from artdash.access.auth import authorize
from artdash.db.results_schema import imports, results_sources, source_contributions
from artdash.errors import NotFoundError, ValidationError
from artdash.results.log.grouping import rollup_queries
from artdash.results.rollup_store import GRAINS
from artdash.results.rollups import stored_contributions, typed, write_rollups
from artdash.results.source_guard import refuse_own_database
from artdash.results.validate import TEXT_LIMITS
from artdash.results.write import one_writer
from artdash.workspace import Workspace

REQUIRED = ("timestamp", "member_id", "title_id", "variant_id", "played", "play_seconds")
OPTIONAL = ("experiment", "cell", "country", "device", "policy")
ENV_URL = re.compile(r"^env:([A-Z_][A-Z0-9_]{0,99})$")
SECRET_OPTION = re.compile(r"pass|pwd|secret|token|credential|api_?key", re.IGNORECASE)   # ?password=…
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")


@dataclass(frozen=True)
class SourceView:
    """A registered source (its URL as kept: without a password, or ``env:…``)."""

    name: str
    url: str
    table: str
    mapping: Mapping[str, str]
    import_id: int | None
    refreshed_at: datetime | None
    impressions: int


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh added: impressions counted there, and what was left out."""

    name: str
    impressions: int
    unknown_impressions: int          # rows of variants the catalog does not have (left out)
    days: int
    experiments: tuple[str, ...]


def check_url(url: str) -> str:
    """The URL as it may be kept: ``env:VARIABLE``, or an SQLAlchemy URL without a password."""
    text = (url or "").strip()
    if ENV_URL.match(text):
        return text
    try:
        parsed = make_url(text)
    except Exception:  # noqa: BLE001 - any unparsable URL gets the same refusal
        raise ValidationError("the source URL is not an SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db), "
                              "nor env:VARIABLE") from None
    secret_options = [k for k in parsed.query if SECRET_OPTION.search(k)]
    if parsed.password or secret_options:
        raise ValidationError("the source URL holds a password, which ArtDash would have to keep: put the URL in an "
                              "environment variable and give env:VARIABLE instead")
    return text


def resolve_url(url: str) -> str:
    """The URL to connect with (an ``env:`` one read now)."""
    found = ENV_URL.match(url)
    if not found:
        return url
    value = os.environ.get(found.group(1), "").strip()
    if not value:
        raise ValidationError(f"the environment variable {found.group(1)} (this source's URL) is not set")
    return value


def check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """{artdash column: source column}; refuses unknown targets and missing required ones."""
    clean = {str(k).strip(): str(v).strip() for k, v in mapping.items() if str(v).strip()}
    unknown = sorted(set(clean) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValidationError(f"cannot map onto {', '.join(unknown)}: the columns are "
                              f"{', '.join(REQUIRED)} (required) and {', '.join(OPTIONAL)} (optional)")
    missing = [c for c in REQUIRED if c not in clean]
    if missing:
        raise ValidationError(f"the mapping needs the source's column for {', '.join(missing)}")
    return clean


def _said(exc: BaseException) -> str:
    """A database's refusal in one line (without the SQL it was refusing)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}"


def _file_engine(url: sa.URL) -> Engine:
    """An SQLite or DuckDB file, opened read-only — never created: a path that is not a file is
    refused (connecting would leave an empty database there)."""
    database = url.database or ""
    if database.startswith("file:") or url.query:
        raise ValidationError("give an SQLite or DuckDB source as a plain path (sqlite:////data/warehouse.db), "
                              "without file: or options; ArtDash opens it read-only")
    path = Path(database).expanduser()
    if database in ("", ":memory:") or not path.is_file():
        raise ValidationError(f"there is no database file at {database or '(no path)'}: check the path "
                              "(sqlite:////absolute/path.db has four slashes)")
    if url.get_backend_name() == "duckdb":
        return sa.create_engine(url, connect_args={"read_only": True})
    target = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(target, uri=True,
                                                                         check_same_thread=False))


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(resolve_url(url))
        if parsed.get_backend_name() in ("sqlite", "duckdb"):
            return _file_engine(parsed)
        return sa.create_engine(parsed, pool_pre_ping=True)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a driver missing, a malformed URL: one sentence
        raise ValidationError(f"cannot use the source URL: {_said(exc)}") from None


@contextmanager
def _connected(engine: Engine, name: str) -> Iterator[Connection]:
    """A connection to the source; a database that cannot be reached is the source's problem,
    said in one line (not ArtDash's own database's)."""
    try:
        conn = engine.connect()
    except Exception as exc:  # noqa: BLE001 - refused, unreachable, not a database: one sentence
        raise ValidationError(f"the source {name!r} could not be reached: {_said(exc)}; check its URL, "
                              "that the database is running and that this user may read it") from None
    with conn:
        try:
            yield conn
        except sa.exc.DBAPIError as exc:     # the database refused a read: one sentence, no SQL
            raise ValidationError(f"the source {name!r} could not be read: {_said(exc.orig or exc)}") from None


def check_names(variants: pd.DataFrame | None) -> None:
    """Experiment, cell and policy names a source gives must pass the rules an import applies
    (length, no control characters): other roles see them in pickers and tables."""
    if variants is None or not len(variants):
        return
    for column, limit in TEXT_LIMITS.items():
        if column not in variants:
            continue
        for value in {str(v) for v in variants[column].dropna().unique()}:
            if len(value) > limit or any(unicodedata.category(ch) == "Cc" for ch in value):
                shown = value if len(value) <= 40 else value[:40] + "…"
                raise ValidationError(f"the source's {column} {shown!r} is not a name (at most {limit} "
                                      "characters, no control characters); map another column, or none")


def _split(table: str) -> tuple[str | None, str]:
    parts = [p.strip() for p in (table or "").split(".")]
    if len(parts) > 2 or not all(parts):
        raise ValidationError("the source table is NAME or SCHEMA.NAME")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def _columns(conn: Connection, table: str) -> dict[str, Any]:
    """The table's (or view's) columns and their types, from the database's catalog."""
    schema, name = _split(table)
    inspector = sa.inspect(conn)
    try:
        names = inspector.get_table_names(schema=schema) + inspector.get_view_names(schema=schema)
    except Exception as exc:  # noqa: BLE001
        raise ValidationError(f"cannot read the source's catalog: {_said(exc)}") from None
    if name not in names:
        raise ValidationError(f"the source has no table or view {table!r}")
    return {c["name"]: c["type"] for c in inspector.get_columns(name, schema=schema)}


def _epoch(dialect: str, column: str, kind: Any) -> str:
    """SQL for seconds since the epoch of a time column (or a numeric one, already seconds)."""
    if isinstance(kind, sa.types.Integer | sa.types.Numeric | sa.types.Float):
        return f"CAST({column} AS FLOAT)"
    if not isinstance(kind, sa.types.DateTime | sa.types.Date):
        raise ValidationError("the timestamp column must be a date/time or seconds since 1970 (it is "
                              f"{kind}); a view that converts it works")
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS FLOAT)"
    if dialect == "duckdb":
        return f"CAST(epoch({column}) AS FLOAT)"
    if dialect in ("mysql", "mariadb"):
        return f"UNIX_TIMESTAMP({column})"
    raise ValidationError(f"reading time columns of {dialect} is not supported; map a column of seconds since 1970")


def source_query(conn: Connection, table: str, mapping: Mapping[str, str], known: bool = False) -> str:
    """A sub-query that shows the source table as the impression log (day, ids, played …);
    with ``known``, only rows of the variants in the ``:known`` parameter (a list of ids)."""
    columns = _columns(conn, table)
    missing = sorted({c for c in mapping.values()} - set(columns))
    if missing:
        raise ValidationError(f"{table} has no column {', '.join(missing)}; it has {', '.join(sorted(columns))}")
    q = conn.dialect.identifier_preparer.quote
    schema, name = _split(table)
    source = f"{q(schema)}.{q(name)}" if schema else q(name)
    col = {target: q(column) for target, column in mapping.items()}
    epoch = _epoch(conn.dialect.name, col["timestamp"], columns[mapping["timestamp"]])
    select_list = [
        f"CAST(FLOOR({epoch} / 86400.0) AS INTEGER) AS day",
        f"CAST({col['title_id']} AS INTEGER) AS title_id", f"CAST({col['variant_id']} AS INTEGER) AS variant_id",
        f"CASE WHEN CAST({col['played']} AS INTEGER) = 1 THEN 1 ELSE 0 END AS played",
        f"COALESCE(CAST({col['play_seconds']} AS FLOAT), 0) AS play_seconds",
        # one character over a name's limit survives the cast (PostgreSQL truncates) so that
        # check_names refuses a value too long instead of keeping its first characters
        *(f"COALESCE(CAST({col[c]} AS VARCHAR({TEXT_LIMITS.get(c, 79) + 1})), '') AS {c}" if c in col
          else f"'' AS {c}" for c in OPTIONAL)]
    where = f" WHERE CAST({col['variant_id']} AS INTEGER) IN :known" if known else ""
    return f"(SELECT {', '.join(select_list)} FROM {source}{where}) AS src"


def _view(row: Any) -> SourceView:
    return SourceView(row.name, row.url, row.table_name, json.loads(row.mapping), row.import_id, row.refreshed_at,
                      int(row.impressions))


def list_sources(results: Engine) -> list[SourceView]:
    """Every registered source, by name."""
    with results.connect() as conn:
        return [_view(r) for r in conn.execute(select(results_sources).order_by(results_sources.c.name))]


def get_source(results: Engine, name: str) -> SourceView:
    """One source; refuses an unknown name."""
    with results.connect() as conn:
        row = conn.execute(select(results_sources).where(results_sources.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"there is no source {name!r}; `artdash results source list` shows them")
    return _view(row)


def add_source(ws: Workspace, name: str, url: str, table: str, mapping: Mapping[str, str], actor: str) -> RefreshReport:
    """Register a source (admins) after checking it can be read, and count it in."""
    clean_name = " ".join((name or "").split())
    if not NAME.match(clean_name):
        raise ValidationError("a source name is 1 to 80 letters, digits, spaces, '.', '_' or '-'")
    kept_url = check_url(url)
    with ws.transaction() as s:
        authorize(s, actor, "admin")
    engine = _engine(kept_url)
    try:
        with _connected(engine, clean_name) as conn:
            refuse_own_database(conn, ws)
            columns = _columns(conn, table)
            # a column already named as the log names it needs no mapping
            given = {k: v for k, v in mapping.items() if str(v).strip()}
            taken = set(given.values())
            clean = check_mapping({**{c: c for c in (*REQUIRED, *OPTIONAL) if c in columns and c not in taken},
                                   **given})
            source_query(conn, table, clean)        # the table, its columns and their types check out
    finally:
        engine.dispose()
    with ws.results_engine.begin() as conn:
        if conn.execute(select(results_sources.c.name).where(results_sources.c.name == clean_name)).first():
            raise ValidationError(f"there is already a source {clean_name!r}")
        conn.execute(insert(results_sources).values(name=clean_name, url=kept_url, table_name=table.strip(),
                                                    mapping=json.dumps(clean), created_at=clock.now(),
                                                    created_by=actor))
    try:
        return refresh_source(ws, clean_name, actor)
    except BaseException:
        with ws.results_engine.begin() as conn:     # a source that cannot be counted is not kept
            conn.execute(delete(results_sources).where(results_sources.c.name == clean_name))
        raise


def _read(ws: Workspace, source: SourceView, known: list[int]) -> tuple[dict[str, pd.DataFrame], int]:
    """The source's rollups over the rows of ``known`` variants, and how many rows it has of
    others (left out)."""
    engine = _engine(source.url)
    ids = {"known": known or [-1]}
    quality_seconds = ws.settings.quality_play_seconds
    try:
        with _connected(engine, source.name) as conn, conn.begin():
            refuse_own_database(conn, ws)    # an env: URL may point elsewhere since it was added
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            sub = source_query(conn, source.table, source.mapping, known=True)
            out = {}
            for grain, sql in rollup_queries(sub, quality_seconds).items():
                result = conn.execute(sa.text(sql).bindparams(sa.bindparam("known", expanding=True)), ids)
                out[grain] = pd.DataFrame(result.all(), columns=list(result.keys()))
            everything = source_query(conn, source.table, source.mapping)
            total = conn.execute(sa.text(f"SELECT COUNT(*) FROM {everything}")).scalar_one()
            kept = int(out["variants"]["impressions"].astype("int64").sum()) if len(out["variants"]) else 0
            return out, int(total) - kept
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - the source's own refusal, in one sentence
        raise ValidationError(f"the source {source.name!r} could not be read: {_said(exc)}") from None
    finally:
        engine.dispose()


def refresh_source(ws: Workspace, name: str, actor: str) -> RefreshReport:
    """Count the source in again (admins): its sums replace what it added last time, in one
    transaction; rows of variants the catalog does not have are left out and counted."""
    from artdash.results.service import variant_titles

    with ws.transaction() as s:
        authorize(s, actor, "admin")
    source = get_source(ws.results_engine, name)
    quality = ws.settings.quality_play_seconds
    catalog = variant_titles(ws)
    found, unknown = _read(ws, source, sorted(catalog))
    check_names(found.get("variants"))
    fresh: dict[str, pd.DataFrame] = {}
    for grain, frame in found.items():
        frame = typed(frame)
        if "title_id" in frame:
            frame["title_id"] = frame["variant_id"].map(catalog).astype("int64")
        fresh[grain] = frame
    variants = fresh.get("variants", pd.DataFrame(columns=["impressions", "day", "experiment"]))
    n = int(variants["impressions"].sum()) if len(variants) else 0
    experiments = tuple(sorted({e for e in variants.get("experiment", []) if e}))
    with one_writer(ws.results_engine) as conn:
        write_rollups(conn, stored_contributions(conn, name), -1)
        write_rollups(conn, fresh, +1)
        conn.execute(delete(source_contributions).where(source_contributions.c.source == name))
        for grain in GRAINS:
            frame = fresh.get(grain)
            if frame is not None and len(frame):
                conn.execute(insert(source_contributions).values(
                    source=name, grain=grain, rows=json.dumps(frame.to_dict(orient="records"), default=float)))
        values = {"kind": "source", "source": f"source:{name}"[:300], "created_at": clock.now(), "created_by": actor,
                  "n_rows": n, "n_already_present": 0, "n_skipped": 0, "quality_seconds": quality,
                  "experiments": json.dumps(list(experiments))}
        if source.import_id is None:
            from artdash.results.service import impression_log

            import_id = impression_log(ws).next_import_id(conn)
            conn.execute(insert(imports).values(id=import_id, **values))
        else:
            import_id = source.import_id
            conn.execute(update(imports).where(imports.c.id == import_id).values(**values))
        conn.execute(update(results_sources).where(results_sources.c.name == name).values(
            import_id=import_id, refreshed_at=clock.now(), impressions=n))
    with ws.transaction() as s:
        audit.record(s, actor, "import", "results source", name,
                     after={"impressions": n, "left out (unknown variants)": unknown, "table": source.table})
    days = int(variants["day"].nunique()) if len(variants) else 0
    return RefreshReport(name, n, unknown, days, experiments)


def remove_source(ws: Workspace, name: str, actor: str) -> int:
    """Take a source's sums out of the rollups and forget it (admins); returns its impressions."""
    with ws.transaction() as s:
        authorize(s, actor, "admin")
    source = get_source(ws.results_engine, name)
    with one_writer(ws.results_engine) as conn:
        write_rollups(conn, stored_contributions(conn, name), -1)
        conn.execute(delete(source_contributions).where(source_contributions.c.source == name))
        if source.import_id is not None:
            conn.execute(delete(imports).where(imports.c.id == source.import_id))
        conn.execute(delete(results_sources).where(results_sources.c.name == name))
    with ws.transaction() as s:
        audit.record(s, actor, "delete", "results source", name, before={"impressions": source.impressions})
    return source.impressions


__all__ = ["OPTIONAL", "REQUIRED", "RefreshReport", "SourceView", "add_source", "check_mapping", "check_url",
           "get_source", "list_sources", "refresh_source", "remove_source", "source_query", "stored_contributions"]
