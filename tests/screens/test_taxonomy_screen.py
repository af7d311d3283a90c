"""The Taxonomy screen (AppTest)."""



from apptest import assert_clean, labelled, open_page

from artdash import catalog
from artdash.catalog import taxonomy


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
