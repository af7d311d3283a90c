"""What the decision service decides over, loaded once and swapped whole on a refresh: the
active artwork of every title as arrays, the tag names member tastes may use, the tastes of
imported members, and the editor's picks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash.catalog.eligibility import Eligibility
from artdash.catalog.eligibility_table import RuleTable
from artdash.catalog.personas import list_personas
from artdash.catalog.taxonomy import list_tags
from artdash.db.models import Persona
from artdash.decision.catalog import catalog_fingerprint, editors_picks, load_preview_catalog
from artdash.errors import ValidationError
from artdash.policy.base import Candidate
from artdash.policy.features import N_VISUAL, FeatureSpace


@dataclass(frozen=True)
class RowTable:
    """Some titles of the catalog as a :class:`artdash.policy.base.CandidateTable`."""

    title_ids: np.ndarray
    variant_ids: np.ndarray
    n_actions: np.ndarray
    tags: np.ndarray
    visual: np.ndarray
    features: FeatureSpace
    valid: np.ndarray

    def take(self, rows: np.ndarray, features: bool = True) -> RowTable:
        """The titles at ``rows`` (positions), in that order; without ``features`` their tags and
        visual features are left out (empty: for a policy that reads neither — a request's
        copy of them was the biggest part of its work)."""
        if features:
            tags, visual = self.tags[rows], self.visual[rows]
        else:
            tags = visual = np.empty((len(rows), self.variant_ids.shape[1], 0))
        return RowTable(self.title_ids[rows], self.variant_ids[rows], self.n_actions[rows], tags, visual,
                        self.features, self.valid[rows])


@dataclass(frozen=True)
class MemberTastes:
    """An imported member's tastes (from their viewing history), used when a request names the
    member without tastes of its own."""

    affinities: Mapping[int, float]
    country: str
    device: str


@dataclass(frozen=True)
class Snapshot:
    """The catalog as the service sees it between two refreshes."""

    features: FeatureSpace
    table: RowTable
    row_of: Mapping[int, int]                       # title id → row of ``table``
    candidates: Mapping[int, tuple[Candidate, ...]]  # title id → active variants, by variant id
    tag_names: Mapping[str, tuple[int, ...]]         # lower-case "facet:name" and "name" → tag ids
    members: Mapping[str, MemberTastes]
    picks: Mapping[int, int]
    fingerprint: tuple = field(default=())
    rules: Mapping[int, Eligibility] = field(default_factory=dict)   # variant id → its limits (limited ones only)
    restricted: np.ndarray | None = None                             # (titles, K): that variant has limits
    limits: RuleTable | None = None                                  # the limited variants' rules, as arrays

    def __post_init__(self) -> None:
        if self.limits is None:          # the arrays always match the rules
            object.__setattr__(self, "limits", RuleTable.of(self.rules))
        object.__setattr__(self, "active", self.table.n_actions.tolist())   # per row: its active variants' count

    active: list[int] = field(init=False, repr=False, compare=False)

    @property
    def n_titles(self) -> int:
        """Titles with at least one active variant."""
        return sum(1 for c in self.candidates.values() if c)

    def resolve_tastes(self, tastes: Mapping[str, float]) -> dict[int, float]:
        """Tag names (``genre:romance``, ``genre: romance`` or a name only one facet has) →
        tag ids, with weights in −1 … 1; refuses unknown or ambiguous names."""
        out: dict[int, float] = {}
        for raw, weight in tastes.items():
            key = ":".join(part.strip() for part in str(raw).casefold().split(":", 1))
            ids = self.tag_names.get(key, ())
            if not ids:
                raise ValidationError(f"member.tastes: there is no tag {raw!r}; name tags as the taxonomy does, "
                                      "e.g. 'genre:romance' (the Taxonomy page lists them)")
            if len(ids) > 1:
                raise ValidationError(f"member.tastes: {raw!r} is a tag of several facets; say which, e.g. 'tone:{key}'")
            value = float(weight)
            if not -1 <= value <= 1 or value != value:
                raise ValidationError(f"member.tastes: the weight of {raw!r} must be from -1 to 1 (got {weight!r})")
            if value:
                out[ids[0]] = value
        return out


def load_snapshot(session: Session) -> Snapshot:
    """The catalog now: every title's active variants, tags, members' tastes and picks."""
    tags = list_tags(session)
    features = FeatureSpace(tags)
    catalog = load_preview_catalog(session)
    k = max((len(t.candidates) for t in catalog), default=0) or 1
    n = len(catalog)
    variant_ids = np.zeros((n, k), dtype=np.int64)
    tag_array = np.zeros((n, k, features.n_tags))
    visual = np.zeros((n, k, N_VISUAL))
    n_actions = np.zeros(n, dtype=np.int64)
    candidates: dict[int, tuple[Candidate, ...]] = {}
    for i, title in enumerate(catalog):
        ordered = tuple(sorted(title.candidates, key=lambda c: c.variant_id))
        candidates[title.id] = ordered
        n_actions[i] = len(ordered)
        if ordered:
            variant_ids[i, :len(ordered)] = [c.variant_id for c in ordered]
            tag_array[i, :len(ordered)] = features.tag_matrix(ordered)
            visual[i, :len(ordered)] = [c.visual for c in ordered]
    valid = np.arange(k)[None, :] < n_actions[:, None]
    rules = {vid: rule for title in catalog for vid, rule in title.rules.items()}
    restricted = np.isin(variant_ids, np.array(list(rules), dtype=np.int64)) & valid
    title_ids = np.array([t.id for t in catalog], dtype=np.int64)
    names: dict[str, list[int]] = {}
    for tag in tags:
        for key in (f"{tag.facet}:{tag.name}".casefold(), tag.name.casefold()):
            names.setdefault(key, []).append(tag.id)
    member_ids = dict(session.execute(select(Persona.id, Persona.member_id)
                                      .where(Persona.kind == "member", Persona.member_id.is_not(None))).all())
    members = {str(member_ids[p.id]): MemberTastes(p.weight_by_tag_id(), p.country, p.device)
               for p in list_personas(session) if p.id in member_ids}
    return Snapshot(features, RowTable(title_ids, variant_ids, n_actions, tag_array, visual, features, valid),
                    {int(t): i for i, t in enumerate(title_ids.tolist())}, candidates,
                    {key: tuple(dict.fromkeys(ids)) for key, ids in names.items()}, members,
                    editors_picks(session), catalog_fingerprint(session), rules, restricted, RuleTable.of(rules))

