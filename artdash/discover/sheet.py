"""A video in, a ranked contact sheet out: one decode pass finds the shots and scores a few frames a
second; the best frame of every shot (and of every few seconds of a long one) is annotated, and
near-duplicates collapse into the better one: the same picture in two shots, or the same shot
seen twice in a pan or a zoom (same colours)."""

from __future__ import annotations

import heapq
import io
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from artdash.config import VideoLimits
from artdash.discover.shots import ShotDetector
from artdash.media.images import NEAR_DUPLICATE_BITS, make_small, perceptual_hash
from artdash.media.images.annotate import StillAnnotations, annotate_still
from artdash.media.images.encode import encode_thumbnail
from artdash.media.images.features import SAME_SHOT_OVERLAP, colour_overlap, colour_signature
from artdash.media.images.quality import WORK_WIDTH, still_quality
from artdash.media.video.frames import DecodeOutcome, Frame, decode_frames
from artdash.media.video.probe import VideoFacts, probe_video, timecode

SAMPLES_PER_SECOND = 4       # frames scored per second of video
SETTLE_SECONDS = 0.2         # frames this close after a cut are skipped (transition, encoder warm-up)
SEGMENT_SECONDS = 6.0        # a long shot offers one candidate per this many seconds
FACE_BONUS = 0.1             # editors look for people first; a still with faces ranks this much higher
SHEET_BOX = (480, 480)
MAX_PENDING = 6              # frames waiting for the worker (each a full-size RGB array)


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
    duplicates: int = 0          # near-duplicates collapsed into this one (other shots, or this shot later on)
    colours: tuple[float, ...] = ()   # colour signature (what frames of one shot share across a pan)

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
    """Keeps the ``keep`` best candidates, collapsing near-duplicates. Frames are considered in the
    order offered, by one worker thread beside the decoder (OpenCV and Pillow release the GIL), so
    the result is the same as considering them one after another."""
    keep: int
    kept: list[tuple[float, int, Candidate]] = field(default_factory=list)   # a min-heap on score
    collapsed: int = 0
    counter: int = 0
    _worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "artdash-discover"))
    _pending: deque[Future[None]] = field(default_factory=deque)

    def offer(self, slot: _Slot) -> None:
        if slot.best is None:
            return
        rank, motion, frame = slot.best
        rgb = frame.rgb()   # the decoder's frame is converted here; the rest happens on the worker
        self._pending.append(self._worker.submit(self._consider, slot.shot, frame.index, frame.seconds, rank,
                                                 motion, rgb))
        while len(self._pending) > MAX_PENDING:   # bounded memory when faces are slower than decoding
            self._pending.popleft().result()

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()
        self._worker.shutdown()

    def abandon(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)

    def _twin(self, phash: str, shot: int, colours: np.ndarray) -> int | None:
        """A kept candidate this frame repeats: the same picture (perceptual hash), or the same
        shot with the same colours (a pan or a zoom moved the picture, not the scene)."""
        value = int(phash, 16)
        for i, (_, _, other) in enumerate(self.kept):
            if (value ^ int(other.phash, 16)).bit_count() <= NEAR_DUPLICATE_BITS:
                return i
            if other.shot == shot and colour_overlap(colours, np.asarray(other.colours)) >= SAME_SHOT_OVERLAP:
                return i
        return None

    def _consider(self, shot: int, index: int, seconds: float, rank: float, motion: float, rgb: np.ndarray) -> None:
        picture = Image.fromarray(rgb)
        small = make_small(picture, SHEET_BOX)
        phash = perceptual_hash(small)
        colours = colour_signature(small)
        ceiling = rank + FACE_BONUS              # the best score it could reach with faces
        if len(self.kept) >= self.keep and ceiling <= self.kept[0][0]:
            return
        twin = self._twin(phash, shot, colours)
        if twin is not None and self.kept[twin][0] >= ceiling:
            self._count_duplicate(twin)
            return
        notes = annotate_still(rgb)
        score = round(rank + (FACE_BONUS if notes.faces else 0.0), 4)
        if twin is not None:
            if self.kept[twin][0] >= score:
                self._count_duplicate(twin)
                return
            duplicates = self.kept[twin][2].duplicates + 1
            self.collapsed += 1
            self.kept.pop(twin)
            heapq.heapify(self.kept)
        else:
            duplicates = 0
            if len(self.kept) >= self.keep and score <= self.kept[0][0]:
                return
        buf = io.BytesIO()
        picture.save(buf, "JPEG", quality=92)
        candidate = Candidate(shot=shot, frame_index=index, seconds=round(seconds, 3), width=picture.width,
                              height=picture.height, jpeg=buf.getvalue(), thumbnail=encode_thumbnail(small),
                              phash=phash, score=score, motion=round(motion, 4), annotations=notes,
                              duplicates=duplicates, colours=tuple(round(float(x), 5) for x in colours))
        self.counter += 1
        heapq.heappush(self.kept, (score, self.counter, candidate))
        if len(self.kept) > self.keep:
            heapq.heappop(self.kept)

    def _count_duplicate(self, i: int) -> None:
        score, order, other = self.kept[i]
        self.kept[i] = (score, order, replace(other, duplicates=other.duplicates + 1))
        self.collapsed += 1


def find_candidates(source: Path | bytes, file_name: str, *, top: int = 40, limits: VideoLimits | None = None,
                    progress: Callable[[float], object] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> ContactSheet:
    """The ``top`` best candidate stills of a video, best first. Refuses a file that is not a
    video this tool can read (:class:`~artdash.errors.VideoRejected`); stops with
    :class:`~artdash.errors.Cancelled` when ``cancelled()`` turns true."""
    if not 1 <= int(top) <= 500:
        raise ValueError(f"top={top}: ask for between 1 and 500 candidates")
    facts = probe_video(source, file_name, limits)
    outcome = DecodeOutcome()
    collector = _Collector(keep=int(top))
    try:
        shot_starts = _search(source, facts, outcome, collector, limits, progress, cancelled)
        collector.finish()
    except BaseException:
        collector.abandon()
        raise
    if progress is not None:
        progress(1.0)
    ranked = tuple(c for _, _, c in sorted(collector.kept, key=lambda e: (-e[0], e[2].seconds)))
    return ContactSheet(facts=facts, candidates=ranked, shot_starts=tuple(shot_starts),
                        frames_decoded=outcome.frames, collapsed=collector.collapsed, warning=outcome.warning)


def _search(source: Path | bytes, facts: VideoFacts, outcome: DecodeOutcome, collector: _Collector,
            limits: VideoLimits | None, progress: Callable[[float], object] | None,
            cancelled: Callable[[], bool] | None) -> list[float]:
    """The decode pass: shots found, a few frames a second scored, each slot's best offered."""
    detector = ShotDetector(facts.fps)
    step = max(1, round(facts.fps / SAMPLES_PER_SECOND))
    work_height = max(2, round(facts.height * WORK_WIDTH / facts.width / 2) * 2)
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
        quality = still_quality(frame.grey(WORK_WIDTH, work_height))
        motion = detector.last_motion
        rank = quality.score * (1.0 - min(0.5, 8.0 * motion))   # fast motion blurs; steady frames first
        if slot.best is None or rank > slot.best[0]:
            slot.best = (rank, motion, frame)
    collector.offer(slot)
    return shot_starts
