"""Results → Sources: an admin registers a table of another database (foreign column names),
sees it counted, refreshes and removes it; a refusal keeps nothing; a viewer only looks (AppTest)."""

import sys
from pathlib import Path

import sqlalchemy as sa
from apptest import add_team, assert_clean, labelled, open_page, shown, sign_in

from artdash.results import sources

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "results"))
from test_sources import the_log  # noqa: E402  (the same log in the source's own words)

MAPPING = ("shown_at=timestamp, viewer=member_id, show_id=title_id, artwork_id=variant_id, did_play=played, "
           "watch_secs=play_seconds, territory=country, platform=device, test_name=experiment, arm=cell, "
           "served_by=policy")


def warehouse(ws, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = sa.create_engine(url)
    the_log(ws).to_sql("artwork_impressions", engine, index=False)
    engine.dispose()
    return url


def fill(at, name, url, table, mapping):
    labelled(at.text_input, "Name").set_value(name)
    labelled(at.text_input, "Database URL").set_value(url)
    labelled(at.text_input, "Table or view").set_value(table)
    labelled(at.text_input, "Column mapping").set_value(mapping)
    return at.button(key="FormSubmitter:source_add-Add and count in").click().run()


def test_an_admin_adds_refreshes_and_removes_a_source_on_the_page(demo_ws, tmp_path):
    url = warehouse(demo_ws, tmp_path)
    at = open_page("results", results_tab="Sources")
    assert_clean(at)
    assert any("No sources yet." in c.value for c in at.caption)
    at = fill(at, "warehouse", url, "artwork_impressions", MAPPING)
    assert_clean(at)
    assert any("warehouse added: 600 impressions" in shown(s.value) and "1 impression of variants this catalog "
               "does not have were left out" in shown(s.value) for s in at.success)
    (table,) = [d.value for d in at.dataframe]
    assert table["source"].tolist() == ["warehouse"] and table["impressions"].tolist() == [600]
    assert [s.name for s in sources.list_sources(demo_ws.results_engine)] == ["warehouse"]

    at.button(key="source_refresh").click().run()
    assert_clean(at)
    assert any("warehouse refreshed: 600 impressions" in shown(s.value) for s in at.success)
    at.button(key="source_remove").click().run()
    assert_clean(at)
    assert any("Removed the source warehouse: its 600 impressions" in shown(s.value) for s in at.success)
    assert sources.list_sources(demo_ws.results_engine) == []


def test_a_refused_source_says_why_and_keeps_nothing(demo_ws, tmp_path):
    url = warehouse(demo_ws, tmp_path)
    at = open_page("results", results_tab="Sources")
    at = fill(at, "warehouse", "postgresql+psycopg://analyst:hunter2@warehouse/events", "artwork_impressions", MAPPING)
    assert any("Nothing changed" in shown(e.value) and "password" in shown(e.value) for e in at.error)
    assert not any("hunter2" in shown(e.value) for e in at.error)
    at = fill(at, "warehouse", url, "artwork_impressions; DROP TABLE x", MAPPING)
    assert any("Nothing changed" in shown(e.value) and "no table or view" in shown(e.value) for e in at.error)
    at = fill(at, "warehouse", url, "artwork_impressions", "shown_at=timestamp")
    assert any("Nothing changed" in shown(e.value) and "needs the source's column for" in shown(e.value) for e in at.error)
    at = fill(at, "**bold** <b>x</b>", url, "artwork_impressions", MAPPING)
    assert any("Nothing changed" in shown(e.value) and "a source name is" in shown(e.value) for e in at.error)
    assert sources.list_sources(demo_ws.results_engine) == []
    assert sa.inspect(sa.create_engine(url)).get_table_names() == ["artwork_impressions"]


def test_a_viewer_sees_sources_but_no_form(demo_ws, tmp_path):
    url = warehouse(demo_ws, tmp_path)
    mapping = {"timestamp": "shown_at", "member_id": "viewer", "title_id": "show_id", "variant_id": "artwork_id",
               "played": "did_play", "play_seconds": "watch_secs"}
    sources.add_source(demo_ws, "warehouse", url, "artwork_impressions", mapping, "local-admin")
    add_team(demo_ws)
    at = sign_in(open_page("results", results_tab="Sources"), "vic")
    at.switch_page("screens/results.py")
    at.query_params["results_tab"] = "Sources"
    at.run()
    assert_clean(at)
    assert any("is for admins" in i.value for i in at.info)
    assert [d.value["source"].tolist() for d in at.dataframe] == [["warehouse"]]
    assert not [b for b in at.button if b.key in ("source_refresh", "source_remove")]
    assert not [t for t in at.text_input if t.label == "Database URL"]
