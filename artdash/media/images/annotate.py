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


@dataclass(frozen=True)
class StillAnnotations:
    """What a still shows and how well it is shot."""
    faces: tuple[Face, ...]
    cast_shot: str
    composition: Composition
    quality: StillQuality
    skin_share: float     # kept as a number only: as a flag it fired on an orange suit and a coffee cup

    @property
    def flags(self) -> tuple[str, ...]:
        """Reasons a person should look before using it (an empty tuple when there are none)."""
        out = []
        if self.quality.clipped >= 0.25:
            out.append(f"{self.quality.clipped:.0%} of pixels are crushed black or blown white")
        return tuple(out)

    def suggested_tags(self) -> list[tuple[str, str]]:
        """(visual tag, reason) pairs: cast shot from the faces; an editor accepts or rejects each."""
        n = len(self.faces)
        if n == 1 and self.faces[0].h >= 0.25:
            return [("close-up face", f"one face covering {self.faces[0].h:.0%} of the height")]
        if n == 2:
            return [("couple", "two faces (a two-shot)")]
        if n >= 3:
            return [("group", f"{n} faces")]
        return []

    def as_json(self) -> dict[str, Any]:
        """The stored form (a variant's ``annotations``)."""
        q = self.quality
        return {"cast_shot": self.cast_shot, "face_count": len(self.faces),
                "focal_source": self.composition.source, "placement": self.composition.placement,
                "sharpness": q.sharpness, "exposure": q.exposure, "contrast": q.contrast, "clipped": q.clipped,
                "quality": q.score, "skin_share": self.skin_share, "flags": list(self.flags)}


def annotate_still(rgb: np.ndarray, faces: tuple[Face, ...] | None = None) -> StillAnnotations:
    """Annotate an RGB array (any size; faces are looked for at up to 512 px wide)."""
    found = detect_faces(rgb) if faces is None else faces
    return StillAnnotations(faces=found, cast_shot=cast_shot(found), composition=composition(rgb, found),
                            quality=still_quality(working_grey(rgb)), skin_share=skin_share(rgb, found))
