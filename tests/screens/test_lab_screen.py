"""The Policy lab screen (AppTest)."""



from apptest import assert_clean, labelled, open_page, shown


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
    assert any("Best single variant is now the policy the decision service serves" in s.value for s in at.success)
    assert any("The decision service serves **Best single variant, untrained** (promoted by" in c.value for c in at.caption)
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
    assert "Contextual bandit (LinUCB) — as served" in set(table["policy"])     # nothing trained yet: v0
    assert any("as served** is the stored version" in c.value for c in at.caption)
    assert any("3,000 impressions used" in c.value for c in at.caption)


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
    assert any(shown(h.value) == "Run #1 seed 1" for h in at.subheader)
    at.multiselect(key="lab_history_runs").set_value([1, 2]).run()
    assert_clean(at)
    compared = at.dataframe[-1].value
    assert set(compared["run"]) == {"#1 seed 1", "#2 seed 2"} and len(compared) == 4


def test_lab_models_lists_every_stored_version_with_what_it_learnt_from(demo_ws):
    from artdash.demo import load_demo_models

    at = open_page("lab", lab_tab="Models")
    assert_clean(at)
    assert any("No trained version yet" in i.value for i in at.info)
    version = load_demo_models(demo_ws)
    at = open_page("lab", lab_tab="Models")
    assert_clean(at)
    table = at.dataframe[0].value
    row = table.set_index("version").loc[version]
    assert row["policy"] == "Contextual bandit (LinUCB)" and row["source"] == "lab" and row["by"] == "demo"
    assert row["decisions"] == 20_000 and "simulated" in row["note"]
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


def test_lab_models_trains_a_version_from_an_imported_log(demo_ws):
    from artdash import catalog
    from artdash.results.service import import_log

    at = open_page("lab", lab_tab="Models")
    assert_clean(at)
    assert any("no experiments yet" in c.value for c in at.caption)
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        ids = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    experiment = "homepage-test"
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds,experiment"]
    lines += [f"e{i},2026-10-{1 + i % 28:02d}T20:00:00Z,m{i % 50},{title.id},{ids[i % len(ids)]},uniform,"
              f"{1 / len(ids):.6f},{'true' if i % 7 == 0 else 'false'},{1800 if i % 7 == 0 else 0},{experiment}"
              for i in range(600)]
    import_log(demo_ws, ("\n".join(lines) + "\n").encode(), "homepage.csv", "local-admin")
    at = open_page("lab", lab_tab="Models")
    assert_clean(at)
    labelled(at.selectbox, "Experiment").set_value(experiment)
    at.button(key="FormSubmitter:lab_train_import-Train and store").click().run()
    assert_clean(at)
    assert any("version 1, trained on" in s.value and experiment in s.value for s in at.success)
    row = at.dataframe[0].value.set_index("version").loc[1]
    assert row["source"] == "import" and f"experiment {experiment!r}" in row["note"]


def test_a_fixed_rule_is_served_as_itself_not_untrained(demo_ws):
    """The header said "Editor's pick, untrained" — as if a rule that learns nothing had failed to."""
    from artdash.lab.store import promote

    with demo_ws.transaction() as s:
        promote(s, "editors-pick", "local-admin")
    at = open_page("lab")
    assert_clean(at)
    assert any("The decision service serves **Editor's pick** (promoted by" in shown(c.value) for c in at.caption)
    assert not any("untrained" in c.value for c in at.caption)
