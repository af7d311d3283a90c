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
    n_groups: int
    seconds: float


GROUPED = text("""
SELECT d.context_hash, d.variant_id, COUNT(*) AS n, SUM(1.0 / d.propensity) AS w,
       SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= :quality THEN 1.0 / d.propensity
                ELSE 0 END) AS wr,
       SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= :quality THEN 1 ELSE 0 END) AS q
FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
WHERE d.at_ms < :closed_before OR o.event_id IS NOT NULL
GROUP BY d.context_hash, d.variant_id
""")


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
        policy.counts = {int(v): (int(s), int(n)) for v, s, n in zip(state["variant"], state["successes"], state["trials"])}
    return ServedPolicy(name, int(row.version), policy, row.trained_at, int(row.n_rows), row.note)


def latest_version(conn: Connection, name: str) -> int:
    """The newest stored version of ``name`` (0 if none)."""
    return int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))
                            .where(policy_models.c.policy == name)).scalar_one())


def train(results: Engine, catalog_session, name: str, snapshot: Snapshot, quality_seconds: float,
          closed_before: datetime, note: str = "") -> TrainReport | None:
    """Retrain ``name`` on every resolved decision — its outcome has arrived, or it was made
    before ``closed_before`` (its reward window has closed: no play) — and store it as a new version. None when there is nothing to learn
    from, or the policy learns nothing."""
    if name not in LEARNS:
        return None
    started = time.perf_counter()
    params = {"quality": quality_seconds, "closed_before": int(closed_before.timestamp() * 1000)}
    with results.connect() as conn:
        grouped = conn.execute(GROUPED, params).all()
    if not grouped:
        return None
    hashes = np.array([g[0] for g in grouped])
    variant = np.array([g[1] for g in grouped], dtype=np.int64)
    n = np.array([g[2] for g in grouped], dtype=np.int64)
    w = np.array([g[3] for g in grouped], dtype=float)
    wr = np.array([g[4] for g in grouped], dtype=float)
    q = np.array([g[5] for g in grouped], dtype=np.int64)
    policy = fresh(name, snapshot)
    if isinstance(policy, LinearBanditPolicy):
        affinity, hash_index, tags, visual, variant_index = _feature_parts(results, catalog_session, snapshot,
                                                                           hashes, variant)
        for start in range(0, len(grouped), CHUNK):     # the sums, a chunk of groups at a time (flat memory)
            sl = slice(start, start + CHUNK)
            x = np.hstack([affinity[hash_index[sl]] * tags[variant_index[sl]], visual[variant_index[sl]],
                           np.ones((len(hash_index[sl]), 1))])
            policy.update_grouped(x, w[sl], wr[sl], int(n[sl].sum()))
        assert policy.theta is not None and policy.a_inv is not None
        state = _pack(theta=policy.theta, a_inv=policy.a_inv,
                      tag_ids=np.array([t.id for t in snapshot.features.tags], dtype=np.int64))
    else:
        ids, inverse = np.unique(variant, return_inverse=True)
        state = _pack(variant=ids, successes=np.bincount(inverse, weights=q).astype(np.int64),
                      trials=np.bincount(inverse, weights=n).astype(np.int64))
    with results.begin() as conn:
        # versions are numbered across policies (the table's key): a shadow that learns gets its own numbers
        version = int(conn.execute(select(func.coalesce(func.max(policy_models.c.version), 0))).scalar_one()) + 1
        conn.execute(insert(policy_models).values(version=version, policy=name, trained_at=clock.now(),
                                                  n_rows=int(n.sum()), state=state, note=note))
    return TrainReport(version, name, int(n.sum()), len(grouped), time.perf_counter() - started)


def _feature_parts(results: Engine, catalog_session, snapshot: Snapshot, hashes: np.ndarray,
                   variant: np.ndarray) -> tuple[np.ndarray, ...]:
    """What each group's feature row is made of, once per distinct context and variant: the
    contexts' tastes (C × tags) and each group's context; the variants' tags (as they are now:
    a retired variant keeps its tags) and visual features, and each group's variant."""
    from artdash.db.models import VariantTag
    from artdash.db.results_schema import decision_contexts

    features = snapshot.features
    unique_hashes, hash_index = np.unique(hashes, return_inverse=True)
    with results.connect() as conn:
        stored = dict(conn.execute(select(decision_contexts.c.context_hash, decision_contexts.c.affinities)).all())
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
