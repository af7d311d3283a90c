"""Titles by name and variants by label in an impression log, as well as by id.

An exported log rarely carries ArtDash's numeric ids: it names the title ("Harbour Lights")
and the image ("Couple at dusk"). A cell that is a whole number is an id; any other text is
looked up — a title by its name, a variant by its label within the row's title — trimmed and
without regard to case. A name that matches nothing, or more than one title (or image), is
refused on its line with what to do; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def fold(text: str) -> str:
    """The form names are compared in: trimmed, case-folded."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class CatalogNames:
    """Ids by folded title name, and by (title id, folded variant label)."""
    titles: dict[str, tuple[int, ...]] = field(default_factory=dict)
    variants: dict[tuple[int, str], tuple[int, ...]] = field(default_factory=dict)
    title_names: dict[int, str] = field(default_factory=dict)       # id → name (messages say it)

    def title_of(self, title_id: int) -> str:
        """How a message names a title: "'Harbour Lights' (#3)", or "#3"."""
        name = self.title_names.get(int(title_id))
        return f"{name!r} (#{title_id})" if name else f"#{title_id}"

    @classmethod
    def build(cls, titles: Iterable[tuple[int, str]], variants: Iterable[tuple[int, int, str]]) -> CatalogNames:
        """From (title id, name) and (variant id, title id, label) rows."""
        by_name: dict[str, list[int]] = {}
        named: dict[int, str] = {}
        for title_id, name in titles:
            by_name.setdefault(fold(name), []).append(int(title_id))
            named[int(title_id)] = str(name)
        by_label: dict[tuple[int, str], list[int]] = {}
        for variant_id, title_id, label in variants:
            by_label.setdefault((int(title_id), fold(label)), []).append(int(variant_id))
        return cls({k: tuple(sorted(v)) for k, v in by_name.items()},
                   {k: tuple(sorted(v)) for k, v in by_label.items()}, named)


def _whole(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.where(numbers.notna() & (numbers % 1 == 0))


def resolve_titles(column: pa.ChunkedArray, names: CatalogNames) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(title ids as floats — NaN where unresolved, rows with a name problem, their problems)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    uniques = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    ids = _whole(uniques).to_numpy(dtype=float, copy=True)
    problem: list[str | None] = [None] * len(uniques)
    for i, value in enumerate(uniques.tolist()):
        if not np.isnan(ids[i]) or value.strip() == "":
            continue
        found = names.titles.get(fold(value), ())
        if len(found) == 1:
            ids[i] = found[0]
        elif found:
            problem[i] = (f"the title name {value!r} matches {len(found)} titles (ids {', '.join(map(str, found))}); "
                          "use the id")
        else:
            problem[i] = f"unknown title name {value!r} (not in the catalog); use the title's id or its exact name"
    rows = np.flatnonzero(np.array([p is not None for p in problem], dtype=bool)[codes]) if len(codes) else \
        np.empty(0, dtype=np.int64)
    return ids[codes], rows, [str(problem[codes[r]]) for r in rows]


def resolve_variants(column: pa.ChunkedArray, titles: np.ndarray,
                     names: CatalogNames) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(variant ids as floats, rows with a label problem, their problems); labels are looked up
    within each row's title."""
    text = pd.Series(column.to_pylist(), dtype=object)
    ids = _whole(text).to_numpy(dtype=float, copy=True)
    named = np.flatnonzero(np.isnan(ids) & (text.str.strip() != "").to_numpy() & ~np.isnan(titles))
    rows: list[int] = []
    problems: list[str] = []
    if len(named):
        pairs = pd.DataFrame({"title": titles[named].astype(np.int64), "label": text.iloc[named].to_numpy()})
        answers: dict[tuple[int, str], tuple[float, str | None]] = {}
        for title, label in pairs.drop_duplicates().itertuples(index=False):
            found = names.variants.get((int(title), fold(label)), ())
            if len(found) == 1:
                answers[(title, label)] = (float(found[0]), None)
            elif found:
                answers[(title, label)] = (np.nan, f"the image label {label!r} matches {len(found)} images of "
                                                   f"{names.title_of(title)} (ids {', '.join(map(str, found))}); "
                                                   "use the id")
            else:
                answers[(title, label)] = (np.nan, f"unknown image label {label!r} for {names.title_of(title)}; "
                                                   "use the variant's id or its exact label")
        for row, title, label in zip(named.tolist(), pairs["title"].tolist(), pairs["label"].tolist()):
            value, problem = answers[(title, label)]
            ids[row] = value
            if problem:
                rows.append(row)
                problems.append(problem)
    return ids, np.array(rows, dtype=np.int64), problems
