"""The Audit trail screen (AppTest)."""



from apptest import assert_clean, labelled, open_page

from artdash import catalog


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


def test_the_audit_page_searches_free_text_and_numbers_each_entry(demo_ws):
    with demo_ws.transaction() as s:
        catalog.create_title(s, name="Lantern Bay", actor="ed")
    at = open_page("audit")
    labelled(at.text_input, "Search").input("lantern").run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert len(table) == 1 and table.iloc[0]["change"] == "name Lantern Bay" and table.iloc[0]["entry"] > 0
    labelled(at.text_input, "Search").input("no such words anywhere").run()
    assert any("clear the search" in i.value for i in at.info)
