"""Impression ingest and rollup queries on SQLite, DuckDB and (when configured) PostgreSQL."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from artdash.db.engine import make_engine
from artdash.db.results_migrate import results_revision, upgrade_results
from artdash.errors import NotFoundError, ValidationError
from artdash.results import queries
from artdash.results.ingest import IngestError, delete_import, ingest, rebuild_rollups
from artdash.results.log import open_log
from artdash.results.queries import Selection

VARIANTS = {11: 1, 12: 1, 13: 1, 21: 2, 22: 2}  # variant id → title id
QUALITY = 300.0
HEADER = "event_id,timestamp,member_id,title_id,variant_id,policy,experiment,cell,propensity,played,play_seconds,country,device\n"


@pytest.fixture(params=["sqlite+parquet", "duckdb+parquet", "sqlite+table", "postgres+table"])
def log(request, tmp_path):
    """Every place impressions can live: the Parquet log (its imports and rollups in SQLite
    or DuckDB), the results database's table (SQLite, PostgreSQL)."""
    database, where = request.param.split("+")
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'results.db'}"
    elif database == "duckdb":
        url = f"duckdb:///{tmp_path / 'results.duckdb'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = make_engine(url)
    upgrade_results(eng)
    yield open_log(eng, tmp_path / "impression-log" if where == "parquet" else None)
    eng.dispose()


def rows(n=10, start=0, variant=11, title=1, played_every=2, seconds=600, day="2026-11-01", **extra):
    lines = []
    for i in range(start, start + n):
        played = i % played_every == 0
        fields = {"event_id": f"e{i}", "timestamp": f"{day}T{i % 24:02d}:00:00Z", "member_id": f"m{i % 7}",
                  "title_id": title, "variant_id": variant, "policy": "uniform", "experiment": "exp1",
                  "cell": "A" if i % 2 else "B", "propensity": 0.5, "played": "true" if played else "false",
                  "play_seconds": seconds if played else 0, "country": "fr", "device": "TV"} | extra
        lines.append(",".join(str(fields[c]) for c in HEADER.strip().split(",")))
    return "\n".join(lines) + "\n"


def do_ingest(log, text, **kwargs):
    return ingest(log, text.encode(), "log.csv", "tester", VARIANTS, QUALITY, **kwargs)


def test_results_schema_is_migrated(log):
    assert results_revision(log.engine) == "r0011"   # head


def test_ingest_counts_and_rollups(log):
    report = do_ingest(log, HEADER + rows(10) + rows(6, start=100, variant=12, seconds=100))
    assert (report.n_rows, report.n_inserted, report.n_already_present) == (16, 16, 0)
    with log.engine.connect() as conn:
        totals = queries.variant_totals(conn, Selection(title_id=1)).set_index("variant_id")
        assert queries.count_impressions(conn) == 16
        by_country = queries.segment_totals(conn, Selection(title_id=1), "country")
        by_device = queries.segment_totals(conn, Selection(title_id=1), "device")
        cells = queries.cell_totals(conn, "exp1").set_index("cell")["impressions"].to_dict()
        daily = queries.daily_totals(conn, Selection(title_id=1))
    assert totals.loc[11, ["impressions", "plays", "quality_plays"]].tolist() == [10, 5, 5]
    assert totals.loc[12, ["impressions", "plays", "quality_plays"]].tolist() == [6, 3, 0]  # 100 s < 300 s
    assert set(by_country["segment"]) == {"FR"} and set(by_device["segment"]) == {"tv"}
    assert cells == {"A": 8, "B": 8}
    assert daily["impressions"].sum() == 16 and str(daily["date"].iloc[0]) == "2026-11-01"


def test_reimporting_is_idempotent(log):
    text = HEADER + rows(10)
    do_ingest(log, text)
    again = do_ingest(log, text)
    assert (again.n_inserted, again.n_already_present) == (0, 10)
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 10
        assert queries.variant_totals(conn, Selection(title_id=1))["impressions"].sum() == 10


def test_chunked_streaming_gives_the_same_totals(log):
    do_ingest(log, HEADER + rows(50), chunk_rows=7)
    with log.engine.connect() as conn:
        assert queries.variant_totals(conn, Selection(title_id=1))["impressions"].tolist() == [50]


def test_duplicates_across_chunks_each_name_their_first_line(log):
    """Keys are compared once, sorted in place; the lines of repeated keys are looked up after
    (a 100M-row file used to keep four sorted copies of every key: 7 GB)."""
    text = HEADER + rows(30) + rows(2, start=3) + rows(5, start=100) + rows(1, start=3) + rows(1, start=29)
    with pytest.raises(IngestError) as error:
        do_ingest(log, text, chunk_rows=4)
    said = str(error.value)
    # e3 first on line 5; again on lines 32 and 39; e4 (line 6) again on 33; e29 (line 31) again on 40
    for line, first in ((32, 5), (33, 6), (39, 5), (40, 31)):
        assert f"line {line} (event_id): duplicate event id: same as line {first}" in said
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 0


def test_a_bad_row_and_repeated_ids_are_both_reported(log):
    """The Parquet log stops staging at the first bad row and finds repeated ids in its staged
    files; a second reading of the file still names every repeated id's lines."""
    text = HEADER + rows(3) + rows(1, start=50, propensity=0) + rows(6) + rows(2, start=1)
    with pytest.raises(IngestError) as error:
        do_ingest(log, text, chunk_rows=3)
    said = str(error.value)
    assert "line 5 (propensity)" in said and "line 6 (event_id): duplicate event id: same as line 2" in said
    assert error.value.n_issues == 1 + 3 + 2     # e0–e2 again on lines 6–8, e1 and e2 once more on 12–13
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 0


def test_column_mapping(log):
    text = HEADER.replace("timestamp", "ts").replace("variant_id", "image") + rows(3)
    report = do_ingest(log, text, mapping={"ts": "timestamp", "image": "variant_id"})
    assert report.n_inserted == 3


BAD = [
    ("missing column", HEADER.replace(",propensity", "") + "x\n", "missing column(s): propensity"),
    ("propensity zero", HEADER + rows(1, propensity=0), "line 2 (propensity)"),
    ("propensity above one", HEADER + rows(1, propensity=1.5), "line 2 (propensity)"),
    ("unknown variant", HEADER + rows(1, variant=99), "line 2 (variant_id): unknown variant id"),
    ("variant of another title", HEADER + rows(1, variant=21, title=1), "belongs to another title"),
    ("duplicate ids in file", HEADER + rows(2) + rows(1), "line 4 (event_id): duplicate event id: same as line 2"),
    ("played not boolean", HEADER + rows(1, played_every=1).replace(",true,", ",maybe,"), "line 2 (played)"),
    ("negative seconds", HEADER + rows(1, seconds=-5), "line 2 (play_seconds)"),
    ("bad timestamp", HEADER + rows(1, day="someday"), "line 2 (timestamp): not a timestamp"),
    ("mixed time zones", HEADER + rows(1) + rows(1, start=5).replace(":00:00Z", ":00:00"), "mixed time zones"),
    ("header only", HEADER, "no rows"),
]


@pytest.mark.parametrize("case, text, words", BAD, ids=[b[0] for b in BAD])
def test_bad_files_change_nothing(log, case, text, words):
    do_ingest(log, HEADER + rows(4, start=1000))  # data that must survive untouched
    with pytest.raises(IngestError) as error:
        # Good rows after the bad one must not be imported either (when the header allows rows).
        do_ingest(log, text + (rows(3, start=500) if text.startswith(HEADER) and text != HEADER else ""))
    assert words in str(error.value)
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 4
        assert queries.variant_totals(conn, Selection(title_id=1))["impressions"].tolist() == [4]


def test_unknown_ids_can_be_skipped(log):
    report = do_ingest(log, HEADER + rows(2) + rows(1, start=9, variant=99), skip_unknown=True)
    assert (report.n_inserted, report.n_skipped_unknown, report.skipped_lines) == (2, 1, (4,))


def test_a_header_that_is_not_csv_is_refused(log):
    with pytest.raises(IngestError, match="header row is not valid CSV"):
        ingest(log, b"\r\x00", "x.csv", "t", VARIANTS, QUALITY)


def test_empty_and_non_utf8_files(log):
    with pytest.raises(IngestError, match="empty"):
        ingest(log, b"", "log.csv", "t", VARIANTS, QUALITY)
    with pytest.raises(IngestError, match="not UTF-8"):
        ingest(log, (HEADER + rows(1)).replace("m0", "m\xe9").encode("latin-1"), "log.csv", "t", VARIANTS,
               QUALITY)


def test_a_damaged_parquet_file_is_refused_in_words_and_changes_nothing(log):
    do_ingest(log, HEADER + rows(3))
    good = io.BytesIO()
    pd.read_csv(io.StringIO(HEADER + rows(5, start=50))).to_parquet(good)
    for damaged in (b"PAR1" + b"\x00" * 64 + b"PAR1", good.getvalue()[: len(good.getvalue()) // 2]):
        with pytest.raises(IngestError, match="not a readable Parquet file: it may be damaged.*export the log again"):
            ingest(log, damaged, "log.parquet", "t", VARIANTS, QUALITY)
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 3 and len(queries.import_history(conn)) == 1


def test_parquet_ingest(log):
    frame = pd.read_csv(io.StringIO(HEADER + rows(5)), dtype=str)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    report = ingest(log, buffer.getvalue(), "log.parquet", "t", VARIANTS, QUALITY)
    assert report.n_inserted == 5


def test_day_range_and_lists(log):
    do_ingest(log, HEADER + rows(3) + rows(3, start=10, day="2026-11-05", variant=21, title=2))
    with log.engine.connect() as conn:
        low, high = queries.day_range(conn)
        assert (str(low), str(high)) == ("2026-11-01", "2026-11-05")
        assert queries.experiments(conn) == ["exp1"]
        assert queries.segments(conn, "country") == ["FR"]
        assert queries.segments(conn, "country", title_id=2) == ["FR"] and queries.segments(conn, "device", 99) == []
        window = queries.variant_totals(conn, Selection(day_from=queries.to_day(high)))
    assert window["variant_id"].tolist() == [21]


def test_the_date_range_is_the_selections_own(log):
    """A simulated log dated later never moves the window of real traffic (the Results page's
    30 days end at the selection's own last day), and each title has its own range."""
    do_ingest(log, HEADER + rows(3) + rows(3, start=10, day="2026-11-05", variant=21, title=2))
    ingest(log, (HEADER + rows(4, start=500, day="2027-03-15", experiment="lab-1")).encode(),
           "policy-lab-run-1.csv", "t", VARIANTS, QUALITY, kind="simulation")
    with log.engine.connect() as conn:
        simulated = tuple(queries.simulated_experiments(conn))
        assert [str(d) for d in queries.day_range(conn)] == ["2026-11-01", "2027-03-15"]
        assert [str(d) for d in queries.day_range(conn, exclude=simulated)] == ["2026-11-01", "2026-11-05"]
        assert [str(d) for d in queries.day_range(conn, title_id=1, exclude=simulated)] == ["2026-11-01"] * 2
        assert [str(d) for d in queries.day_range(conn, title_id=1, experiment="lab-1")] == ["2027-03-15"] * 2
        assert queries.day_range(conn, title_id=2, experiment="lab-1") is None


def test_results_schema_matches_its_migrations(log):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from artdash.db.results_schema import metadata

    if log.engine.dialect.name == "duckdb":
        pytest.skip("duckdb-engine cannot be reflected through the PostgreSQL catalog (no pg_collation)")
    with log.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, type_, parent: type_ != "table" or name in metadata.tables,
            "compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_deleting_an_import_removes_its_rows_and_rollups_only(log):
    do_ingest(log, HEADER + rows(10))
    with log.engine.connect() as conn:
        before = queries.variant_totals(conn, Selection(title_id=1))
        before_segments = queries.segment_totals(conn, Selection(title_id=1), "device")
    second = do_ingest(log, HEADER + rows(6, start=100, variant=12) + rows(4, start=200, device="web"))
    assert delete_import(log, second.import_id) == 10
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 10
        pd.testing.assert_frame_equal(queries.variant_totals(conn, Selection(title_id=1)), before)
        pd.testing.assert_frame_equal(queries.segment_totals(conn, Selection(title_id=1), "device"), before_segments)
        assert queries.cell_totals(conn, "exp1")["impressions"].sum() == 10
        assert second.import_id not in set(queries.import_history(conn)["id"])
    with pytest.raises(NotFoundError):
        delete_import(log, second.import_id)


def test_reimport_of_a_partly_new_file_counts_only_new_rows(log):
    do_ingest(log, HEADER + rows(5))
    report = do_ingest(log, HEADER + rows(8))  # e0–e4 again, e5–e7 new
    assert (report.n_inserted, report.n_already_present) == (3, 5)
    with log.engine.connect() as conn:
        totals = queries.variant_totals(conn, Selection(title_id=1))
        assert totals["impressions"].tolist() == [8]
        assert queries.segment_totals(conn, Selection(title_id=1), "country")["impressions"].tolist() == [8]


def test_parquet_with_typed_columns(log):
    frame = pd.read_csv(io.StringIO(HEADER + rows(4)), dtype=str)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["played"] = frame["played"] == "true"
    for c in ("title_id", "variant_id"):
        frame[c] = frame[c].astype("int64")
    frame["propensity"] = frame["propensity"].astype(float)
    frame["play_seconds"] = frame["play_seconds"].astype(float)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    report = ingest(log, buffer.getvalue(), "log.parquet", "t", VARIANTS, QUALITY)
    assert report.n_inserted == 4
    with log.engine.connect() as conn:
        totals = queries.variant_totals(conn, Selection(title_id=1))
        assert totals[["impressions", "plays", "quality_plays"]].iloc[0].tolist() == [4, 2, 2]
        low, high = queries.day_range(conn)
        assert str(low) == "2026-11-01"


def test_upgrade_from_r0001_keeps_every_total(tmp_path):
    """A results database written by the first release (combined rollups) upgrades to the
    narrow rollups with the same numbers."""
    from sqlalchemy import text

    from artdash.db.results_migrate import downgrade_results

    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade_results(eng, "r0001")
    old = [  # day, title, variant, experiment, cell, kind, segment, impressions, plays, quality, seconds
        (20400, 1, 11, "exp1", "A", "all", "", 10, 4, 2, 900.0),
        (20400, 1, 11, "exp1", "B", "all", "", 6, 3, 1, 500.0),
        (20401, 1, 12, "exp1", "A", "all", "", 5, 1, 0, 30.0),
        (20400, 1, 11, "exp1", "A", "country", "FR", 10, 4, 2, 900.0),
        (20400, 1, 11, "exp1", "B", "country", "FR", 6, 3, 1, 500.0),
        (20401, 1, 12, "exp1", "A", "country", "DE", 5, 1, 0, 30.0),
    ]
    from artdash.results.ingest import event_keys

    keys = event_keys(pd.Series(["e0", "e1"], dtype="str")).tolist()
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO daily_rollups VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j, :k)"),
                     [dict(zip("abcdefghijk", r)) for r in old])
        conn.execute(text("INSERT INTO results_imports VALUES (1, 'import', 'old.csv', '2026-11-01', 't', 2, 0, 0, 300)"))
        # the rows e0 and e1 of rows(3) below, as the first release stored them
        conn.execute(text("INSERT INTO impressions VALUES (:k, :e, :ts, 20758, 'm', 1, 11, 'uniform', 'exp1', "
                          "'A', 0.5, :played, :seconds, 'FR', 'tv', 1)"),
                     [{"k": k, "e": e, "ts": 1793491200 + 3600 * i, "played": 1 - i, "seconds": 600 * (1 - i)}
                      for i, (k, e) in enumerate(zip(keys, ["e0", "e1"]))])
    upgrade_results(eng)
    assert results_revision(eng) == "r0011"   # head
    with eng.connect() as conn:
        assert conn.execute(text("SELECT id, event_id FROM impressions ORDER BY id")).all() == [(1, "e0"), (2, "e1")]
    # The carried-over event keys still make re-imports idempotent.
    again = ingest(open_log(eng), (HEADER + rows(3)).encode(), "log.csv", "t", VARIANTS, QUALITY)
    assert (again.n_inserted, again.n_already_present) == (1, 2)
    with eng.connect() as conn:
        totals = queries.variant_totals(conn, Selection(title_id=1)).set_index("variant_id")
        assert totals.loc[11, ["impressions", "plays", "quality_plays"]].tolist() == [17, 8, 4]  # + e2
        assert totals.loc[12, "impressions"] == 5
        assert queries.cell_totals(conn, "exp1").set_index("cell")["impressions"].to_dict() == {"A": 15, "B": 7}
        fr = queries.segment_totals(conn, Selection(title_id=1), "country").set_index("segment")
        assert fr.loc["FR", "impressions"] == 17 and fr.loc["DE", "impressions"] == 5
    downgrade_results(eng, "r0001")  # and back, with the totals per variant intact
    with eng.connect() as conn:
        back = conn.execute(text("SELECT variant_id, sum(impressions) FROM daily_rollups WHERE segment_kind = 'all' "
                                 "GROUP BY variant_id ORDER BY variant_id")).all()
    assert [tuple(r) for r in back] == [(11, 17), (12, 5)]
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM impressions")).scalar() == 3
    eng.dispose()


def test_rebuilding_rollups_with_another_quality_threshold(log):
    do_ingest(log, HEADER + rows(10) + rows(6, start=100, variant=12, seconds=100))
    with log.engine.connect() as conn:
        before = queries.variant_totals(conn, Selection(title_id=1)).set_index("variant_id")
    assert before.loc[12, "quality_plays"] == 0  # 100 s < 300 s
    assert rebuild_rollups(log, 60.0) == 16
    with log.engine.connect() as conn:
        after = queries.variant_totals(conn, Selection(title_id=1)).set_index("variant_id")
        by_device = queries.segment_totals(conn, Selection(title_id=1), "device")
        cells = queries.cell_totals(conn, "exp1")
        history = queries.import_history(conn)
    assert after.loc[12, "quality_plays"] == 3 and after.loc[11, "quality_plays"] == 5
    assert after["impressions"].tolist() == before["impressions"].tolist()
    assert by_device["impressions"].sum() == 16 and cells["impressions"].sum() == 16
    assert set(history["quality_seconds"]) == {60.0}
    with pytest.raises(ValidationError, match="threshold"):
        rebuild_rollups(log, float("nan"))


def test_data_stamp_counts_impressions_and_changes_with_every_change(log):
    stamps = []

    def stamp_and_count():
        with log.engine.connect() as conn:
            stamp = queries.data_stamp(conn)
            assert queries.stored_impressions(stamp) == queries.count_impressions(conn)
        stamps.append(stamp)

    stamp_and_count()
    do_ingest(log, HEADER + rows(10))
    stamp_and_count()
    do_ingest(log, HEADER + rows(12))  # 10 already there, 2 new
    stamp_and_count()
    last = do_ingest(log, HEADER + rows(2, start=50) + rows(1, start=60, variant=99), skip_unknown=True)
    stamp_and_count()
    delete_import(log, last.import_id)
    stamp_and_count()
    do_ingest(log, HEADER + rows(2, start=70))  # takes the deleted import's id
    stamp_and_count()
    rebuild_rollups(log, 60.0)
    stamp_and_count()
    assert [queries.stored_impressions(s) for s in stamps] == [0, 10, 12, 14, 12, 14, 14]
    # Deleting the last import brings back exactly the data (and the stamp) of before it;
    # every other state holds different data under a different stamp.
    assert stamps[4] == stamps[2]
    assert len({s for i, s in enumerate(stamps) if i != 4}) == len(stamps) - 1


def test_all_traffic_can_leave_simulated_experiments_out(log):
    do_ingest(log, HEADER + rows(10))                                      # real, experiment exp1
    ingest(log, (HEADER + rows(6, start=500, experiment="lab-1")).encode(), "policy-lab-run-1.csv", "t",
           VARIANTS, QUALITY, kind="simulation")
    with log.engine.connect() as conn:
        simulated = tuple(queries.simulated_experiments(conn))
        assert simulated == ("lab-1",)
        everything = queries.variant_totals(conn, Selection(title_id=1))
        real = queries.variant_totals(conn, Selection(title_id=1, exclude=simulated))
        lab = queries.variant_totals(conn, Selection(title_id=1, experiment="lab-1", exclude=simulated))
        real_devices = queries.segment_totals(conn, Selection(title_id=1, exclude=simulated), "device")
    assert everything["impressions"].sum() == 16
    assert real["impressions"].sum() == 10 and real_devices["impressions"].sum() == 10
    assert lab["impressions"].sum() == 6  # an experiment chosen by name is shown whatever it is


def test_the_column_mapping_has_one_rule_for_the_page_and_the_cli():
    from artdash.errors import ValidationError
    from artdash.results.read import parse_column_mapping

    typed = parse_column_mapping(" userId = member_id ; image=variant_id, ")
    assert typed == {"userId": "member_id", "image": "variant_id"}     # a column keeps its case (a database's do)
    assert parse_column_mapping(["userId=member_id", "image=variant_id"]) == typed   # the CLI's repeated --map
    assert parse_column_mapping("") == {} and parse_column_mapping([]) == {}
    assert parse_column_mapping("=event_id") == {"": "event_id"}       # the unnamed column (header starts with ,)
    for bad, reason in (("ts", "must look like"), ("ts=", "must look like"),
                        ("ts=when", "not an ArtDash column"), ("ts=timestamp, ts=event_id", "mapped twice"),
                        ("a=timestamp, b=timestamp", "onto 'timestamp'")):
        with pytest.raises(ValidationError, match=reason):
            parse_column_mapping(bad)


@pytest.mark.parametrize("header, words", [
    ("event_id,timestamp," + ",".join(f"extra{i}" for i in range(1_000_000)) + "\n", "longer than 64 KB"),
    (",".join(f"col{i}" for i in range(200)) + "\n", "missing column(s): event_id"),       # 200 are read as 0
    (",".join(f"col{i}" for i in range(5000)) + "\n", "has 5,000 columns (col0, col1"),
])
def test_a_wide_file_is_refused_up_front_in_a_few_words(log, header, words):
    """A million extra columns used to import for 28 s at 5 GB and answer with a nine-million-
    character message; now the header is checked first and the message names a few columns."""
    with pytest.raises(IngestError, match=re.escape(words)) as refused:
        do_ingest(log, header + "1,2\n")
    assert len(str(refused.value)) < 400
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 0


def test_a_huge_field_is_refused_with_a_sentence_not_an_arrow_message(log):
    row = rows(1).splitlines()[0].split(",")
    row[2] = "m" * (50 << 20)   # a 50 MB member id: past the reader's block
    with pytest.raises(IngestError, match="a field is larger than 16 MB"):
        do_ingest(log, HEADER + ",".join(row) + "\n")
    row[2] = "m" * 101          # fits the reader, not the log's column
    with pytest.raises(IngestError, match=r"line 2 \(member_id\): member id longer than 100 characters"):
        do_ingest(log, HEADER + ",".join(row) + "\n")
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 0


def test_a_missing_column_message_names_a_few_of_the_files_columns(log):
    header = "when,who," + ",".join(f"c{i}" for i in range(40)) + "\n"
    with pytest.raises(IngestError, match=r"The file has: when, who, c0, c1, c2, c3 … and 36 more") as refused:
        do_ingest(log, header + "1,2\n")
    assert len(str(refused.value)) < 400


def test_a_value_that_is_no_date_is_called_so_not_a_time_zone_mix(log):
    """'yesterday' after zoned timestamps was reported as "mixed time zones"."""
    with pytest.raises(IngestError) as error:
        do_ingest(log, HEADER + rows(1) + rows(1, start=5).replace("2026-11-01T05:00:00Z", "yesterday"))
    (issue,) = error.value.issues
    assert (issue.line, issue.column) == (3, "timestamp") and issue.problem.startswith("not a timestamp")
    assert "mixed time zones" not in str(error.value)
    # a first row that is no date does not decide which zone style the file uses
    with pytest.raises(IngestError) as first:
        do_ingest(log, HEADER + rows(1, day="soon") + rows(2, start=5))
    assert [i.line for i in first.value.issues] == [2]


def test_importing_the_same_file_again_adds_nothing_and_no_empty_import(log):
    text = HEADER + rows(5)
    first = do_ingest(log, text)
    again = do_ingest(log, text)
    assert first.import_id is not None and first.n_inserted == 5
    assert again.import_id is None and (again.n_rows, again.n_inserted, again.n_already_present) == (5, 0, 5)
    with log.engine.connect() as conn:
        assert queries.import_history(conn)["id"].tolist() == [first.import_id]
        assert queries.count_impressions(conn) == 5


def test_upgrade_to_columnar_rollups_keeps_every_row_and_goes_back(tmp_path):
    """r0008 moves the rollup tables' rows into columnar generations: every page number stays,
    and a downgrade puts the same rows back into the tables."""
    from sqlalchemy import text

    from artdash.db.results_migrate import downgrade_results

    eng = make_engine(f"sqlite:///{tmp_path / 'r7.db'}")
    upgrade_results(eng, "r0007")
    variants = [(20400, 11, "exp1", 1, 16, 7, 3, 1400.0), (20401, 12, "exp1", 1, 5, 1, 0, 30.0),
                (20401, 21, "", 2, 4, 2, 2, 700.5)]
    cells = [(20400, "exp1", "A", 10, 4, 2, 900.0), (20400, "exp1", "B", 6, 3, 1, 500.0),
             (20401, "exp1", "A", 5, 1, 0, 30.0)]
    segments = [(20400, 11, "exp1", "country", "FR", 1, 16, 7, 3, 1400.0),
                (20401, 12, "exp1", "device", "tv", 1, 5, 1, 0, 30.0)]
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO rollup_variants VALUES (:a, :b, :c, :d, :e, :f, :g, :h)"),
                     [dict(zip("abcdefgh", r)) for r in variants])
        conn.execute(text("INSERT INTO rollup_cells VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                     [dict(zip("abcdefg", r)) for r in cells])
        conn.execute(text("INSERT INTO rollup_segments VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j)"),
                     [dict(zip("abcdefghij", r)) for r in segments])
    upgrade_results(eng)
    with eng.connect() as conn:
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        assert "rollup_generations" in tables and not {"rollup_variants", "rollup_cells", "rollup_segments"} & tables
        totals = queries.variant_totals(conn, Selection()).set_index("variant_id")
        assert totals["impressions"].to_dict() == {11: 16, 12: 5, 21: 4}
        assert totals.loc[21, "play_seconds"] == 700.5 and totals.loc[11, "title_id"] == 1
        daily = queries.daily_totals(conn, Selection(title_id=1))
        assert [str(d) for d in daily["date"]] == ["2025-11-08", "2025-11-09"]
        assert queries.cell_totals(conn, "exp1").set_index("cell")["impressions"].to_dict() == {"A": 15, "B": 6}
        assert queries.segments(conn, "country", 1) == ["FR"] and queries.segments(conn, "device") == ["tv"]
        assert queries.experiments(conn) == ["exp1"]
        assert queries.count_impressions(conn) == 25
    downgrade_results(eng, "r0007")
    with eng.connect() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT * FROM rollup_variants ORDER BY 1, 2"))] == variants
        assert [tuple(r) for r in conn.execute(text("SELECT * FROM rollup_cells ORDER BY 1, 2, 3"))] == cells
        assert [tuple(r) for r in conn.execute(text("SELECT * FROM rollup_segments ORDER BY 1, 2"))] == segments
    eng.dispose()


def test_event_keys_never_change():
    """Idempotent imports compare new rows' keys with the keys stored in the log: the same id
    must always give the same key (these were computed by the first release's hashing)."""
    from artdash.results.ingest import event_keys

    ids = ["e0", "ev-0-123", "é🎬", "x" * 100]
    expected = [3000719305919672719, 4191597571543583521, 5482943125750871032, 3604035142706095613]
    assert event_keys(pd.Series(ids, dtype="str")).tolist() == expected
    assert event_keys(np.array(ids, dtype=object)).tolist() == expected


def test_a_grain_read_from_its_files_answers_as_one_held_in_memory(tmp_path, monkeypatch):
    """Small grains are held in DuckDB's memory, large ones read from their Parquet files: the
    same questions get the same answers either way."""
    from artdash.results import rollup_store

    eng = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    upgrade_results(eng)
    log = open_log(eng, tmp_path / "impression-log")
    do_ingest(log, HEADER + rows(30) + rows(20, start=100, variant=12, seconds=100, country="de")
              + rows(25, start=200, variant=21, title=2, day="2026-11-03", device="mobile"))
    do_ingest(log, HEADER + rows(10, start=300, variant=13, day="2026-11-02", experiment="exp2"))

    def answers():
        with eng.connect() as conn:
            return [queries.variant_totals(conn, Selection(title_id=1)),
                    queries.daily_totals(conn, Selection()),
                    queries.segment_totals(conn, Selection(title_id=1), "country"),
                    queries.cell_totals(conn, "exp1"),
                    queries.variant_totals(conn, Selection(day_from=queries.to_day(pd.Timestamp("2026-11-02").date())))]

    held = answers()
    monkeypatch.setattr(rollup_store, "IN_MEMORY_ROWS", 0)
    from_files = answers()
    for a, b in zip(held, from_files):
        pd.testing.assert_frame_equal(a, b)
    assert held[0]["impressions"].tolist() == [30, 20, 10] and held[0]["impressions"].dtype == np.int64
    assert held[3]["impressions"].sum() == 30 + 20 + 25
    eng.dispose()


def _wide(text: str, extra: int = 80, unnamed_id: bool = False, case: bool = False) -> str:
    """The log with ``extra`` unused columns between its own (a public bandit log's shape),
    its event id in an unnamed first column, or its member id as ``userId``."""
    out = []
    for n, line in enumerate(text.strip("\n").split("\n")):
        fields = line.split(",")
        if n == 0:
            fields = ["" if unnamed_id and f == "event_id" else "userId" if case and f == "member_id" else f
                      for f in fields]
        pad = [f"x{i}" if n == 0 else str(i) for i in range(extra)]
        out.append(",".join(fields[:3] + pad + fields[3:]))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_wide_log_is_read_by_the_columns_it_uses(log, form, tmp_path):
    """Real logs: 93 columns of which 13 are used (only those are read), an unnamed first column
    mapped with `=event_id`, a `userId` mapped by its own case — the same impressions as the
    narrow file."""
    import pandas as pd

    text = _wide(HEADER + rows(40), extra=80, unnamed_id=True, case=True)
    from artdash.results.read import parse_column_mapping

    mapping = parse_column_mapping(["=event_id", "userId=member_id"])
    if form == "parquet":
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        frame.columns = ["" if c.startswith("Unnamed") else c for c in frame.columns]
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        data, name = buffer.getvalue(), "log.parquet"
    else:
        data, name = text.encode(), "log.csv"
    report = ingest(log, data, name, "tester", VARIANTS, QUALITY, mapping=mapping)
    assert report.n_rows == 40
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == 40
    with pytest.raises(IngestError, match="has no column 'userid'"):
        ingest(log, _wide(HEADER + rows(2, start=100), extra=3).encode(), "log.csv", "tester", VARIANTS, QUALITY,
               mapping={"userid": "member_id"})


def test_two_logs_numbering_events_alike_are_refused_with_the_way_out(log):
    """A second export numbering its events e0… again: its rows differ from the first's, so the
    import is refused (count, first lines, what differs, the prefix to use) and nothing is
    written; with --event-id-prefix it imports; identical repeats stay idempotent."""
    first = HEADER + rows(30)
    do_ingest(log, first)
    second = HEADER + rows(30, variant=12, day="2026-11-02")            # same ids, other rows
    with log.engine.connect() as conn:
        before = queries.count_impressions(conn)
    with pytest.raises(IngestError) as refused:
        do_ingest(log, second)
    message = str(refused.value)
    assert message.startswith("30 event id(s) of log.csv were imported before with a different row, nothing imported")
    assert "line 2: event id 'e0': time 2026-11-02 00:00:00 here, 2026-11-01 00:00:00 before, variant 12 here, 11 before" in message
    assert "and 25 more" in message and "--event-id-prefix" in message
    assert refused.value.n_issues == 30 and [i.line for i in refused.value.issues] == [2, 3, 4, 5, 6]
    with log.engine.connect() as conn:
        assert queries.count_impressions(conn) == before                 # nothing written
    report = do_ingest(log, second, event_id_prefix="b-")
    assert (report.n_inserted, report.n_already_present) == (30, 0)
    again = do_ingest(log, second, event_id_prefix="b-")                 # the same file again: idempotent
    assert (again.import_id, again.n_already_present) == (None, 30)
    assert do_ingest(log, first).import_id is None
    # one row of a re-import changed (an outcome corrected upstream) is refused too, by its line
    changed = HEADER + rows(30).replace("e3,2026-11-01T03:00:00Z,m3,1,11,uniform,exp1,A,0.5,false,0",
                                        "e3,2026-11-01T03:00:00Z,m3,1,11,uniform,exp1,A,0.5,true,900")
    with pytest.raises(IngestError, match=r"^1 event id\(s\).*line 5: event id 'e3': played 1 here, 0 before, "
                                          r"play seconds 900 here, 0 before"):
        do_ingest(log, changed)


@pytest.mark.parametrize("prefix, words", [("x" * 41, "at most 40 characters"), (" b-", "no spaces at its ends"),
                                           ("b\t", "no tabs")])
def test_an_event_id_prefix_is_checked(log, prefix, words):
    with pytest.raises(IngestError, match=words):
        do_ingest(log, HEADER + rows(3), event_id_prefix=prefix)


def test_abandonment_and_clickbait_flags(log):
    """#12 gets more plays than the control but they end within a minute: its take rate wins,
    its quality take rate does not (clickbait) and its plays are abandoned far more often than
    the title's other images'. Plays without a duration are never counted as abandoned."""
    from artdash.results.abandonment import ABANDONED, CLICKBAIT, abandonment, creative_flags

    do_ingest(log, HEADER + rows(400, variant=11, played_every=10, seconds=600)
              + rows(400, start=1000, variant=12, played_every=4, seconds=60)
              + rows(400, start=2000, variant=13, played_every=10, seconds=700)
              + rows(40, start=3000, variant=21, title=2, played_every=2, seconds=0))
    with log.engine.connect() as conn:
        sel = Selection(title_id=1)
        totals = queries.variant_totals(conn, sel)
        table = abandonment(log, conn, sel, seconds=120).set_index("variant_id")
        click_only = abandonment(log, conn, Selection(title_id=2))
    assert table.loc[12, ["plays", "timed", "abandoned"]].tolist() == [100, 100, 100]
    assert table.loc[11, ["plays", "abandoned"]].tolist() == [40, 0] and table.loc[11, "rate"] == 0.0
    assert table.loc[12, "low"] > 0.9
    assert click_only[["plays", "timed", "abandoned"]].iloc[0].tolist() == [20, 0, 0]
    assert click_only["rate"].isna().all()                          # no durations: no abandonment rate
    flags = creative_flags(totals, table.reset_index(), control=11)
    assert [(f.variant_id, f.kind) for f in flags] == [(12, ABANDONED), (12, CLICKBAIT)]
    assert "members press play and leave" in next(f.reason for f in flags if f.kind == CLICKBAIT)
    with pytest.raises(ValidationError, match="above 0 and at most 3600"):
        with log.engine.connect() as conn:
            abandonment(log, conn, sel, seconds=0)
