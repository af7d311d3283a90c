"""Trained versions of every policy, stored once as artifacts (``policy_models``).

A version is what a policy learnt (its :meth:`~artdash.policy.base.Policy.state`: arrays), with
what it was trained on (source, rows, the time window of its data, the catalog's fingerprint),
when and by whom, and when it takes effect for members (:mod:`artdash.decision.timeline`). The
service, Preview, the lab and offline evaluation load the same rows.

Every retrain of the served policy is stored as a new version (a number the service puts on
each decision it makes with it). Training is from scratch on every logged decision whose
reward window has closed, IPS-weighted: the database sums the weights (1 / propensity) and the
weighted quality plays per (context, variant) — one GROUP BY — and the bandit learns from
those sums, so its cost grows with the distinct contexts, not with the rows.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, text

from artdash import clock
from artdash.catalog.eligibility import aware
from artdash.db.results_schema import policy_models
from artdash.decision.features import context_affinities, variant_features
from artdash.decision.snapshot import Snapshot
from artdash.errors import NotFoundError
from artdash.policy import registry
from artdash.policy.base import Groups, Policy, State
from artdash.policy.linear import LinearBanditPolicy
from artdash.results.quality import quality_sql

SOURCES = ("live", "lab", "import")
SUPERSEDED = b""        # the state of a version superseded before it took effect (artdash.decision.retention)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ServedPolicy:
    """The policy the service answers with: its registry name, the trained version (0: never
    trained, or a policy that learns nothing) and the object that computes probabilities."""

    name: str
    version: int
    policy: Policy
    trained_at: datetime | None = None
    n_rows: int = 0
    note: str = ""
    effective_at: datetime = EPOCH           # members whose window began since then are served it
    source: str = "live"                     # trained by the service (live), the lab, or from an imported log
    trained_by: str = ""
    fingerprint: str = ""                    # the catalog it was trained over (``snapshot_fingerprint``)

    @property
    def trained(self) -> bool:
        """Whether it is a stored version (0: never trained, or a policy that learns nothing)."""
        return self.version > 0


@dataclass(frozen=True)
class TrainReport:
    """One retrain: the version it made, from how many logged decisions, in how long."""

    version: int
    policy: str
    n_rows: int
    n_groups: int                # (context, variant) groups read this time
    seconds: float
    new_rows: int = 0            # decisions learnt this time (the rest came from the previous version)
    incremental: bool = False    # continued from the previous version's sums


_QUALITY = quality_sql(":quality", "o.", on_time=True)
# Decisions whose reward window closed since the last training, but for those already learnt
# because their outcome arrived early (below).
FOLD_CLOSED = """FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
WHERE d.at_ms >= :from_d AND d.at_ms < :to_d
  AND NOT (o.event_id IS NOT NULL AND o.late = 0 AND o.at_ms < :from_o)"""
# Decisions whose window is still open but whose outcome arrived (a decision's first outcome
# is final: a second one is ignored), between two outcome times.
FOLD_EARLY = """FROM outcomes o JOIN decisions d ON d.event_id = o.event_id
WHERE o.at_ms >= :from_o AND o.at_ms < :to_o AND o.late = 0 AND d.at_ms >= :to_d"""
SETTLE_MS = 60_000   # outcomes newer than this are learnt but not yet folded (one may still be committing)


def _pack(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _unpack(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def fresh(name: str, snapshot: Snapshot, exploration: float = 0.05) -> Policy:
    """An untrained policy ``name`` over the snapshot's features and picks."""
    return registry.make(name, snapshot.features, picks=snapshot.picks, exploration=exploration)


def fingerprint_of(snapshot: Snapshot) -> str:
    """A short text of the snapshot's catalog fingerprint (stored with each trained version)."""
    return fingerprint_text(snapshot.fingerprint)


def fingerprint_text(fingerprint: tuple) -> str:
    """A catalog fingerprint (:func:`artdash.decision.catalog.catalog_fingerprint`) as 16 hex digits."""
    return hashlib.blake2b(repr(fingerprint).encode(), digest_size=8).hexdigest()


def _states(blob: bytes) -> tuple[State, State | None, dict[str, np.ndarray]]:
    """(what to serve, what later training continues from — None: start again from the log,
    the rest: watermarks and tag ids) of a stored version, in any format ArtDash wrote."""
    arrays = _unpack(blob)
    served = {k[len("served."):]: v for k, v in arrays.items() if k.startswith("served.")}
    folded = {k[len("folded."):]: v for k, v in arrays.items() if k.startswith("folded.")}
    rest = {k: v for k, v in arrays.items() if "." not in k}
    if served or folded or "version_format" in arrays:
        return served, folded if "folded_d" in rest else None, rest
    # written before versions were artifacts (December 2026): the bandit kept theta and A⁻¹ and
    # the folded sums; best single variant kept its served counts under "served_"
    if "served_variant" in arrays:
        served = {"variant": arrays["served_variant"], "successes": arrays["served_successes"],
                  "trials": arrays["served_trials"]}
        folded = {k: arrays[k] for k in ("variant", "successes", "trials")}
    elif "xx" in arrays:
        folded = {k: arrays[k] for k in ("xx", "xr", "w", "n")}
        served = {"theta": arrays["theta"], "a_inv": arrays["a_inv"], **folded}
    return served, folded if "folded_d" in rest else None, rest


def _restore(policy: Policy, served: State) -> Policy:
    if "theta" in served and isinstance(policy, LinearBanditPolicy):   # the older format: the model itself
        policy.restore({k: served[k] for k in ("xx", "xr", "w", "n")})
        policy.theta, policy.a_inv = served["theta"], served["a_inv"]
        return policy
    return policy.restore(served)


def _loaded(row: Any, snapshot: Snapshot) -> ServedPolicy:
    """The stored version ``row`` as a policy over ``snapshot`` (untrained — version 0 — when
    the taxonomy changed since it was trained: it retrains at the next opportunity)."""
    policy = fresh(row.policy, snapshot)
    served, _, rest = _states(row.state)
    meta = {"trained_at": aware(row.trained_at), "source": row.source, "trained_by": row.trained_by,
            "fingerprint": row.catalog_fingerprint}
    if "tag_ids" in rest and policy.learns and registry.check(row.policy).personalised:
        if rest["tag_ids"].tolist() != [t.id for t in snapshot.features.tags]:
            return ServedPolicy(row.policy, 0, policy, note="the taxonomy changed since the last training: retraining")
    effective = aware(row.effective_at) if row.effective_at is not None else aware(row.trained_at)
    return ServedPolicy(row.policy, int(row.version), _restore(policy, served), n_rows=int(row.n_rows),
                        note=row.note, effective_at=effective, **meta)


def untrained(name: str, snapshot: Snapshot) -> ServedPolicy:
    """Version 0 of ``name``: never trained (or a policy that learns nothing)."""
    policy = fresh(name, snapshot)
    return ServedPolicy(name, 0, policy, note="not trained yet: it learns from the decisions it logs"
                        if policy.learns else "")


def load_version(conn: Connection, version: int, snapshot: Snapshot) -> ServedPolicy:
    """The stored version ``version`` (any policy's) over ``snapshot``."""
    row = conn.execute(select(policy_models).where(policy_models.c.version == int(version))).first()
    if row is None or not row.state:
        why = "it was superseded within its quarter hour and never served, so its weights were not kept" \
            if row is not None else "there is none"
        raise NotFoundError(f"model version {version} cannot be loaded: {why}; `artdash models list` lists the "
                            "versions kept")
    return _loaded(row, snapshot)


def load_latest(conn: Connection, name: str, snapshot: Snapshot) -> ServedPolicy:
    """The newest trained version of ``name`` (version 0, untrained, when there is none)."""
    if not registry.check(name).learns:
        return untrained(name, snapshot)
    row = conn.execute(select(policy_models).where(policy_models.c.policy == name)
                       .order_by(policy_models.c.version.desc()).limit(1)).first()
    return untrained(name, snapshot) if row is None else _loaded(row, snapshot)


def version_marks(conn: Connection, name: str) -> list[tuple[int, datetime]]:
    """(version, when it takes effect) of every stored version of ``name``, oldest first."""
    c = policy_models.c
    rows = conn.execute(select(c.version, func.coalesce(c.effective_at, c.trained_at))
                        .where(c.policy == name, func.length(c.state) > 0).order_by(c.version)).all()
    return [(int(v), aware(at)) for v, at in rows]


def latest_version(conn: Connection, name: str) -> int:
    """The newest stored version of ``name`` (0 if none)."""
    return int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))
                            .where(policy_models.c.policy == name)).scalar_one())


def _previous(results: Engine, name: str, snapshot: Snapshot) -> tuple[State, dict[str, np.ndarray]] | None:
    """The newest version's folded sums and watermarks, if it can be continued from (same
    taxonomy, stored with them)."""
    with results.connect() as conn:
        row = conn.execute(select(policy_models.c.state).where(policy_models.c.policy == name)
                           .order_by(policy_models.c.version.desc()).limit(1)).first()
    if row is None:
        return None
    _, folded, rest = _states(row.state)
    if folded is None:
        return None
    if "tag_ids" in rest and rest["tag_ids"].tolist() != [t.id for t in snapshot.features.tags]:
        return None
    return folded, rest


@dataclass(frozen=True)
class Folded:
    """Logged decisions summed per (context, variant): the distinct contexts' hashes, each
    group's context (a position among them) and the groups."""

    contexts: list[str]
    context: np.ndarray
    groups: Groups

    def __len__(self) -> int:
        return len(self.groups)


def _sum_rows(conn: Connection, where: str, params: dict) -> Folded:
    """The decisions ``where`` selects, summed per (context, variant). The engine groups them —
    but for SQLite, which sorts to group: there the plain rows come through the driver's cursor
    (no row objects) and numpy sums them, about twice as fast."""
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.cursor()
        rows = cursor.execute(f"SELECT d.context_hash, d.variant_id, d.propensity, CASE WHEN {_QUALITY} THEN 1 ELSE 0 END "
                              f"{where}", params).fetchall()
        cursor.close()
        if not rows:
            return Folded([], np.zeros(0, dtype=np.int64), _no_groups())
        index: dict[str, int] = {}
        context = np.fromiter((index.setdefault(h, len(index)) for h in map(itemgetter(0), rows)), np.int64, len(rows))
        variants, variant_code = np.unique(np.fromiter(map(itemgetter(1), rows), np.int64, len(rows)),
                                           return_inverse=True)
        keys, first, group = np.unique(context * len(variants) + variant_code, return_index=True, return_inverse=True)
        weight = 1.0 / np.fromiter(map(itemgetter(2), rows), float, len(rows))
        q = np.fromiter(map(itemgetter(3), rows), float, len(rows))
        groups = Groups(variants[variant_code[first]], np.bincount(group, minlength=len(keys)),
                        np.bincount(group, weight, len(keys)), np.bincount(group, weight * q, len(keys)),
                        np.bincount(group, q, len(keys)).astype(np.int64))
        return Folded(list(index), context[first], groups)
    summed = conn.execute(text(f"""SELECT d.context_hash, d.variant_id, COUNT(*) AS n, SUM(1.0 / d.propensity) AS w,
       SUM(CASE WHEN {_QUALITY} THEN 1.0 / d.propensity ELSE 0 END) AS wr, SUM(CASE WHEN {_QUALITY} THEN 1 ELSE 0 END) AS q
{where}
GROUP BY d.context_hash, d.variant_id"""), params).all()
    index = {}
    context = np.array([index.setdefault(g[0], len(index)) for g in summed], dtype=np.int64)
    return Folded(list(index), context, Groups(
        np.array([g[1] for g in summed], dtype=np.int64), np.array([g[2] for g in summed], dtype=np.int64),
        np.array([g[3] for g in summed], dtype=float), np.array([g[4] for g in summed], dtype=float),
        np.array([g[5] for g in summed], dtype=np.int64)))


def _no_groups() -> Groups:
    return Groups(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0),
                  np.zeros(0, dtype=np.int64))


def store_version(conn: Connection, name: str, policy: Policy, *, n_rows: int, source: str, trained_by: str,
                  fingerprint: str, effective_at: datetime, note: str = "", data_from: datetime | None = None,
                  data_to: datetime | None = None, extra: dict[str, np.ndarray] | None = None,
                  folded: State | None = None) -> int:
    """Store what ``policy`` learnt as the next version (numbered across policies); returns it."""
    if source not in SOURCES:
        raise ValueError(f"unknown model source {source!r}")
    arrays = {f"served.{k}": v for k, v in policy.state().items()}
    if folded is not None:
        arrays |= {f"folded.{k}": v for k, v in folded.items()}
    arrays |= {"version_format": np.array(2), **(extra or {})}
    version = int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))).scalar_one()) + 1
    conn.execute(insert(policy_models).values(
        version=version, policy=name, trained_at=clock.now(), n_rows=int(n_rows), state=_pack(**arrays),
        note=note, source=source, trained_by=trained_by[:120], catalog_fingerprint=fingerprint,
        effective_at=effective_at, data_from=data_from, data_to=data_to))
    return version


def _with_features(folded: Folded, results: Engine, catalog_session, snapshot: Snapshot,
                   personalised: bool) -> Groups:
    """The summed decisions as :class:`Groups`; for a policy that personalises, with their
    feature rows built on demand (a chunk at a time: flat memory)."""
    groups = folded.groups
    if not personalised or not len(groups):
        return groups
    affinity = context_affinities(results, snapshot.features, folded.contexts)
    tags, visual, variant_index = variant_features(catalog_session, snapshot.features, groups.variant, snapshot)
    context = folded.context

    def features(sl: slice) -> np.ndarray:
        return np.hstack([affinity[context[sl]] * tags[variant_index[sl]], visual[variant_index[sl]],
                          np.ones((len(context[sl]), 1))])

    return replace(groups, features=features)


def train(results: Engine, catalog_session, name: str, snapshot: Snapshot, quality_seconds: float,
          closed_before: datetime, note: str = "", now: datetime | None = None, full: bool = False,
          effective_at: datetime | None = None, trained_by: str = "artdash-serve") -> TrainReport | None:
    """Retrain ``name`` on every resolved decision — its outcome has arrived, or it was made
    before ``closed_before`` (its reward window has closed: no play) — and store it as a new
    version, in effect for members from ``effective_at`` (default: now). None when there is
    nothing new to learn from, or the policy learns nothing.

    A resolved decision's contribution never changes, and what policies learn is additive, so
    each version keeps the sums of what it folded in (with two watermarks: decisions made
    before one, outcomes that arrived before the other) and the next training adds only what
    was resolved since: a retrain costs what the new decisions cost, not the whole log. A
    decision is learnt with its variant's tags as they were when it was folded in; ``full``
    (or a taxonomy change) starts again from the whole log with today's tags."""
    kind = registry.check(name)
    if not kind.learns:
        return None
    started = time.perf_counter()
    now = now or clock.now()
    now_ms = clock.epoch_ms(now)
    previous = None if full else _previous(results, name, snapshot)
    from_d = int(previous[1]["folded_d"]) if previous is not None else 0
    from_o = int(previous[1]["folded_o"]) if previous is not None else 0
    to_d = max(clock.epoch_ms(closed_before), from_d)
    to_o = max(now_ms - SETTLE_MS, from_o)
    params = {"quality": quality_seconds, "from_d": from_d, "to_d": to_d, "from_o": from_o, "to_o": to_o}
    with results.connect() as conn:
        closed_rows = _sum_rows(conn, FOLD_CLOSED, params)
        early_rows = _sum_rows(conn, FOLD_EARLY, params)
        recent_rows = _sum_rows(conn, FOLD_EARLY, {**params, "from_o": to_o, "to_o": now_ms + 1})
    if not len(closed_rows) and not len(early_rows) and not len(recent_rows):
        # nothing resolved since the newest version (what it learnt provisionally would be here
        # again): a new version would be the same, so the newest stays
        return None
    closed = _with_features(closed_rows, results, catalog_session, snapshot, kind.personalised)
    early = _with_features(early_rows, results, catalog_session, snapshot, kind.personalised)
    recent = _with_features(recent_rows, results, catalog_session, snapshot, kind.personalised)
    policy = fresh(name, snapshot).restore(previous[0] if previous is not None else {})
    policy.learn_groups(closed)
    policy.learn_groups(early)
    folded = policy.state()
    policy.learn_groups(recent)
    extra = {"folded_d": np.array(to_d), "folded_o": np.array(to_o),
             "tag_ids": np.array([t.id for t in snapshot.features.tags], dtype=np.int64)}
    with results.begin() as conn:
        # versions are numbered across policies (the table's key): a shadow that learns gets its own numbers
        version = store_version(conn, name, policy, n_rows=policy.learnt_rounds, source="live", trained_by=trained_by,
                                fingerprint=fingerprint_of(snapshot), effective_at=effective_at or now, note=note,
                                data_to=now, extra=extra, folded=folded)
    return TrainReport(version, name, policy.learnt_rounds, len(closed) + len(early) + len(recent),
                       time.perf_counter() - started,
                       new_rows=int(closed.n.sum()) + int(early.n.sum()) + int(recent.n.sum()),
                       incremental=previous is not None)


def list_versions(conn: Connection, policy: str | None = None) -> list[dict[str, Any]]:
    """Every stored version (newest first; of ``policy`` only if given) with what it was
    trained on, when, by whom and from when members are served it — not its state. Versions
    superseded before anyone was served them (:mod:`artdash.decision.retention`) are left out."""
    c = policy_models.c
    query = select(c.version, c.policy, c.source, c.trained_at, c.trained_by, c.n_rows, c.data_from, c.data_to,
                   c.catalog_fingerprint, c.effective_at, c.note).where(func.length(c.state) > 0) \
        .order_by(c.version.desc())
    if policy is not None:
        query = query.where(c.policy == registry.check(policy).name)
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for key in ("trained_at", "data_from", "data_to", "effective_at"):
            if item[key] is not None:
                item[key] = aware(item[key])
        item["effective_at"] = item["effective_at"] or item["trained_at"]
        item["in_effect"] = ("from the start (nothing trained before it)" if item["effective_at"] == EPOCH
                             else f"{item['effective_at']:%Y-%m-%d %H:%M} UTC")
        item["label"] = registry.LABELS.get(item["policy"], item["policy"])
        out.append(item)
    return out
