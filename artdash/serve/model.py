"""The served policy and its trained versions.

Every retrain is stored as a new row of ``policy_models`` (a version number the service puts
on each decision it makes with it). Training is from scratch on every logged decision whose
reward window has closed, IPS-weighted: the database sums the weights (1 / propensity) and the
weighted quality plays per (context, variant) — one GROUP BY — and the bandit learns from
those sums, so its cost grows with the distinct contexts, not with the rows.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, text

from artdash import clock
from artdash.db.models import Variant
from artdash.db.results_schema import policy_models
from artdash.policy import registry
from artdash.policy.base import Policy
from artdash.policy.baselines import BestSingleVariantPolicy
from artdash.policy.linear import LinearBanditPolicy
from artdash.serve.snapshot import Snapshot

SERVABLE = ("uniform", "editors-pick", "best-single", "linucb")
CHUNK = 200_000
LEARNS = ("best-single", "linucb")


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


_SUMS = """SELECT d.context_hash, d.variant_id, COUNT(*) AS n, SUM(1.0 / d.propensity) AS w,
       SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= :quality THEN 1.0 / d.propensity
                ELSE 0 END) AS wr,
       SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= :quality THEN 1 ELSE 0 END) AS q"""
# Decisions whose reward window closed since the last training, but for those already learnt
# because their outcome arrived early (below).
FOLD_CLOSED = text(f"""{_SUMS}
FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
WHERE d.at_ms >= :from_d AND d.at_ms < :to_d
  AND NOT (o.event_id IS NOT NULL AND o.late = 0 AND o.at_ms < :from_o)
GROUP BY d.context_hash, d.variant_id
""")
# Decisions whose window is still open but whose outcome arrived (a decision's first outcome
# is final: a second one is ignored), between two outcome times.
FOLD_EARLY = text(f"""{_SUMS}
FROM outcomes o JOIN decisions d ON d.event_id = o.event_id
WHERE o.at_ms >= :from_o AND o.at_ms < :to_o AND o.late = 0 AND d.at_ms >= :to_d
GROUP BY d.context_hash, d.variant_id
""")
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


def load_latest(conn: Connection, name: str, snapshot: Snapshot) -> ServedPolicy:
    """The newest trained version of ``name`` (version 0, untrained, when there is none or
    when the taxonomy changed since it was trained: it retrains at the next opportunity)."""
    policy = fresh(name, snapshot)
    if name not in LEARNS:
        return ServedPolicy(name, 0, policy)
    row = conn.execute(select(policy_models).where(policy_models.c.policy == name)
                       .order_by(policy_models.c.version.desc()).limit(1)).first()
    if row is None:
        return ServedPolicy(name, 0, policy, note="not trained yet: it learns from the decisions it logs")
    state = _unpack(row.state)
    if isinstance(policy, LinearBanditPolicy):
        tag_ids = state["tag_ids"].tolist()
        if tag_ids != [t.id for t in snapshot.features.tags]:
            return ServedPolicy(name, 0, policy, note="the taxonomy changed since the last training: retraining")
        policy.theta, policy.a_inv, policy.n_trained = state["theta"], state["a_inv"], int(row.n_rows)
    elif isinstance(policy, BestSingleVariantPolicy):
        pre = "served_" if "served_variant" in state else ""
        policy.counts = {int(v): (int(s), int(n)) for v, s, n in
                         zip(state[f"{pre}variant"], state[f"{pre}successes"], state[f"{pre}trials"])}
    return ServedPolicy(name, int(row.version), policy, row.trained_at, int(row.n_rows), row.note)


def latest_version(conn: Connection, name: str) -> int:
    """The newest stored version of ``name`` (0 if none)."""
    return int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))
                            .where(policy_models.c.policy == name)).scalar_one())


@dataclass(frozen=True)
class _Groups:
    """Per (context, variant): rounds, Σ 1/propensity, Σ reward/propensity, quality plays."""

    hashes: np.ndarray
    variant: np.ndarray
    n: np.ndarray
    w: np.ndarray
    wr: np.ndarray
    q: np.ndarray

    @staticmethod
    def of(rows) -> _Groups:
        return _Groups(np.array([g[0] for g in rows], dtype=object), np.array([g[1] for g in rows], dtype=np.int64),
                       np.array([g[2] for g in rows], dtype=np.int64), np.array([g[3] for g in rows], dtype=float),
                       np.array([g[4] for g in rows], dtype=float), np.array([g[5] for g in rows], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.n)


def _previous(results: Engine, name: str, snapshot: Snapshot) -> dict[str, np.ndarray] | None:
    """The newest version's folded sums and watermarks, if it can be continued from (same
    taxonomy, stored with them)."""
    with results.connect() as conn:
        row = conn.execute(select(policy_models.c.state).where(policy_models.c.policy == name)
                           .order_by(policy_models.c.version.desc()).limit(1)).first()
    if row is None:
        return None
    state = _unpack(row.state)
    if "folded_d" not in state:
        return None
    if "tag_ids" in state and state["tag_ids"].tolist() != [t.id for t in snapshot.features.tags]:
        return None
    return state


def _learn(policy: Policy, groups: _Groups, parts) -> None:
    """Add ``groups`` to what ``policy`` learnt (features from ``parts``, a chunk at a time)."""
    if not len(groups):
        return
    if isinstance(policy, LinearBanditPolicy):
        affinity, hash_index, tags, visual, variant_index = parts(groups.hashes, groups.variant)
        for start in range(0, len(groups), CHUNK):     # the sums, a chunk of groups at a time (flat memory)
            sl = slice(start, start + CHUNK)
            x = np.hstack([affinity[hash_index[sl]] * tags[variant_index[sl]], visual[variant_index[sl]],
                           np.ones((len(hash_index[sl]), 1))])
            policy.update_grouped(x, groups.w[sl], groups.wr[sl], int(groups.n[sl].sum()))
    elif isinstance(policy, BestSingleVariantPolicy):
        for v, q, n in zip(groups.variant.tolist(), groups.q.tolist(), groups.n.tolist()):
            s, t = policy.counts.get(v, (0, 0))
            policy.counts[v] = (s + q, t + n)


def _counts_state(policy: BestSingleVariantPolicy, prefix: str = "") -> dict[str, np.ndarray]:
    ids = sorted(policy.counts)
    return {f"{prefix}variant": np.array(ids, dtype=np.int64),
            f"{prefix}successes": np.array([policy.counts[v][0] for v in ids], dtype=np.int64),
            f"{prefix}trials": np.array([policy.counts[v][1] for v in ids], dtype=np.int64)}


def train(results: Engine, catalog_session, name: str, snapshot: Snapshot, quality_seconds: float,
          closed_before: datetime, note: str = "", now: datetime | None = None, full: bool = False) -> TrainReport | None:
    """Retrain ``name`` on every resolved decision — its outcome has arrived, or it was made
    before ``closed_before`` (its reward window has closed: no play) — and store it as a new
    version. None when there is nothing to learn from, or the policy learns nothing.

    A resolved decision's contribution never changes, and the bandit's sums are additive, so
    each version keeps the sums of what it folded in (with two watermarks: decisions made
    before one, outcomes that arrived before the other) and the next training adds only what
    was resolved since: a retrain costs what the new decisions cost, not the whole log. A
    decision is learnt with its variant's tags as they were when it was folded in; ``full``
    (or a taxonomy change) starts again from the whole log with today's tags."""
    if name not in LEARNS:
        return None
    started = time.perf_counter()
    now_ms = clock.epoch_ms(now or clock.now())
    previous = None if full else _previous(results, name, snapshot)
    from_d = int(previous["folded_d"]) if previous is not None else 0
    from_o = int(previous["folded_o"]) if previous is not None else 0
    to_d = max(clock.epoch_ms(closed_before), from_d)
    to_o = max(now_ms - SETTLE_MS, from_o)
    params = {"quality": quality_seconds, "from_d": from_d, "to_d": to_d, "from_o": from_o, "to_o": to_o}
    with results.connect() as conn:
        folding = _Groups.of([*conn.execute(FOLD_CLOSED, params).all(), *conn.execute(FOLD_EARLY, params).all()])
        recent = _Groups.of(conn.execute(FOLD_EARLY, {**params, "from_o": to_o, "to_o": now_ms + 1}).all())
    policy = fresh(name, snapshot)
    if previous is not None:
        if isinstance(policy, LinearBanditPolicy):
            policy.continue_from({"xx": previous["xx"], "xr": previous["xr"], "w": previous["w"], "n": previous["n"]})
        elif isinstance(policy, BestSingleVariantPolicy):
            policy.counts = {int(v): (int(s), int(t)) for v, s, t in
                             zip(previous["variant"], previous["successes"], previous["trials"])}
    folded_before = int(previous["n"]) if previous is not None else 0
    if folded_before + int(folding.n.sum()) + int(recent.n.sum()) == 0:
        return None

    def parts(hashes, variant):
        return _feature_parts(results, catalog_session, snapshot, hashes, variant)

    _learn(policy, folding, parts)
    marks = {"folded_d": np.array(to_d), "folded_o": np.array(to_o)}
    if isinstance(policy, LinearBanditPolicy):
        folded = policy.sums or {"xx": np.zeros((snapshot.features.dim,) * 2), "xr": np.zeros(snapshot.features.dim),
                                 "w": 0.0, "n": 0}
        _learn(policy, recent, parts)
        if policy.theta is None:        # everything was folded before and nothing is new: the same model again
            policy.continue_from(folded).update_grouped(np.zeros((0, snapshot.features.dim)), np.zeros(0),
                                                        np.zeros(0), 0)
        assert policy.theta is not None and policy.a_inv is not None
        state = _pack(theta=policy.theta, a_inv=policy.a_inv,
                      tag_ids=np.array([t.id for t in snapshot.features.tags], dtype=np.int64),
                      xx=np.asarray(folded["xx"]), xr=np.asarray(folded["xr"]), w=np.array(folded["w"]),
                      n=np.array(folded["n"]), **marks)
        total = int(policy.n_trained)
    else:
        assert isinstance(policy, BestSingleVariantPolicy)
        folded_counts = _counts_state(policy)
        folded_n = int(folded_counts["trials"].sum())
        _learn(policy, recent, parts)
        state = _pack(**_counts_state(policy, "served_"), **folded_counts, n=np.array(folded_n), **marks)
        total = int(sum(t for _, t in policy.counts.values()))
    with results.begin() as conn:
        # versions are numbered across policies (the table's key): a shadow that learns gets its own numbers
        version = int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))).scalar_one()) + 1
        conn.execute(insert(policy_models).values(version=version, policy=name, trained_at=clock.now(),
                                                  n_rows=total, state=state, note=note))
    return TrainReport(version, name, total, len(folding) + len(recent), time.perf_counter() - started,
                       new_rows=int(folding.n.sum()) + int(recent.n.sum()), incremental=previous is not None)


def _feature_parts(results: Engine, catalog_session, snapshot: Snapshot, hashes: np.ndarray,
                   variant: np.ndarray) -> tuple[np.ndarray, ...]:
    """What each group's feature row is made of, once per distinct context and variant: the
    contexts' tastes (C × tags) and each group's context; the variants' tags (as they are now:
    a retired variant keeps its tags) and visual features, and each group's variant."""
    from artdash.db.models import VariantTag
    from artdash.db.results_schema import decision_contexts

    features = snapshot.features
    unique_hashes, hash_index = np.unique(hashes, return_inverse=True)
    stored: dict[str, str] = {}
    wanted_hashes = unique_hashes.tolist()
    with results.connect() as conn:       # only the contexts this training meets
        for start in range(0, len(wanted_hashes), 900):
            stored.update(conn.execute(select(decision_contexts.c.context_hash, decision_contexts.c.affinities)
                                       .where(decision_contexts.c.context_hash.in_(wanted_hashes[start:start + 900])))
                          .all())
    affinity = np.zeros((len(unique_hashes), features.n_tags))
    for i, h in enumerate(unique_hashes.tolist()):
        for tag_id, weight in json.loads(stored.get(h, "{}")).items():
            j = features.index.get(int(tag_id))
            if j is not None:
                affinity[i, j] = weight
    unique_variants, variant_index = np.unique(variant, return_inverse=True)
    position = {int(v): i for i, v in enumerate(unique_variants.tolist())}
    tags = np.zeros((len(unique_variants), features.n_tags))
    visual = np.zeros((len(unique_variants), 4))
    wanted = unique_variants.tolist()
    for start in range(0, len(wanted), 900):
        part = wanted[start:start + 900]
        for vid, tag_id in catalog_session.execute(select(VariantTag.variant_id, VariantTag.tag_id)
                                                   .where(VariantTag.variant_id.in_(part))):
            j = features.index.get(tag_id)
            if j is not None:
                tags[position[vid], j] = 1.0
        for vid, b, c, col, warm in catalog_session.execute(
                select(Variant.id, Variant.brightness, Variant.contrast, Variant.colourfulness, Variant.warmth)
                .where(Variant.id.in_(part))):
            visual[position[vid]] = (b, c, col / 100, warm)
    return affinity, hash_index, tags, visual, variant_index
