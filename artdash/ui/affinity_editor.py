"""A persona's affinities as sliders grouped by facet, with a search over the tags — for the
~50 tags of a taxonomy, instead of a table of typed numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from artdash.catalog.taxonomy import TagView
from artdash.ui.text import md


def matches(tag: TagView, needle: str) -> bool:
    """Whether the search text is in the tag's name or facet (any case)."""
    text = needle.strip().casefold()
    return not text or text in tag.name.casefold() or text in tag.facet.casefold()


def affinity_sliders(key: str, tags: Sequence[TagView], weights: Mapping[int, float], needle: str) -> dict[int, float]:
    """Sliders for the tags the search matches, one expander per facet (open when searching or
    when the persona has tastes there); tags the search hides keep their weight. Returns every
    tag's weight (call inside a form)."""
    out = {t.id: float(weights.get(t.id, 0.0)) for t in tags}
    facets: dict[str, list[TagView]] = {}
    for t in tags:
        if matches(t, needle):
            facets.setdefault(t.facet, []).append(t)
    if not facets:
        st.caption("No tag matches the search; clear it to see every tag.")
        return out
    for facet, shown in facets.items():
        set_here = sum(1 for t in shown if out[t.id])
        with st.expander(f"{md(facet)} — {len(shown)} tag(s), {set_here:,} set",
                         expanded=bool(needle.strip()) or set_here > 0):
            columns = st.columns(2)
            for i, t in enumerate(shown):
                # a widget's label is Markdown: a tag's name is text someone typed
                out[t.id] = columns[i % 2].slider(md(t.name), -1.0, 1.0, out[t.id], step=0.1, format="%+.1f",
                                                  key=f"{key}-{t.id}")
    return out
