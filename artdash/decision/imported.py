"""A model version trained from an imported impression log: a team that ran its own artwork
test, or logged its own homepage with propensities, starts the service from what that log
taught instead of from a simulation. Stored like any other version (source ``import``, with
the experiment, rows and time window it read), so Preview, the lab and the service show and
serve it. Each impression is weighed by 1 / its logged propensity (what a uniform log would
have taught); members the catalog imported with their tastes are personalised on them, the
rest count as members of unknown taste. The service's retrains continue from it: they add
everything it logged itself to what the import taught."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from artdash import clock
from artdash.access.auth import authorize
from artdash.db.results_schema import imports
from artdash.decision.catalog import catalog_fingerprint, editors_picks
from artdash.decision.features import variant_features
from artdash.decision.models import fingerprint_text, store_version
from artdash.decision.snapshot import load_snapshot
from artdash.errors import ValidationError
from artdash.policy import registry
from artdash.policy.base import Groups
from artdash.results.quality import quality_plays

MAX_ROWS = 10_000_000


@dataclass(frozen=True)
class ImportTraining:
    """One version trained from an imported log: what it read."""

    version: int
    policy: str
    rows: int
    quality_plays: int
    known_members: int          # rows from members with imported tastes
    data_from: datetime
    data_to: datetime


def train_imported(session: Session, results: Engine, log, name: str, experiment: str, actor: str,
                   cell: str | None = None, effective_at: datetime | None = None) -> ImportTraining:
    """Train ``name`` on the impressions of ``experiment`` (optionally one ``cell``) in the
    impression log ``log`` and store it as a version, in effect from ``effective_at`` (default:
    now; members meet it at their next sticky window). Admins only."""
    authorize(session, actor, "admin")
    kind = registry.check_servable(name)
    if not kind.learns:
        raise ValidationError(f"{kind.label} learns nothing: it has no model to train")
    where, params = "experiment = ?", [experiment]
    if cell:
        where, params = where + " AND cell = ?", [experiment, cell]
    with log.engine.connect() as conn:
        frame = log.frame(conn, ["ts", "member_id", "variant_id", "propensity", "played", "play_seconds", "import_id"],
                          where, params, MAX_ROWS + 1)
        thresholds = dict(conn.execute(select(imports.c.id, imports.c.quality_seconds)).all())
    if frame.empty:
        raise ValidationError(f"no logged impressions for experiment {experiment!r}"
                              + (f", cell {cell!r}" if cell else "") + ": nothing to train on (`artdash results "
                              "imports` lists what the log holds)")
    if len(frame) > MAX_ROWS:
        raise ValidationError(f"the experiment has more than {MAX_ROWS:,} impressions: pick one cell to train on")
    snapshot = load_snapshot(session)
    features = snapshot.features
    quality = quality_plays(frame["played"].to_numpy(), frame["play_seconds"].to_numpy(float),
                            frame["import_id"].map(thresholds).astype(float).to_numpy())
    weight = 1.0 / frame["propensity"].to_numpy(float)
    members, member_index = np.unique(frame["member_id"].astype(str).to_numpy(), return_inverse=True)
    affinity = np.zeros((len(members), features.n_tags))
    for i, member_id in enumerate(members.tolist()):
        known = snapshot.members.get(member_id)
        for tag_id, w in (known.affinities.items() if known is not None else ()):
            j = features.index.get(int(tag_id))
            if j is not None:
                affinity[i, j] = w
    known_rows = int(np.asarray(affinity.any(axis=1))[member_index].sum())
    variant = frame["variant_id"].to_numpy(np.int64)
    tags, visual, variant_index = variant_features(session, features, variant)

    def feature_rows(sl: slice) -> np.ndarray:
        return np.hstack([affinity[member_index[sl]] * tags[variant_index[sl]], visual[variant_index[sl]],
                          np.ones((len(member_index[sl]), 1))])

    policy = registry.make(name, features, picks=editors_picks(session))
    policy.learn_groups(Groups(variant, np.ones(len(frame), dtype=np.int64), weight, weight * quality,
                               quality.astype(np.int64), feature_rows if kind.personalised else None))
    ts = frame["ts"].to_numpy(np.int64)
    first, last = (datetime.fromtimestamp(int(t), UTC) for t in (ts.min(), ts.max()))   # seconds
    what = f"experiment {experiment!r}" + (f", cell {cell!r}" if cell else "")
    note = (f"trained on {len(frame):,} imported impressions of {what} ({first:%Y-%m-%d} to {last:%Y-%m-%d}), each "
            f"weighed by 1 / its logged propensity; {known_rows:,} from members with imported tastes. The service's "
            "retrains go on from it, adding its own log")
    with results.begin() as conn:
        version = store_version(conn, name, policy, n_rows=len(frame), source="import", trained_by=actor,
                                fingerprint=fingerprint_text(catalog_fingerprint(session)),
                                effective_at=effective_at or clock.now(), note=note, data_from=first, data_to=last,
                                extra={"tag_ids": np.array([t.id for t in features.tags], dtype=np.int64),
                                       # the service's next retrain adds its whole log to these sums
                                       "folded_d": np.array(0), "folded_o": np.array(0)},
                                folded=policy.state())
    return ImportTraining(version, name, len(frame), int(quality.sum()), known_rows, first, last)
