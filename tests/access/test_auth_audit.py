"""Roles enforced inside artdash (not only in the UI), local accounts with slowed-down
sign-in, and the audit trail — on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from artdash import catalog, clock
from artdash.access import audit, auth
from artdash.catalog import personas, taxonomy
from artdash.db.models import Title
from artdash.errors import ValidationError
from artdash.lab import store as lab_store

PASSWORD = "correct horse battery"


@pytest.fixture
def team(ws):
    """Accounts: an admin, an editor and a viewer (accounts mode on)."""
    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", PASSWORD)
        auth.add_user(s, "ed", "editor", "ada", PASSWORD)
        auth.add_user(s, "vic", "viewer", "ada", PASSWORD)
    return ws


def test_without_accounts_everyone_is_the_local_admin(ws):
    with ws.transaction() as s:
        assert auth.role_of(s, "anyone") == "admin"
        catalog.create_title(s, name="Open House", actor="anyone")


def test_a_viewer_cannot_change_anything_even_calling_the_functions(team):
    ws = team
    with ws.transaction() as s:
        title = catalog.create_title(s, name="Night Ledger", actor="ed")
    attempts = [
        lambda s: catalog.create_title(s, name="Nope", actor="vic"),
        lambda s: catalog.update_title(s, title.id, actor="vic", expected_version=None, name="Renamed", year=None, kind="movie", synopsis=""),
        lambda s: taxonomy.add_tag(s, "tone", "bleak", "vic"),
        lambda s: taxonomy.add_facet(s, "mood", "", "vic"),
        lambda s: personas.create_persona(s, name="Mine", actor="vic"),
        lambda s: lab_store.promote(s, "uniform", "vic"),
        lambda s: auth.add_user(s, "eve", "admin", "vic", PASSWORD),
    ]
    for attempt in attempts:
        with pytest.raises(auth.PermissionDenied, match="vic is a viewer"), ws.transaction() as s:
            attempt(s)
    with ws.session() as s:
        assert [t.name for t in s.scalars(select(Title))] == ["Night Ledger"]


def test_changes_without_an_authorised_actor_are_refused_at_flush(team):
    with pytest.raises(auth.PermissionDenied, match="signed-in user"), team.transaction() as s:
        s.add(Title(name="Sneaky", created_by="x", updated_by="x"))
    with pytest.raises(auth.PermissionDenied, match="to delete titles needs an admin"), team.transaction() as s:
        title = catalog.create_title(s, name="Short lived", actor="ed")
        s.delete(s.get(Title, title.id))
        s.flush()


def test_the_guard_sits_on_the_workspaces_own_sessions_only(team, tmp_path):
    """The guard and the trail belong to the workspace's session factory, not to SQLAlchemy's
    global Session class: a second workspace on the same database is guarded too, a plain
    Session of another program is neither refused nor recorded in our trail."""
    from sqlalchemy.orm import Session

    from artdash.db.models import AuditEntry
    from artdash.workspace import Workspace

    other = Workspace.open(team.settings)
    try:
        with pytest.raises(auth.PermissionDenied, match="signed-in user"), other.transaction() as s:
            s.add(Title(name="Sneaky", created_by="x", updated_by="x"))
    finally:
        other.close()
    with team.session() as s:
        entries_before = len(s.scalars(select(AuditEntry)).all())
    with Session(team.engine) as s, s.begin():  # not ours: no guard, no trail
        s.add(Title(name="Made elsewhere", created_by="x", updated_by="x"))
    with team.session() as s:
        assert len(s.scalars(select(AuditEntry)).all()) == entries_before
        assert s.scalar(select(Title.name).where(Title.name == "Made elsewhere")) == "Made elsewhere"


def test_editors_edit_admins_run_the_taxonomy(team):
    ws = team
    with ws.transaction() as s:
        catalog.create_title(s, name="Harbour Lights", actor="ed", cast=["Mira Sol"])  # new cast tag: fine
    with pytest.raises(auth.PermissionDenied, match="needs an admin"), ws.transaction() as s:
        taxonomy.add_facet(s, "mood", "", "ed")
    with ws.transaction() as s:
        taxonomy.add_facet(s, "mood", "", "ada")


def test_anyone_may_change_their_own_password_and_nothing_else_of_their_account(team):
    from artdash.db.models import User

    with team.transaction() as s:
        auth.set_password(s, "vic", "a new long password", "vic")
    with team.session() as s:
        assert auth.sign_in(s, "vic", "a new long password").name == "vic"
    with pytest.raises(auth.PermissionDenied, match="vic is a viewer"), team.transaction() as s:
        auth.set_password(s, "ed", "a new long password", "vic")
    with pytest.raises(auth.PermissionDenied, match="vic is a viewer"), team.transaction() as s:
        auth.authorize(s, "vic", "viewer")
        me = s.scalar(select(User).where(User.name == "vic"))
        me.role, me.password_hash = "admin", auth.hash_password("a new long password")
        s.flush()
    with team.session() as s:
        assert {u.name: u.role for u in auth.list_users(s)}["vic"] == "viewer"


def test_unknown_actor_is_refused(team):
    with pytest.raises(auth.PermissionDenied, match="sign in first"), team.transaction() as s:
        catalog.create_title(s, name="Ghost", actor="mallory")


def test_sign_in_and_brute_force_lockout(team):
    ws = team
    with ws.session() as s:
        assert auth.sign_in(s, "ed", PASSWORD).role == "editor"
    now = clock.now()
    for _ in range(auth.FREE_FAILURES):
        with ws.session() as s, pytest.raises(auth.SignInError, match="wrong user name or password"):
            auth.sign_in(s, "ed", "guess", now=now)
    # Now locked: even the right password waits — and the answer is the one a wrong password
    # or an unknown name gets, so a lock tells nobody which names exist.
    with ws.session() as s, pytest.raises(auth.SignInError) as locked:
        auth.sign_in(s, "ed", PASSWORD, now=now)
    with ws.session() as s, pytest.raises(auth.SignInError) as unknown:
        auth.sign_in(s, "nobody", PASSWORD, now=now)
    with ws.session() as s, pytest.raises(auth.SignInError) as wrong:
        auth.sign_in(s, "ada", "guess", now=now)
    assert str(locked.value) == str(unknown.value) == str(wrong.value) == auth.SIGN_IN_REFUSED
    with ws.session() as s:
        assert auth.sign_in(s, "ed", PASSWORD, now=now + timedelta(seconds=5)).name == "ed"
    assert [auth.lock_seconds(n) for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    assert auth.lock_seconds(100) == auth.MAX_LOCK_SECONDS


def test_passwords_are_hashed_and_checked():
    stored = auth.hash_password(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("$argon2id$")
    assert auth.verify_password(stored, PASSWORD) and not auth.verify_password(stored, PASSWORD + "!")
    with pytest.raises(ValidationError, match="at least"):
        auth.hash_password("short")


def test_account_rules(ws):
    with pytest.raises(ValidationError, match="first account must be an admin"), ws.transaction() as s:
        auth.add_user(s, "ed", "editor", "local-admin", PASSWORD)
    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", PASSWORD)
    with pytest.raises(ValidationError, match="last admin"), ws.transaction() as s:
        auth.set_role(s, "ada", "viewer", "ada")
    with pytest.raises(ValidationError, match="last admin"), ws.transaction() as s:
        auth.remove_user(s, "ada", "ada")
    with pytest.raises(ValidationError, match="already a user"), ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "ada", PASSWORD)


def test_every_change_is_in_the_audit_trail_with_before_and_after(team):
    ws = team
    with ws.transaction() as s:
        title = catalog.create_title(s, name="Night Ledger", year=2018, actor="ed")
    with ws.transaction() as s:
        catalog.update_title(s, title.id, actor="ed", expected_version=None, name="Night Ledger", year=2019, kind="movie", synopsis="")
    with ws.transaction() as s:
        lab_store.promote(s, "best-single", "ada", note="won")
    with ws.session() as s:
        trail = audit.entries(s, entity="titles")
        promotions = audit.entries(s, entity="policy_promotions")
        users = audit.entries(s, entity="users")
        by_ed = audit.entries(s, actor="ed")
    update = trail[trail["action"] == "update"].iloc[0]
    assert update["who"] == "ed" and update["before"]["year"] == 2018 and update["after"]["year"] == 2019
    create = trail[trail["action"] == "create"].iloc[0]
    assert create["after"]["name"] == "Night Ledger" and create["id"] == str(title.id)
    assert promotions.iloc[0]["who"] == "ada" and promotions.iloc[0]["after"]["policy"] == "best-single"
    assert all("password" not in str(v) or "(set)" in str(v) for v in users["after"])
    assert set(by_ed["who"]) == {"ed"}
    with ws.session() as s:
        assert "ada" in audit.actors(s) and "titles" in audit.entity_names(s)


def test_a_refused_change_leaves_no_trace(team):
    with pytest.raises(auth.PermissionDenied), team.transaction() as s:
        catalog.create_title(s, name="Nope", actor="vic")
    with team.session() as s:
        assert audit.entries(s, actor="vic").empty


def test_stay_signed_in_tokens_are_signed_expire_and_end_with_the_password(team, tmp_path):
    key = b"k" * 32
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    with team.session() as s:
        token = auth.issue_token(s, "ed", key, hours=12, now=now)
        assert auth.verify_token(s, token, key, now=now + timedelta(hours=11)).name == "ed"
        assert auth.verify_token(s, token, key, now=now + timedelta(hours=13)) is None      # expired
        assert auth.verify_token(s, token, b"x" * 32, now=now) is None                      # another server's key
        payload, mac = token.split(".")
        forged = auth.issue_token(s, "ada", key, hours=12, now=now).split(".")[0] + "." + mac
        assert auth.verify_token(s, forged, key, now=now) is None                           # someone else's name
        # (the non-ASCII one once raised TypeError from hmac.compare_digest; found by test_fuzz)
        for junk in (None, "", "abc", "a.b.c", "!!!.00", payload + ".", "." + mac, payload + "." + "é" * 64):
            assert auth.verify_token(s, junk, key, now=now) is None
    with team.transaction() as s:
        auth.set_password(s, "ed", "a brand new password", "ed")
    with team.session() as s:
        assert auth.verify_token(s, token, key, now=now) is None                            # new password
        again = auth.issue_token(s, "ed", key, hours=12, now=now)
    with team.session() as s:
        auth.sign_out(s, "ed")
    with team.session() as s:
        assert auth.verify_token(s, again, key, now=now) is None                            # signed out
        again = auth.issue_token(s, "ed", key, hours=12, now=now)
        assert auth.verify_token(s, again, key, now=now).name == "ed"                       # signing in again
    with team.transaction() as s:
        auth.remove_user(s, "ed", "ada")
    with team.session() as s:
        assert auth.verify_token(s, again, key, now=now) is None                            # account gone
        assert audit.entries(s, entity="users")["after"].map(lambda a: "session_epoch" in (a or {})).sum() == 0


def test_each_trail_entry_is_summarised_in_one_line():
    assert audit.summarize("update", {"status": "draft", "label": "a"}, {"status": "active", "label": "a"}) \
        == "status: draft → active"
    assert audit.summarize("update", {"tags": [1, 2]}, {"tags": [1, 2, 3]}) == "tags: [1, 2] → [1, 2, 3]"
    assert audit.summarize("create", None, {"id": 4, "name": "Night Ledger", "year": 2018}) == "name Night Ledger"
    assert audit.summarize("delete", {"id": 9, "label": "old poster", "status": "draft"}, None) \
        == "label old poster, status draft"
    assert audit.summarize("import", None, {"file": "log.csv", "rows": 3}) == "file log.csv"
    assert audit.summarize("update", {"synopsis": "x" * 100}, {"synopsis": "y"}).endswith("… → y")


def test_every_session_factory_is_guarded_even_at_a_dead_ones_address():
    """SQLAlchemy keys listeners by id(target): a factory at the address of a dead one whose
    listeners the cyclic GC had not collected yet looked guarded already, and its sessions went
    unchecked (seen as a flaky test; with the old check, 1,941 of 2,000 factories made in a row
    were unguarded). Every factory the workspace guards must check its sessions."""
    import gc

    from artdash.db.engine import make_engine, session_factory

    engine = make_engine("sqlite://")
    unguarded = 0
    for i in range(300):
        sessions = audit.guard(session_factory(engine))
        with sessions() as s:
            unguarded += len(s.dispatch.before_flush) == 0 or len(s.dispatch.after_flush) == 0
        del sessions
        if i % 7 == 0:
            gc.collect()
    engine.dispose()
    assert unguarded == 0
