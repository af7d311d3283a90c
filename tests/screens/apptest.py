"""Running a screen in AppTest: open it as the router would, find widgets by label, build logs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from artdash import catalog
from artdash.db.models import Variant

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"screens/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def labelled(widgets, label):
    """The one widget with this label."""
    found = [w for w in widgets if shown(w.label) == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}"
    return found[0]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def title_id(ws, name="Harbour Lights") -> str:
    with ws.session() as s:
        return str(next(t.id for t in catalog.list_titles(s) if t.name == name))


def personas_list(session):
    from artdash.catalog import personas as P

    with session:
        return P.list_personas(session)


def personas_get(session, persona_id):
    from artdash.catalog import personas as P

    return P.get_persona(session, persona_id)


def clear_ab_log(ws, rates: dict[int, float], n: int = 3000) -> None:
    """A log where each variant has the given quality take rate exactly (n impressions each)."""
    from artdash.results.service import import_log

    with ws.session() as s:
        title_of = {v.id: v.title_id for v in s.scalars(select(Variant))}
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds"]
    for variant, rate in rates.items():
        quality = int(rate * n)
        for i in range(n):
            lines.append(f"ab-{variant}-{i},2026-11-{1 + i % 20:02d}T10:00:00Z,m{i},{title_of[variant]},{variant},"
                         f"uniform,0.33,{'true' if i < quality else 'false'},{600 if i < quality else 0}")
    import_log(ws, ("\n".join(lines) + "\n").encode(), "ab.csv", "local-admin")


def add_team(ws):
    from artdash.access import auth

    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
        auth.add_user(s, "vic", "viewer", "ada", "correct horse battery")


def sign_in(at: AppTest, name: str, password: str = "correct horse battery") -> AppTest:
    labelled(at.text_input, "User name").set_value(name)
    labelled(at.text_input, "Password").set_value(password)
    return at.button(key="FormSubmitter:sign_in-Sign in").click().run()


def shown(markdown: str) -> str:
    """What a person reads for a Markdown source: backslash escapes undone (user text reaches
    Markdown escaped by artdash.ui.text.md)."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")   # and the word joiner that unlinks addresses
