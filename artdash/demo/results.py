"""A seeded, simulated impression log for the demo catalog, so the Results page is alive on
first run: an A/B test of the editor's pick (control) against the personalised bandit,
over 30 days, members drawn from the persona archetypes, outcomes from the taste model."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from artdash import clock, preview
from artdash.catalog import personas as personas_module
from artdash.catalog.taxonomy import list_tags
from artdash.db.models import Variant
from artdash.policy.base import explore
from artdash.policy.features import FeatureSpace
from artdash.results.ingest import IngestReport, ingest
from artdash.simulator.taste import TasteModel, simulated_member_id
from artdash.workspace import Workspace

EXPERIMENT = "artwork-personalisation"
DEVICES = ("tv", "mobile", "tablet", "web")


def demo_log(ws: Workspace, n: int = 200_000, days: int = 30, seed: int = 11,
             end: datetime | None = None) -> pd.DataFrame:
    """``n`` impressions as a log file would have them (one row each)."""
    rng = np.random.default_rng(seed)
    end = (end or clock.now()).replace(minute=0, second=0, microsecond=0)
    with ws.session() as s:
        catalog = [t for t in preview.load_preview_catalog(s) if t.candidates]
        people = [p for p in personas_module.list_personas(s) if p.kind == "synthetic" and not p.is_blank]
        features = FeatureSpace(list_tags(s))
        policies = preview.build_policies(s, catalog, people).policies
    if not catalog or not people:
        raise ValueError("the demo log needs titles with active variants and personas")
    taste = TasteModel(seed=seed)
    # Per (persona, title): variants, the control's and the bandit's probabilities, true rates.
    table = {}
    for pi, person in enumerate(people):
        context = preview.context_for(person)
        affinity = features.affinity_vector(context)[None, :]
        for ti, title in enumerate(catalog):
            cands = sorted(title.candidates, key=lambda c: c.variant_id)
            ids = [c.variant_id for c in cands]
            tags = features.tag_matrix(cands)
            pick = policies["editors-pick"].probabilities(context, cands)
            if np.allclose(pick, 1 / len(cands)):  # no editor's pick: the first active variant, 10 % exploration
                pick = explore(0, len(cands), 0.1)
            table[pi, ti] = (ids, pick, policies["linucb"].probabilities(context, cands),
                             taste.take_probability(affinity, tags, ids)[0],
                             taste.quality_probability(affinity, tags, ids)[0])
    members_per_persona = 500
    member = rng.integers(members_per_persona * len(people), size=n)
    persona_index = member // members_per_persona
    title_index = rng.integers(len(catalog), size=n)
    treatment = (member % 2).astype(bool)  # members, not impressions, are assigned to cells
    draws = rng.random((n, 3))
    variant_ids = np.empty(n, dtype=np.int64)
    propensity, played, quality = np.empty(n), np.zeros(n, bool), np.zeros(n, bool)
    for i in range(n):
        ids, pick, bandit, p_play, p_quality = table[persona_index[i], title_index[i]]
        probs = bandit if treatment[i] else pick
        k = int(min(np.searchsorted(np.cumsum(probs), draws[i, 0], side="right"), len(ids) - 1))
        variant_ids[i], propensity[i] = ids[k], probs[k]
        played[i] = draws[i, 1] < p_play[k]
        quality[i] = played[i] and draws[i, 2] < p_quality[k] / max(p_play[k], 1e-9)
    seconds = np.where(quality, rng.uniform(300, 5400, n), np.where(played, rng.uniform(5, 299, n), 0))
    when = [end - timedelta(seconds=float(s)) for s in rng.uniform(0, days * 86400, n)]
    countries = np.array([p.country or "US" for p in people])[persona_index]
    devices = np.where(rng.random(n) < 0.6, np.array([p.device for p in people])[persona_index],
                       np.array(DEVICES)[rng.integers(len(DEVICES), size=n)])
    return pd.DataFrame({
        "event_id": [f"demo-{seed}-{i}" for i in range(n)],
        "timestamp": [w.strftime("%Y-%m-%dT%H:%M:%SZ") for w in when],
        "member_id": [simulated_member_id("demo", people[m // members_per_persona].id, m) for m in member],
        "title_id": [catalog[t].id for t in title_index], "variant_id": variant_ids,
        "policy": np.where(treatment, "linucb", "editors-pick"), "experiment": EXPERIMENT,
        "cell": np.where(treatment, "personalised", "control"), "propensity": propensity.round(6),
        "played": played, "play_seconds": seconds.round(1), "country": countries, "device": devices,
    })


def load_demo_results(ws: Workspace, n: int = 200_000, seed: int = 11,
                      progress: Callable[[int], None] | None = None) -> IngestReport:
    """Simulate the demo log and import it through the ordinary ingest path."""
    log = demo_log(ws, n=n, seed=seed)
    buffer = io.StringIO()
    log.to_csv(buffer, index=False)
    with ws.session() as s:
        variant_titles = dict(s.execute(select(Variant.id, Variant.title_id)).all())
    return ingest(ws.results_engine, buffer.getvalue().encode(), "demo-impressions.csv", "demo", variant_titles,
                  ws.settings.quality_play_seconds, kind="demo", progress=progress)
