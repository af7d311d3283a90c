"""The Preview screen (AppTest)."""



from apptest import assert_clean, labelled, open_page, personas_list, shown


def test_preview_page_personalises_and_switches_policy(demo_ws):
    from artdash.demo import load_demo_models

    load_demo_models(demo_ws)                      # what `artdash demo` stores: a first trained version
    at = open_page("preview")
    assert_clean(at)
    assert any(s.value == "Top picks for this persona" for s in at.subheader)
    assert any("As served now" in c.value and "version 1, trained on a simulated log" in c.value for c in at.caption)
    romance = [c.value for c in at.caption]
    people = {p.name: p.id for p in personas_list(demo_ws.session())}
    labelled(at.selectbox, "Persona").set_value(people["Comedy fan"]).run()
    assert_clean(at)
    assert [c.value for c in at.caption] != romance
    labelled(at.selectbox, "Model").set_value("policy:uniform").run()
    assert_clean(at)
    assert any("uniform random" in c.value for c in at.caption)
    assert any("Previewing" in c.value and "titles would show" in c.value for c in at.caption)
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
    assert labelled(at.selectbox, "Model").value == "served"
    assert any("As served now" in c.value and "Best single variant is not trained yet" in c.value for c in at.caption)
    assert any("Promoted in the Policy lab by pm" in c.value and "lab run 4" in c.value for c in at.caption)


def test_preview_says_truthfully_what_each_policy_learnt(demo_ws):
    """The caption used to say the editor's pick was "trained" and that no results database was
    connected while Results held 200,000 impressions; "Top picks" vanished without a word. Now
    it says which version is served, what it was trained on, and when a new one reaches the persona."""
    at = open_page("preview")
    assert any("not trained yet: members are served uniform random" in shown(c.value) for c in at.caption)
    assert any("sticky window began" in shown(c.value) and "a newer version reaches them then" in shown(c.value)
               for c in at.caption)
    assert not any("no results database" in c.value for c in at.caption)
    labelled(at.selectbox, "Model").set_value("policy:editors-pick").run()
    assert_clean(at)
    assert any("a fixed rule — it learns nothing" in shown(c.value) for c in at.caption)
    assert any("No *Top picks* row" in c.value for c in at.caption)
    # an admin can train a first version on a simulated log; Preview then shows it, as served
    labelled(at.selectbox, "Model").set_value("served").run()
    at.button(key="preview_bootstrap").click().run()
    assert_clean(at)
    assert any("Trained version 1" in m.value for m in at.success) or any(
        "version 1, trained on a simulated log" in c.value for c in at.caption)


def test_preview_answers_an_imported_member_what_the_service_answers_them(demo_ws):
    from artdash.catalog import personas as P
    from artdash.db.models import Persona
    from artdash.serve import DecisionService, LocalClient, ServiceSettings

    with demo_ws.transaction() as s:
        comedy = next(p for p in P.list_personas(s) if p.name == "Comedy fan")
        tag_ids = {t.id: w for t, w in comedy.affinities}
        made = P.create_persona(s, name="Imported m-41", actor="t", affinities=tag_ids)
        row = s.get(Persona, made.id)
        row.kind, row.member_id = "member", "m-41"           # as an import of viewing history makes it
    service = DecisionService(demo_ws, ServiceSettings(require_keys=False, learn=False), background=False)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    answer = LocalClient(service).decide({"id": "m-41"}, titles)
    service.close()
    at = open_page("preview")
    labelled(at.selectbox, "Persona").set_value(made.id).run()
    assert_clean(at)
    assert any("member m-41" in shown(c.value) for c in at.caption)
    served_images = {f"#{d['variant_id']}" for d in answer["decisions"] if d["variant_id"]}
    tiles = {m.value.split("\n")[-1].split()[0] for m in at.markdown if "\n#" in m.value}
    assert tiles and tiles <= served_images


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


def test_a_win_matrix_of_many_variants_is_paged_and_sized_so_every_label_shows(demo_ws):
    """19 variants squashed the heatmap to ~100 px: persona labels vanished, cell text was 6 px."""
    import html
    import json

    from artdash import catalog
    from artdash.demo import render_variant

    with demo_ws.transaction() as s:
        title = catalog.list_titles(s)[0]
        for k in range(14):                    # 14 more, active: about 19 in all
            data = render_variant(title.name, ("thriller", "comedy", "romance")[k % 3], False, seed=900 + k)
            done = catalog.ingest_image(s, demo_ws.store, title.id, f"extra-{k}.jpg", data, "local-admin",
                                        demo_ws.settings.limits)
            catalog.set_variant_status(s, done.variant_id, "active", "local-admin")
    at = open_page("preview", preview_tab="Win matrix")
    labelled(at.selectbox, "Title").set_value(title.id).run()
    assert_clean(at)
    columns = [c for c in at.dataframe[0].value.columns if c.startswith("#")]
    personas = at.dataframe[0].value["persona"].tolist()
    assert len(columns) >= 17 and len(personas) >= 5
    pages = labelled(at.get("button_group"), f"Variants ({len(columns)}, 6 at a time)")
    seen = []
    for page in range(len(pages.options)):
        pages.set_value(page).run()
        assert_clean(at)
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        heat = spec["data"][0]
        assert len(heat["x"]) <= 6
        assert heat["y"] == [html.escape(p, quote=False) for p in personas]    # every persona a row …
        assert spec["layout"]["yaxis"]["dtick"] == 1                            # … and every row its label
        assert spec["layout"]["height"] >= 40 * len(personas) + 100       # rows legible, not squashed
        assert [i["x"] for i in spec["layout"]["images"]] == heat["x"]    # a thumbnail over each column
        seen += heat["x"]
        pages = labelled(at.get("button_group"), f"Variants ({len(columns)}, 6 at a time)")
    assert seen == columns
