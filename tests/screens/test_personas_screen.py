"""The Personas screen (AppTest)."""



from apptest import assert_clean, labelled, open_page, personas_get, personas_list, shown

from artdash.catalog import taxonomy


def test_personas_page_shows_a_profile_and_saves_affinities(demo_ws):
    at = open_page("personas")
    assert_clean(at)
    assert at.title[0].value == "Personas"
    assert at.get("plotly_chart")  # the taste profile chart
    with demo_ws.session() as s:
        persona = personas_list(s)[0]
        funny = taxonomy.find_tag(s, "tone", "funny")
        tags = [t for t in taxonomy.list_tags(s) if t.facet != "cast"]
    with demo_ws.session() as s:
        before = personas_get(s, persona.id).weight_by_tag_id()
    # the search narrows the sliders to matching tags; the others keep their values
    labelled(at.text_input, "Find a tag").input("funn").run()
    assert [s.label for s in at.slider] == ["funny"]
    labelled(at.slider, "funny").set_value(0.5)
    labelled(at.button, "Save persona").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        after = personas_get(s, persona.id).weight_by_tag_id()
    assert after[funny.id] == 0.5
    assert {k: v for k, v in after.items() if k != funny.id} == {k: v for k, v in before.items() if k != funny.id}
    assert len(tags) > 40   # the editor groups these by facet instead of ~50 rows of typed numbers


def test_personas_page_refuses_a_bad_new_persona(demo_ws):
    at = open_page("personas")
    labelled(at.button, "Create persona").click().run()
    assert any("needs a name" in e.value for e in at.error)


def test_personas_page_imports_history_and_shows_last_watched(demo_ws):
    at = open_page("personas")
    bad = b"member_id,title,watched_at,minutes\nm1,Harbour Lights,2026-10-01,-3\n"
    at.get("file_uploader")[0].set_value([("views.csv", bad, "text/csv")])
    labelled(at.button, "Import").click().run()
    assert_clean(at)
    assert any("Nothing imported" in shown(e.value) and "line 2 (minutes)" in shown(e.value) for e in at.error)
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


def test_a_new_persona_opens_in_the_editor(demo_ws):
    """Creating a persona used to leave a shipped archetype open under "Set their tastes below"."""
    at = open_page("personas")
    next(w for w in at.text_input if w.label == "Name *").input("Late-night thriller watcher")  # the new-persona form
    labelled(at.button, "Create persona").click().run()
    assert_clean(at)
    chosen = labelled(at.selectbox, "Persona")
    assert chosen.format_func(chosen.value).startswith("Late-night thriller watcher")
    assert any("Late-night thriller watcher" in shown(m.value) for m in at.markdown)
