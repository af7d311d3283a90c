"""Sign-in, roles and hand-edited URLs across the screens (app.py's gate) (AppTest)."""


import pytest
from apptest import ROOT, TIMEOUT, add_team, assert_clean, labelled, open_page, sign_in
from streamlit.testing.v1 import AppTest

from artdash import catalog


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
