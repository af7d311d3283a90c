"""The Users screen (AppTest)."""


from apptest import ROOT, TIMEOUT, add_team, assert_clean, labelled, open_page, sign_in
from streamlit.testing.v1 import AppTest


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
