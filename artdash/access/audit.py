"""The audit trail, and the guard that makes permissions hold for every change.

Every ORM change to a catalog row (titles, artwork, tags, taxonomy, personas, viewing history,
lab runs, promotions, users) is seen twice at flush time:

- **before** the flush, the guard checks that the session's authorised role may make it
  (see :mod:`artdash.access.auth`), and refuses the whole flush otherwise;
- **after** the flush (same transaction), one ``audit_log`` row per changed object records
  who, when, the action, the entity and its id, and the values before and after.

Changes made outside the ORM (impression imports, deletions of simulated data) are recorded
with :func:`record`. Password hashes never enter the trail.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from artdash import clock
from artdash.db import models as m

if TYPE_CHECKING:
    import pandas as pd

# entity class → role needed to (create, update, delete) it
RULES: dict[type, tuple[str, str, str]] = {
    m.Title: ("editor", "editor", "admin"),
    m.TitleTag: ("editor", "editor", "editor"),
    m.Variant: ("editor", "editor", "admin"),
    m.VariantTag: ("editor", "editor", "editor"),
    m.TagSuggestion: ("editor", "editor", "editor"),
    m.EditorsPick: ("editor", "editor", "editor"),
    m.Facet: ("admin", "admin", "admin"),
    m.Tag: ("editor", "admin", "admin"),       # editors add cast names; renames and merges are taxonomy work
    m.Persona: ("editor", "editor", "admin"),
    m.PersonaAffinity: ("editor", "editor", "editor"),
    m.ViewingRecord: ("admin", "admin", "admin"),
    m.LabRun: ("editor", "editor", "admin"),
    m.PolicyPromotion: ("admin", "admin", "admin"),
    m.User: ("admin", "admin", "admin"),
    m.ApiKey: ("admin", "admin", "admin"),
    m.PolicyShadow: ("admin", "admin", "admin"),
}
ACTIONS = ("create", "update", "delete")
QUIET_COLUMNS = {"failed_sign_ins", "locked_until", "session_epoch", "last_used_at"}   # sign-in bookkeeping, not an edit
SECRET_COLUMNS = {"password_hash", "secret_hash"}
# An update that changes only these says nothing (e.g. a variant touched so that its version
# steps when only its tags changed: the tags' own entries say what changed).
BOOKKEEPING_COLUMNS = {"updated_at", "updated_by", "version"}
SELF_SERVICE_COLUMNS = SECRET_COLUMNS | QUIET_COLUMNS  # what anyone may change on their own account
MAX_VALUE_CHARS = 2000


def _changes(session: Session) -> list[tuple[object, str]]:
    out = [(o, "create") for o in session.new if type(o) in RULES]
    out += [(o, "update") for o in session.dirty if type(o) in RULES and session.is_modified(o)]
    out += [(o, "delete") for o in session.deleted if type(o) in RULES]
    return out


def _guard(session: Session, flush_context, instances) -> None:
    from artdash.access.auth import RANK, PermissionDenied, accounts_enabled

    changes = _changes(session)
    if not changes or session.info.get("trusted") or session.info.get("system"):
        return
    role = session.info.get("role")
    if role is None:
        if not accounts_enabled(session):
            return  # the embedded default: everyone is the local admin
        raise PermissionDenied("changes need a signed-in user with the right role; nothing was saved")
    for obj, action in changes:
        needs = RULES[type(obj)][ACTIONS.index(action)]
        if _own_password(session, obj, action):
            needs = "viewer"
        if RANK[role] < RANK[needs]:
            name = inspect(obj).mapper.local_table.name.replace("_", " ")
            raise PermissionDenied(f"{session.info.get('actor')} is {'an' if role[0] in 'aeiou' else 'a'} {role}: "
                                   f"to {action} {name} needs {'an' if needs[0] in 'aeiou' else 'a'} {needs}; "
                                   "nothing was saved")


def _own_password(session: Session, obj: object, action: str) -> bool:
    """A person changing only their own password (any role may)."""
    if not (isinstance(obj, m.User) and action == "update" and obj.name == session.info.get("actor")):
        return False
    changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
    return changed <= SELF_SERVICE_COLUMNS


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list):
        text = str(value)
        return value if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _values(obj, columns) -> dict:
    out = {}
    for c in columns:
        if c.key in SECRET_COLUMNS:
            out[c.key] = "(set)" if getattr(obj, c.key) else None
        elif c.key not in QUIET_COLUMNS:
            out[c.key] = _plain(getattr(obj, c.key))
    return out


def _entity_id(obj) -> str:
    identity = inspect(obj).identity
    if identity:
        return "/".join(str(v) for v in identity)
    mapper = inspect(obj).mapper
    return "/".join(str(getattr(obj, c.key)) for c in mapper.primary_key)


def _record_flush(session: Session, flush_context) -> None:
    changes = _changes(session)
    if not changes:
        return
    actor = session.info.get("actor") or ("system" if session.info.get("system") else "local-admin")
    now = clock.now()
    rows = []
    for obj, action in changes:
        mapper = inspect(obj).mapper
        columns = list(mapper.columns)
        before = after = None
        if action == "create":
            after = _values(obj, columns)
        elif action == "delete":
            before = _values(obj, columns)
        else:
            state = inspect(obj)
            before, after = {}, {}
            for c in columns:
                if c.key in QUIET_COLUMNS:
                    continue
                history = state.attrs[c.key].history
                if history.has_changes():
                    old = history.deleted[0] if history.deleted else None
                    new = history.added[0] if history.added else None
                    if c.key in SECRET_COLUMNS:
                        old, new = "(set)" if old else None, "(changed)"
                    before[c.key], after[c.key] = _plain(old), _plain(new)
            if not after or set(after) <= BOOKKEEPING_COLUMNS:
                continue
        rows.append({"at": now, "actor": actor, "action": action, "entity": mapper.local_table.name,
                     "entity_id": _entity_id(obj), "before": before, "after": after})
    if rows:
        session.connection().execute(insert(m.AuditEntry), rows)


def record(session: Session, actor: str, action: str, entity: str, entity_id: str | int = "",
           before: dict | None = None, after: dict | None = None) -> None:
    """Record a change made outside the ORM (an import, a deletion of simulated data)."""
    session.add(m.AuditEntry(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                             before={k: _plain(v) for k, v in (before or {}).items()} or None,
                             after={k: _plain(v) for k, v in (after or {}).items()} or None))


def guard(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Attach the permission guard and the audit recorder to the sessions of ``sessions``
    (the workspace's own factory; SQLAlchemy's global ``Session`` class is left alone, so a
    session made elsewhere — another library, a test — is neither guarded nor recorded).
    Idempotent; returns ``sessions``."""
    # A mark on the factory itself, not event.contains(): SQLAlchemy keys its registry by
    # id(target), and a new factory can reuse the id of a dead one whose listeners the cyclic
    # GC has not collected yet — contains() then says True and the new factory goes unguarded.
    if not getattr(sessions, GUARDED, False):
        event.listen(sessions, "before_flush", _guard)
        event.listen(sessions, "after_flush", _record_flush)
        setattr(sessions, GUARDED, True)
    return sessions


GUARDED = "_artdash_guarded"


def entries(session: Session, actor: str | None = None, entity: str | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int = 5000) -> pd.DataFrame:
    """The trail, newest first, filtered by person, entity and time."""
    import pandas as pd  # heavy: only the pages and commands that show the trail load it

    e = m.AuditEntry
    query = select(e).order_by(e.id.desc()).limit(limit)
    if actor:
        query = query.where(e.actor == actor)
    if entity:
        query = query.where(e.entity == entity)
    if since is not None:
        query = query.where(e.at >= since)
    if until is not None:
        query = query.where(e.at <= until)
    rows = [{"entry": r.id, "when": r.at, "who": r.actor, "action": action_name(r.action, r.entity, r.after),
             "entity": r.entity, "id": r.entity_id, "before": r.before, "after": r.after}
            for r in session.scalars(query)]
    return pd.DataFrame(rows, columns=["entry", "when", "who", "action", "entity", "id", "before", "after"])


def action_name(action: str, entity: str, after: dict | None) -> str:
    """What a person calls the change: a row added to the append-only promotion history is a
    promotion or a demotion, not a "create"."""
    if entity == "policy_promotions" and action == "create" and after and after.get("action"):
        return str(after["action"])
    return action


def search(trail: pd.DataFrame, text: str) -> pd.DataFrame:
    """The entries whose person, action, entity, id or values contain ``text`` (any case)."""
    needle = text.strip().casefold()
    if not needle or trail.empty:
        return trail
    haystack = trail[["who", "action", "entity", "id"]].astype(str).agg(" ".join, axis=1) + " " + \
        trail["before"].map(_searchable) + " " + trail["after"].map(_searchable)
    return trail[haystack.str.casefold().str.contains(needle, regex=False)]


def _searchable(values: Any) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False)


def actors(session: Session) -> list[str]:
    """Everyone who appears in the trail, for the page's filter."""
    return list(session.scalars(select(m.AuditEntry.actor).group_by(m.AuditEntry.actor).order_by(m.AuditEntry.actor)))


def entity_names(session: Session) -> list[str]:
    """Every kind of entity the trail has entries for, for the page's filter."""
    return list(session.scalars(select(m.AuditEntry.entity).group_by(m.AuditEntry.entity)
                                .order_by(m.AuditEntry.entity)))


_NAME_FIELDS = ("name", "label", "title", "key", "status", "role", "policy", "file")


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def summarize(action: str, before: dict | None, after: dict | None) -> str:
    """One line saying what a trail entry changed: the fields that differ for an update
    ("status: draft → active"), the identifying fields of what was created or deleted."""
    before, after = before or {}, after or {}
    if action == "update":
        changed = [k for k in after if before.get(k) != after.get(k)] + [k for k in before if k not in after]
        return "; ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in changed) or "no change"
    values = after or before
    named = [k for k in _NAME_FIELDS if k in values] or list(values)[:3]
    return ", ".join(f"{k} {_short(values[k])}" for k in named)
