"""A first model version before any member has been served: a policy trained on impressions
simulated from the seeded taste model over the catalog's personas, stored as a version like
any other (source ``lab``), so Preview, the lab and the decision service show and serve the
same trained model from the first request — instead of uniform random until live outcomes
arrive. Once the service has learnt from live traffic it trains from that alone (a simulated
version has nothing to continue from), and a simulated version is refused."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from artdash import clock
from artdash.catalog.personas import list_personas
from artdash.catalog.taxonomy import list_tags
from artdash.db.results_schema import policy_models
from artdash.decision.catalog import catalog_fingerprint, editors_picks, load_preview_catalog
from artdash.decision.models import EPOCH, fingerprint_text, store_version
from artdash.errors import ValidationError
from artdash.policy import registry
from artdash.policy.base import Groups
from artdash.policy.context import context_for
from artdash.policy.features import FeatureSpace
from artdash.simulator.logs import simulate_log
from artdash.simulator.taste import TasteModel

DEFAULT_IMPRESSIONS = 20_000


def train_simulated(session: Session, results: Engine, name: str, actor: str, n_impressions: int = DEFAULT_IMPRESSIONS,
                    seed: int = 7, effective_at: datetime | None = None) -> int:
    """Train ``name`` on ``n_impressions`` uniformly logged impressions simulated over the
    catalog's personas and store it as a version (in effect from the start when the policy has
    no version yet); returns the version. Refused once the policy has learnt from live traffic,
    for a policy that learns nothing, and without personas with tastes or active artwork."""
    kind = registry.check_servable(name)
    if not kind.learns:
        raise ValidationError(f"{kind.label} learns nothing: it has no model to train")
    if not 1_000 <= n_impressions <= 10_000_000:
        raise ValidationError(f"simulate from 1,000 to 10,000,000 impressions (got {n_impressions:,})")
    with results.connect() as conn:
        sources = set(conn.execute(select(policy_models.c.source).where(policy_models.c.policy == name)).scalars())
    if "live" in sources:
        raise ValidationError(f"{kind.label} already learns from live traffic: a simulated version would stand in "
                              "for what it learnt; it is not stored")
    tags = list_tags(session)
    features = FeatureSpace(tags)
    candidates = {t.id: t.candidates for t in load_preview_catalog(session) if t.candidates}
    contexts = [context_for(p) for p in list_personas(session) if not p.is_blank]
    if not candidates or not contexts:
        raise ValidationError("nothing to simulate: it needs personas with tastes and titles with active artwork")
    log = simulate_log(TasteModel(seed=seed), features, contexts, candidates, n_impressions, seed=seed)
    weight = 1.0 / log.propensity
    quality = log.quality.astype(float)
    policy = registry.make(name, features, picks=editors_picks(session))
    policy.learn_groups(Groups(log.variant_id, np.ones(len(log), dtype=np.int64), weight, weight * quality,
                               log.quality.astype(np.int64), lambda sl: log.x[sl]))
    note = (f"trained on {n_impressions:,} simulated, uniformly logged impressions over {len(contexts)} personas "
            f"(the seeded taste model, seed {seed}); it learns from live traffic once the service serves it")
    with results.begin() as conn:
        return store_version(conn, name, policy, n_rows=len(log), source="lab", trained_by=actor,
                             fingerprint=fingerprint_text(catalog_fingerprint(session)),
                             effective_at=effective_at or (EPOCH if not sources else clock.now()), note=note,
                             extra={"tag_ids": np.array([t.id for t in tags], dtype=np.int64)})
