"""A seeded, simulated impression log for the demo catalog, so the Results page is alive on
first run: an A/B test of the editor's pick (control) against the personalised bandit,
over 30 days, members drawn from the persona archetypes, outcomes from the taste model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from artdash import clock, preview
from artdash.catalog import personas as personas_module
from artdash.catalog.taxonomy import list_tags
from artdash.decision.catalog import load_preview_catalog
from artdash.policy.base import explore
from artdash.policy.features import FeatureSpace
from artdash.results.ingest import IngestReport
from artdash.simulator.logs import numbered_ids, play_seconds, simulated_member_ids
from artdash.simulator.taste import TasteModel
from artdash.workspace import Workspace

EXPERIMENT = "artwork-personalisation"
DEVICES = ("tv", "mobile", "tablet", "web")


def demo_log(ws: Workspace, n: int = 200_000, days: int = 30, seed: int = 11,
             end: datetime | None = None) -> pd.DataFrame:
    """``n`` impressions as a log file would have them (one row each)."""
    rng = np.random.default_rng(seed)
    end = (end or clock.now()).replace(minute=0, second=0, microsecond=0)
    with ws.session() as s:
        catalog = [t for t in load_preview_catalog(s) if t.candidates]
        people = [p for p in personas_module.list_personas(s) if p.kind == "synthetic" and not p.is_blank]
        features = FeatureSpace(list_tags(s))
        policies = preview.build_policies(s, catalog, people).policies
    if not catalog or not people:
        raise ValueError("the demo log needs titles with active variants and personas")
    taste = TasteModel(seed=seed)
    # Per (persona, title), padded to the most candidates of any title: variant ids, the
    # control's and the bandit's probabilities, and the true P(play) and P(quality play).
    k_max = max(len(t.candidates) for t in catalog)
    shape = (len(people), len(catalog), k_max)
    ids, pick_p, bandit_p = np.zeros(shape, dtype=np.int64), np.zeros(shape), np.zeros(shape)
    p_play, p_quality = np.zeros(shape), np.zeros(shape)
    n_candidates = np.array([len(t.candidates) for t in catalog])
    for pi, person in enumerate(people):
        context = preview.context_for(person)
        affinity = features.affinity_vector(context)[None, :]
        for ti, title in enumerate(catalog):
            cands = sorted(title.candidates, key=lambda c: c.variant_id)
            k = len(cands)
            variant_ids = [c.variant_id for c in cands]
            tags = features.tag_matrix(cands)
            pick = policies["editors-pick"].probabilities(context, cands)
            if np.allclose(pick, 1 / k):  # no editor's pick: the first active variant, 10 % exploration
                pick = explore(0, k, 0.1)
            ids[pi, ti, :k], pick_p[pi, ti, :k] = variant_ids, pick
            bandit_p[pi, ti, :k] = policies["linucb"].probabilities(context, cands)
            p_play[pi, ti, :k] = taste.take_probability(affinity, tags, variant_ids)[0]
            p_quality[pi, ti, :k] = taste.quality_probability(affinity, tags, variant_ids)[0]
    members_per_persona = 500
    member = rng.integers(members_per_persona * len(people), size=n)
    persona_index = member // members_per_persona
    title_index = rng.integers(len(catalog), size=n)
    treatment = (member % 2).astype(bool)  # members, not impressions, are assigned to cells
    draws = rng.random((n, 3))
    # Every impression at once: the cell's probabilities, an inverse-CDF pick, the outcomes.
    probs = np.where(treatment[:, None], bandit_p[persona_index, title_index], pick_p[persona_index, title_index])
    last = n_candidates[title_index] - 1
    k = np.minimum((np.cumsum(probs, axis=1) <= draws[:, :1]).sum(axis=1), last)
    rows = np.arange(n)
    variant_ids = ids[persona_index, title_index, k]
    propensity = probs[rows, k]
    play = p_play[persona_index, title_index, k]
    played = draws[:, 1] < play
    quality = played & (draws[:, 2] < p_quality[persona_index, title_index, k] / np.maximum(play, 1e-9))
    seconds = play_seconds(rng, played, quality, ws.settings.quality_play_seconds)
    offsets = rng.uniform(0, days * 86400, n)
    when = (pd.Timestamp(end) - pd.to_timedelta(offsets, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    countries = np.array([p.country or "US" for p in people])[persona_index]
    devices = np.where(rng.random(n) < 0.6, np.array([p.device for p in people])[persona_index],
                       np.array(DEVICES)[rng.integers(len(DEVICES), size=n)])
    persona_ids = np.array([p.id for p in people])[persona_index]
    return pd.DataFrame({
        "event_id": numbered_ids(f"demo-{seed}-", n),
        "timestamp": when,
        "member_id": simulated_member_ids("demo", persona_ids, member),
        "title_id": np.array([t.id for t in catalog])[title_index], "variant_id": variant_ids,
        "policy": np.where(treatment, "linucb", "editors-pick"), "experiment": EXPERIMENT,
        "cell": np.where(treatment, "personalised", "control"), "propensity": propensity.round(6),
        "played": played, "play_seconds": seconds.round(1), "country": countries, "device": devices,
    })


def load_demo_results(ws: Workspace, n: int = 200_000, seed: int = 11,
                      progress: Callable[[int], None] | None = None, actor: str = "artdash") -> IngestReport:
    """Simulate the demo log and import it as a person's import is made — ``actor`` must be an
    admin (any name when accounts are off or the workspace is trusted), and the audit trail
    records it."""
    from artdash.results.service import import_log

    log = pa.Table.from_pandas(demo_log(ws, n=n, seed=seed), preserve_index=False)
    return import_log(ws, log, "demo-impressions.csv", actor, kind="demo", progress=progress)
