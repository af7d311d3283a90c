"""What Preview shows: which image each persona would get for each title, and why.

Loads the catalog in the shape policies need, trains the built-in bandit on logged
impressions (simulated from the seeded taste model until a results database exists), and
builds homepage rows, side-by-side comparisons and persona × variant win matrices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from artdash import clock
from artdash.catalog.eligibility import Eligibility, of_variant
from artdash.catalog.misleading import misleading
from artdash.catalog.personas import PersonaView
from artdash.catalog.taxonomy import list_tags
from artdash.db.models import EditorsPick, Persona, Tag, Title, Variant
from artdash.policy import (
    BestSingleVariantPolicy,
    EditorsPickPolicy,
    LinearBanditPolicy,
    UniformPolicy,
)
from artdash.policy.base import Candidate, Context, Decision, Policy
from artdash.policy.context import context_for
from artdash.policy.features import FeatureSpace
from artdash.policy.vw import VowpalWabbitPolicy
from artdash.policy.vw import available as vw_available
from artdash.simulator.logs import simulate_log
from artdash.simulator.taste import TasteModel

WEAK_TAKE = 0.10  # a persona whose best image is predicted below this is poorly served


@dataclass(frozen=True)
class PreviewTitle:
    """A title with its active candidates, as Preview and the policies see it."""
    id: int
    name: str
    year: int | None
    genres: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    images: dict[int, str]  # variant id → sha256 (for thumbnails)
    rules: Mapping[int, Eligibility] = field(default_factory=dict)  # variant id → where/when it may be shown
    misleading: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # variant id → clickbait warnings

    def shown_to(self, country: str = "", language: str = "", maturity: str = "",
                 when: datetime | None = None) -> tuple[Candidate, ...]:
        """The candidates a member may be shown (``artdash.catalog.eligibility``), now or ``when``."""
        when = when or clock.now()
        unrestricted = Eligibility()
        return tuple(c for c in self.candidates
                     if not self.rules.get(c.variant_id, unrestricted).refusal(country, language, maturity, when))

    @property
    def display_name(self) -> str:
        """``Name (year)``, or the name alone."""
        return f"{self.name} ({self.year})" if self.year else self.name


def load_preview_catalog(session: Session) -> list[PreviewTitle]:
    """Every title with its active variants as candidates (and their images for thumbnails)."""
    titles = session.scalars(select(Title).options(selectinload(Title.tags).selectinload(Tag.facet))
                             .order_by(Title.name)).all()
    variants = session.scalars(select(Variant).where(Variant.status == "active")
                               .options(selectinload(Variant.tags).selectinload(Tag.facet))
                               .order_by(Variant.id)).all()
    by_title: dict[int, list[Variant]] = {}
    for v in variants:
        by_title.setdefault(v.title_id, []).append(v)
    out = []
    for t in titles:
        vs = by_title.get(t.id, [])
        out.append(PreviewTitle(
            id=t.id, name=t.name, year=t.year,
            genres=tuple(sorted(tag.name for tag in t.tags if tag.facet.name == "genre")),
            candidates=tuple(Candidate(variant_id=v.id, title_id=t.id, tag_ids=frozenset(tag.id for tag in v.tags),
                                       visual=(v.brightness, v.contrast, v.colourfulness / 100, v.warmth),
                                       label=v.label) for v in vs),
            images={v.id: v.sha256 for v in vs},
            rules={v.id: rule for v in vs if not (rule := of_variant(v)).unrestricted},
            misleading={v.id: found for v in vs if (found := misleading(
                (tag.name for tag in t.tags if tag.facet.name == "genre"),
                (f"{tag.facet.name}: {tag.name}" for tag in v.tags)))}))
    return out


def catalog_fingerprint(session: Session) -> tuple:
    """Changes whenever anything a policy depends on changes (variants, tags, personas, picks):
    the key under which trained policies can be cached."""
    parts = []
    for count_of, latest in ((Variant.id, Variant.updated_at), (Persona.id, Persona.updated_at),
                             (Tag.id, Tag.version), (EditorsPick.title_id, EditorsPick.chosen_at)):
        n, last = session.execute(select(func.count(count_of), func.max(latest))).one()
        parts += [n, str(last)]
    # Versions go up on every change, so an edit counts even when two land in the same instant.
    for versioned in (Tag.version, Variant.version, Persona.version):
        parts.append(session.scalar(select(func.coalesce(func.sum(versioned), 0))))
    return tuple(parts)


def editors_picks(session: Session) -> dict[int, int]:
    """Title id → the variant an editor picked."""
    return dict(session.execute(select(EditorsPick.title_id, EditorsPick.variant_id)).all())


@dataclass
class PolicySet:
    """The policies Preview can switch between, trained on the same log."""

    policies: dict[str, Policy]
    training_note: str


def build_policies(session: Session, catalog: Sequence[PreviewTitle], personas: Sequence[PersonaView],
                   n_impressions: int = 20_000, seed: int = 7) -> PolicySet:
    """Uniform, editor's pick, best single variant and the bandit, the last two trained on
    ``n_impressions`` uniformly logged impressions simulated from the seeded taste model."""
    features = FeatureSpace(list_tags(session))
    bandit = LinearBanditPolicy(features)
    best = BestSingleVariantPolicy({})
    candidates = {t.id: t.candidates for t in catalog if t.candidates}
    contexts = [context_for(p) for p in personas if not p.is_blank]
    note = "not trained: no personas with tastes or no active artwork yet"
    vw = VowpalWabbitPolicy(features) if vw_available() else None
    if candidates and contexts and n_impressions > 0:
        log = simulate_log(TasteModel(seed=seed), features, contexts, candidates, n_impressions, seed=seed)
        bandit.fit_features(log.x, log.quality, log.propensity)
        if vw is not None:
            vw.fit_rounds(log.affinity, log.title_id, log.variant_id, log.quality.astype(float), log.propensity,
                          candidates)
        counts: dict[int, list[int]] = {}
        for vid, q in zip(log.variant_id.tolist(), log.quality.tolist()):
            c = counts.setdefault(vid, [0, 0])
            c[0] += int(q)
            c[1] += 1
        best = BestSingleVariantPolicy({v: (s, n) for v, (s, n) in counts.items()})
        note = (f"trained on {n_impressions:,} simulated, uniformly logged impressions (the seeded taste model); "
                "Preview does not learn from the Results log")
    policies: dict[str, Policy] = {"linucb": bandit}
    if vw is not None:
        policies["vw"] = vw
    return PolicySet(policies | {
        "best-single": best,
        "editors-pick": EditorsPickPolicy(editors_picks(session)),
        "uniform": UniformPolicy(),
    }, note)


@dataclass(frozen=True)
class Tile:
    """One tile of a homepage row: the title, the decision and its image."""
    title: PreviewTitle
    decision: Decision


def homepage_rows(policy: Policy, context: Context, catalog: Sequence[PreviewTitle], when: datetime | None = None,
                  per_row: int = 8) -> tuple[list[tuple[str, list[Tile]]], list[PreviewTitle]]:
    """Rows like a homepage: "Top picks" (highest predicted take), then one row per genre.
    Titles without an active variant this persona may be shown (territory, window, approval)
    are returned separately."""
    shown, skipped = [], []
    for title in catalog:   # only what this persona may be shown (territory, window, approval …)
        if not title.candidates:
            skipped.append(title)
            continue
        allowed = title.shown_to(context.country, when=when)
        if not allowed:
            skipped.append(title)
            continue
        shown.append(Tile(title, policy.decide(context, allowed, when)))
    rows: list[tuple[str, list[Tile]]] = []
    if any(t.decision.predicted_take is not None for t in shown):
        top = sorted(shown, key=lambda t: -(t.decision.predicted_take or 0))[:per_row]
        rows.append(("Top picks for this persona", top))
    genres = sorted({g for t in shown for g in t.title.genres})
    for genre in genres:
        members = [t for t in shown if genre in t.title.genres][:per_row]
        rows.append((genre.capitalize(), members))
    return rows, skipped


def compare(policy: Policy, personas: Sequence[PersonaView], title: PreviewTitle,
            when: datetime | None = None) -> list[tuple[PersonaView, Decision]]:
    """One title for several personas side by side: the decision each gets and why."""
    return [(p, policy.decide(context_for(p), title.shown_to(p.country, when=when), when)) for p in personas]


def win_matrix(policy: Policy, personas: Sequence[PersonaView], title: PreviewTitle) -> pd.DataFrame:
    """Persona × variant probability of being shown, plus each persona's most likely variant
    and its predicted quality take rate."""
    ordered = sorted(title.candidates, key=lambda c: c.variant_id)
    rows = []
    for persona in personas:
        context = context_for(persona)
        allowed = sorted(title.shown_to(persona.country), key=lambda c: c.variant_id)
        probs = policy.probabilities(context, allowed) if allowed else np.array([])
        row: dict[str, object] = {"persona": persona.name}
        for c in ordered:                      # 0 for what this persona may not be shown
            row[f"#{c.variant_id} {c.label}"] = 0.0
        for c, p in zip(allowed, probs):
            row[f"#{c.variant_id} {c.label}"] = float(p)
        if allowed:
            winner = allowed[int(np.argmax(probs))]
            row["wins"] = f"#{winner.variant_id} {winner.label}"
            row["predicted take"] = policy.predicted_take(context, winner)
        rows.append(row)
    return pd.DataFrame(rows)


def unloved_variants(matrix: pd.DataFrame, title: PreviewTitle) -> list[str]:
    """Variants that no persona is most likely to receive: candidates to rework or retire."""
    if matrix.empty or "wins" not in matrix:
        return []
    winners = set(matrix["wins"])
    return [f"#{c.variant_id} {c.label}" for c in sorted(title.candidates, key=lambda c: c.variant_id)
            if f"#{c.variant_id} {c.label}" not in winners]


def weakly_served(matrix: pd.DataFrame, threshold: float = WEAK_TAKE) -> list[str]:
    """Personas whose best option, by the policy's own prediction, is below :data:`WEAK_TAKE`."""
    if matrix.empty or "predicted take" not in matrix:
        return []
    take = matrix["predicted take"]
    return [p for p, t in zip(matrix["persona"], take) if t is not None and not pd.isna(t) and t < threshold]
