"""What Preview shows: which image each persona would get for each title, and why.

As served (:func:`served`, :func:`served_matrix`): through the decision service's own decide
function over the version it serves each member now — or another stored version, or another
policy's newest — logging nothing; an imported member is answered what /v1/decide answers
them. The older helpers (:func:`homepage_rows`, :func:`compare`, :func:`win_matrix`) take any
policy object and remain for the lab and the demo data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from artdash.catalog.personas import PersonaView
from artdash.catalog.taxonomy import list_tags
from artdash.decision.catalog import PreviewTitle, editors_picks
from artdash.decision.decide import HeldOut, Member, TitleDecision, decide
from artdash.decision.models import ServedPolicy
from artdash.decision.snapshot import Snapshot
from artdash.decision.timeline import Timeline
from artdash.policy import registry
from artdash.policy.base import Context, Decision, Groups, Policy
from artdash.policy.context import context_for
from artdash.policy.features import FeatureSpace
from artdash.simulator.logs import simulate_log
from artdash.simulator.taste import TasteModel

WEAK_TAKE = 0.10  # a persona whose best image is predicted below this is poorly served


@dataclass
class PolicySet:
    """The policies Preview can switch between, trained on the same log."""

    policies: dict[str, Policy]
    training_note: str


def build_policies(session: Session, catalog: Sequence[PreviewTitle], personas: Sequence[PersonaView],
                   n_impressions: int = 20_000, seed: int = 7) -> PolicySet:
    """Every policy the decision service can serve (the registry's), those that learn trained
    on ``n_impressions`` uniformly logged impressions simulated from the seeded taste model
    (the demo results log and the tests use it; Preview shows stored versions instead)."""
    features = FeatureSpace(list_tags(session))
    picks = editors_picks(session)
    policies = {name: registry.make(name, features, picks=picks)
                for name in registry.names(available_only=True, servable_only=True)}
    candidates = {t.id: t.candidates for t in catalog if t.candidates}
    contexts = [context_for(p) for p in personas if not p.is_blank]
    note = "not trained: no personas with tastes or no active artwork yet"
    if candidates and contexts and n_impressions > 0:
        log = simulate_log(TasteModel(seed=seed), features, contexts, candidates, n_impressions, seed=seed)
        weight = 1.0 / log.propensity
        groups = Groups(log.variant_id, np.ones(len(log), dtype=np.int64), weight, weight * log.quality,
                        log.quality.astype(np.int64), lambda sl: log.x[sl])
        for policy in policies.values():
            policy.learn_groups(groups)
        note = f"trained on {n_impressions:,} simulated, uniformly logged impressions (the seeded taste model)"
    return PolicySet(policies, note)


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


# --- as served: the decision service's own decide function, logging nothing -------------------

def member_of(persona: PersonaView) -> Member:
    """The member a persona is previewed as: an imported member as themselves (Preview answers
    what /v1/decide answers them now), a synthetic persona as ``persona-<id>``."""
    member_id = persona.member_id or f"persona-{persona.id}"
    return Member(member_id, persona.weight_by_tag_id(), persona.country, persona.device)


@dataclass(frozen=True)
class ServedTile:
    """One tile of an as-served homepage: the title, what the member is served and why, the
    version that decided, and that version's predicted quality take rate of the image (if it
    predicts one)."""

    title: PreviewTitle
    decision: TitleDecision
    version: ServedPolicy
    predicted_take: float | None


def served(snapshot: Snapshot, model: Timeline | ServedPolicy, member: Member, titles: Sequence[PreviewTitle],
           when: datetime, window_hours: float,
           held_out: HeldOut | None = None) -> tuple[list[ServedTile], list[PreviewTitle], ServedPolicy]:
    """What ``member`` is served for each of ``titles`` by ``model`` (the served timeline, or one
    version) through :func:`artdash.decision.decide.decide` — the service's function, with its
    reasons and its holdout (``held_out``: a held-out member gets the holdout's policy) — as
    tiles, the titles with nothing to show, and the version that decided."""
    if held_out is not None and held_out.holdout.holds(member.id):
        model = held_out.policy
    if not titles:
        version = model.at(when) if isinstance(model, Timeline) else model
        return [], [], version
    decided = decide(snapshot, model, member, [t.id for t in titles], when, window_hours, explain=True,
                     held_out=held_out)
    versions = model.versions if isinstance(model, Timeline) else (model,)
    version = next(v for v in versions if v.version == decided.model_version and v.name == decided.policy)
    by_id = {t.id: t for t in titles}
    tiles, skipped = [], []
    for d in decided.decisions:
        title = by_id[d.title_id]
        if d.variant_id is None:
            skipped.append(title)
            continue
        tiles.append(ServedTile(title, d, version, d.predicted_take))
    return tiles, skipped, version


def served_rows(tiles: Sequence[ServedTile], per_row: int = 8) -> list[tuple[str, list[ServedTile]]]:
    """Rows like a homepage: "Top picks" (highest predicted take, when the version predicts
    one), then one row per genre."""
    rows: list[tuple[str, list[ServedTile]]] = []
    if any(t.predicted_take is not None for t in tiles):
        rows.append(("Top picks for this persona", sorted(tiles, key=lambda t: -(t.predicted_take or 0))[:per_row]))
    for genre in sorted({g for t in tiles for g in t.title.genres}):
        rows.append((genre.capitalize(), [t for t in tiles if genre in t.title.genres][:per_row]))
    return rows


def changed_images(these: Sequence[ServedTile], served_now: Sequence[ServedTile]) -> int:
    """How many titles would show another image than what is served now."""
    now = {t.title.id: t.decision.variant_id for t in served_now}
    return sum(1 for t in these if now.get(t.title.id) != t.decision.variant_id)


def served_matrix(snapshot: Snapshot, model: Timeline | ServedPolicy, personas: Sequence[PersonaView],
                  title: PreviewTitle, when: datetime, window_hours: float,
                  held_out: HeldOut | None = None) -> pd.DataFrame:
    """Persona × variant probability of being shown, as served (each persona's version, the
    variants they may be shown), with each persona's most likely variant and its predicted
    quality take rate."""
    ordered = sorted(title.candidates, key=lambda c: c.variant_id)
    rows = []
    for persona in personas:
        row: dict[str, object] = {"persona": persona.name}
        for c in ordered:                      # 0 for what this persona may not be shown
            row[f"#{c.variant_id} {c.label}"] = 0.0
        tiles, _, version = served(snapshot, model, member_of(persona), [title], when, window_hours, held_out)
        if tiles:
            probabilities = dict(tiles[0].decision.probabilities)
            labels = {c.variant_id: f"#{c.variant_id} {c.label}" for c in ordered}
            for variant_id, p in probabilities.items():
                row[labels[variant_id]] = float(p)
            winner = max(probabilities, key=lambda v: probabilities[v])
            row["wins"] = labels[winner]
            row["predicted take"] = version.policy.predicted_take(
                context_for(persona), next(c for c in ordered if c.variant_id == winner))
        rows.append(row)
    return pd.DataFrame(rows)
