"""Everything ArtDash reads off a still by itself: faces and cast shot, focal point and placement,
photographic quality, a sensitivity cue — and the tags those suggest. Runs on every uploaded image
and on every candidate still from a video; no network, no model download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from artdash.media.images.composition import Composition, composition, skin_share
from artdash.media.images.faces import Face, cast_shot, detect_faces
from artdash.media.images.quality import StillQuality, still_quality, working_grey
from artdash.media.images.text import text_share

# Lettering over this share of the picture suggests "text-heavy" (a page of text: ~0.4, a block of
# captions: ~0.13; a single title line: 0.01–0.04, and a star field can reach 0.02).
TEXT_HEAVY_SHARE = 0.08


@dataclass(frozen=True)
class StillAnnotations:
    """What a still shows and how well it is shot."""
    faces: tuple[Face, ...]
    cast_shot: str
    composition: Composition
    quality: StillQuality
    skin_share: float     # kept as a number only: as a flag it fired on an orange suit and a coffee cup
    text_share: float = 0.0   # share covered by word-shaped, high-contrast blobs (artdash.media.images.text)

    @property
    def flags(self) -> tuple[str, ...]:
        """Reasons a person should look before using it (an empty tuple when there are none)."""
        out = []
        if self.quality.clipped >= 0.25:
            out.append(f"{self.quality.clipped:.0%} of pixels are crushed black or blown white")
        return tuple(out)

    def suggested_tags(self) -> list[tuple[str, str]]:
        """(visual tag, reason) pairs: the cast shot from the faces, lettering; an editor accepts or
        rejects each."""
        n = len(self.faces)
        out = []
        if n == 1 and self.faces[0].h >= 0.25:
            out.append(("close-up face", f"one face covering {self.faces[0].h:.0%} of the height"))
        elif n == 2:
            out.append(("couple", "two faces (a two-shot)"))
        elif n >= 3:
            out.append(("group", f"{n} faces"))
        if self.text_share >= TEXT_HEAVY_SHARE:
            out.append(("text-heavy", f"lettering covers about {self.text_share:.0%} of the picture"))
        return out

    def as_json(self) -> dict[str, Any]:
        """The stored form (a variant's ``annotations``)."""
        q = self.quality
        return {"cast_shot": self.cast_shot, "face_count": len(self.faces),
                "focal_source": self.composition.source, "placement": self.composition.placement,
                "sharpness": q.sharpness, "exposure": q.exposure, "contrast": q.contrast, "clipped": q.clipped,
                "quality": q.score, "skin_share": self.skin_share, "text_share": self.text_share,
                "flags": list(self.flags)}


def annotate_still(rgb: np.ndarray, faces: tuple[Face, ...] | None = None) -> StillAnnotations:
    """Annotate an RGB array (any size; faces are looked for at up to 512 px wide)."""
    found = detect_faces(rgb) if faces is None else faces
    return StillAnnotations(faces=found, cast_shot=cast_shot(found), composition=composition(rgb, found),
                            quality=still_quality(working_grey(rgb)), skin_share=skin_share(rgb, found),
                            text_share=text_share(rgb))
