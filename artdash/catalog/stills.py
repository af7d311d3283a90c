"""Candidate stills become artwork: each picked frame a draft variant that remembers where it came
from, with crops for the slots the product shows (2:3, 16:9, …) as variants of the same lineage."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from artdash.access.auth import authorize
from artdash.catalog.titles import title_row
from artdash.catalog.uploads import ingest_image
from artdash.catalog.variants import variant_row
from artdash.config import ImageLimits
from artdash.db.models import SourceVideo
from artdash.discover import Candidate, ContactSheet
from artdash.errors import ValidationError
from artdash.media.images.annotate import annotate_still
from artdash.media.images.crops import CropBox, crop_around, parse_ratio
from artdash.media.store import MediaStore

DEFAULT_RATIOS = ("2:3", "16:9")
_VIDEO_EXT = {"MP4": "mp4", "QuickTime": "mov", "Matroska/WebM": "mkv"}


@dataclass(frozen=True)
class Pick:
    """A candidate the editor chose, with the focal point they settled on (None: the detected one)."""
    candidate: Candidate
    focal: tuple[float, float] | None = None


@dataclass(frozen=True)
class StillOutcome:
    """What became of one pick: the frame's variant and its crops, or why it was refused."""
    timecode: str
    variant_id: int | None
    crop_ids: tuple[int, ...] = ()
    reason: str = ""
    warnings: tuple[str, ...] = ()


def record_video(session: Session, title_id: int, sheet: ContactSheet, data_sha256: str, actor: str,
                 kept: bool = False) -> int:
    """The id of the title's source-video row for this file (made the first time it is seen)."""
    authorize(session, actor, "editor")
    title_row(session, title_id)
    row = session.scalars(select(SourceVideo).where(SourceVideo.title_id == title_id,
                                                    SourceVideo.sha256 == data_sha256)).first()
    facts = sheet.facts
    if row is None:
        row = SourceVideo(title_id=title_id, file_name=facts.file_name[:255], sha256=data_sha256, kept=kept,
                          media_ext=_VIDEO_EXT.get(facts.container, "mp4"), n_bytes=facts.n_bytes,
                          seconds=facts.seconds, width=facts.width, height=facts.height, codec=facts.codec[:40],
                          created_by=actor)
        session.add(row)
    elif kept:
        row.kept = True
    session.flush()
    return row.id


def keep_video(videos: MediaStore, data: bytes, container: str) -> str:
    """Put the video's bytes in the (content-addressed) video store; returns their SHA-256."""
    return videos.put(data, _VIDEO_EXT.get(container, "mp4"))


def add_stills(sessions: sessionmaker[Session], store: MediaStore, title_id: int, sheet: ContactSheet,
               picks: Sequence[Pick], actor: str, *, video_sha256: str | None = None, keep: bytes | None = None,
               videos: MediaStore | None = None, ratios: Sequence[str] = DEFAULT_RATIOS,
               limits: ImageLimits | None = None,
               progress: Callable[[int, int, str], object] | None = None) -> tuple[StillOutcome, ...]:
    """Each pick as a draft variant plus one crop per ratio (a crop equal to the frame is skipped),
    each pick in its own transaction — one refused frame never stops the others. ``keep`` (the
    video's bytes, with ``videos``) stores the video itself; otherwise only its facts are kept."""
    shapes = [(text, parse_ratio(text)) for text in ratios]
    if not picks:
        raise ValidationError("no still is picked; tick the candidates you want, then add them")
    sha = video_sha256 or (hashlib.sha256(keep).hexdigest() if keep is not None else "")
    if not sha:
        raise ValidationError("the video's SHA-256 (or its bytes) is needed to record where the stills came from")
    if keep is not None and videos is not None:
        keep_video(videos, keep, sheet.facts.container)
    with sessions() as session, session.begin():
        video_id = record_video(session, title_id, sheet, sha, actor, kept=keep is not None and videos is not None)
    outcomes = []
    for i, pick in enumerate(picks, start=1):
        try:
            with sessions() as session, session.begin():
                outcomes.append(_add_one(session, store, title_id, sheet, pick, actor, video_id, shapes, limits))
        except IntegrityError:
            outcomes.append(StillOutcome(pick.candidate.timecode, None,
                                         reason="someone stored the same still at this moment; it is in the gallery"))
        if progress:
            progress(i, len(picks), pick.candidate.timecode)
    return tuple(outcomes)


def _add_one(session: Session, store: MediaStore, title_id: int, sheet: ContactSheet, pick: Pick, actor: str,
             video_id: int, shapes: list[tuple[str, tuple[int, int]]], limits: ImageLimits | None) -> StillOutcome:
    c = pick.candidate
    name = f"{_stem(sheet.facts.file_name)} {c.timecode.replace(':', '.')}.jpg"
    result = ingest_image(session, store, title_id, name, c.jpeg, actor, limits, annotations=c.annotations)
    if not result.accepted or result.variant_id is None:
        return StillOutcome(c.timecode, None, reason=result.reason)
    frame = variant_row(session, result.variant_id)
    frame.origin = c.origin(sheet.facts.file_name)[:300]
    frame.source_video_id, frame.frame_seconds = video_id, c.seconds
    if pick.focal is not None:
        frame.focal_x, frame.focal_y = round(pick.focal[0], 4), round(pick.focal[1], 4)
        frame.annotations = {**frame.annotations, "focal_source": "editor"}
    fx, fy = frame.focal_x if frame.focal_x is not None else 0.5, frame.focal_y if frame.focal_y is not None else 0.5
    crop_ids, warnings = [], list(result.warnings)
    picture = Image.open(io.BytesIO(c.jpeg)).convert("RGB")
    for text, ratio in shapes:
        box = crop_around(c.width, c.height, fx, fy, ratio)
        if box.size == (c.width, c.height):
            continue  # the frame already has this shape
        crop_id = _add_crop(session, store, title_id, frame.id, picture, box, text, name, actor, limits, warnings)
        if crop_id is not None:
            crop_ids.append(crop_id)
    session.flush()
    return StillOutcome(c.timecode, frame.id, tuple(crop_ids), warnings=tuple(warnings))


def _add_crop(session: Session, store: MediaStore, title_id: int, parent_id: int, picture: Image.Image,
              box: CropBox, ratio_text: str, name: str, actor: str, limits: ImageLimits | None,
              warnings: list[str]) -> int | None:
    cut = picture.crop(box.as_tuple())
    buf = io.BytesIO()
    cut.save(buf, "JPEG", quality=92)
    result = ingest_image(session, store, title_id, f"{ratio_text.replace(':', 'x')} {name}", buf.getvalue(), actor,
                          limits, annotations=annotate_still(np.asarray(cut)))
    if not result.accepted or result.variant_id is None:
        warnings.append(f"the {ratio_text} crop was not stored: {result.reason}")
        return None
    crop = variant_row(session, result.variant_id)
    crop.parent_id, crop.lineage_kind, crop.crop_box = parent_id, "crop", list(box.as_tuple())
    crop.origin = f"{ratio_text} crop of #{parent_id}"
    # that a crop looks like the frame it was cut from is no news
    warnings.extend(f"{ratio_text} crop: {w}" for w in result.warnings if f"variant #{parent_id} (" not in w)
    return crop.id


def _stem(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return stem[:80] or "video"


def add_crops(sessions: sessionmaker[Session], store: MediaStore, variant_id: int, actor: str,
              ratios: Sequence[str] = DEFAULT_RATIOS, focal: tuple[float, float] | None = None) -> tuple[int, ...]:
    """Crops of an existing variant around its focal point (or ``focal``), as draft crop variants
    of it, in one transaction; a ratio the image already has is skipped. Returns the new ids."""
    shapes = [(text, parse_ratio(text)) for text in ratios]
    with sessions() as session, session.begin():
        authorize(session, actor, "editor")
        parent = variant_row(session, variant_id)
        fx, fy = focal if focal is not None else (parent.focal_x if parent.focal_x is not None else 0.5,
                                                  parent.focal_y if parent.focal_y is not None else 0.5)
        picture = Image.open(io.BytesIO(store.read(parent.sha256, parent.media_ext))).convert("RGB")
        made: list[int] = []
        warnings: list[str] = []
        for text, ratio in shapes:
            box = crop_around(picture.width, picture.height, fx, fy, ratio)
            if box.size == picture.size:
                continue
            crop_id = _add_crop(session, store, parent.title_id, parent.id, picture, box, text,
                                f"{parent.label[:80]}.jpg", actor, None, warnings)
            if crop_id is None:
                raise ValidationError(warnings[-1])
            made.append(crop_id)
    return tuple(made)
