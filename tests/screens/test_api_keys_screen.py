"""The API keys screen (AppTest): an admin creates a key and sees it once, bad settings are
refused with nothing saved, revocation needs a tick, and a viewer can only look."""

from apptest import ROOT, TIMEOUT, add_team, assert_clean, labelled, open_page, shown, sign_in
from streamlit.testing.v1 import AppTest

from artdash.access import api_keys


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(empty_ws):
    at = open_page("api_keys")
    assert_clean(at)
    assert any("No API keys yet" in i.value for i in at.info)
    labelled(at.text_input, "Name").set_value("x")
    at.button(key="FormSubmitter:create_key-Create key").click().run()
    assert any("Not created" in e.value and "2 to 120 characters" in e.value for e in at.error)
    labelled(at.text_input, "Name").set_value("web *homepage*")
    labelled(at.multiselect, "Scopes").set_value(["decide"])
    at.button(key="FormSubmitter:create_key-Create key").click().run()
    assert_clean(at)
    assert any("Created **web \\*homepage\\***" in s.value for s in at.success)   # user text, not markup
    secret = at.code[0].value
    with empty_ws.session() as s:
        assert api_keys.verify(s, secret).scopes == ("decide",)
    at.run()                                                                       # never shown again
    assert not at.code and secret not in str(at.dataframe[0].value.to_dict())
    assert at.dataframe[0].value["status"].tolist() == ["active"]
    at.button(key="FormSubmitter:revoke_key-Revoke key").click().run()
    assert any("Tick the box" in w.value for w in at.warning)
    labelled(at.checkbox, "Yes, revoke it: the service refuses it from its next refresh (seconds)").check()
    at.button(key="FormSubmitter:revoke_key-Revoke key").click().run()
    assert_clean(at)
    assert any("Revoked" in shown(s.value) and "web *homepage*" in shown(s.value) for s in at.success)
    assert at.dataframe[0].value["status"].tolist() == ["revoked"]
    with empty_ws.session() as s:
        assert api_keys.verify(s, secret) is None


def test_a_viewer_sees_keys_but_cannot_create_or_revoke(demo_ws):
    add_team(demo_ws)
    with demo_ws.transaction() as s:
        api_keys.create_key(s, "ada", "tv app")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    sign_in(at, "vic")
    at.switch_page("screens/api_keys.py").run()
    assert_clean(at)
    assert any("managing API keys needs an admin" in i.value for i in at.info)
    assert at.dataframe[0].value["name"].tolist() == ["tv app"]
    assert at.button(key="FormSubmitter:create_key-Create key").disabled
    assert at.button(key="FormSubmitter:revoke_key-Revoke key").disabled
