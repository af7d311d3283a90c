"""Every page file, run with AppTest through the real router against a temporary database."""

from pathlib import Path

import artimages
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from artdash import catalog
from artdash.catalog import taxonomy
from artdash.db.models import Variant
from artdash.demo import DEMO_TITLES, load_demo
from artdash.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"screens/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def labelled(widgets, label):
    """The one widget with this label."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}"
    return found[0]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def demo_ws(app_env):
    ws = Workspace.open()
    load_demo(ws, titles=DEMO_TITLES[:2])
    yield ws
    ws.close()


@pytest.fixture
def empty_ws(app_env):
    ws = Workspace.open()
    yield ws
    ws.close()


# ------------------------------------------------------------------------------ catalog page

def test_catalog_page_empty_state_offers_the_demo(empty_ws):
    at = open_page("catalog")
    assert_clean(at)
    assert any("catalog is empty" in i.value for i in at.info)
    labelled(at.button, "Load demo catalog").click().run()
    assert_clean(at)
    assert any("Loaded 14 demo titles" in s.value for s in at.success)
    assert [m.value for m in at.metric][:1] == ["14"]


def test_catalog_page_lists_titles_and_filters(demo_ws):
    at = open_page("catalog")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Titles"] == "2" and int(metrics["Variants"]) >= 6
    assert "2 of 2 titles" in [c.value for c in at.caption]
    labelled(at.text_input, "Search titles").set_value("harbour").run()
    assert "1 of 2 titles" in [c.value for c in at.caption]
    labelled(at.text_input, "Search titles").set_value("zzz").run()
    assert any("No title matches" in w.value for w in at.warning)


def test_catalog_page_creates_a_title_and_explains_a_bad_one(demo_ws):
    at = open_page("catalog")
    form_button = labelled(at.button, "Create title")
    form_button.click().run()  # no name
    assert_clean(at)
    assert any("needs a name" in e.value for e in at.error)
    with demo_ws.session() as s:
        assert catalog.catalog_counts(s)["titles"] == 2
    labelled(at.text_input, "Name *").set_value("Paper Boats")
    labelled(at.text_input, "Year").set_value("2024")
    labelled(at.multiselect, "Genres").set_value(["family", "animation"])
    labelled(at.button, "Create title").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        created = [t for t in catalog.list_titles(s) if t.name == "Paper Boats"]
    assert created and created[0].year == 2024 and created[0].genres == ("animation", "family")


# ------------------------------------------------------------------------------ title page

def title_id(ws, name="Harbour Lights") -> str:
    with ws.session() as s:
        return str(next(t.id for t in catalog.list_titles(s) if t.name == name))


def test_title_page_shows_the_gallery(demo_ws):
    at = open_page("title", title=title_id(demo_ws))
    assert_clean(at)
    assert at.title[0].value == "Harbour Lights (2019)"
    assert len([b for b in at.button if b.label == "Edit"]) == 4
    assert any("box art (2:3)" in m.value for m in at.markdown)


def test_title_page_with_an_unknown_title_falls_back(demo_ws):
    at = open_page("title", title="9999")
    assert_clean(at)
    assert any("There is no title #9999" in w.value for w in at.warning)


def test_title_page_with_no_titles_points_to_the_catalog(empty_ws):
    at = open_page("title")
    assert_clean(at)
    assert any("no titles yet" in i.value for i in at.info)


def test_upload_through_the_file_uploader_reports_each_file(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    at.get("file_uploader")[0].set_value([
        ("new-key-art.jpg", artimages.jpeg(seed=21), "image/jpeg"),
        ("readme.jpg", b"not an image at all", "image/jpeg"),
        ("wide.png", artimages.png((1920, 1080), seed=22), "image/png"),
    ])
    labelled(at.button, "Upload").click().run()
    assert_clean(at)
    assert any("2 accepted, 1 refused" in w.value for w in at.warning)
    assert any("readme.jpg** refused: it is a text file" in e.value for e in at.error)
    report = at.dataframe[0].value
    assert list(report["outcome"]) == ["accepted", "refused", "accepted"]
    with demo_ws.session() as s:
        labels = [v.label for v in catalog.list_variants(s, int(tid))]
    assert "new key art" in labels and "wide" in labels


def test_tag_edit_saves_the_chosen_tags(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variant = catalog.list_variants(s, int(tid))[0]
        funny = taxonomy.find_tag(s, "tone", "funny")
    tone_picker = labelled(at.multiselect, "tone")
    tone_picker.set_value(list(tone_picker.value) + [funny.id])
    labelled(at.button, "Save tags").click().run()
    assert_clean(at)
    assert any(f"Saved tags of #{variant.id}" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert "funny" in [t.name for t in catalog.get_variant(s, variant.id).tags_in("tone")]


def test_status_buttons_move_a_variant_along_its_lifecycle(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variant = catalog.list_variants(s, int(tid))[0]
    assert variant.status == "active"
    labelled(at.button, "Retire").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, variant.id).status == "retired"
    assert any(b.label == "Reactivate" for b in at.button)


def test_edit_button_selects_the_variant_and_suggestions_can_be_decided(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variants = catalog.list_variants(s, int(tid))
    target = next(v for v in variants if v.pending_suggestions)
    edit_buttons = [b for b in at.button if b.label == "Edit"]
    edit_buttons[[v.id for v in variants].index(target.id)].click().run()
    assert_clean(at)
    assert at.subheader[0].value.startswith(f"Edit #{target.id}")
    [b for b in at.button if b.label == "Reject"][0].click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        after = catalog.get_variant(s, target.id)
    assert len(after.pending_suggestions) == len(target.pending_suggestions) - 1


def test_bulk_tagging_and_details_tabs(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        ids = [v.id for v in catalog.list_variants(s, int(tid))][:2]
        epic = taxonomy.find_tag(s, "tone", "epic")
    labelled(at.multiselect, "Variants").set_value(ids)
    labelled(at.multiselect, "Add tags").set_value([epic.id])
    labelled(at.button, "Apply to selected variants").click().run()
    assert_clean(at)
    assert any("Updated the tags of 2 variant(s)" in s.value for s in at.success)
    labelled(at.text_area, "Synopsis").set_value("A storm, a light, a ferry.")
    labelled(at.button, "Save details").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_title(s, int(tid)).synopsis == "A storm, a light, a ferry."


# ------------------------------------------------------------------------------ taxonomy page

def test_taxonomy_page_adds_renames_and_refuses_a_case_duplicate(empty_ws):
    at = open_page("taxonomy")
    assert_clean(at)
    assert at.title[0].value == "Taxonomy"
    labelled(at.text_input, "Name").set_value("Slow Burn")
    labelled(at.button, "Add tag").click().run()
    assert_clean(at)
    assert any("Added genre: Slow Burn" in s.value for s in at.success)
    labelled(at.text_input, "Name").set_value("slow  burn")
    labelled(at.button, "Add tag").click().run()
    assert any("already has the tag" in e.value for e in at.error)
    with empty_ws.session() as s:
        assert [t.name for t in taxonomy.list_tags(s, "genre")].count("Slow Burn") == 1


def test_taxonomy_page_merges_tags(demo_ws):
    at = open_page("taxonomy")
    with demo_ws.session() as s:
        genres = {t.name: t.id for t in taxonomy.list_tags(s, "genre")}
    labelled(at.selectbox, "Merge").set_value(genres["drama"])
    labelled(at.selectbox, "into").set_value(genres["romance"])
    labelled(at.button, "Merge").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert taxonomy.find_tag(s, "genre", "drama") is None
        harbour = next(t for t in catalog.list_titles(s) if t.name == "Harbour Lights")
        assert harbour.genres == ("romance",)
    assert at.get("plotly_chart")


def test_title_picker_and_url_agree(demo_ws):
    first, second = title_id(demo_ws, "Harbour Lights"), title_id(demo_ws, "The Last Laugh Hotel")
    at = open_page("title", title=first)
    assert at.title[0].value == "Harbour Lights (2019)"
    labelled(at.selectbox, "Title").set_value(int(second)).run()
    assert_clean(at)
    assert at.title[0].value == "The Last Laugh Hotel (2021)"
    assert at.query_params["title"] == second
    at.query_params["title"] = first  # following a link to another title
    at.run()
    assert at.title[0].value == "Harbour Lights (2019)"


def test_catalog_pages_through_many_titles(empty_ws):
    with empty_ws.transaction() as s:
        for i in range(30):
            catalog.create_title(s, name=f"Title {i:02d}", actor="t")
    at = open_page("catalog")
    assert_clean(at)
    assert len([b for b in at.get("page_link") if b.proto.label == "Open"]) == 24
    assert "30 of 30 titles" in [c.value for c in at.caption]
    at.button_group[0].set_value(2).run()
    assert_clean(at)
    assert len([b for b in at.get("page_link") if b.proto.label == "Open"]) == 6


# ------------------------------------------------------------------------------ personas and preview pages

def test_personas_page_shows_a_profile_and_saves_affinities(demo_ws):
    at = open_page("personas")
    assert_clean(at)
    assert at.title[0].value == "Personas"
    assert at.get("plotly_chart")  # the taste profile chart
    with demo_ws.session() as s:
        persona = personas_list(s)[0]
        funny = taxonomy.find_tag(s, "tone", "funny")
        tags = [t for t in taxonomy.list_tags(s) if t.facet != "cast"]
    row = [t.id for t in tags].index(funny.id)
    at.session_state[f"affinities-{persona.id}-{persona.version}"] = {
        "edited_rows": {row: {"affinity": 0.5}}, "added_rows": [], "deleted_rows": []}
    labelled(at.button, "Save persona").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert personas_get(s, persona.id).weight_by_tag_id()[funny.id] == 0.5


def test_personas_page_refuses_a_bad_new_persona(demo_ws):
    at = open_page("personas")
    labelled(at.button, "Create persona").click().run()
    assert any("needs a name" in e.value for e in at.error)


def test_preview_page_personalises_and_switches_policy(demo_ws):
    at = open_page("preview")
    assert_clean(at)
    assert any(s.value == "Top picks for this persona" for s in at.subheader)
    romance = [c.value for c in at.caption]
    people = {p.name: p.id for p in personas_list(demo_ws.session())}
    labelled(at.selectbox, "Persona").set_value(people["Comedy fan"]).run()
    assert_clean(at)
    assert [c.value for c in at.caption] != romance
    labelled(at.selectbox, "Policy").set_value("uniform").run()
    assert_clean(at)
    assert any("uniform random" in c.value for c in at.caption)
    assert not at.get("plotly_chart")  # the win matrix is computed when its tab is opened


def test_preview_page_win_matrix_tab(demo_ws):
    at = open_page("preview", preview_tab="Win matrix")
    assert_clean(at)
    assert at.get("plotly_chart")  # the heatmap
    matrix = at.dataframe[0].value
    assert "persona" in matrix and any(c.startswith("#") for c in matrix.columns)
    assert not [s for s in at.subheader if s.value == "Top picks for this persona"]  # homepage not computed


def test_preview_page_with_a_blank_persona_says_so(demo_ws):
    from artdash.catalog import personas as P

    with demo_ws.transaction() as s:
        blank = P.create_persona(s, name="Blank slate", actor="t")
    at = open_page("preview")
    labelled(at.selectbox, "Persona").set_value(blank.id).run()
    assert_clean(at)
    assert any("no tastes set" in w.value for w in at.warning)


def personas_list(session):
    from artdash.catalog import personas as P

    with session:
        return P.list_personas(session)


def personas_get(session, persona_id):
    from artdash.catalog import personas as P

    return P.get_persona(session, persona_id)


def test_personas_page_imports_history_and_shows_last_watched(demo_ws):
    at = open_page("personas")
    bad = b"member_id,title,watched_at,minutes\nm1,Harbour Lights,2026-10-01,-3\n"
    at.get("file_uploader")[0].set_value([("views.csv", bad, "text/csv")])
    labelled(at.button, "Import").click().run()
    assert_clean(at)
    assert any("Nothing imported" in e.value and "line 2 (minutes)" in e.value for e in at.error)
    good = b"member_id,title,watched_at,minutes\nm1,Harbour Lights,2026-10-01,80\n"
    at.get("file_uploader")[0].set_value([("views.csv", good, "text/csv")])
    labelled(at.button, "Import").click().run()
    assert_clean(at)
    assert any("Imported 1 new views for 1 member(s)" in s.value for s in at.success)
    people = {p.name: p.id for p in personas_list(demo_ws.session())}
    labelled(at.selectbox, "Persona").set_value(people["Member m1"]).run()
    assert_clean(at)
    tables = [d.value for d in at.dataframe if "watched" in d.value.columns]
    assert tables and tables[0]["title"].tolist() == ["Harbour Lights"]


# ------------------------------------------------------------------------------ results page

def test_results_page_empty_state_offers_demo_results(empty_ws):
    at = open_page("results")
    assert_clean(at)
    assert any("No impressions yet" in i.value for i in at.info)


def test_results_page_reviews_an_experiment(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"variant", "impressions", "quality take rate", "lift vs control", "p (Holm)", "P(best)"} <= set(table)
    assert table["impressions"].sum() > 0
    assert table.loc[table["lift CI"] == "control", "lift vs control"].tolist() == [0.0]
    assert table["lift vs control"].notna().all()
    trends = table["per day"]
    assert all(len(t) >= 2 and all(0 <= r <= 1 for r in t) for t in trends)  # a sparkline per variant
    assert not at.get("plotly_chart")  # the charting library loads on demand
    at.segmented_control(key="results_charts").set_value(["Over time", "By segment"]).run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 3  # daily, cumulative, by segment
    labelled(at.selectbox, "Experiment").set_value("artwork-personalisation").run()
    assert_clean(at)
    assert any("Traffic split across cells" in c.value or "Sample ratio" in c.value
               for c in list(at.caption) + list(at.error))
    labelled(at.selectbox, "Segment").set_value("device").run()
    assert_clean(at)


def test_results_page_import_refuses_a_bad_log(demo_ws):
    at = open_page("results", results_tab="Import")
    bad = b"event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n" \
          b"e1,2026-11-01T10:00:00Z,m1,1,1,uniform,0,true,400\n"
    at.get("file_uploader")[0].set_value([("log.csv", bad, "text/csv")])
    labelled(at.button, "Import").click().run()
    assert_clean(at)
    assert any("Nothing imported" in e.value and "propensity" in e.value for e in at.error)


def test_results_page_shows_creative_insights_when_that_tab_is_opened(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=4000)
    at = open_page("results", results_tab="Creative insights")
    assert_clean(at)
    insights = at.dataframe[0].value
    assert {"tag", "quality take rate", "low", "high"} <= set(insights)
    assert not [s for s in at.selectbox if s.label == "Title"]  # the review tab was not computed


def test_results_page_reads_fresh_numbers_after_an_import(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=3000)
    at = open_page("results")
    before = at.dataframe[0].value["impressions"].sum()
    load_demo_results(demo_ws, n=3000, seed=1)  # another import: the cached numbers must not be served
    at.run()
    assert_clean(at)
    assert at.dataframe[0].value["impressions"].sum() > before


def test_results_page_admin_removes_a_mistaken_import(demo_ws):
    from artdash.access import audit
    from artdash.demo.results import load_demo_results
    from artdash.results import queries

    load_demo_results(demo_ws, n=2000)
    load_demo_results(demo_ws, n=1000, seed=3)
    at = open_page("results", results_tab="Import")
    history = at.dataframe[0].value
    assert history["new impressions"].tolist() == [1000, 2000]
    at.selectbox(key="remove_import_id").set_value(2)
    at.button(key="FormSubmitter:remove_import-Remove import").click().run()
    assert any("Tick the box" in w.value for w in at.warning)
    labelled(at.checkbox, "Yes, remove these impressions for good").check()
    at.button(key="FormSubmitter:remove_import-Remove import").click().run()
    assert_clean(at)
    assert any("Removed import #2: 1,000 impressions" in s.value for s in at.success)
    with demo_ws.results_engine.connect() as conn:
        assert queries.count_impressions(conn) == 2000
    with demo_ws.session() as s:
        trail = audit.entries(s, entity="impressions")
    assert ((trail["action"] == "delete") & (trail["id"].astype(str) == "2")).sum() == 1


def clear_ab_log(ws, rates: dict[int, float], n: int = 3000) -> None:
    """A log where each variant has the given quality take rate exactly (n impressions each)."""
    from artdash.results.service import import_log

    with ws.session() as s:
        title_of = {v.id: v.title_id for v in s.scalars(select(Variant))}
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds"]
    for variant, rate in rates.items():
        quality = int(rate * n)
        for i in range(n):
            lines.append(f"ab-{variant}-{i},2026-11-{1 + i % 20:02d}T10:00:00Z,m{i},{title_of[variant]},{variant},"
                         f"uniform,0.33,{'true' if i < quality else 'false'},{600 if i < quality else 0}")
    import_log(ws, ("\n".join(lines) + "\n").encode(), "ab.csv", "local-admin")


def test_results_page_acts_on_a_clear_result(demo_ws):
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v for v in catalog.list_variants(s, title.id) if v.status == "active"]
        pick = catalog.editors_pick(s, title.id)
    control = pick if pick is not None else active[0].id
    others = [v.id for v in active if v.id != control][:2]
    assert len(others) == 2, "the demo title needs three active variants"
    winner, weak = others
    clear_ab_log(demo_ws, {control: 0.10, winner: 0.20, weak: 0.03})
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    labelled(at.selectbox, "Control variant (lift is measured against it)").set_value(control).run()
    assert_clean(at)
    assert any("beats the control" in m.value for m in at.markdown)
    at.button(key="results_make_pick").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.editors_pick(s, title.id) == winner
    labelled(at.selectbox, "Control variant (lift is measured against it)").set_value(control).run()
    at.button(key="results_retire").click().run()
    assert_clean(at)
    assert any("Retired" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, weak).status == "retired"
        assert catalog.get_variant(s, control).status == "active"


def test_results_page_keeps_simulated_data_out_of_real_traffic(demo_ws):
    from artdash import lab
    from artdash.lab import store as lab_store

    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=1000)
    with demo_ws.session() as s:
        world = lab.load_world(s)
    result = lab.run_online(world, lab.LabConfig(mix={int(a): 1.0 for a in world.archetype_ids},
                                                 impressions=4_000, batch_size=1_000, policies=("uniform",)))
    with demo_ws.transaction() as s:
        run = lab_store.save_run(s, result, "pm")
    lab_store.log_run(demo_ws, world, result, run.id, "pm")
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    assert_clean(at)
    assert at.dataframe[0].value["impressions"].sum() == 2000  # the real log only
    experiment = labelled(at.selectbox, "Experiment")
    assert experiment.format_func(None) == "All real traffic"
    experiment.set_value(f"lab-{run.id}").run()
    assert_clean(at)
    assert at.dataframe[0].value["impressions"].sum() > 0
    assert not any("Act on this result" in m.value for m in at.markdown)


def test_results_page_says_when_the_rollups_were_built_with_another_quality_threshold(demo_ws, monkeypatch):
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=200)   # counted at the default 300 s
    monkeypatch.setenv("ARTDASH_QUALITY_PLAY_SECONDS", "600")
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    assert_clean(at)
    assert any("counted at 300 s, the setting says 600 s" in w.value and "artdash results rebuild" in w.value
               for w in at.warning)
    assert any("at least 300 s of viewing" in c.value for c in at.caption)


def test_gallery_shows_each_variants_quality_take_rate_from_real_traffic(demo_ws):
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    at = open_page("title", title=str(title.id))
    assert not any("quality take" in c.value for c in at.caption)  # no results data yet
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=1000)
    at.run()
    assert_clean(at)
    figures = [c.value for c in at.caption if "quality take" in c.value]
    assert any("quality take 10.0%" in f and "1,000 impressions" in f for f in figures)
    assert any("quality take 20.0%" in f for f in figures)


# ------------------------------------------------------------------------------ policy lab page

def test_lab_page_without_artwork_explains_what_is_missing(empty_ws):
    at = open_page("lab")
    assert_clean(at)
    assert any("cannot run yet" in i.value for i in at.info)


def test_lab_page_runs_saves_and_promotes(demo_ws):
    at = open_page("lab")
    assert_clean(at)
    labelled(at.number_input, "Impressions per policy").set_value(4_000)
    labelled(at.number_input, "Learning period").set_value(1_000)
    at.button(key="FormSubmitter:lab_setup-Run").click().run(timeout=120)
    assert_clean(at)
    assert any("Run #1 finished" in s.value for s in at.success)
    summary = at.dataframe[0].value
    assert list(summary["policy"]) == ["Uniform random", "Editor's pick", "Best single variant",
                                       "Contextual bandit (LinUCB)"]
    assert "quality take rate" in summary and len(at.get("plotly_chart")) >= 3
    offline = at.dataframe[1].value
    assert {"replay", "IPS", "SNIPS", "DM", "DR"} <= set(offline["estimator"])
    with demo_ws.results_engine.connect() as conn:
        from artdash.results import queries
        assert "lab-1" in queries.experiments(conn)
    at.selectbox(key="current_promote_policy").set_value("best-single")
    at.button(key="FormSubmitter:current_promote-Promote").click().run()
    assert_clean(at)
    assert any("Best single variant is now the policy Preview serves" in s.value for s in at.success)
    assert any("Preview serves **Best single variant** by default" in c.value for c in at.caption)
    labelled(at.button, "Remove its simulated data from the results database").click().run()
    assert_clean(at)
    assert any("Removed 16,000 simulated impressions" in s.value for s in at.success)


def test_lab_page_refuses_a_population_without_archetypes(demo_ws):
    at = open_page("lab")
    for w in at.number_input:
        if w.key and w.key.startswith("lab_share_"):
            w.set_value(0.0)
    at.button(key="FormSubmitter:lab_setup-Run").click().run()
    assert_clean(at)
    assert any("no archetypes" in e.value for e in at.error)


def test_lab_page_offline_evaluation_on_logged_impressions(demo_ws):
    from artdash import lab

    with demo_ws.session() as s:
        world = lab.load_world(s)
    config = lab.LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes}, impressions=3_000, batch_size=1_000,
                           policies=("uniform",))
    from artdash.lab import store as lab_store

    result = lab.run_online(world, config)
    with demo_ws.transaction() as s:
        run = lab_store.save_run(s, result, "t")
    lab_store.log_run(demo_ws, world, result, run.id, "t")
    at = open_page("lab", lab_tab="Offline evaluation")
    assert_clean(at)
    at.radio(key="lab_offline_source").set_value("The results database").run()
    labelled(at.selectbox, "Experiment").set_value(f"lab-{run.id}")
    at.button(key="lab_offline_go_db").click().run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"replay", "IPS", "SNIPS", "DM", "DR"} <= set(table["estimator"])
    assert any("3,000 impressions used" in c.value for c in at.caption)


def test_preview_serves_the_promoted_policy(demo_ws):
    from artdash.lab import store as lab_store

    with demo_ws.transaction() as s:
        lab_store.promote(s, "best-single", "pm", note="lab run 4")
    at = open_page("preview")
    assert_clean(at)
    assert labelled(at.selectbox, "Policy").value == "best-single"
    assert any("Promoted in the Policy lab by pm" in c.value and "lab run 4" in c.value for c in at.caption)


def test_lab_history_reopens_and_compares_runs(demo_ws):
    from artdash import lab
    from artdash.lab import store as lab_store

    with demo_ws.session() as s:
        world = lab.load_world(s)
    for seed in (1, 2):
        config = lab.LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes}, impressions=2_000, batch_size=1_000,
                               policies=("uniform", "linucb"), seed=seed)
        with demo_ws.transaction() as s:
            lab_store.save_run(s, lab.run_online(world, config), "pm", f"seed {seed}")
    at = open_page("lab", lab_tab="History")
    assert_clean(at)
    overview = at.dataframe[0].value
    assert overview["name"].tolist() == ["seed 2", "seed 1"]
    at.multiselect(key="lab_history_runs").set_value([1]).run()
    assert_clean(at)
    assert any(h.value == "Run #1 seed 1" for h in at.subheader)
    at.multiselect(key="lab_history_runs").set_value([1, 2]).run()
    assert_clean(at)
    compared = at.dataframe[-1].value
    assert set(compared["run"]) == {"#1 seed 1", "#2 seed 2"} and len(compared) == 4


# ------------------------------------------------------------------------------ sign-in, roles, audit

def add_team(ws):
    from artdash.access import auth

    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
        auth.add_user(s, "vic", "viewer", "ada", "correct horse battery")


def sign_in(at: AppTest, name: str, password: str = "correct horse battery") -> AppTest:
    labelled(at.text_input, "User name").set_value(name)
    labelled(at.text_input, "Password").set_value(password)
    return at.button(key="FormSubmitter:sign_in-Sign in").click().run()


def test_with_accounts_every_page_asks_to_sign_in(demo_ws):
    add_team(demo_ws)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert_clean(at)
    assert at.title[0].value == "Sign in to ArtDash"
    sign_in(at, "vic", "wrong password!!")
    assert any("wrong user name or password" in e.value for e in at.error)
    sign_in(at, "vic")
    assert_clean(at)
    assert any("Signed in as **vic** (viewer)" in c.value for c in at.sidebar.caption)


def test_a_viewer_is_refused_with_a_reason_and_nothing_changes(demo_ws):
    add_team(demo_ws)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "vic")
    assert any("signed in as a **viewer**" in i.value for i in at.info)
    assert labelled(at.button, "Create title").disabled
    # An editor demoted while their page is open submits the form they still see: the run
    # reads the new role first, so nothing is created and the page says why.
    from artdash.access import auth

    with demo_ws.transaction() as s:
        auth.add_user(s, "eve", "editor", "ada", "correct horse battery")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "eve")
    with demo_ws.transaction() as s:
        auth.set_role(s, "eve", "viewer", "ada")
    labelled(at.text_input, "Name *").set_value("Viewer's Title")
    labelled(at.button, "Create title").click().run()
    assert_clean(at)
    assert any("signed in as a **viewer**" in i.value for i in at.info)
    with demo_ws.session() as s:
        assert "Viewer's Title" not in {t.name for t in catalog.list_titles(s)}


def test_a_viewer_sees_the_import_history_but_no_import_form(demo_ws):
    add_team(demo_ws)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "vic")
    at.switch_page("screens/results.py")
    at.query_params["results_tab"] = "Import"
    at.run()
    assert_clean(at)
    assert not at.get("file_uploader")
    assert any("Importing logs is for admins" in i.value for i in at.info)


def test_a_role_change_or_removal_reaches_an_open_session_at_once(demo_ws):
    from artdash.access import auth

    add_team(demo_ws)
    with demo_ws.transaction() as s:
        auth.add_user(s, "eve", "editor", "ada", "correct horse battery")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "eve")
    assert not labelled(at.button, "Create title").disabled
    with demo_ws.transaction() as s:
        auth.set_role(s, "eve", "viewer", "ada")
    at.run()
    assert any("Signed in as **eve** (viewer)" in c.value for c in at.sidebar.caption)
    assert labelled(at.button, "Create title").disabled
    with demo_ws.transaction() as s:
        auth.remove_user(s, "eve", "ada")
    at.run()
    assert at.title[0].value == "Sign in to ArtDash"
    assert any("The account eve no longer exists" in w.value for w in at.warning)


def test_audit_page_lists_and_filters_changes(demo_ws):
    with demo_ws.transaction() as s:
        catalog.create_title(s, name="Audited", actor="ed")
    at = open_page("audit")
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"when", "who", "action", "entity", "id", "before", "after"} <= set(table)
    labelled(at.selectbox, "Person").set_value("ed").run()
    assert_clean(at)
    assert set(at.dataframe[0].value["who"]) == {"ed"}
    assert "name Audited" in set(at.dataframe[0].value["change"])
    assert at.get("download_button")


def test_audit_page_shows_first_run_seeding_as_the_system(empty_ws):
    at = open_page("audit")
    assert_clean(at)
    labelled(at.selectbox, "Entity").set_value("facets").run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert set(table["who"]) == {"system"} and set(table["action"]) == {"create"}
    from datetime import date

    at.date_input(key="audit_dates").set_value((date(2020, 1, 1), date(2020, 1, 31))).run()
    assert any("No change matches these filters" in i.value for i in at.info)


def test_a_draft_can_be_deleted_from_the_title_page(demo_ws):
    tid = int(title_id(demo_ws))
    with demo_ws.transaction() as s:
        result = catalog.ingest_image(s, demo_ws.store, tid, "mistake.jpg", artimages.jpeg(seed=77), "ed")
    with demo_ws.session() as s:
        sha256 = catalog.get_variant(s, result.variant_id).sha256
    at = open_page("title", title=str(tid))
    at.button(key=f"edit-{result.variant_id}").click().run()
    assert_clean(at)
    at.button(key=f"delete-{result.variant_id}").click().run()
    assert_clean(at)
    assert any(f"Deleted the draft #{result.variant_id}" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert result.variant_id not in {v.id for v in catalog.list_variants(s, tid)}
    assert not any(Path(demo_ws.store.root).rglob(f"{sha256}*"))


# ------------------------------------------------------------------------------ users page

def test_users_page_first_account_turns_sign_in_on(empty_ws):
    from artdash.access import auth

    at = open_page("users")
    assert_clean(at)
    assert any("No accounts yet" in i.value for i in at.info)
    labelled(at.text_input, "User name").set_value("ada")
    labelled(at.selectbox, "Role").set_value("editor")
    labelled(at.text_input, "Password").set_value("correct horse battery")
    labelled(at.text_input, "Password again").set_value("correct horse battery")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert any("the first account must be an admin" in e.value for e in at.error)
    with empty_ws.session() as s:
        assert auth.list_users(s) == []
    labelled(at.text_input, "User name").set_value("ada")
    labelled(at.selectbox, "Role").set_value("admin")
    labelled(at.text_input, "Password").set_value("correct horse battery")
    labelled(at.text_input, "Password again").set_value("correct horse battery")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert_clean(at)
    assert any("Sign-in is now on; you are signed in as ada" in s.value for s in at.success)
    assert any("Signed in as **ada** (admin)" in c.value for c in at.sidebar.caption)
    assert at.dataframe[0].value["name"].tolist() == ["ada"]


def test_users_page_admin_manages_accounts_and_a_viewer_only_their_password(demo_ws):
    from artdash.access import auth

    add_team(demo_ws)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "ada")
    at.switch_page("screens/users.py").run()
    assert_clean(at)
    assert set(at.dataframe[0].value["name"]) == {"ada", "vic"}
    labelled(at.text_input, "User name").set_value("eve")
    labelled(at.text_input, "Password").set_value("short")
    labelled(at.text_input, "Password again").set_value("short")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert any("Not saved" in e.value and "10" in e.value for e in at.error)
    labelled(at.text_input, "User name").set_value("eve")
    labelled(at.text_input, "Password").set_value("correct horse battery")
    labelled(at.text_input, "Password again").set_value("correct horse battery")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert any("Added eve (viewer)" in s.value for s in at.success)
    at.selectbox(key="role_user").set_value("eve")
    at.selectbox(key="role_new").set_value("editor")
    at.button(key="FormSubmitter:set_role-Change role").click().run()
    assert any("eve is now an editor" in s.value for s in at.success)
    at.selectbox(key="role_user").set_value("ada")
    at.selectbox(key="role_new").set_value("viewer")
    at.button(key="FormSubmitter:set_role-Change role").click().run()
    assert any("ada is the last admin" in e.value for e in at.error)
    with demo_ws.session() as s:
        assert {u.name: u.role for u in auth.list_users(s)} == {"ada": "admin", "vic": "viewer", "eve": "editor"}

    viewer = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(viewer, "vic")
    viewer.switch_page("screens/users.py").run()
    assert_clean(viewer)
    assert labelled(viewer.button, "Add user").disabled and labelled(viewer.button, "Change role").disabled
    assert viewer.selectbox(key="password_user").options == ["vic"]
    labelled(viewer.text_input, "New password").set_value("another good password")
    labelled(viewer.text_input, "New password again").set_value("another good password")
    viewer.button(key="FormSubmitter:password-Set password").click().run()
    assert any("Set a new password for vic" in s.value for s in viewer.success), [e.value for e in viewer.error]
    with demo_ws.session() as s:
        assert auth.sign_in(s, "vic", "another good password").role == "viewer"



# ------------------------------------------------------------------------------ hand-edited URLs

@pytest.mark.parametrize("page, query", [
    ("title", {"title": "not-a-number", "tab": "Nowhere"}),
    ("title", {"title": "999999"}),
    ("results", {"results_tab": "Nowhere", "results_charts": "Pie chart"}),
    ("preview", {"preview_tab": "Nowhere"}),
    ("lab", {"lab_tab": "Nowhere"}),
])
def test_a_hand_edited_url_never_breaks_a_page(demo_ws, page, query):
    from artdash.demo.results import load_demo_results

    if page == "results":
        load_demo_results(demo_ws, n=2000)
    at = open_page(page, **query)
    assert_clean(at)
