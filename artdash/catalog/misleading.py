"""Artwork that promises another film: an image tagged with a tone or theme that contradicts the
title's genre (an "uplifting" image for a horror title). Netflix warns against such clickbait —
members who press play for a promise the title does not keep stop early — so ArtDash says so
wherever the image is shown or served."""

from __future__ import annotations

from collections.abc import Iterable

# genre → image tags ("facet: tag") that promise something else
CONTRADICTIONS: dict[str, frozenset[str]] = {
    "horror": frozenset({"tone: uplifting", "tone: heartwarming", "tone: funny", "tone: whimsical"}),
    "thriller": frozenset({"tone: whimsical", "tone: funny"}),
    "crime": frozenset({"tone: whimsical"}),
    "comedy": frozenset({"tone: scary", "tone: dark"}),
    "kids": frozenset({"tone: scary", "tone: dark", "theme: revenge"}),
    "family": frozenset({"tone: scary", "theme: revenge"}),
    "animation": frozenset({"tone: scary"}),
    "romance": frozenset({"tone: scary"}),
    "documentary": frozenset({"theme: the supernatural"}),
}


def misleading(genres: Iterable[str], tag_labels: Iterable[str]) -> tuple[str, ...]:
    """A sentence per tag of the image that contradicts one of the title's genres (none: ())."""
    tags = set(tag_labels)
    out = []
    for genre in sorted({g.casefold() for g in genres}):
        for tag in sorted(CONTRADICTIONS.get(genre, frozenset()) & tags):
            out.append(f"the image is tagged {tag.split(': ', 1)[1]!r} but the title is {genre}: it may promise a "
                       "film the title is not (members who play for it stop early)")
    return tuple(out)
