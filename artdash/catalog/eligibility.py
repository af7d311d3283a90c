"""Where, when and to whom a variant may be shown: a hard filter, not a preference.

A variant may be shown to a member only if it is active and approved, ``now`` is inside its
availability window, the member's country is one of its territories (none listed: everywhere),
the member's language is one of its languages (none listed: every language; a localisation
without a list is limited to its own locale's language), and its maturity rating is within the
member's limit (a member without a limit sees every rating). The decision service, Preview and
the Policy lab all apply these rules; nothing outside them is decided, previewed or simulated
as shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from artdash.access.auth import authorize
from artdash.db.models import Variant
from artdash.errors import NotFoundError, ValidationError

MATURITY = ("all", "7+", "13+", "16+", "18+")
MATURITY_RANK = {m: i for i, m in enumerate(MATURITY)}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
UNCHANGED = object()


@dataclass(frozen=True)
class Eligibility:
    """A variant's showing rules (see the module)."""

    territories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    available_from: datetime | None = None
    available_until: datetime | None = None
    maturity: str = "all"
    approved: bool = True

    @property
    def unrestricted(self) -> bool:
        """Whether nothing limits it (shown wherever its status allows)."""
        return self == Eligibility()

    def summary(self) -> str:
        """One line for people: ``FR, BE · fr · from 2027-01-01 · 13+ · on hold``."""
        parts = []
        if self.territories:
            parts.append(", ".join(self.territories))
        if self.languages:
            parts.append(", ".join(self.languages))
        if self.available_from:
            parts.append(f"from {self.available_from:%Y-%m-%d}")
        if self.available_until:
            parts.append(f"until {self.available_until:%Y-%m-%d}")
        if self.maturity != "all":
            parts.append(self.maturity)
        if not self.approved:
            parts.append("on hold")
        return " · ".join(parts) or "everywhere, always"

    def refusal(self, country: str, language: str, maturity: str, when: datetime) -> str:
        """Why it may not be shown to this member now ('' when it may)."""
        if not self.approved:
            return "on hold (not approved)"
        if self.available_from and when < aware(self.available_from):
            return f"not available before {self.available_from:%Y-%m-%d %H:%M}"
        if self.available_until and when >= aware(self.available_until):
            return f"not available since {self.available_until:%Y-%m-%d %H:%M}"
        if self.territories and country.upper() not in self.territories:
            return f"not shown in {country or 'an unknown country'}"
        if self.languages and not language_matches(self.languages, language):
            return f"not shown in {language or 'an unknown language'}"
        if maturity and MATURITY_RANK.get(self.maturity, 0) > MATURITY_RANK.get(maturity, len(MATURITY)):
            return f"rated {self.maturity}, above the member's {maturity}"
        return ""


def aware(moment: datetime) -> datetime:
    """``moment`` as aware UTC (SQLite gives naive datetimes back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def language_matches(languages: Sequence[str], locale: str) -> bool:
    """Whether a member's ``locale`` (``fr-FR``) is one of ``languages`` (``fr`` covers every
    ``fr-*``; ``fr-CA`` only itself and its own subtags)."""
    loc = (locale or "").strip().lower().replace("_", "-")
    if not loc:
        return False
    return any(loc == lang.lower() or loc.startswith(lang.lower() + "-") for lang in languages)


def of_variant(v: Variant) -> Eligibility:
    """The rules stored on a variant row (a localisation without languages: its locale's language)."""
    languages = tuple(v.languages or ())
    if not languages and v.lineage_kind == "localisation" and v.locale:
        languages = (v.locale.split("-")[0].lower(),)
    return Eligibility(tuple(v.territories or ()), languages,
                       aware(v.available_from) if v.available_from else None,
                       aware(v.available_until) if v.available_until else None, v.maturity or "all",
                       bool(v.approved))


def clean_territories(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"fr, be"`` or ``["FR", "BE"]`` → ``("BE", "FR")``; refuses anything but 2-letter codes."""
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value or ())
    out = sorted({i.strip().upper() for i in items if i and i.strip()})
    bad = [c for c in out if not _COUNTRY.match(c)]
    if bad:
        raise ValidationError(f"territories must be two-letter country codes such as FR or US (not {bad[0]!r})")
    return tuple(out)


def clean_languages(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"fr, pt-BR"`` → ``("fr", "pt-BR")``; refuses what is not a language tag."""
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value or ())
    out = []
    for item in items:
        text = item.strip().replace("_", "-") if item else ""
        if not text:
            continue
        first, *rest = text.split("-")
        text = "-".join([first.lower(), *[r.upper() if len(r) == 2 else r for r in rest]])
        if not _LANGUAGE.match(text):
            raise ValidationError(f"languages must be language tags such as fr, en or pt-BR (not {item.strip()!r})")
        if text not in out:
            out.append(text)
    return tuple(sorted(out))


def clean_maturity(value: str | None) -> str:
    """One of :data:`MATURITY`."""
    text = (value or "all").strip().lower()
    if text not in MATURITY:
        raise ValidationError(f"maturity {value!r} must be one of {', '.join(MATURITY)}")
    return text


def set_eligibility(session: Session, variant_ids: Sequence[int], actor: str, *, territories=UNCHANGED,
                    languages=UNCHANGED, available_from=UNCHANGED, available_until=UNCHANGED,
                    maturity=UNCHANGED, approved=UNCHANGED) -> int:
    """Set the given rules on every variant of ``variant_ids`` (editors), in the caller's
    transaction: all of them or none. Rules not given are left as they are. Returns how many
    variants changed."""
    authorize(session, actor, "editor")
    ids = list(dict.fromkeys(int(v) for v in variant_ids))
    if not ids:
        raise ValidationError("select at least one variant")
    values: dict = {}
    if territories is not UNCHANGED:
        values["territories"] = list(clean_territories(territories))
    if languages is not UNCHANGED:
        values["languages"] = list(clean_languages(languages))
    for name, moment in (("available_from", available_from), ("available_until", available_until)):
        if moment is not UNCHANGED:
            if moment is not None and not isinstance(moment, datetime):
                raise ValidationError(f"{name.replace('_', ' ')} must be a date and time, or empty")
            values[name] = aware(moment) if moment is not None else None
    if maturity is not UNCHANGED:
        values["maturity"] = clean_maturity(maturity)
    if approved is not UNCHANGED:
        values["approved"] = bool(approved)
    found = [session.get(Variant, i) for i in ids]
    missing = [i for i, v in zip(ids, found) if v is None]
    if missing:
        raise NotFoundError(f"variant #{missing[0]} does not exist (deleted?); reload and select again")
    rows = [v for v in found if v is not None]
    for v in rows:
        start = values.get("available_from", v.available_from)
        end = values.get("available_until", v.available_until)
        if start is not None and end is not None and aware(end) <= aware(start):
            raise ValidationError(f"variant #{v.id}: the window must end after it starts "
                                  f"({aware(start):%Y-%m-%d} … {aware(end):%Y-%m-%d}); nothing was changed")
    changed = 0
    for v in rows:
        before = of_variant(v)
        for name, value in values.items():
            setattr(v, name, value)
        if of_variant(v) != before:
            v.updated_by = actor
            changed += 1
    session.flush()
    return changed
