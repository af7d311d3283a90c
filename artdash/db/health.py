"""Is the database readable at all? SQLite's own integrity check, and one plain sentence when
a database cannot be read (never its SQL or its file paths)."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

MAX_PROBLEMS = 10


def problems(engine: Engine) -> list[str]:
    """What is wrong with the database behind ``engine`` (empty when all is well): SQLite's
    ``PRAGMA integrity_check`` (at most :data:`MAX_PROBLEMS` findings), or — for any database —
    that it cannot be read."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = [str(r[0]) for r in conn.execute(text(f"PRAGMA integrity_check({MAX_PROBLEMS})"))]
                return [] if rows == ["ok"] else [f"integrity check: {r}" for r in rows]
            conn.execute(text("SELECT 1"))
            return []
    except DatabaseError as exc:
        return [unreadable(exc)]


def unreadable(exc: BaseException) -> str:
    """One sentence for a database error, without SQL, parameters or paths."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0] if str(getattr(exc, "orig", exc)) else type(exc).__name__
    if "/" in reason or "\\\\" in reason:  # a path: keep it out of what visitors and logs see
        reason = type(getattr(exc, "orig", exc)).__name__
    return f"the database cannot be read ({reason[:120]})"
