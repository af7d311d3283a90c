"""The columnar impression log: Parquet files by day that any lake engine can read, atomic
imports (a failure or a crash leaves nothing that counts), carrying an older table-based log
over, and the same rollups as the table log on the same file."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from results.test_results import HEADER, QUALITY, VARIANTS, rows
from sqlalchemy import text

from artdash.db.engine import make_engine
from artdash.db.results_migrate import upgrade_results
from artdash.results import queries, rollup_store
from artdash.results.ingest import IngestError, delete_import, ingest
from artdash.results.log import open_log
from artdash.results.log.carry import carry_over, rows_in_table
from artdash.results.log.parquet import STAGING, list_files
from artdash.results.queries import Selection


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    upgrade_results(eng)
    yield eng
    eng.dispose()


def two_days():
    return (HEADER + rows(10) + rows(6, start=100, variant=12, seconds=100)
            + rows(5, start=200, day="2026-11-02", variant=21, title=2, country="de", device="web"))


def load(log, text_, name="log.csv", **kw):
    return ingest(log, text_.encode(), name, "tester", VARIANTS, QUALITY, **kw)


def all_rollups(engine):
    """Every stored rollup row, each key once (summed over generations), in key order."""
    with engine.connect() as conn:
        return {f"rollup_{grain}": [tuple(r) for r in rollup_store.merged(conn, grain).itertuples(index=False)]
                for grain in rollup_store.GRAINS}


def test_the_log_is_parquet_partitioned_by_day_that_other_engines_read(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    report = load(log, two_days())
    days = sorted({f.day for f in list_files(tmp_path / "log")})
    assert [p.name for p in sorted((tmp_path / "log").iterdir())] == [f"day={d}" for d in days]
    assert len(days) == 2
    # Read as any lake engine would: a Hive-partitioned dataset.
    table = ds.dataset(tmp_path / "log", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == report.n_inserted == 21
    assert sorted(set(table.column("day").to_pylist())) == days
    assert set(table.column("country").to_pylist()) == {"FR", "DE"}
    assert not (tmp_path / "log" / STAGING).exists()


def test_a_refused_import_leaves_no_file_behind(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    load(log, HEADER + rows(4))
    before = list_files(tmp_path / "log")
    with pytest.raises(IngestError, match="not valid CSV"):    # refused by the parsing thread, mid-file
        load(log, HEADER + rows(300, start=10) + "bad,row\n", chunk_rows=50)
    assert list_files(tmp_path / "log") == before
    assert not any((tmp_path / "log" / STAGING).glob("*"))
    assert not [t for t in threading.enumerate() if t.name.startswith("artdash-ingest")]  # no thread left behind


def test_files_of_an_import_that_never_committed_do_not_count_and_are_cleared(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    first = load(log, HEADER + rows(4))
    # A crash after the files moved into place but before the import's row committed: the
    # same files under an id the results database does not list.
    for f in list_files(tmp_path / "log"):
        (f.path.parent / f.path.name.replace(f"import-{first.import_id}-", "import-77-")).write_bytes(
            f.path.read_bytes())
    with engine.connect() as conn:
        assert log.count(conn) == 4
        assert queries.count_impressions(conn) == 4
    second = load(log, HEADER + rows(3, start=50))  # clears them under its lock first
    assert {f.import_id for f in list_files(tmp_path / "log")} == {first.import_id, second.import_id} == {1, 2}
    with engine.connect() as conn:
        assert log.count(conn) == 7


def test_a_removal_that_fails_puts_the_files_back(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    report = load(log, HEADER + rows(4))
    files = list_files(tmp_path / "log")
    log.drop_rows(None, report.import_id)  # as a removal does, in its transaction
    assert list_files(tmp_path / "log") == []
    log.restore(report.import_id)          # … which then rolled back
    assert list_files(tmp_path / "log") == files
    log.drop_rows(None, report.import_id)  # a removal that crashed before committing:
    with engine.begin() as conn:           # the next import puts them back first
        log.prepare(conn)
    assert list_files(tmp_path / "log") == files
    assert not (tmp_path / "log" / "_removed").exists()


def test_removing_an_import_removes_its_files(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    keep = load(log, HEADER + rows(4))
    gone = load(log, HEADER + rows(5, start=100, day="2026-11-07"))
    assert delete_import(log, gone.import_id) == 5
    assert {f.import_id for f in list_files(tmp_path / "log")} == {keep.import_id}
    assert [p.name for p in (tmp_path / "log").iterdir()] == [f"day={list_files(tmp_path / 'log')[0].day}"]


def test_parquet_and_table_logs_give_the_same_rollups(tmp_path):
    results = []
    for where in ("parquet", "table"):
        eng = make_engine(f"sqlite:///{tmp_path / f'{where}.db'}")
        upgrade_results(eng)
        log = open_log(eng, tmp_path / "log" if where == "parquet" else None)
        load(log, two_days())
        load(log, HEADER + rows(8, start=5, cell="C"))  # partly already there
        results.append(all_rollups(eng))
        eng.dispose()
    assert results[0] == results[1]
    assert len(results[0]["rollup_segments"]) > 0


def test_a_table_log_is_carried_over_into_the_parquet_log_with_nothing_lost(engine, tmp_path):
    table_log = open_log(engine)           # what ArtDash before the columnar log wrote
    load(table_log, two_days())
    load(table_log, HEADER + rows(3, start=300, experiment="lab-1"), kind="simulation")
    before = all_rollups(engine)
    with engine.connect() as conn:
        history = queries.import_history(conn)
        stamp = queries.data_stamp(conn)
    log = open_log(engine, tmp_path / "log")
    assert carry_over(log) == 24
    assert rows_in_table(log) == 0
    assert all_rollups(engine) == before
    with engine.connect() as conn:
        assert log.count(conn) == 24
        assert queries.data_stamp(conn) == stamp  # nothing a page caches on has changed
        assert queries.import_history(conn).equals(history)
        assert queries.simulated_experiments(conn) == ["lab-1"]
    assert carry_over(log) == 0             # once
    again = load(log, two_days())           # the carried-over event ids still deduplicate
    assert (again.n_inserted, again.n_already_present) == (0, 21)
    # And the log rebuilds to the same rollups from the files alone.
    from artdash.results.rollups import rebuild_rollups

    rebuild_rollups(log, QUALITY)
    assert all_rollups(engine) == before


def test_an_interrupted_carry_over_is_redone_without_counting_twice(engine, tmp_path):
    load(open_log(engine), two_days())
    log = open_log(engine, tmp_path / "log")
    # As if a move had written the files and crashed before deleting the rows.
    writer = log.write_import(1, [])
    writer.publish()
    carry_over(log)
    first = {f.path.name for f in list_files(tmp_path / "log")}
    # Put the rows back and leave the files: the next carry-over must redo, not add.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM impressions"))
    load(open_log(engine), HEADER + rows(2, start=900))  # a new row in the table
    assert rows_in_table(log) == 2
    carry_over(log)
    with engine.connect() as conn:
        assert log.count(conn) == queries.count_impressions(conn) == 23
    assert first <= {f.path.name for f in list_files(tmp_path / "log")}


def test_one_title_reads_the_same_after_the_move(engine, tmp_path):
    load(open_log(engine), two_days())
    with engine.connect() as conn:
        before = queries.variant_totals(conn, Selection(title_id=1)).to_dict("records")
    carry_over(open_log(engine, tmp_path / "log"))
    with engine.connect() as conn:
        assert queries.variant_totals(conn, Selection(title_id=1)).to_dict("records") == before


def test_a_log_with_plays_but_no_durations_is_imported_with_a_warning(engine, tmp_path):
    log = open_log(engine, tmp_path / "log")
    report = load(log, HEADER + rows(6, seconds=0))
    assert report.n_inserted == 6
    assert len(report.warnings) == 1
    assert "3 impressions were played, but none has a play duration" in report.warnings[0]
    assert "read this log by its take rate" in report.warnings[0]   # what the readout does about it
    assert load(log, HEADER + rows(4, start=50)).warnings == ()  # durations given: no warning


def test_a_log_folder_that_cannot_be_written_is_a_sentence_not_a_traceback(engine, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's parent folder should be")
    log = open_log(engine, blocker / "log")
    from artdash.errors import ValidationError

    with pytest.raises(ValidationError, match="cannot write to the impression log folder"):
        load(log, HEADER + rows(2))
    with engine.connect() as conn:
        assert queries.count_impressions(conn) == 0 and queries.import_history(conn).empty


def test_a_killed_process_s_rollup_folder_is_cleared_by_the_next_one(tmp_path):
    """A server killed with SIGKILL (or by the out-of-memory killer) cannot remove its private
    folder of rollup files: the next process that reads rollups removes it, and only it."""
    start = ("import sys; from artdash.results import rollup_store as r; print(r._folder(), flush=True); "
             "sys.stdin.read()")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    killed = subprocess.Popen([sys.executable, "-c", start], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env, text=True)
    living = subprocess.Popen([sys.executable, "-c", start], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env, text=True)
    try:
        dead_folder, live_folder = Path(killed.stdout.readline().strip()), Path(living.stdout.readline().strip())
        (dead_folder / "gen.parquet").write_bytes(b"x" * 1000)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        assert dead_folder.is_dir()                      # nothing ran at its exit
        next_one = subprocess.run([sys.executable, "-c", start], input="", capture_output=True, text=True, env=env,
                                  check=True)
        assert not dead_folder.exists()
        assert live_folder.is_dir()                      # a running process's folder is left alone
        assert not Path(next_one.stdout.strip()).exists()  # removed at its own (clean) exit
    finally:
        for proc in (killed, living):
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


def test_stores_and_rollup_engines_are_one_registry_each(tmp_path):
    """A new place for impressions is one store registered (asked before the catch-all); a new
    rollup engine is one entry — the command line offers it and refuses what is not one."""
    from click.testing import CliRunner

    from artdash.cli import main
    from artdash.results.log import STORES, LogStore, TableLog, log_for, register_store
    from artdash.results.log.parquet import ParquetLog
    from artdash.results.rollups import ROLLUP_ENGINES

    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    assert isinstance(log_for(engine, tmp_path / "log"), ParquetLog)
    before = list(STORES)
    try:
        register_store(LogStore("sqlite-table", "a test's", lambda e: e.dialect.name == "sqlite",
                                lambda e, folder: TableLog(e)), first=True)
        assert isinstance(log_for(engine, tmp_path / "log"), TableLog)
    finally:
        STORES[:] = before
    assert [s.name for s in STORES] == ["table", "parquet"] and set(ROLLUP_ENGINES) >= {"embedded", "spark"}
    refused = CliRunner().invoke(main, ["results", "rollup", "--engine", "clickhouse"],
                                 env={"ARTDASH_DATA_DIR": str(tmp_path / "data")})
    assert refused.exit_code == 2 and "'clickhouse' is not a rollup engine; one of: embedded, spark" in refused.output
    engine.dispose()
