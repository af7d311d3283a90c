"""The Results screen: review, insights, imports, honest windows (AppTest)."""


import re

from apptest import (
    ROOT,
    TIMEOUT,
    add_team,
    assert_clean,
    clear_ab_log,
    labelled,
    open_page,
    shown,
    sign_in,
)
from streamlit.testing.v1 import AppTest

from artdash import catalog


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
    assert table.loc[table["lift CI"] == "control", "lift vs control"].tolist() == ["control"]
    assert table["lift vs control"].notna().all()
    # what a decision needs comes first — the rate, the lift, the impressions and the detectable lift
    # in view at 1024 px — and everything else is one toggle away
    first = list(at.dataframe[0].proto.column_order)
    assert first[:7] == ["image", "variant", "quality take rate", "lift vs control", "impressions",
                         "detectable lift", "significant"] and "plays" not in first
    labelled(at.toggle, "All columns").set_value(True).run()
    assert list(at.dataframe[0].proto.column_order) == list(table.columns)
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


def test_results_page_warns_when_a_log_has_plays_but_no_durations(demo_ws):
    from artdash.results.service import variant_titles

    variant, title = next(iter(variant_titles(demo_ws).items()))
    at = open_page("results", results_tab="Import")
    log = ("event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"
           + "".join(f"w{i},2026-11-01T10:00:00Z,m{i},{title},{variant},uniform,1,true,0\n" for i in range(3))).encode()
    at.get("file_uploader")[0].set_value([("log.csv", log, "text/csv")])
    labelled(at.button, "Import").click().run()
    assert_clean(at)
    assert any("Imported 3 new impressions" in w.value and "none has a play duration" in w.value for w in at.warning)


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


def test_the_selection_survives_switching_tabs_and_lives_in_the_url(demo_ws):
    """Results used to forget the title, experiment and segment when another tab was opened (a
    CSV downloaded afterwards was for another title)."""
    with demo_ws.session() as s:
        second = catalog.list_titles(s)[1]
        active = [v.id for v in catalog.list_variants(s, second.id) if v.status == "active"]
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=200)
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(second.id).run()
    labelled(at.selectbox, "Segment").set_value("device").run()
    assert str(second.id) in at.query_params["title"]
    at.session_state["results_tab"] = "Import"  # as a click on the tab does
    at.run()
    assert_clean(at)
    assert not [w for w in at.selectbox if w.label == "Title"]  # the review's widgets are not drawn
    at.session_state["results_tab"] = "A/B review"
    at.run()
    assert_clean(at)
    assert labelled(at.selectbox, "Title").value == second.id
    assert labelled(at.selectbox, "Segment").value == "device"
    # A link with the selection opens it.
    linked = open_page("results", title=str(second.id), segment_kind="country")
    assert labelled(linked.selectbox, "Title").value == second.id
    assert labelled(linked.selectbox, "Segment").value == "country"


def test_thin_numbers_are_empty_cells_and_a_variant_keeps_its_colour(demo_ws):
    """Thin variants showed the word "None" in lift; a variant had different colours in two charts."""
    import json

    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=40)   # 40 impressions each: thin
    at = open_page("results", results_charts="Over time")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    table = at.dataframe[0].value
    assert all(re.fullmatch(r"control|—|[+-]\d+\.\d{2}%", cell) for cell in table["lift vs control"])
    assert all(re.fullmatch(r"—|\d+\.\d{2}%", cell) for cell in table["detectable lift"])
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    colours = {}
    for figure in figures:
        for trace in figure["data"]:
            colour = (trace.get("line") or {}).get("color") or (trace.get("marker") or {}).get("color")
            if colour and trace.get("mode") == "lines":
                colours.setdefault(trace["name"], set()).add(colour)
    assert colours and all(len(c) == 1 for c in colours.values())


def test_one_method_per_page_named_on_screen_and_in_the_csv(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    assert_clean(at)
    assert at.segmented_control(key="results_method").value == "sequential"          # the default
    assert any("Safe to look as often as you like" in c.value and "as wide as intervals read once" in c.value
               for c in at.caption)
    assert any("Method: Sequential" in c.value for c in at.caption)
    at.segmented_control(key="results_method").set_value("fixed").run()
    assert_clean(at)
    assert any("Read once" in c.value for c in at.caption)
    at.selectbox(key="results_correction").set_value("bh").run()
    assert "p (BH)" in at.dataframe[0].value and at.query_params["correction"] == "bh"
    at.segmented_control(key="results_method").set_value("bayesian").run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"chance to win", "risk"} <= set(table) and "p (BH)" not in table
    at.selectbox(key="results_prior").set_value("sceptical (±10%)").run()
    assert_clean(at)
    assert any("Method: Bayesian" in c.value and "N(+0%, 10%²)" in c.value for c in at.caption)


def test_an_experiments_plan_is_declared_on_the_page_and_the_split_checked_against_it(demo_ws, frozen_clock):
    from artdash.demo.results import load_demo_results
    from artdash.results import plans

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    labelled(at.selectbox, "Experiment").set_value("artwork-personalisation").run()
    assert_clean(at)
    assert any("assumed: no plan is declared" in c.value for c in at.caption)
    # the split check says its threshold and what a mismatch would mean (p = 0.03 is not one)
    assert any("Only p < 0.001 counts as a mismatch" in shown(c.value) and "assignment or logging is broken"
               in shown(c.value) for c in at.caption)
    cells = [w.key for w in at.number_input if w.key and w.key.startswith("plan_artwork-personalisation_")]
    assert len(cells) >= 2
    at.number_input(key=cells[0]).set_value(9.0)
    at.button(key="FormSubmitter:plan_artwork-personalisation-Save the plan").click().run()
    assert_clean(at)
    plan = plans.get_plan(demo_ws.results_engine, "artwork-personalisation")
    assert plan is not None and max(plan.weights.values()) == 9.0
    assert any("Sample ratio mismatch" in e.value and "compared with the planned split" in e.value for e in at.error)
    at.number_input(key=cells[0]).set_value(0.0)                 # one cell left: refused, nothing changes
    at.number_input(key=cells[1]).set_value(0.0)
    at.button(key="FormSubmitter:plan_artwork-personalisation-Save the plan").click().run()
    assert any("Not saved" in e.value and "at least two cells" in e.value for e in at.error)
    assert plans.get_plan(demo_ws.results_engine, "artwork-personalisation").weights == plan.weights


def test_lifts_post_stratified_by_a_segment_beside_the_unadjusted(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    assert_clean(at)
    at.segmented_control(key="results_adjust").set_value("device").run()
    assert_clean(at)
    table = at.dataframe[1].value
    assert {"variant", "lift", "adjusted lift", "adjusted low", "adjusted high", "variance reduction"} <= set(table)
    assert table["adjusted lift"].notna().all()
    assert any("Post-stratified by device" in c.value and "Sequential" in c.value for c in at.caption)


def test_play_durations_per_variant_on_demand(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    at.segmented_control(key="results_charts").set_value(["Play durations"]).run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 1
    assert any("the 25th, 50th (median) and 90th percentile of play seconds" in c.value for c in at.caption)
    assert any(b.label == "Download play durations CSV" for b in at.get("download_button"))


def test_cuped_lifts_beside_the_unadjusted(demo_ws):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    labelled(at.selectbox, "Experiment").set_value("artwork-personalisation").run()
    at.segmented_control(key="results_adjust").set_value("cuped").run()
    assert_clean(at)
    captions = [c.value for c in at.caption if "CUPED on quality plays per member" in c.value]
    assert captions, [c.value for c in at.caption]
    assert "who met more than one variant left out" in captions[0]       # the demo's bandit cell mixes them
    [table] = [d.value for d in at.dataframe if "adjusted lift" in d.value]
    assert table["adjusted lift"].notna().all() and (table["members"] > 0).all()
    assert {"lift", "lift low", "lift high", "variance reduction"} <= set(table)


def test_an_import_refusal_says_nothing_imported_once_and_a_repeat_import_adds_no_empty_import(demo_ws):
    from artdash.results import queries
    from artdash.results.service import variant_titles

    variant, title = next(iter(variant_titles(demo_ws).items()))
    bad = (b"event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"
           b"e1,2026-11-01T10:00:00Z,m1,1,1,uniform,0,true,400\n")
    at = open_page("results", results_tab="Import")
    at.get("file_uploader")[0].set_value([("log.csv", bad, "text/csv")])
    labelled(at.button, "Import").click().run()
    (error,) = [e.value for e in at.error if "propensity" in e.value]
    assert error.lower().count("nothing imported") == 1
    good = ("event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"
            + "".join(f"r{i},2026-11-01T10:00:00Z,m{i},{title},{variant},uniform,1,true,400\n" for i in range(3))).encode()
    with demo_ws.results_engine.connect() as conn:
        before = len(queries.import_history(conn))
    for _ in range(2):
        at = open_page("results", results_tab="Import")
        at.get("file_uploader")[0].set_value([("again.csv", good, "text/csv")])
        labelled(at.button, "Import").click().run()
        assert_clean(at)
    assert any("Nothing new: all 3 rows of again.csv were imported before" in shown(i.value) for i in at.info)
    with demo_ws.results_engine.connect() as conn:
        assert len(queries.import_history(conn)) == before + 1


def test_the_date_window_is_a_preset_counted_back_from_the_last_day_or_a_custom_range(demo_ws):
    """The calendar was drawn on every view (every browser loaded it); now it appears when asked for."""
    from datetime import date, timedelta

    from artdash.demo.results import load_demo_results
    from artdash.results import queries

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    assert_clean(at)
    assert not at.date_input
    window = labelled(at.selectbox, "Dates")
    assert window.value == "Last 30 days"
    (shown_window,) = [c.value for c in at.caption if re.fullmatch(r"\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d", c.value)]
    first, last = (date.fromisoformat(d) for d in shown_window.split(" – "))
    assert (last - first).days == 29
    with demo_ws.results_engine.connect() as conn:
        _, high = queries.day_range(conn, title_id=labelled(at.selectbox, "Title").value)
    assert last == high            # counted back from the data's last day, not today
    window.set_value("Last 7 days").run()
    assert "Last 7 days" in at.query_params["window"]
    assert any(c.value == f"{last - timedelta(days=6):%Y-%m-%d} – {last:%Y-%m-%d}" for c in at.caption)
    labelled(at.selectbox, "Dates").set_value("Custom range…").run()
    assert_clean(at)
    (calendar,) = at.date_input
    calendar.set_value((last - timedelta(days=3), last)).run()
    assert_clean(at)
    assert at.dataframe[0].value["impressions"].sum() > 0
    linked = open_page("results", window="Everything")
    assert labelled(linked.selectbox, "Dates").value == "Everything"


def test_a_variant_without_quality_plays_shows_its_condition_under_every_method(demo_ws):
    """The page crashed ("This app has encountered an error") when a variant had impressions but
    no quality plays while the control had some: the lift's variance is 0 under every method."""
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
        pick = catalog.editors_pick(s, title.id)
    control = pick if pick in active else active[0]
    silent = next(v for v in active if v != control)
    clear_ab_log(demo_ws, {control: 0.10, silent: 0.0}, n=400)
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    labelled(at.selectbox, "Control variant (lift is measured against it)").set_value(control).run()
    for kind in ("sequential", "fixed", "bayesian"):
        at.segmented_control(key="results_method").set_value(kind).run()
        assert_clean(at)
        condition = f"no quality plays yet for #{silent}: the lift cannot be estimated"
        assert any("Not enough data to judge" in w.value and condition in shown(w.value) for w in at.warning), kind
        # with its counts: a reader sees how thin it is (it said only "#63 astronaut (control)")
        assert any(re.search(condition.replace(":", r"\:?").replace(".", r"\.") + r": [\d,]+ impressions, 0 quality "
                             "plays", shown(w.value)) for w in at.warning), kind
        table = at.dataframe[0].value
        assert condition in table["note"].tolist()
        assert table.loc[table["note"] == condition, "lift vs control"].tolist() == ["—"]
    for adjust in ("country", "device"):
        at.segmented_control(key="results_adjust").set_value(adjust).run()
        assert_clean(at)


def test_a_click_log_without_durations_reads_by_take_rate_per_variant_and_per_cell(demo_ws, tmp_path):
    """A real export's shape (95 columns, unnamed index, mixed case, clicks, no durations):
    the page reads it by take rate, says why, and compares its cells."""
    import real_export

    from artdash.results.read import parse_column_mapping
    from artdash.results.service import import_log, variant_titles

    by_title: dict[int, list[int]] = {}
    for variant, title in variant_titles(demo_ws).items():
        by_title.setdefault(title, []).append(variant)
    with demo_ws.session() as s:
        names = {t.id: t.name for t in catalog.list_titles(s)}
    titles = [(names[t], sorted(v)[:3]) for t, v in sorted(by_title.items())]
    export = real_export.export_csv(tmp_path / "export.csv", titles, 4000, "2026-11-01", seed=3)
    import_log(demo_ws, export, export.name, "admin", mapping=parse_column_mapping(list(real_export.MAPPING)))
    at = open_page("results")
    first_title = sorted(by_title)[0]
    labelled(at.selectbox, "Title").set_value(first_title).run()
    labelled(at.selectbox, "Experiment").set_value("obd-campaign").run()
    assert_clean(at)
    assert any("Read by **take rate**" in i.value and "no play durations" in i.value for i in at.info)
    first = list(at.dataframe[0].proto.column_order)
    assert first[:4] == ["image", "variant", "take rate", "lift vs control"]
    assert any("posteriors on the take rate" in c.value for c in at.caption)
    labelled(at.toggle, "Compare the cells").set_value(True).run()
    assert_clean(at)
    cells = next(d.value for d in at.dataframe if "cell" in d.value.columns)
    assert set(cells["cell"]) == {"uniform", "personalised"} and (cells["impressions"] > 0).all()
    assert any("plays per impression" in c.value for c in at.caption)


def test_clickbait_and_abandonment_are_flagged_on_results_and_creative_insights(demo_ws):
    """One image wins the click and loses the watch: 25 % press play, every play ends in 30 s."""
    from artdash.results.service import import_log

    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
        pick = catalog.editors_pick(s, title.id)
    control = pick if pick in active else active[0]
    bait = next(v for v in active if v != control)
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds"]
    for variant, every, seconds in ((control, 10, 900), (bait, 4, 30)):
        lines += [f"cb-{variant}-{i},2026-11-{1 + i % 20:02d}T10:00:00Z,m{i},{title.id},{variant},uniform,0.5,"
                  f"{'true' if i % every == 0 else 'false'},{seconds if i % every == 0 else 0}" for i in range(2000)]
    import_log(demo_ws, ("\n".join(lines) + "\n").encode(), "bait.csv", "local-admin")
    at = open_page("results")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    labelled(at.selectbox, "Control variant (lift is measured against it)").set_value(control).run()
    assert_clean(at)
    assert any("Possibly misleading artwork" in w.value and f"#{bait}" in w.value
               and "members press play and leave" in w.value for w in at.warning)
    at.segmented_control(key="results_charts").set_value(["Abandonment"]).run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "abandoned" in d.value.columns)
    assert table["abandoned"].tolist() == [0, 500] and table["timed"].tolist() == [200, 500]
    assert any("abandoned more" in w.value and f"#{bait}" in w.value for w in at.warning)
    labelled(at.number_input, "A play shorter than this many seconds was abandoned").set_value(20).run()
    assert next(d.value for d in at.dataframe if "abandoned" in d.value.columns)["abandoned"].tolist() == [0, 0]
    at = open_page("results", results_tab="Creative insights")
    assert_clean(at)
    flags = next(d.value for d in at.dataframe if "flag" in d.value.columns)
    mine = flags[flags["title"].str.startswith(title.name)]             # "Harbour Lights (2019)"
    assert set(mine["flag"]) == {"clickbait", "abandoned more"} and set(mine["variant"]) == {f"#{bait}"}
