"""Real members: viewing-history import, the affinity formula, and bad files that import nothing."""

import io
import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from artdash import catalog
from artdash.catalog import history, personas, taxonomy
from artdash.catalog.history import HistoryImportError

ED = "pm-pat"


@pytest.fixture
def titles(ws):
    with ws.transaction() as s:
        romance = catalog.create_title(s, name="Harbour Lights", year=2019, genres=["romance"], actor=ED)
        comedy = catalog.create_title(s, name="Second Serve", genres=["comedy"], actor=ED)
    return romance, comedy


def csv(text: str) -> bytes:
    return text.strip().encode() + b"\n"


def member(ws, member_id):
    with ws.session() as s:
        found = [p for p in personas.list_personas(s) if p.kind == "member" and p.name == f"Member {member_id}"]
        return found[0] if found else None


def test_import_creates_members_with_derived_tastes(ws, titles):
    romance, comedy = titles
    data = csv(f"""
member_id,title,watched_at,minutes
m1,Harbour Lights,2026-10-01,110
m1,{comedy.id},2026-10-02T21:00:00Z,20
m2,second serve,2026-09-01 20:00,95
""")
    with ws.transaction() as s:
        report = history.import_history(s, data, "views.csv", ED)
    assert (report.n_rows, report.n_new_views, report.n_members, report.n_new_members) == (3, 3, 2, 2)
    m1 = member(ws, "m1")
    with ws.session() as s:
        romance_tag = taxonomy.find_tag(s, "genre", "romance").id
        comedy_tag = taxonomy.find_tag(s, "genre", "comedy").id
        watched = history.last_watched(s, m1.id)
    weights = m1.weight_by_tag_id()
    # The romance view is 1.875 days older than the newest view: its 110 minutes decay a little.
    romance_weight = 110 * 0.5 ** (1.875 / 90)
    assert weights[romance_tag] == 1.0 and weights[comedy_tag] == pytest.approx(20 / romance_weight, abs=1e-4)
    assert [v.title_name for v in watched] == ["Second Serve", "Harbour Lights"]  # newest first
    assert member(ws, "m2").weight_by_tag_id() == {comedy_tag: 1.0}


def test_reimporting_the_same_views_adds_nothing(ws, titles):
    data = csv("member_id,title,watched_at,minutes\nm1,Harbour Lights,2026-10-01,110\n")
    with ws.transaction() as s:
        history.import_history(s, data, "a.csv", ED)
    with ws.transaction() as s:
        again = history.import_history(s, data, "a.csv", ED)
    assert (again.n_new_views, again.n_new_members) == (0, 0)
    with ws.session() as s:
        assert history.count_views(s, member(ws, "m1").id) == 1


def test_recency_halves_every_half_life():
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)  # 90 days apart
    affinities = history.derive_affinities([(old, 100.0, [1]), (new, 100.0, [2])], half_life_days=90)
    assert affinities == {2: 1.0, 1: 0.5}
    assert history.derive_affinities([]) == {}
    assert history.derive_affinities([(new, 0.0, [1])]) == {}


HEADER = "member_id,title,watched_at,minutes\n"
GOOD_ROW = "m9,Harbour Lights,2026-10-01,50\n"  # line 2: a good row that must not be imported either


@pytest.mark.parametrize("body, words", [
    (HEADER + GOOD_ROW + "m1,Nope,2026-10-01,10\n", "line 3 (title): unknown title 'Nope'"),
    (HEADER + GOOD_ROW + "m1,Harbour Lights,yesterday-ish,10\n", "line 3 (watched_at): 'yesterday-ish' is not a date"),
    (HEADER + GOOD_ROW + "m1,Harbour Lights,2026-10-01,-5\n", "line 3 (minutes): '-5' is not a number of minutes"),
    (HEADER + GOOD_ROW + "m1,Harbour Lights,2026-10-01,lots\n", "line 3 (minutes): 'lots'"),
    (HEADER + GOOD_ROW + ",Harbour Lights,2026-10-01,5\n", "line 3 (member_id): empty member id"),
    ("member,title,when\nm1,Harbour Lights,2026-10-01\n", "missing column(s): member_id, watched_at, minutes"),
    (HEADER, "no rows"),
])
def test_bad_files_are_reported_by_line_and_import_nothing(ws, titles, body, words):
    with pytest.raises(HistoryImportError) as error:
        with ws.transaction() as s:
            history.import_history(s, body.encode(), "views.csv", ED)
    assert words in str(error.value)
    assert member(ws, "m9") is None  # a bad file imports nothing, not even its good rows


def test_non_utf8_and_empty_files(ws, titles):
    with pytest.raises(HistoryImportError, match="not UTF-8"):
        with ws.transaction() as s:
            history.import_history(s, "member_id,title,watched_at,minutes\nm1,Caf\xe9,2026-10-01,5\n"
                                   .encode("latin-1"), "v.csv", ED)
    with pytest.raises(HistoryImportError, match="empty"):
        with ws.transaction() as s:
            history.import_history(s, b"", "v.csv", ED)


def test_parquet_import(ws, titles):
    romance, _ = titles
    frame = pd.DataFrame({"member_id": ["p1", "p1"], "title": [str(romance.id), "Second Serve"],
                          "watched_at": ["2026-10-01", "2026-10-03"], "minutes": [100.0, 10.0]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    with ws.transaction() as s:
        report = history.import_history(s, buffer.getvalue(), "views.parquet", ED)
    assert report.n_new_views == 2 and member(ws, "p1") is not None


def test_issues_carry_line_numbers(ws, titles):
    data = csv("""
member_id,title,watched_at,minutes
m1,Harbour Lights,2026-10-01,10
m1,Unknown Film,2026-10-01,10
m2,Harbour Lights,not a date,-1
""")
    with pytest.raises(HistoryImportError) as error:
        with ws.transaction() as s:
            history.import_history(s, data, "v.csv", ED)
    assert [(i.line, i.column) for i in error.value.issues] == [(3, "title"), (4, "watched_at"), (4, "minutes")]


def test_a_date_no_one_could_have_watched_on_is_refused_with_its_line(ws, titles):
    """`/1` parses as year 0 and crashed the import; a view after tomorrow is as impossible."""
    data = csv("""
member_id,title,watched_at,minutes
m1,Harbour Lights,/1,10
m1,Harbour Lights,2031-01-01,10
m1,Harbour Lights,2027-03-15T08:00:00Z,10
""")
    with pytest.raises(HistoryImportError) as error:
        with ws.transaction() as s:
            history.import_history(s, data, "v.csv", ED)
    problems = [(i.line, i.column) for i in error.value.issues]
    assert problems == [(2, "watched_at"), (3, "watched_at")]
    assert "not a plausible viewing time" in error.value.issues[0].problem


@pytest.mark.parametrize("data, words", [
    (("member_id,title,watched_at,minutes," + ",".join(f"x{i}" for i in range(1_000_000)) + "\n").encode(),
     "longer than 64 KB"),
    ((",".join(f"col{i}" for i in range(100)) + "\n1\n").encode(), "has 100 columns (col0, col1"),
    (b"member_id,title,watched_at,minutes\n" + b"m" * 5000 + b",Harbour Lights,2026-10-01,10\n", "5,000 characters"),
])
def test_a_wide_or_huge_history_file_is_refused_up_front_in_a_few_words(ws, titles, data, words):
    with pytest.raises(HistoryImportError, match=re.escape(words)) as refused, ws.transaction() as s:
        history.import_history(s, data, "views.csv", ED)
    assert len(str(refused.value)) < 400
