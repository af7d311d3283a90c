"""Backups: the catalog (titles, artwork, tags, taxonomy, personas, lab runs, users, audit
trail) and the media in one ZIP archive, optionally with the results database.

The archive holds ``manifest.json`` (format, version, schema revisions, row counts and the
SHA-256 of every other member), one JSON-lines file per table (portable: a backup taken on
SQLite restores onto PostgreSQL and back), and the media files. ``restore`` checks the
manifest and every checksum before it touches anything, then loads into an empty database
in one transaction and writes the media files; it refuses a corrupt or foreign archive,
an archive from another schema version, and a database that already has a catalog.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, LargeBinary, func, insert, select, text

from artdash import clock
from artdash.config import create_private
from artdash.db.migrate import (
    current_revision,
    downgrade_database,
    known_revisions,
    upgrade_database,
)
from artdash.db.models import Base, Title
from artdash.media.images.validate import sniff_format
from artdash.ops.archive_check import (  # the archive's checks, re-exported: backup.verify(…) etc.
    FORMAT,
    MEDIA_NAME,
    VERSION,
    BackupError,
    verify,
)
from artdash.ops.archive_check import check_members as check_members
from artdash.ops.archive_check import read_manifest as read_manifest

BATCH = 5_000
COPY_BLOCK = 1 << 20


def _tables():
    return [t for t in Base.metadata.sorted_tables]


def _results_tables():
    from artdash.db.results_schema import metadata

    return list(metadata.sorted_tables)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()   # trained policy versions (numpy arrays)
    return value


def _dump_table(conn: Connection, table, archive: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    columns = [c.name for c in table.columns]
    order = list(table.primary_key.columns) or [table.columns[0]]
    with archive.open(name, "w", force_zip64=True) as out:
        result = conn.execute(select(table).order_by(*order).execution_options(yield_per=BATCH))
        for part in result.partitions(BATCH):
            lines = "".join(json.dumps(dict(zip(columns, (_plain(v) for v in row))), ensure_ascii=False) + "\n"
                            for row in part).encode()
            out.write(lines)
            digest.update(lines)
            count += len(part)
    return count, digest.hexdigest()


def _dump_log(log, archive: zipfile.ZipFile, name: str) -> tuple[int, str]:
    """The Parquet log's impressions as the impressions table's JSON lines (ids in log order)."""
    from artdash.db.results_schema import impressions

    columns = [c.name for c in impressions.columns]
    digest = hashlib.sha256()
    count = 0
    stored = [c for c in columns if c != "id"]
    with log.engine.connect() as conn, log.scan(conn) as (duck, relation), \
            archive.open(name, "w", force_zip64=True) as out:
        if relation is not None:
            cursor = duck.execute(f"SELECT {', '.join(stored)} FROM {relation} ORDER BY import_id, row")
            while part := cursor.fetchmany(BATCH):
                lines = "".join(json.dumps(dict(zip(columns, (count + i + 1, *row))), ensure_ascii=False) + "\n"
                                for i, row in enumerate(part)).encode()
                out.write(lines)
                digest.update(lines)
                count += len(part)
    return count, digest.hexdigest()


def backup(ws, path: Path, include_results: bool = False,
           progress: Callable[[str], None] | None = None) -> dict:
    """Write an archive of the workspace to ``path`` (atomically). Returns the manifest."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    manifest: dict[str, Any] = {"format": FORMAT, "version": VERSION, "created_at": clock.now().isoformat(),
                "catalog_revision": current_revision(ws.engine), "tables": {}, "results_tables": {},
                "media": {}, "checksums": {}}
    # The archive holds password hashes: readable by its owner only.
    tmp.unlink(missing_ok=True)  # a leftover of an interrupted backup
    fd = create_private(tmp)
    if fd is not None:
        os.close(fd)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        _dump_tables(ws.engine, _tables(), archive, "catalog", manifest["tables"], manifest["checksums"], progress)
        if include_results:
            from artdash.db.results_migrate import results_revision
            from artdash.results.service import impression_log

            manifest["results_revision"] = results_revision(ws.results_engine)
            log = impression_log(ws)
            tables = [t for t in _results_tables() if log.kind == "table" or t.name != "impressions"]
            _dump_tables(ws.results_engine, tables, archive, "results", manifest["results_tables"],
                         manifest["checksums"], progress)
            if log.kind != "table":
                # The same lines as the impressions table would give: a backup restores wherever
                # the impressions live (the Parquet log, or a table on PostgreSQL).
                name = "results/impressions.jsonl"
                manifest["results_tables"]["impressions"], manifest["checksums"][name] = _dump_log(log, archive, name)
        root = Path(ws.store.root)
        if root.exists():
            for file in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")):
                relative = file.relative_to(root).as_posix()
                data = file.read_bytes()
                if not MEDIA_NAME.match(relative) or not sniff_format(data[:16]):
                    # not an image the store wrote (a stray file, an empty one): a restore would refuse it
                    manifest.setdefault("left_out_media", []).append(relative[:200])
                    continue
                archive.writestr(f"media/{relative}", data, compress_type=zipfile.ZIP_STORED)
                manifest["checksums"][f"media/{relative}"] = hashlib.sha256(data).hexdigest()
                manifest["media"][relative] = len(data)
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    tmp.replace(path)
    return manifest


def _dump_tables(engine, tables, archive: zipfile.ZipFile, folder: str, counts: dict, checksums: dict,
                 progress: Callable[[str], None] | None) -> None:
    """Write each table as ``<folder>/<table>.jsonl``, recording its row count and checksum."""
    with engine.connect() as conn:
        for table in tables:
            if progress:
                progress(f"{folder} table {table.name}")
            name = f"{folder}/{table.name}.jsonl"
            counts[table.name], checksums[name] = _dump_table(conn, table, archive, name)


def _load_table(conn: Connection, table, archive: zipfile.ZipFile, name: str) -> int:
    converters = {c.name: (lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v)
                  for c in table.columns if isinstance(c.type, DateTime)}
    converters |= {c.name: (lambda v: base64.b64decode(v) if isinstance(v, str) else v)
                   for c in table.columns if isinstance(c.type, LargeBinary)}
    count = 0
    batch = []
    with archive.open(name) as f:
        for line in f:
            row = json.loads(line)
            for column, convert in converters.items():
                if row.get(column) is not None:
                    row[column] = convert(row[column])
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(insert(table), batch)
                count += len(batch)
                batch = []
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _load_catalog(engine, tables, archive: zipfile.ZipFile, progress: Callable[[str], None] | None) -> None:
    with engine.begin() as conn:
        # First-run seeding (default taxonomy, archetypes, their audit rows) makes way for the backup's rows.
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if progress:
                progress(f"table {table.name}")
            _load_member(conn, table, archive, f"catalog/{table.name}.jsonl")
        _reset_sequences(conn, tables)


def _load_member(conn: Connection, table, archive: zipfile.ZipFile, name: str) -> int:
    """:func:`_load_table`, with a row the database refuses reported as a :class:`BackupError`."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _load_table(conn, table, archive, name)
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:160]
        raise BackupError(f"{name} cannot be loaded ({reason}); nothing was restored") from None


def _reflected_tables(engine, manifest: dict, listed: str = "tables") -> list:
    """The archive's tables (its catalog ones, or with ``listed="results_tables"`` its results
    ones) as the database has them now (an older schema), in dependency order."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(bind=engine, only=list(manifest[listed]))
    return list(metadata.sorted_tables)


def _reset_sequences(conn: Connection, tables) -> None:
    """PostgreSQL: after explicit ids, move each serial sequence past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is not False and str(pk[0].type).upper().startswith(("INTEGER", "BIGINT")):
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": pk[0].name}).scalar()
            if seq:
                conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT max({pk[0].name}) FROM {table.name}), 0) + 1, false)"))


def _media_targets(root: Path, manifest: dict, name: str) -> dict[str, Path]:
    """Each media file's place in the store, refused unless it is inside the media folder."""
    root = root.resolve()
    out = {}
    for relative in manifest.get("media", {}):
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or target == root:
            raise BackupError(f"{name} names a media file outside the media folder ({relative[:80]!r}); "
                              "nothing was restored")
        out[relative] = target
    return out


def _write_media(archive: zipfile.ZipFile, targets: dict[str, Path], written: list[Path]) -> None:
    """Stream each media member to a temporary file beside its place, then rename it there
    (content-addressed: a file already present is the same file). ``written`` collects the new
    files, so a failed restore can take them away again."""

    for relative, target in targets.items():
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".tmp-restore-" + target.name)
        with archive.open(f"media/{relative}") as src, tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst, COPY_BLOCK)
        tmp.replace(target)
        written.append(target)


def restore(ws, path: Path, progress: Callable[[str], None] | None = None) -> dict:
    """Load an archive into this workspace's (empty, migrated) databases and media store.

    Everything is checked before anything is written — the ZIP directory (names, sizes,
    expansion, free space), every checksum, the schema revisions, every media path (inside the
    media folder) and that the databases are empty. Media files are streamed to disk first
    (they are content-addressed), then the catalog and results are loaded in transactions; if
    any step fails, the new media files are removed again and the databases stay empty."""

    root = Path(ws.store.root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = verify(path, free_bytes=shutil.disk_usage(root).free)
    head = current_revision(ws.engine)
    made_at = manifest.get("catalog_revision")
    known = known_revisions()
    if not isinstance(made_at, str):
        raise BackupError("the archive does not say which schema revision it was made at; it is not an ArtDash "
                          "backup, or it is damaged")
    if made_at != head and (made_at not in known or head not in known or known.index(made_at) > known.index(head)):
        raise BackupError(f"the backup was made at schema revision {made_at}, which this ArtDash (at {head}) does "
                          "not know: restore it with a newer ArtDash")
    with ws.engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(Title)).scalar():
            raise BackupError("this database already has a catalog; restore into an empty one "
                              "(point ARTDASH_DATA_DIR or ARTDASH_DATABASE_URL at a new location)")
    results = bool(manifest.get("results_tables"))
    if results:
        from artdash.db.results_migrate import results_revision
        from artdash.results.service import impression_log

        with ws.results_engine.connect() as conn:
            if impression_log(ws).count(conn):
                raise BackupError("this workspace already has impressions; restore into an empty one "
                                  "(point ARTDASH_DATA_DIR at a new location)")

        from artdash.db.results_migrate import known_results_revisions

        results_head = results_revision(ws.results_engine)
        results_made_at = manifest.get("results_revision")
        known_results = known_results_revisions()
        if results_made_at != results_head and (results_made_at not in known_results or results_head not in known_results
                                                 or known_results.index(results_made_at) > known_results.index(results_head)):
            raise BackupError(f"the backup's results database was made at schema revision {results_made_at}, which "
                              f"this ArtDash (at {results_head}) does not know: restore it with a newer ArtDash")
    targets = _media_targets(root, manifest, Path(path).name)
    written: list[Path] = []
    try:
        with zipfile.ZipFile(path) as archive:
            if progress:
                progress("media files")
            _write_media(archive, targets, written)
            if made_at == head:
                _load_catalog(ws.engine, _tables(), archive, progress)
            else:
                # An older backup: load it into the schema it was made with, then migrate it up like
                # any database of that version (the target is empty, so going down first loses nothing).
                downgrade_database(ws.engine, made_at)
                try:
                    _load_catalog(ws.engine, _reflected_tables(ws.engine, manifest), archive, progress)
                finally:
                    upgrade_database(ws.engine)
            if results:
                try:
                    if results_made_at == results_head:
                        _load_results(ws.results_engine, _results_tables(), archive, progress)
                    else:
                        # As for the catalog: load into the schema it was made with, then migrate up.
                        from artdash.db.results_migrate import downgrade_results, upgrade_results

                        downgrade_results(ws.results_engine, str(results_made_at))
                        try:
                            _load_results(ws.results_engine, _reflected_tables(ws.results_engine, manifest,
                                                                               "results_tables"), archive, progress)
                        finally:
                            upgrade_results(ws.results_engine)
                    from artdash.results.service import impression_log

                    impression_log(ws)  # on the Parquet log: the loaded rows move there
                except BaseException:
                    _empty_catalog(ws.engine)  # the catalog went in; take it out again
                    raise
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        raise
    return manifest


def _load_results(engine, tables: list, archive: zipfile.ZipFile, progress: Callable[[str], None] | None) -> None:
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if progress:
                progress(f"results table {table.name}")
            _load_member(conn, table, archive, f"results/{table.name}.jsonl")


def _empty_catalog(engine) -> None:
    """Take a just-restored catalog out again (a later step of the restore failed)."""
    with engine.begin() as conn:
        for table in reversed(_tables()):
            conn.execute(table.delete())

