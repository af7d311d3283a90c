"""A video in, a ranked contact sheet out: one decode pass finds the shots and scores a few frames a
second; the best frame of every shot (and of every few seconds of a long one) is annotated, and
near-duplicates across shots collapse into the better one."""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from artdash.config import VideoLimits
from artdash.discover.shots import ShotDetector
from artdash.media.images import NEAR_DUPLICATE_BITS, make_small, perceptual_hash
from artdash.media.images.annotate import StillAnnotations, annotate_still
from artdash.media.images.encode import encode_thumbnail
from artdash.media.images.quality import WORK_WIDTH, still_quality, working_grey
from artdash.media.video.frames import DecodeOutcome, Frame, decode_frames
from artdash.media.video.probe import VideoFacts, probe_video, timecode

SAMPLES_PER_SECOND = 4       # frames scored per second of video
SETTLE_SECONDS = 0.2         # frames this close after a cut are skipped (transition, encoder warm-up)
SEGMENT_SECONDS = 6.0        # a long shot offers one candidate per this many seconds
FACE_BONUS = 0.1             # editors look for people first; a still with faces ranks this much higher
SHEET_BOX = (480, 480)


@dataclass(frozen=True)
class Candidate:
    """A candidate still: where it is in the video, its pixels (JPEG), scores and annotations."""
    shot: int
    frame_index: int
    seconds: float
    width: int
    height: int
    jpeg: bytes
    thumbnail: bytes
    phash: str
    score: float
    motion: float
    annotations: StillAnnotations
    duplicates: int = 0          # near-duplicates from other shots collapsed into this one

    @property
    def timecode(self) -> str:
        """00:12:31.4"""
        return timecode(self.seconds)

    def origin(self, file_name: str) -> str:
        """The lineage line a variant keeps: 'frame 00:12:31.4 of trailer.mp4'."""
        return f"frame {self.timecode} of {file_name}"


@dataclass(frozen=True)
class ContactSheet:
    """The ranked candidates of one video, with what the pass saw."""
    facts: VideoFacts
    candidates: tuple[Candidate, ...]
    shot_starts: tuple[float, ...]       # seconds at which each shot begins (the first at 0)
    frames_decoded: int
    collapsed: int                       # near-duplicates folded into a better candidate
    warning: str = ""


@dataclass
class _Slot:
    shot: int
    best: tuple[float, float, Frame] | None = None   # (rank score, motion, frame)


@dataclass
class _Collector:
    keep: int
    kept: list[tuple[float, int, Candidate]] = field(default_factory=list)   # a min-heap on score
    collapsed: int = 0
    counter: int = 0

    def offer(self, slot: _Slot) -> None:
        if slot.best is None:
            return
        rank, motion, frame = slot.best
        rgb = frame.rgb()
        notes = annotate_still(rgb)
        score = round(rank + (FACE_BONUS if notes.faces else 0.0), 4)
        if len(self.kept) >= self.keep and score <= self.kept[0][0]:
            return
        picture = Image.fromarray(rgb)
        small = make_small(picture, SHEET_BOX)
        phash = perceptual_hash(small)
        for i, (other_score, _, other) in enumerate(self.kept):
            if (int(phash, 16) ^ int(other.phash, 16)).bit_count() <= NEAR_DUPLICATE_BITS:
                self.collapsed += 1
                if other_score >= score:
                    self.kept[i] = (other_score, self.kept[i][1],
                                    _replace_duplicates(other, other.duplicates + 1))
                    return
                self.kept.pop(i)
                heapq.heapify(self.kept)
                score_dups = other.duplicates + 1
                break
        else:
            score_dups = 0
        buf = io.BytesIO()
        picture.save(buf, "JPEG", quality=92)
        candidate = Candidate(shot=slot.shot, frame_index=frame.index, seconds=round(frame.seconds, 3),
                              width=picture.width, height=picture.height, jpeg=buf.getvalue(),
                              thumbnail=encode_thumbnail(small), phash=phash, score=score,
                              motion=round(motion, 4), annotations=notes, duplicates=score_dups)
        self.counter += 1
        heapq.heappush(self.kept, (score, self.counter, candidate))
        if len(self.kept) > self.keep:
            heapq.heappop(self.kept)


def _replace_duplicates(candidate: Candidate, n: int) -> Candidate:
    from dataclasses import replace

    return replace(candidate, duplicates=n)


def find_candidates(source: Path | bytes, file_name: str, *, top: int = 40, limits: VideoLimits | None = None,
                    progress: Callable[[float], object] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> ContactSheet:
    """The ``top`` best candidate stills of a video, best first. Refuses a file that is not a
    video this tool can read (:class:`~artdash.errors.VideoRejected`); stops with
    :class:`~artdash.errors.Cancelled` when ``cancelled()`` turns true."""
    if not 1 <= int(top) <= 500:
        raise ValueError(f"top={top}: ask for between 1 and 500 candidates")
    facts = probe_video(source, file_name, limits)
    detector = ShotDetector(facts.fps)
    step = max(1, round(facts.fps / SAMPLES_PER_SECOND))
    work_height = max(2, round(facts.height * WORK_WIDTH / facts.width / 2) * 2)
    outcome = DecodeOutcome()
    collector = _Collector(keep=int(top))
    shot, shot_start, slot_start = 0, 0.0, 0.0
    shot_starts = [0.0]
    slot = _Slot(shot=0)
    for frame in decode_frames(source, facts, outcome, limits, progress, cancelled):
        if detector.push(frame.tiny):
            collector.offer(slot)
            shot += 1
            shot_start = slot_start = frame.seconds
            shot_starts.append(round(frame.seconds, 3))
            slot = _Slot(shot=shot)
        elif frame.seconds - slot_start >= SEGMENT_SECONDS:
            collector.offer(slot)
            slot_start = frame.seconds
            slot = _Slot(shot=shot)
        if frame.index % step or frame.seconds - shot_start < SETTLE_SECONDS:
            continue
        quality = still_quality(working_grey(frame.rgb(WORK_WIDTH, work_height)))
        motion = detector.last_motion
        rank = quality.score * (1.0 - min(0.5, 8.0 * motion))   # fast motion blurs; steady frames first
        if slot.best is None or rank > slot.best[0]:
            slot.best = (rank, motion, frame)
    collector.offer(slot)
    if progress is not None:
        progress(1.0)
    ranked = tuple(c for _, _, c in sorted(collector.kept, key=lambda e: (-e[0], e[2].seconds)))
    return ContactSheet(facts=facts, candidates=ranked, shot_starts=tuple(shot_starts),
                        frames_decoded=outcome.frames, collapsed=collector.collapsed, warning=outcome.warning)
