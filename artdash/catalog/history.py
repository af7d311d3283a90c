"""Real members: import viewing histories and derive each member's affinities from them.

A history file (CSV or Parquet) has one row per view with the columns ``member_id``,
``title`` (a catalog title id, or its exact name, case-insensitive), ``watched_at`` (a date
or timestamp; without a zone it is taken as UTC) and ``minutes`` (≥ 0). Every row is checked
first; if any row is bad the report lists them by line number and nothing is imported.

Affinity formula, per member and tag *t* (tags of the watched titles: genre, theme, tone)::

    score(t)    = Σ over views v of the member with t on v's title:  minutes_v · 0.5 ^ (age_v / half_life)
    affinity(t) = score(t) / max over tags of score            (so the strongest taste is 1.0)

where ``age_v`` is the days between the view and the newest view in the member's history,
and ``half_life`` is 90 days by default: a view three months older counts half as much.
Tags with an affinity below 0.05 are dropped as noise.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from artdash import clock, intake
from artdash.access.auth import authorize
from artdash.db.models import Persona, PersonaAffinity, Tag, Title, ViewingRecord, touch
from artdash.errors import RowIssue, RowsRefused, ValidationError

REQUIRED = ("member_id", "title", "watched_at", "minutes")
EARLIEST_VIEW = pd.Timestamp("1900-01-01", tz="UTC")
MAX_FIELD_CHARS = 1_000
HALF_LIFE_DAYS = 90.0
MIN_AFFINITY = 0.05
AFFINITY_FACETS = ("genre", "theme", "tone")
MAX_ISSUES_SHOWN = 50


class HistoryImportError(RowsRefused):
    """A history file with bad rows: nothing was imported. ``issues`` lists them."""


@dataclass(frozen=True)
class HistoryImportReport:
    """What an import did: members created and updated, views added and already there."""
    n_rows: int
    n_new_views: int
    n_members: int
    n_new_members: int
    member_persona_ids: tuple[int, ...]


@dataclass(frozen=True)
class ViewView:
    """One view of a member's history: title, when, how long."""
    title_id: int
    title_name: str
    watched_at: datetime
    minutes: float


def read_history(data: bytes, file_name: str) -> tuple[pd.DataFrame, int]:
    """Parse a CSV or Parquet file into a frame; returns (frame, line offset for messages)."""
    if not data:
        raise HistoryImportError("the file is empty; export the viewing history again")
    try:
        if data[:4] == b"PAR1" or file_name.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            intake.check_columns(pq.ParquetFile(io.BytesIO(data)).schema_arrow.names, REQUIRED)
            frame, offset = pd.read_parquet(io.BytesIO(data)), 1
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise HistoryImportError(f"the file is not UTF-8 text (byte {exc.start} is invalid); save it as "
                                         "UTF-8 CSV and import again") from None
            header = intake.header_line(data[:intake.MAX_HEADER_BYTES + 1]).decode("utf-8-sig", "replace")
            intake.check_columns(next(csv.reader([header.rstrip("\r\n")]), []), REQUIRED)
            frame, offset = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False), 2
    except HistoryImportError:
        raise
    except ValidationError as exc:
        raise HistoryImportError(str(exc)) from None
    except Exception as exc:
        raise HistoryImportError(f"the file cannot be read as CSV or Parquet ({str(exc)[:120]})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise HistoryImportError(f"missing column(s): {', '.join(missing)}; the file needs "
                                 f"{', '.join(REQUIRED)} (found: {intake.some(list(frame.columns))})")
    lengths = [frame[c].str.len().max() for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    longest = int(max((n for n in lengths if pd.notna(n)), default=0))
    if longest > MAX_FIELD_CHARS:
        raise HistoryImportError(f"a field holds {longest:,} characters; a viewing history's fields are at most "
                                 f"{MAX_FIELD_CHARS:,} (member ids, title names, dates, minutes)")
    if frame.empty:
        raise HistoryImportError("the file has a header but no rows")
    return frame, offset


def _title_lookup(session: Session) -> tuple[dict[int, int], dict[str, list[int]]]:
    by_id, by_name = {}, defaultdict(list)
    for title_id, name in session.execute(select(Title.id, Title.name)):
        by_id[title_id] = title_id
        by_name[name.casefold().strip()].append(title_id)
    return by_id, by_name


def validate_history(session: Session, frame: pd.DataFrame, offset: int) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Clean rows (member_id, title_id, watched_at UTC, minutes) and every problem found."""
    by_id, by_name = _title_lookup(session)
    latest_view = pd.Timestamp(clock.now()) + pd.Timedelta(days=1)
    issues: list[RowIssue] = []
    rows = []
    for i, record in enumerate(frame[list(REQUIRED)].itertuples(index=False)):
        line = i + offset
        member, title, watched, minutes = (str(v).strip() if v is not None else "" for v in record)
        ok = True
        if not member or member.lower() == "nan":
            issues.append(RowIssue(line, "member_id", "empty member id"))
            ok = False
        title_id = None
        if title.isdigit() and int(title) in by_id:
            title_id = int(title)
        elif len(by_name.get(title.casefold(), [])) == 1:
            title_id = by_name[title.casefold()][0]
        elif len(by_name.get(title.casefold(), [])) > 1:
            issues.append(RowIssue(line, "title", f"{title!r} names several titles; use the title id instead"))
            ok = False
        else:
            issues.append(RowIssue(line, "title", f"unknown title {title!r}: not a catalog id or name"))
            ok = False
        when = pd.to_datetime(watched, errors="coerce", utc=True) if watched else pd.NaT
        if pd.isna(when):
            issues.append(RowIssue(line, "watched_at", f"{watched!r} is not a date (use e.g. 2026-05-01 or "
                                                       "2026-05-01T20:15:00Z)"))
            ok = False
        elif not EARLIEST_VIEW <= when <= latest_view:
            # e.g. "/1" reads as year 0: a date, but no one watched anything then
            issues.append(RowIssue(line, "watched_at", f"{watched!r} is not a plausible viewing time (between "
                                                       f"{EARLIEST_VIEW:%Y-%m-%d} and tomorrow)"))
            ok = False
        try:
            value = float(minutes)
            if value != value or value < 0:
                raise ValueError
        except ValueError:
            issues.append(RowIssue(line, "minutes", f"{minutes!r} is not a number of minutes ≥ 0"))
            ok = False
        if ok:
            rows.append((member, title_id, when.to_pydatetime(), value))
    clean = pd.DataFrame(rows, columns=["member_id", "title_id", "watched_at", "minutes"])
    return clean, issues


def import_history(session: Session, data: bytes, file_name: str, actor: str,
                   half_life_days: float = HALF_LIFE_DAYS) -> HistoryImportReport:
    """Import a viewing-history file: all rows or none. Members become personas of kind
    'member' (created on first sight); their affinities are recomputed from their full history.
    Re-importing the same views adds nothing."""
    authorize(session, actor, "admin")
    frame, offset = read_history(data, file_name)
    clean, issues = validate_history(session, frame, offset)
    if issues:
        shown = "; ".join(f"line {i.line} ({i.column}): {i.problem}" for i in issues[:5])
        more = f" and {len(issues) - 5} more" if len(issues) > 5 else ""
        raise HistoryImportError(f"{len(issues)} bad row(s), nothing imported — {shown}{more}", issues)
    members, new_members, new_views = [], 0, 0
    for member_id, rows in clean.groupby("member_id", sort=True):
        persona = session.scalar(select(Persona).where(Persona.member_id == member_id))
        if persona is None:
            name = f"Member {member_id}"
            persona = Persona(name=name, key=f"member:{member_id}".casefold(), kind="member", member_id=member_id,
                              description="Tastes derived from imported viewing history.", created_by=actor,
                              updated_by=actor)
            session.add(persona)
            session.flush()
            new_members += 1
        stored = session.execute(select(ViewingRecord.title_id, ViewingRecord.watched_at)
                                 .where(ViewingRecord.persona_id == persona.id)).all()
        existing = {(int(t), _utc(w)) for t, w in stored}
        for row in rows.itertuples(index=False):
            key = (int(row.title_id), _utc(row.watched_at))
            if key in existing:
                continue
            existing.add(key)
            session.add(ViewingRecord(persona_id=persona.id, title_id=key[0], watched_at=key[1],
                                      minutes=float(row.minutes)))
            new_views += 1
        session.flush()
        _recompute_affinities(session, persona, half_life_days, actor)
        members.append(persona.id)
    return HistoryImportReport(n_rows=len(clean), n_new_views=new_views, n_members=len(members),
                               n_new_members=new_members, member_persona_ids=tuple(members))


def _utc(value: datetime) -> datetime:
    value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def derive_affinities(views: Sequence[tuple[datetime, float, Sequence[int]]],
                      half_life_days: float = HALF_LIFE_DAYS) -> dict[int, float]:
    """The formula in the module docstring, on (watched_at, minutes, tag ids of the title) views."""
    if not views:
        return {}
    newest = max(_utc(w) for w, _, _ in views)
    scores: dict[int, float] = defaultdict(float)
    for watched_at, minutes, tag_ids in views:
        age_days = (newest - _utc(watched_at)).total_seconds() / 86400
        weight = minutes * 0.5 ** (age_days / half_life_days)
        for tag_id in tag_ids:
            scores[tag_id] += weight
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return {}
    return {t: round(s / top, 4) for t, s in scores.items() if s / top >= MIN_AFFINITY}


def _recompute_affinities(session: Session, persona: Persona, half_life_days: float, actor: str) -> None:
    records = session.scalars(select(ViewingRecord).where(ViewingRecord.persona_id == persona.id)).all()
    title_ids = {r.title_id for r in records}
    titles = session.scalars(select(Title).where(Title.id.in_(title_ids))
                             .options(selectinload(Title.tags).selectinload(Tag.facet))).all()
    tags_of = {t.id: [tag.id for tag in t.tags if tag.facet.name in AFFINITY_FACETS] for t in titles}
    affinities = derive_affinities([(r.watched_at, r.minutes, tags_of.get(r.title_id, [])) for r in records],
                                   half_life_days)
    session.query(PersonaAffinity).filter(PersonaAffinity.persona_id == persona.id).delete()
    session.add_all(PersonaAffinity(persona_id=persona.id, tag_id=t, weight=w) for t, w in affinities.items())
    touch(persona, actor)  # new tastes are a new version
    session.flush()


def last_watched(session: Session, persona_id: int, n: int = 10) -> list[ViewView]:
    """A member's most recent views, newest first."""
    rows = session.execute(select(ViewingRecord, Title.name).join(Title, Title.id == ViewingRecord.title_id)
                           .where(ViewingRecord.persona_id == persona_id)
                           .order_by(ViewingRecord.watched_at.desc()).limit(n))
    return [ViewView(r.title_id, name, _utc(r.watched_at), r.minutes) for r, name in rows]


def count_views(session: Session, persona_id: int) -> int:
    """How many views a member's history holds."""
    return session.scalar(select(func.count()).select_from(ViewingRecord)
                          .where(ViewingRecord.persona_id == persona_id)) or 0
