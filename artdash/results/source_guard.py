"""What a results source may not be: ArtDash's own databases.

A source is a log that lives elsewhere. Pointed at the workspace's catalog or results database
(or at a copy of one, or at any file in the data folder), it would read users' password
hashes and API key digests back as "experiment names" that every role sees. The database
itself says what it is — SQLite and DuckDB list their files, PostgreSQL names its database and
server — so the check holds whatever spelling the URL uses (a symlink, ``..``, ``localhost``
for ``127.0.0.1``, a ``file:`` URI).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from artdash.errors import ValidationError
from artdash.workspace import Workspace

# Tables only ArtDash's own databases have together: a source that holds them is ArtDash's
# catalog or results database, or a copy of one (a backup unpacked elsewhere).
OWN_TABLES = (("users", "api_keys", "audit_log"), ("results_imports", "rollup_variants", "results_sources"))
_REFUSAL = ("a results source cannot be ArtDash's own database ({why}): a source is a log kept elsewhere; "
            "import ArtDash's own decisions with `artdash results import`, or point the source at the warehouse")


def database_files(conn: Connection) -> list[Path]:
    """The files an SQLite or DuckDB connection has open (none for other engines, or in memory)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        rows = conn.exec_driver_sql("PRAGMA database_list").all()
        files = [str(r[2]) for r in rows]
    elif dialect == "duckdb":
        files = [str(r[0]) for r in conn.exec_driver_sql("SELECT path FROM duckdb_databases()").all() if r[0]]
    else:
        return []
    return [Path(f).resolve() for f in files if f and f not in (":memory:",)]


def server_identity(conn: Connection) -> tuple[str, ...] | None:
    """(server start time, port, database) for PostgreSQL — the same for every address and
    spelling of one database — or None for other engines."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.exec_driver_sql(
        "SELECT CAST(pg_postmaster_start_time() AS TEXT), CAST(inet_server_port() AS TEXT), current_database()").one()
    return tuple(str(v) for v in row)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def _inside(path: Path, folders: Iterable[Path]) -> Path | None:
    for folder in folders:
        if path == folder or folder in path.parents:
            return folder
    return None


def _own_engines(ws: Workspace) -> list[Engine]:
    engines = [ws.engine]
    if ws.settings.results_url != ws.settings.database_url:
        engines.append(ws.results_engine)
    return engines


def refuse_own_database(conn: Connection, ws: Workspace) -> None:
    """Refuse (ValidationError) a source connection that reaches the workspace's catalog or
    results database, any file in its data, media or log folders, or a database holding
    ArtDash's own tables."""
    files = database_files(conn)
    folders = [p.resolve() for p in (ws.settings.data_dir, ws.settings.media_dir, ws.settings.impression_log_dir)]
    for path in files:
        folder = _inside(path, folders)
        if folder is not None:
            raise ValidationError(_REFUSAL.format(why=f"{path.name} is in ArtDash's folder {folder}"))
    identity = server_identity(conn)
    for engine in _own_engines(ws):
        with engine.connect() as own:
            if files and any(_same_file(path, mine) for path in files for mine in database_files(own)):
                raise ValidationError(_REFUSAL.format(why="it is the same file"))
            if identity is not None and identity == server_identity(own):
                raise ValidationError(_REFUSAL.format(why=f"the same PostgreSQL database, {identity[2]!r}"))
    inspector = sa.inspect(conn)
    try:
        tables = set(inspector.get_table_names())
    except Exception:  # noqa: BLE001 - a catalog that cannot be listed is judged by the table read later
        return
    for names in OWN_TABLES:
        if set(names) <= tables:
            raise ValidationError(_REFUSAL.format(why=f"it holds ArtDash's tables {', '.join(names)}"))


__all__ = ["OWN_TABLES", "database_files", "refuse_own_database", "server_identity"]
