"""Who may change what: roles, local accounts, sign-in.

Roles, from least to most: **viewer** (reads everything), **editor** (titles, uploads, tags on
artwork, personas, lab runs), **admin** (taxonomy, users, imports, deletions, policy promotion).

With no account in the ``users`` table (the embedded default), everyone is the local admin.
Once an account exists, every change needs a known actor with the role for it: each mutating
function calls :func:`authorize`, and a flush guard (``artdash.access.audit``) refuses any change of a
catalog row made in a session nobody was authorised in — so permissions hold even for code
that calls the data layer directly. The command line is trusted (it has the database itself).

Passwords are hashed with Argon2id (salted, slow). Repeated failed sign-ins lock the account
for a growing while (2, 4, 8 … seconds after the third failure, at most 15 minutes). A browser
stays signed in through a signed token (:func:`issue_token`) for ARTDASH_SESSION_HOURS; a new
password or removing the account ends it everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, func, or_, select, update
from sqlalchemy.orm import Session

from artdash import clock
from artdash.config import LOCAL_ADMIN
from artdash.db.models import ROLES, User
from artdash.errors import ArtdashError, NotFoundError, ValidationError

RANK = {role: i for i, role in enumerate(ROLES)}
FREE_FAILURES = 3
MAX_LOCK_SECONDS = 900
MIN_PASSWORD = 10
_NAME = re.compile(r"^[\w.@+-]{2,120}$")


class PermissionDenied(ArtdashError):
    """The acting user's role does not allow this change."""


class SignInError(ArtdashError):
    """Wrong name or password, or the account is locked for a while."""


def accounts_enabled(session: Session) -> bool:
    """True once any account exists (then changes need a signed-in user)."""
    cached = session.info.get("accounts_enabled")
    if cached is None:
        with session.no_autoflush:
            cached = bool(session.scalar(select(func.count()).select_from(User)))
        session.info["accounts_enabled"] = cached
    return cached


def role_of(session: Session, actor: str) -> str:
    """The role of account ``name`` (``admin`` for the local admin when accounts are off); None if unknown."""
    if session.info.get("trusted") or not accounts_enabled(session):
        return "admin"
    with session.no_autoflush:
        user = session.scalar(select(User).where(User.name == actor))
    if user is None:
        raise PermissionDenied(f"{actor!r} is not a user of this ArtDash: sign in first")
    return user.role


def current_role(session: Session, name: str) -> str | None:
    """The role of the account ``name`` now, or None if there is no such account."""
    return session.scalar(select(User.role).where(User.name == name))


def authorize(session: Session, actor: str, needs: str) -> str:
    """Check that ``actor`` may make a change that needs role ``needs``; remembers the actor
    on the session for the audit trail. Returns the actor's role."""
    role = role_of(session, actor)
    if RANK[role] < RANK[needs]:
        raise PermissionDenied(f"{actor} is {_article(role)} {role}; this needs {_article(needs)} {needs}. "
                               f"Ask an admin to run: artdash user set-role {actor} {needs}")
    held = session.info.get("role")
    if held is None or RANK[role] > RANK[held] or session.info.get("actor") != actor:
        session.info["role"], session.info["actor"] = role, actor
    return role


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


# --- accounts -------------------------------------------------------------------------------------

def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """A salted Argon2 hash of ``password`` (refused when too short: see :data:`MIN_PASSWORD`)."""
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``hashed`` (False, never an error, for a malformed hash)."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not stored:
        return False
    try:
        return _hasher().verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class UserView:
    """An account as the pages and the CLI see it (never its password hash)."""
    id: int
    name: str
    role: str
    has_password: bool
    created_at: datetime
    failed_sign_ins: int = 0
    locked_until: datetime | None = None


def _view(user: User) -> UserView:
    return UserView(user.id, user.name, user.role, bool(user.password_hash), user.created_at,
                    user.failed_sign_ins or 0, user.locked_until)


def _clean_role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in ROLES:
        raise ValidationError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return value


def _clean_name(name: str) -> str:
    value = (name or "").strip()
    if not _NAME.match(value):
        raise ValidationError("a user name is 2–120 letters, digits or . _ @ + - (an e-mail address works)")
    return value


def list_users(session: Session) -> list[UserView]:
    """Every account, by name, with its failed sign-ins and lock."""
    return [_view(u) for u in session.scalars(select(User).order_by(User.name))]


def add_user(session: Session, name: str, role: str, actor: str, password: str | None = None) -> UserView:
    """A local account (with a password) or an OIDC identity's role (without)."""
    name, role = _clean_name(name), _clean_role(role)
    if accounts_enabled(session):
        authorize(session, actor, "admin")
    elif role != "admin":
        raise ValidationError("the first account must be an admin, or nobody could manage the others")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ValidationError(f"there is already a user called {name!r}")
    user = User(name=name, role=role, password_hash=hash_password(password) if password else None)
    session.info.setdefault("actor", actor)
    session.info.setdefault("role", "admin")
    session.add(user)
    session.flush()
    session.info["accounts_enabled"] = True
    return _view(user)


def _get(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == (name or "").strip()))
    if user is None:
        raise NotFoundError(f"there is no user called {name!r}; `artdash user list` shows them")
    return user


def _admins_left(session: Session, without: User) -> int:
    return session.scalar(select(func.count()).select_from(User)
                          .where(User.role == "admin", User.id != without.id)) or 0


def set_role(session: Session, name: str, role: str, actor: str) -> UserView:
    """Change an account's role (admins only; the last admin cannot be demoted)."""
    authorize(session, actor, "admin")
    user, role = _get(session, name), _clean_role(role)
    if user.role == "admin" and role != "admin" and not _admins_left(session, user):
        raise ValidationError(f"{name} is the last admin; make someone else admin first")
    user.role = role
    session.flush()
    return _view(user)


def set_password(session: Session, name: str, password: str, actor: str) -> UserView:
    """Set an account's password (admins for anyone, everyone for their own); ends its other sign-ins."""
    if actor != name:
        authorize(session, actor, "admin")
    else:
        authorize(session, actor, "viewer")
    user = _get(session, name)
    user.password_hash = hash_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    session.flush()
    return _view(user)


def remove_user(session: Session, name: str, actor: str) -> None:
    """Remove an account (admins only; never the last admin)."""
    authorize(session, actor, "admin")
    user = _get(session, name)
    if user.role == "admin" and not _admins_left(session, user):
        raise ValidationError(f"{name} is the last admin and cannot be removed")
    session.delete(user)
    session.flush()


# One answer for a wrong password, an unknown name and a locked account: which names exist, and
# which are locked, is nobody's business before they are signed in.
SIGN_IN_REFUSED = ("wrong user name or password — after several failed tries an account waits a while "
                   "before the next one, so if you are sure of it, try again in a minute")


def lock_seconds(failures: int) -> int:
    """How long an account waits after its ``failures``-th failed try in a row (0 before the
    free ones are used up, then 2, 4, 8 … seconds, at most :data:`MAX_LOCK_SECONDS`)."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(2 ** (failures - FREE_FAILURES + 1), MAX_LOCK_SECONDS))


def sign_in(session: Session, name: str, password: str, now: datetime | None = None) -> UserView:
    """Check a local account's password. Failed attempts past the third lock the account for
    a doubling while. Commits (the failure count must stick even though an error is raised):
    pass a plain session, not one inside ``ws.transaction()``.

    Each attempt first *reserves* itself with one atomic UPDATE — counted, and the lock for
    that count set, if the account is not locked now — and only then spends the slow hash, so
    parallel guesses get no more tries than sequential ones (SQLite and PostgreSQL alike)."""
    now = now or clock.now()
    name = (name or "").strip()
    users = cast(Table, User.__table__)
    u = users.c
    # The lock an attempt sets if it turns out wrong: by the attempt's number, in SQL, so the
    # reservation and its lock are one statement.
    count = u.failed_sign_ins + 1
    lock_at = case(*((count == n, now + timedelta(seconds=lock_seconds(n)))
                     for n in range(FREE_FAILURES, FREE_FAILURES + 11)),
                   else_=case((count >= FREE_FAILURES, now + timedelta(seconds=MAX_LOCK_SECONDS)),
                              else_=u.locked_until))
    reserved = session.execute(
        update(users)
        .where(u.name == name, or_(u.locked_until.is_(None), u.locked_until <= now))
        .values(failed_sign_ins=count, locked_until=lock_at)
        .returning(u.password_hash)).first()
    session.commit()
    if reserved is None:
        # Unknown or locked: the same answer and (roughly) the same work as a wrong password.
        verify_password(_DUMMY_HASH, password)
        raise SignInError(SIGN_IN_REFUSED)
    if not verify_password(reserved.password_hash, password):
        raise SignInError(SIGN_IN_REFUSED)
    user = session.scalar(select(User).where(User.name == name))
    assert user is not None  # reserved above; accounts are not removed mid-sign-in
    session.info["trusted"] = True  # sign-in bookkeeping is not a change by a user
    session.info["actor"] = f"sign-in: {user.name}"
    user.failed_sign_ins, user.locked_until = 0, None
    view = _view(user)
    session.commit()
    return view


def issue_token(session: Session, name: str, key: bytes, hours: float, now: datetime | None = None) -> str:
    """A "stay signed in" token for a local account: its name and expiry, signed with ``key``,
    the account's password hash and its session epoch — so a new password, signing out or
    removing the account ends every browser's sign-in at once."""
    user = _get(session, name)
    expires = int((now or clock.now()).timestamp() + hours * 3600)
    payload = base64.urlsafe_b64encode(f"{user.name}|{expires}".encode()).decode().rstrip("=")
    return f"{payload}.{_token_mac(key, user, payload)}"


def verify_token(session: Session, token: str | None, key: bytes, now: datetime | None = None) -> UserView | None:
    """The account a token from :func:`issue_token` signs in, or None (forged, expired,
    malformed, or the account or its password changed since)."""
    if not (token or "").isascii():   # a real token is base64url and hex: anything else is forged
        return None
    try:
        payload, mac = (token or "").split(".")
        name, expires_text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().rsplit("|", 1)
        expires = int(expires_text)
    except (ValueError, UnicodeDecodeError):
        return None
    if expires < (now or clock.now()).timestamp():
        return None
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not user.password_hash or not hmac.compare_digest(mac.encode(), _token_mac(key, user, payload).encode()):
        return None
    return _view(user)


def _token_mac(key: bytes, user: User, payload: str) -> str:
    secret = key + b"|" + (user.password_hash or "").encode() + b"|" + str(user.session_epoch or 0).encode()
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def sign_out(session: Session, name: str) -> None:
    """End every stay-signed-in cookie of the account (all its browsers). Commits: like
    sign-in bookkeeping, it is not a change by a user (pass a plain session)."""
    user = session.scalar(select(User).where(User.name == (name or "").strip()))
    if user is None:
        return
    session.info["trusted"] = True
    session.info["actor"] = f"sign-out: {user.name}"
    user.session_epoch = (user.session_epoch or 0) + 1
    session.commit()


def oidc_role(session: Session, email: str) -> str:
    """The role of someone signed in through the OIDC provider: theirs if listed, else viewer."""
    user = session.scalar(select(User).where(User.name == (email or "").strip()))
    return user.role if user is not None else "viewer"


def describe_mode(session: Session) -> str:
    """One sentence on how people sign in here (no accounts, local accounts or an identity provider)."""
    return "accounts" if accounts_enabled(session) else "open"


_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$ZL3+JxO2K6bC0kGZ0M2kq7cX0dMZ3c0G0O7B0G7y0kM"
LOCAL_USER = LOCAL_ADMIN
