"""The showing rules of many variants at once (:class:`RuleTable`): the same rule as
:meth:`artdash.catalog.eligibility.Eligibility.refusal`, as arrays, so a request over a row of
titles checks every limited variant in a few numpy operations instead of one Python call each.

The answer for a territory or a language depends only on the member's country or locale: each
is worked out once per distinct value (kept, up to :data:`MAX_KEPT` of each) and reused.
:meth:`RuleTable.refusal` still says *why* one variant is refused, from its own rule, where a
person will read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from artdash.catalog.eligibility import (
    MATURITY,
    MATURITY_RANK,
    Eligibility,
    aware,
    language_matches,
)

MAX_KEPT = 4096          # distinct countries (or locales) whose answers are kept
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = np.iinfo(np.int64).max


def _micros(moment: datetime) -> int:
    """Exact microseconds since the epoch (no float rounding at a window's edge)."""
    return (aware(moment) - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class RuleTable:
    """The rules of the limited variants (unlimited ones are never in it), by variant id."""

    variant_ids: np.ndarray          # sorted
    rules: tuple[Eligibility, ...]   # in the same order
    approved: np.ndarray
    from_us: np.ndarray              # available from (microseconds; the smallest int64: always)
    until_us: np.ndarray             # available until (the largest int64: never ends)
    rating: np.ndarray               # maturity rank
    _by_country: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    _by_locale: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, rules: Mapping[int, Eligibility]) -> RuleTable:
        """The table of ``rules`` (variant id → its rule)."""
        ids = np.array(sorted(rules), dtype=np.int64)
        ordered = tuple(rules[int(v)] for v in ids)
        return cls(ids, ordered, np.array([r.approved for r in ordered], dtype=bool),
                   np.array([_micros(r.available_from) if r.available_from else -_NEVER for r in ordered], dtype=np.int64),
                   np.array([_micros(r.available_until) if r.available_until else _NEVER for r in ordered], dtype=np.int64),
                   np.array([MATURITY_RANK.get(r.maturity, 0) for r in ordered], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.variant_ids)

    def positions(self, variant_ids: np.ndarray) -> np.ndarray:
        """Where each of ``variant_ids`` (all in the table) is."""
        return np.searchsorted(self.variant_ids, variant_ids)

    def allowed(self, country: str, locale: str, maturity: str, when: datetime,
                at: np.ndarray | None = None) -> np.ndarray:
        """Per rule (or per position of ``at``: a request pays for its own row, not the whole
        catalog): whether its variant may be shown to this member at ``when`` — exactly
        ``not rule.refusal(country, locale, maturity, when)``."""
        sel = slice(None) if at is None else at
        now = _micros(when)
        ok = self.approved[sel] & (now >= self.from_us[sel]) & (now < self.until_us[sel])
        ok &= self._kept(self._by_country, country.upper(),
                         lambda c: np.array([not r.territories or c in r.territories for r in self.rules], dtype=bool))[sel]
        ok &= self._kept(self._by_locale, locale,
                         lambda loc: np.array([not r.languages or language_matches(r.languages, loc) for r in self.rules],
                                              dtype=bool))[sel]
        if maturity:
            ok &= self.rating[sel] <= MATURITY_RANK.get(maturity, len(MATURITY))
        return ok

    def refusal(self, position: int, country: str, locale: str, maturity: str, when: datetime) -> str:
        """Why the variant at ``position`` may not be shown ('' when it may): its rule's words."""
        return self.rules[position].refusal(country, locale, maturity, when)

    @staticmethod
    def _kept(kept: dict[str, np.ndarray], key: str, work_out) -> np.ndarray:
        found = kept.get(key)
        if found is None:
            if len(kept) >= MAX_KEPT:
                kept.clear()
            found = kept[key] = work_out(key)
        return found
