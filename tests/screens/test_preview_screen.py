"""The Preview screen (AppTest)."""



from apptest import assert_clean, labelled, open_page, personas_list, shown


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


def test_preview_serves_the_promoted_policy(demo_ws):
    from artdash.lab import store as lab_store

    with demo_ws.transaction() as s:
        lab_store.promote(s, "best-single", "pm", note="lab run 4")
    at = open_page("preview")
    assert_clean(at)
    assert labelled(at.selectbox, "Policy").value == "best-single"
    assert any("Promoted in the Policy lab by pm" in c.value and "lab run 4" in c.value for c in at.caption)


def test_preview_says_truthfully_what_each_policy_learnt(demo_ws):
    """The caption used to say the editor's pick was "trained" and that no results database was
    connected while Results held 200,000 impressions; "Top picks" vanished without a word."""
    at = open_page("preview")
    assert any("does not learn from the Results log" in shown(c.value) for c in at.caption)
    assert not any("no results database" in c.value for c in at.caption)
    labelled(at.selectbox, "Policy").set_value("editors-pick").run()
    assert_clean(at)
    assert any("a fixed rule — it learns nothing" in shown(c.value) for c in at.caption)
    assert not any(shown(c.value).startswith("Policy Editor's pick: trained") for c in at.caption)
    assert any("No *Top picks* row" in c.value for c in at.caption)


def test_the_win_matrix_shows_each_variants_thumbnail_over_its_column(demo_ws):
    """Its columns were labels only."""
    import json

    at = open_page("preview", preview_tab="Win matrix")
    assert_clean(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    columns = [c for c in at.dataframe[0].value.columns if c.startswith("#")]
    images = spec["layout"]["images"]
    assert [i["x"] for i in images] == columns
    assert all(i["source"].startswith("data:image/jpeg;base64,") for i in images)
