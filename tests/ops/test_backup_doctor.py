"""Backups that round-trip, restores that refuse bad archives, the doctor, and crash safety
tested by killing real processes mid-way."""

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from workspaces import make_settings

from artdash import catalog
from artdash.access import auth
from artdash.catalog import personas
from artdash.db.models import AuditEntry, Variant
from artdash.demo import DEMO_TITLES, load_demo
from artdash.ops import backup, doctor
from artdash.results import queries
from artdash.results.service import import_log
from artdash.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
HEADER = "event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"


@pytest.fixture
def source(tmp_path):
    ws = Workspace.open(make_settings(tmp_path / "source"))
    load_demo(ws, titles=DEMO_TITLES[:2])
    with ws.transaction() as s:
        persona = personas.list_personas(s)[0]
        personas.update_persona(s, persona.id, actor="pm", expected_version=persona.version, name="Renamed lover",
                                description=persona.description, country="FR", device="tv",
                                affinities=persona.weight_by_tag_id())
        auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
    with ws.session() as s:
        variant = s.scalars(select(Variant)).first()
    log = HEADER + "".join(f"e{i},2026-11-01T10:00:00Z,m{i},{variant.title_id},{variant.id},uniform,0.5,true,400\n"
                           for i in range(20))
    import_log(ws, log.encode(), "log.csv", "ada")
    yield ws
    ws.close()


def snapshot(ws):
    with ws.session() as s:
        titles = sorted((t.name, t.year) for t in catalog.list_titles(s))
        variants = sorted((v.sha256, v.status, v.label) for v in s.scalars(select(Variant)))
        people = sorted((p.name, p.country, tuple(sorted(p.weight_by_tag_id().items())))
                        for p in personas.list_personas(s))
        users = [(u.name, u.role) for u in auth.list_users(s)]
        audit_rows = s.scalar(select(func.count()).select_from(AuditEntry))
    media = sorted((p.relative_to(ws.store.root).as_posix(), p.read_bytes())
                   for p in Path(ws.store.root).rglob("*") if p.is_file())
    return titles, variants, people, users, audit_rows, media


def test_backup_round_trip_with_results(source, tmp_path, database_url):
    archive = tmp_path / "artdash-backup.zip"
    manifest = backup.backup(source, archive, include_results=True)
    assert manifest["tables"]["titles"] == 2 and manifest["results_tables"]["impressions"] == 20
    target = Workspace.open(make_settings(tmp_path / "target", database_url))
    try:
        backup.restore(target, archive)
        assert snapshot(target) == snapshot(source)
        with target.results_engine.connect() as conn:
            assert queries.count_impressions(conn) == 20
            assert queries.variant_totals(conn, queries.Selection())["impressions"].sum() == 20
        assert doctor.examine(target).healthy
        with target.transaction() as s:  # ids keep counting after the restored ones
            catalog.create_title(s, name="After Restore", actor="ada")
    finally:
        target.close()


def test_restore_refuses_bad_archives_and_changes_nothing(source, tmp_path):
    good = tmp_path / "good.zip"
    backup.backup(source, good)
    text_file = tmp_path / "notes.zip"
    text_file.write_text("not an archive")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("readme.txt", "hello")
    other_format = tmp_path / "other.zip"
    with zipfile.ZipFile(other_format, "w") as z:
        z.writestr("manifest.json", '{"format": "something-else"}')
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("media/") and not item.filename.startswith("media/thumbs"):
                data = data[:-10] + b"0123456789"
            dst.writestr(item, data)
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        before = snapshot(target)
        for bad, words in [(text_file, "not a ZIP archive"), (foreign, "no manifest.json"),
                           (other_format, "not an ArtDash backup"), (damaged, "does not match its checksum"),
                           (tmp_path / "missing.zip", "does not exist")]:
            with pytest.raises(backup.BackupError, match=words):
                backup.restore(target, bad)
            assert snapshot(target) == before
        backup.restore(target, good)
        with pytest.raises(backup.BackupError, match="already has a catalog"):
            backup.restore(target, good)
    finally:
        target.close()


def rewrite_archive(good: Path, out: Path, manifest_changes: dict, users=None, without=()) -> None:
    """A copy of an archive with its manifest changed and, optionally, its users rows rewritten
    and the tables ``without`` left out (checksums recomputed: the archive an older or newer
    ArtDash would have written)."""
    import hashlib
    import json

    with zipfile.ZipFile(good) as src:
        manifest = json.loads(src.read("manifest.json")) | manifest_changes
        for table in without:
            manifest["tables"].pop(table)
            manifest["checksums"].pop(f"catalog/{table}.jsonl")
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                if item.filename in {f"catalog/{t}.jsonl" for t in without}:
                    continue
                data = src.read(item.filename)
                if item.filename == "catalog/users.jsonl" and users is not None:
                    data = "".join(json.dumps(users(json.loads(line))) + "\n"
                                   for line in data.decode().splitlines()).encode()
                    manifest["checksums"][item.filename] = hashlib.sha256(data).hexdigest()
                if item.filename != "manifest.json":
                    dst.writestr(item, data)
            dst.writestr("manifest.json", json.dumps(manifest))


def crafted(good: Path, out: Path, extra: dict[str, bytes] | None = None, media_sizes: dict | None = None,
            deflate: bool = False) -> Path:
    """A copy of ``good`` with members added (listed in the manifest with true checksums, as an
    attacker who read the format would do), optionally compressed hard (zip bombs)."""
    import hashlib
    import json

    with zipfile.ZipFile(good) as src:
        manifest = json.loads(src.read("manifest.json"))
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                if item.filename != "manifest.json":
                    dst.writestr(item, src.read(item.filename))
            for name, data in (extra or {}).items():
                dst.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED,
                             compresslevel=9 if deflate else None)
                manifest["checksums"][name] = hashlib.sha256(data).hexdigest()
                if name.startswith("media/"):
                    manifest["media"][name[len("media/"):]] = len(data)
            for relative, size in (media_sizes or {}).items():
                manifest["media"][relative] = size
            dst.writestr("manifest.json", json.dumps(manifest))
    return out


def test_a_hostile_archive_writes_nothing_anywhere_and_the_clean_restore_still_works(source, tmp_path):
    """Zip-slip past a string-prefix check (``../media_evil/x`` is a sibling of ``media``), an
    absolute name, a zip bomb, a media file of another size than its manifest says: each is
    refused before a byte is written — no rows, no files inside or next to the media folder —
    and the genuine archive restores afterwards."""
    good = tmp_path / "good.zip"
    backup.backup(source, good)
    bomb_data = b"\0" * (120 << 20)  # 120 MB of zeros: ~120 KB deflated (1,000×)
    hostile = [
        (crafted(good, tmp_path / "slip.zip", {"media/../media_evil/x": b"pwned"}), "outside the archive's folders"),
        (crafted(good, tmp_path / "abs.zip", {"media//etc/cron.d/x": b"pwned"}), "outside the archive's folders"),
        (crafted(good, tmp_path / "bomb.zip", {"catalog/extra.jsonl": bomb_data}, deflate=True), "would expand"),
        (crafted(good, tmp_path / "size.zip", media_sizes={next(iter(backup.read_manifest(good)["media"])): 1}),
         "not the size its manifest says"),
    ]
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        before = snapshot(target)
        media_root = Path(target.store.root).resolve()
        for archive, words in hostile:
            with pytest.raises(backup.BackupError, match=words):
                backup.restore(target, archive)
            assert snapshot(target) == before, words
            beside = [p for p in media_root.parent.iterdir() if p.name != media_root.name and "evil" in p.name]
            assert not beside, words
        backup.restore(target, good)  # nothing was left behind to block it
        assert snapshot(target)[0] == snapshot(source)[0]
    finally:
        target.close()


def _media_name(data: bytes, thumb: bool = False) -> str:
    import hashlib

    key = hashlib.sha256(data).hexdigest()
    return f"media/{'thumbs/' if thumb else ''}{key[:2]}/{key[2:4]}/{key}.jpg"


def test_media_members_that_are_not_images_write_nothing(source, tmp_path):
    """Trust pass 3: 200 members of exactly 1 MiB of zeros (a 3.6 MB archive, under the old
    ratio check's threshold) named as the store names images, a text file named as an image, a
    member under a name the store never writes: each archive is refused before a byte lands in
    media/."""
    good = tmp_path / "good.zip"
    backup.backup(source, good)
    zeros = {_media_name(bytes([i]) + b"\0" * ((1 << 20) - 1)): bytes([i]) + b"\0" * ((1 << 20) - 1)
             for i in range(200)}
    text = b"#!/bin/sh\necho not an image\n" * 10
    cases = [
        (crafted(good, tmp_path / "zeros.zip", zeros, deflate=True), "would expand"),
        (crafted(good, tmp_path / "text.zip", {_media_name(text): text}), "is not an image"),
        (crafted(good, tmp_path / "name.zip", {"media/ab/evil.jpg": b"\xff\xd8\xff" + b"x" * 100}),
         "is not an image ArtDash stores"),
    ]
    assert (tmp_path / "zeros.zip").stat().st_size < 8 << 20
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        before = snapshot(target)
        media_root = Path(target.store.root)
        for archive, words in cases:
            with pytest.raises(backup.BackupError, match=words):
                backup.restore(target, archive)
            assert snapshot(target) == before, words
            assert not [p for p in media_root.rglob("*") if p.is_file()], words
        backup.restore(target, good)
    finally:
        target.close()


def test_a_restore_that_fails_half_way_leaves_no_rows_and_no_new_files(source, tmp_path):
    """A catalog row that cannot be loaded (its checksum is right, its content is not a row):
    the media files already streamed out are removed again, the database stays empty."""
    import hashlib
    import json

    good = tmp_path / "good.zip"
    backup.backup(source, good)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(good) as src:
        manifest = json.loads(src.read("manifest.json"))
        with zipfile.ZipFile(broken, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "catalog/titles.jsonl":
                    data += b'{"id": "not a number", "name": null}\n'
                    manifest["checksums"][item.filename] = hashlib.sha256(data).hexdigest()
                if item.filename != "manifest.json":
                    dst.writestr(item, data)
            dst.writestr("manifest.json", json.dumps(manifest))
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        before = snapshot(target)
        with pytest.raises(backup.BackupError, match="catalog/titles.jsonl cannot be loaded"):
            backup.restore(target, broken)
        assert snapshot(target) == before
        backup.restore(target, good)
    finally:
        target.close()


def test_a_large_member_is_streamed_to_disk_not_read_into_memory(source, tmp_path):
    """A 64 MB media file restores in blocks: the restoring process's peak memory grows by far
    less than the file (the restore used to read each member whole). Measured in a process of
    its own, from the kernel's high-water mark."""
    good = tmp_path / "good.zip"
    backup.backup(source, good)
    import hashlib

    big = b"\xff\xd8\xff\xe0" + os.urandom(64 << 20)        # a JPEG's signature, then 64 MB
    key = hashlib.sha256(big).hexdigest()
    relative = f"{key[:2]}/{key[2:4]}/{key}.jpg"
    archive = crafted(good, tmp_path / "big.zip", {f"media/{relative}": big})
    code = f"""
import re
from pathlib import Path
from artdash.config import Settings
from artdash.ops import backup
from artdash.workspace import Workspace

def peak_kib():
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))

ws = Workspace.open(Settings.from_env({{"ARTDASH_DATA_DIR": {str(tmp_path / "target")!r}}}))
before = peak_kib()
backup.restore(ws, Path({str(archive)!r}))
print("grew", peak_kib() - before)
"""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    grew_kib = int(done.stdout.split()[-1])
    assert (tmp_path / "target" / "media" / relative).stat().st_size == len(big)
    assert grew_kib < 24 << 10, f"peak memory grew by {grew_kib >> 10} MB for a 64 MB file"


def test_a_backup_from_an_older_schema_is_restored_and_upgraded(source, tmp_path, database_url):
    """An archive made before migration 0006 (no session epoch): loaded into the schema it was
    made with, then migrated — accounts, passwords and everything else come back."""
    from artdash.db.migrate import current_revision, head_revision

    good = tmp_path / "good.zip"
    backup.backup(source, good)
    older = tmp_path / "older.zip"
    rewrite_archive(good, older, {"catalog_revision": "0005"},
                    users=lambda row: {k: v for k, v in row.items() if k != "session_epoch"},
                    without=("api_keys", "policy_shadows", "source_videos", "service_holdouts",
                             "promotion_estimates"))   # 0008, 0010, 0011, 0013, 0014
    target = Workspace.open(make_settings(tmp_path / "target", database_url))
    try:
        backup.restore(target, older)
        assert current_revision(target.engine) == head_revision()
        assert snapshot(target) == snapshot(source)
        with target.session() as s:
            assert auth.sign_in(s, "ada", "correct horse battery").role == "admin"
        newer = tmp_path / "newer.zip"
        rewrite_archive(good, newer, {"catalog_revision": "9999"})
        fresh = Workspace.open(make_settings(tmp_path / "fresh", database_url))
        try:
            with pytest.raises(backup.BackupError, match="restore it with a newer ArtDash"):
                backup.restore(fresh, newer)
        finally:
            fresh.close()
    finally:
        target.close()


LATER_THAN_R0007 = ("results/service_secrets.jsonl", "results/service_counters.jsonl")   # r0010


def as_written_before_columnar_rollups(good: Path, out: Path) -> None:
    """The archive ArtDash wrote at results revision r0007: the rollups as rows of three
    tables (rollup_variants, rollup_cells, rollup_segments), no rollup_generations."""
    import base64
    import hashlib
    import io
    import json

    import pyarrow.parquet as pq

    with zipfile.ZipFile(good) as src:
        manifest = json.loads(src.read("manifest.json"))
        generations = [json.loads(line) for line in src.read("results/rollup_generations.jsonl").decode().splitlines()]
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                if item.filename not in {"manifest.json", "results/rollup_generations.jsonl", *LATER_THAN_R0007}:
                    dst.writestr(item, src.read(item.filename))
            for grain in ("variants", "cells", "segments"):
                rows = [row for g in generations if g["grain"] == grain
                        for row in pq.read_table(io.BytesIO(base64.b64decode(g["data"]))).to_pylist()]
                data = "".join(json.dumps(row) + "\n" for row in rows).encode()
                name = f"results/rollup_{grain}.jsonl"
                dst.writestr(name, data)
                manifest["results_tables"][f"rollup_{grain}"] = len(rows)
                manifest["checksums"][name] = hashlib.sha256(data).hexdigest()
            manifest["results_tables"].pop("rollup_generations")
            manifest["checksums"].pop("results/rollup_generations.jsonl")
            for name in LATER_THAN_R0007:                   # tables an r0007 store did not have
                manifest["results_tables"].pop(name.removeprefix("results/").removesuffix(".jsonl"))
                manifest["checksums"].pop(name)
            manifest["results_revision"] = "r0007"
            dst.writestr("manifest.json", json.dumps(manifest))


def test_a_results_backup_from_before_columnar_rollups_is_restored_and_upgraded(source, tmp_path, database_url):
    """A backup made before the rollups became columnar (results revision r0007) is loaded into
    that schema, then migrated: every total on Results comes back. A results revision this
    ArtDash does not know is refused, with nothing changed."""
    from artdash.db.results_migrate import results_revision

    good = tmp_path / "good.zip"
    backup.backup(source, good, include_results=True)
    older = tmp_path / "older.zip"
    as_written_before_columnar_rollups(good, older)
    with source.results_engine.connect() as conn:
        expected = queries.variant_totals(conn, queries.Selection()).to_dict("records")
        expected_cells = queries.cell_totals(conn, "").to_dict("records")
    assert expected and expected[0]["impressions"] == 20
    target = Workspace.open(make_settings(tmp_path / "target", database_url))
    try:
        backup.restore(target, older)
        assert results_revision(target.results_engine) == "r0011"   # head
        assert snapshot(target) == snapshot(source)
        with target.results_engine.connect() as conn:
            assert queries.variant_totals(conn, queries.Selection()).to_dict("records") == expected
            assert queries.cell_totals(conn, "").to_dict("records") == expected_cells
            assert queries.count_impressions(conn) == 20
    finally:
        target.close()
    newer = tmp_path / "newer.zip"
    rewrite_archive(good, newer, {"results_revision": "r9999"})
    fresh = Workspace.open(make_settings(tmp_path / "fresh"))      # (the target above holds database_url's catalog)
    try:
        with pytest.raises(backup.BackupError, match="results database was made at schema revision r9999"):
            backup.restore(fresh, newer)
        with fresh.results_engine.connect() as conn:
            assert queries.count_impressions(conn) == 0
        with fresh.session() as s:
            assert catalog.list_titles(s) == []
    finally:
        fresh.close()


def test_doctor_finds_and_repairs(source):
    store = Path(source.store.root)
    with source.session() as s:
        v1, v2 = s.scalars(select(Variant).order_by(Variant.id)).all()[:2]
    (store / "ab").mkdir(exist_ok=True)
    orphan = store / "ab" / ("0" * 64 + ".jpg")
    orphan.write_bytes(b"left behind")
    leftover = store / ".tmp-abc123"
    leftover.write_bytes(b"half written")
    source.store.thumbnail_path(v1.sha256).unlink()
    damaged = source.store.original_path(v2.sha256, v2.media_ext)
    damaged.write_bytes(damaged.read_bytes()[:-100] + b"x" * 100)
    report = doctor.examine(source)
    assert report.orphans == [orphan] and report.leftovers == [leftover]
    assert report.missing_thumbnails == [v1.id] and report.damaged == [v2.id]
    doctor.repair(source, report)
    assert not orphan.exists() and not leftover.exists() and source.store.thumbnail_path(v1.sha256).is_file()
    again = doctor.examine(source)
    assert again.damaged == [v2.id] and not again.orphans and not again.missing_thumbnails
    assert "restore from a backup" in " ".join(again.lines())


def _spawn(code: str, data_dir: Path, database_url: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "ARTDASH_DATA_DIR": str(data_dir), "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    env.pop("ARTDASH_DATABASE_URL", None)
    if database_url:
        env["ARTDASH_DATABASE_URL"] = database_url
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _kill_after(proc: subprocess.Popen, marker: str, timeout: float = 60) -> None:
    """SIGKILL ``proc`` as soon as it prints ``marker`` (it must: a process that failed or
    finished first would make the test prove nothing)."""
    deadline = time.time() + timeout
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            break
        if time.time() > deadline:
            proc.kill()
            pytest.fail(f"no {marker!r} within {timeout} s; the process said: {''.join(seen[-20:])}")
    else:
        pytest.fail(f"the process ended before {marker!r}: {''.join(seen[-20:])}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


UPLOAD_LOOP = """
import artimages
from artdash import catalog
from artdash.workspace import Workspace
ws = Workspace.open()
with ws.transaction() as s:
    title = catalog.create_title(s, name="Crash Test", actor="t")
for i in range(1000):
    with ws.transaction() as s:
        catalog.ingest_image(s, ws.store, title.id, f"p{i}.jpg", artimages.jpeg((2400, 3600), seed=i), "t")
    print("uploaded", i, flush=True)
"""


def test_killed_mid_upload_leaves_no_row_without_its_file(tmp_path, database_url):
    data = tmp_path / "data"
    proc = _spawn(UPLOAD_LOOP, data, database_url)
    _kill_after(proc, "uploaded 3")
    ws = Workspace.open(make_settings(tmp_path, database_url))
    try:
        report = doctor.examine(ws)
        assert not report.missing_originals and not report.damaged
        with ws.session() as s:
            assert s.scalar(select(func.count()).select_from(Variant)) >= 4
        doctor.repair(ws, report)
        assert doctor.examine(ws).healthy
    finally:
        ws.close()


IMPORT = """
from pathlib import Path
from artdash.results.service import import_log
from artdash.workspace import Workspace
ws = Workspace.open()
import_log(ws, Path({path!r}), "big.csv", "t", progress=lambda n: print("checked", n, flush=True))
print("done", flush=True)
"""


def test_killed_mid_import_leaves_no_half_import(tmp_path, database_url):
    data = tmp_path / "data"
    ws = Workspace.open(make_settings(tmp_path, database_url))
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        variant = s.scalars(select(Variant)).first()
    ws.close()
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write(HEADER)
        for i in range(600_000):
            f.write(f"e{i},2026-11-01T10:00:00Z,m{i % 999},{variant.title_id},{variant.id},uniform,0.5,true,400\n")
    proc = _spawn(IMPORT.format(path=str(big)), data, database_url)
    _kill_after(proc, "checked 250000")
    ws = Workspace.open(make_settings(tmp_path, database_url))
    try:
        with ws.results_engine.connect() as conn:
            assert queries.count_impressions(conn) == 0
            assert queries.import_history(conn).empty
            assert queries.variant_totals(conn, queries.Selection()).empty
    finally:
        ws.close()


SIMULATION = """
from artdash import lab
from artdash.lab import store as lab_store
from artdash.demo import DEMO_TITLES, load_demo
from artdash.workspace import Workspace
ws = Workspace.open()
load_demo(ws, titles=DEMO_TITLES[:3])
with ws.session() as s:
    world = lab.load_world(s)
config = lab.LabConfig(mix={{int(a): 1.0 for a in world.archetype_ids}}, impressions={impressions}, batch_size=2_000, policies=("uniform", "linucb"), seed=3)
result = lab.run_online(world, config, lambda r: print("simulated", r.n_done, flush=True))
with ws.transaction() as s:
    run = lab_store.save_run(s, result, "pm")
print("saved", run.id, flush=True)
lab_store.log_run(ws, world, result, run.id, "pm", progress=lambda n: print("logging", n, flush=True))
print("logged", flush=True)
"""


def _lab_state(ws):
    from artdash.lab import store as lab_store

    with ws.session() as s:
        runs = lab_store.list_runs(s)
    with ws.results_engine.connect() as conn:
        return runs, queries.count_impressions(conn), queries.import_history(conn)


def _killed_simulation(tmp_path, database_url, impressions: int, marker: str) -> Workspace:
    """Run a simulation in a process, SIGKILL it at ``marker``, open its workspace again."""
    _kill_after(_spawn(SIMULATION.format(impressions=impressions), tmp_path / "data", database_url), marker,
                timeout=240)
    return Workspace.open(make_settings(tmp_path, database_url))


def test_killed_mid_simulation_saves_nothing(tmp_path, database_url):
    ws = _killed_simulation(tmp_path, database_url, 5_000_000, "simulated 20000")
    try:
        runs, stored, history = _lab_state(ws)
        assert runs == [] and stored == 0 and history.empty
        assert doctor.examine(ws).healthy
    finally:
        ws.close()


def test_killed_while_a_simulation_writes_its_log_leaves_the_run_without_data(tmp_path, database_url):
    ws = _killed_simulation(tmp_path, database_url, 300_000, "logging")
    try:
        runs, stored, history = _lab_state(ws)
        assert len(runs) == 1 and runs[0].impressions == 300_000
        # Either the log's transaction had not committed (no data) or it had, and the run is
        # linked to it by the doctor; never a part of a log.
        assert stored in (0, 600_000)
        report = doctor.repair(ws, doctor.examine(ws))
        assert report.healthy
        with ws.session() as s:
            from artdash.lab import store as lab_store

            linked = lab_store.get_run(s, runs[0].id).results_import_id
        assert (linked is not None) == (stored == 600_000)
    finally:
        ws.close()


def test_doctor_links_a_run_to_the_log_it_wrote_before_a_crash(tmp_path):
    from artdash import lab
    from artdash.lab import store as lab_store

    ws = Workspace.open(make_settings(tmp_path))
    try:
        load_demo(ws, titles=DEMO_TITLES[:3])
        with ws.session() as s:
            world = lab.load_world(s)
        result = lab.run_online(world, lab.LabConfig(mix={int(a): 1.0 for a in world.archetype_ids}, impressions=4_000,
                                                         batch_size=1_000, policies=("uniform",)))
        with ws.transaction() as s:
            run = lab_store.save_run(s, result, "pm")
        # The crash window: the log committed, the process gone before the run was linked.
        data = lab.run_log(world, result, str(run.id)).to_csv(index=False).encode()
        import_log(ws, data, lab_store.log_file_name(run.id), "pm", kind="simulation", needs="editor")
        report = doctor.examine(ws)
        assert [r for r, _ in report.unlinked_runs] == [run.id]
        assert "not linked to the simulated data" in " ".join(report.lines())
        doctor.repair(ws, report)
        assert doctor.examine(ws).healthy
        assert lab_store.remove_run_data(ws, run.id, "local-admin") == 4_000
    finally:
        ws.close()


def test_doctor_checks_the_impression_log_and_clears_what_no_import_owns(source):
    from artdash.demo.results import load_demo_results
    from artdash.results.log.parquet import list_files

    load_demo_results(source, n=2_000, actor="ada")      # accounts are on: an admin imports it
    folder = source.settings.impression_log_dir
    assert doctor.examine(source).healthy
    files = list_files(folder)
    stray = files[0].path.with_name("import-999-0.parquet")  # a crash between the move and the commit
    stray.write_bytes(files[0].path.read_bytes())
    (folder / "_staging" / "import-998").mkdir(parents=True)
    (folder / "_staging" / "import-998" / "part.parquet").write_bytes(b"half")
    files[1].path.write_bytes(b"PAR1 damaged")
    report = doctor.examine(source)
    assert len(report.log_leftovers) == 2
    assert any("cannot be read" in p for p in report.log_problems)
    assert any("should hold 2,000 impressions" in p for p in report.log_problems)
    assert "impression log:" in " ".join(report.lines())
    doctor.repair(source, report)
    assert not stray.exists() and not (folder / "_staging").exists()
    assert doctor.examine(source).log_leftovers == []


def test_a_stray_file_in_the_media_folder_is_left_out_of_the_backup_not_blocking_its_restore(source, tmp_path):
    (Path(source.store.root) / "notes.txt").write_text("a stray file someone left here")
    (Path(source.store.root) / "ab").mkdir(exist_ok=True)
    good = tmp_path / "good.zip"
    backup.backup(source, good)
    assert backup.read_manifest(good)["left_out_media"] == ["notes.txt"]
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        backup.restore(target, good)
        assert snapshot(target)[0] == snapshot(source)[0]
    finally:
        target.close()
