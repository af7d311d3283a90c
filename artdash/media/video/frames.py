"""One pass over a video's frames: each reduced to a tiny signature read straight off its planes
(no colour conversion), a few to a grey working copy, kept frames converted to RGB in full."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from artdash.config import VideoLimits
from artdash.errors import Cancelled, VideoRejected
from artdash.media.video.probe import VideoFacts, open_video, timecode

TINY = (64, 36)          # the shot detector's view of every frame (width, height)
CHECK_EVERY = 24         # frames between looks at the Cancel flag and progress


PLANAR_420 = ("yuv420p", "yuvj420p")


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    return np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, :plane.width]


def _small(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``picture`` area-averaged down to ``size`` (width, height); a much larger one is first
    sampled every n-th pixel to twice that size (the average of 2×2 samples still low-passes)."""
    width, height = size
    step_y, step_x = picture.shape[0] // (2 * height), picture.shape[1] // (2 * width)
    if step_x > 1 and step_y > 1:
        picture = picture[::step_y, ::step_x]
    return cv2.resize(np.ascontiguousarray(picture), size, interpolation=cv2.INTER_AREA)


@dataclass
class Frame:
    """A decoded frame: its number, time, tiny Y′CbCr signature, and the decoder's frame for conversions."""
    index: int
    seconds: float
    tiny: np.ndarray          # TINY[1]×TINY[0]×3, channel 0 the luma
    _frame: av.VideoFrame

    def rgb(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The frame as an RGB array (full size, or scaled by FFmpeg to ``width``×``height``)."""
        return self._frame.to_ndarray(format="rgb24", width=width, height=height)

    def grey(self, width: int, height: int) -> np.ndarray:
        """The luma scaled to ``width``×``height`` (read off the Y plane when the frame is planar 4:2:0)."""
        if self._frame.format.name in PLANAR_420:
            return _small(_plane(self._frame.planes[0]), (width, height))
        return self._frame.to_ndarray(format="gray", width=width, height=height)


def signature(frame: av.VideoFrame) -> np.ndarray:
    """A TINY-sized Y′CbCr picture of the frame: off its planes for 4:2:0 video, by FFmpeg otherwise."""
    if frame.format.name in PLANAR_420:
        planes = [_small(_plane(p), TINY) for p in frame.planes[:3]]
    else:
        planar = frame.reformat(width=TINY[0], height=TINY[1], format="yuv444p")
        planes = [_plane(p).copy() for p in planar.planes[:3]]
    return np.dstack(planes)


@dataclass
class DecodeOutcome:
    """What the pass found beyond its frames: how far it got and why it stopped early, if it did."""
    frames: int = 0
    last_seconds: float = 0.0
    warning: str = ""


def decode_frames(source: Path | bytes, facts: VideoFacts, outcome: DecodeOutcome,
                  limits: VideoLimits | None = None,
                  progress: Callable[[float], object] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> Iterator[Frame]:
    """Every frame in order. A stream that breaks off after some frames ends with
    ``outcome.warning`` set (the frames before the break are good); one that yields no frame is
    refused. ``progress(fraction)`` and ``cancelled()`` are consulted every few frames."""
    limits = limits or VideoLimits()
    container = open_video(source)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # FFmpeg's frame threads: both cores decode
        # The header's size was checked; a later frame may claim more (a new sequence header):
        # FFmpeg refuses to allocate one over the limit, so it never reaches memory.
        stream.codec_context.options = {"max_pixels": str(limits.max_pixels)}
        base = float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0
        packets = container.decode(stream)
        while True:
            try:
                frame = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                if outcome.frames == 0:
                    raise VideoRejected(f"no frame of it can be decoded ({exc.strerror or exc}); the file is "
                                        "damaged — export it again") from None
                outcome.warning = (f"the video breaks off at {timecode(outcome.last_seconds)} of "
                                   f"{timecode(facts.seconds)} (damaged or truncated data, or frames larger "
                                   "than 4K UHD); the stills come from the part before")
                break
            if frame.width * frame.height > limits.max_pixels:     # a decoder that ignored max_pixels
                outcome.warning = (f"at {timecode(outcome.last_seconds)} the frames grow to {frame.width}×"
                                   f"{frame.height}, larger than 4K UHD (3840×2160); the stills come from the "
                                   "part before")
                break
            seconds = max(0.0, float(frame.time or 0.0) - base)
            if seconds > limits.max_seconds:
                raise VideoRejected(f"it runs past the {timecode(limits.max_seconds, tenths=False)} limit "
                                    "(its header said less); cut the part you want")
            if outcome.frames % CHECK_EVERY == 0:
                if cancelled is not None and cancelled():
                    raise Cancelled("stopped: no candidates were kept")
                if progress is not None:
                    progress(min(1.0, seconds / facts.seconds))
            yield Frame(outcome.frames, seconds, signature(frame), frame)
            outcome.frames += 1
            outcome.last_seconds = seconds
    finally:
        container.close()
    if outcome.frames == 0:
        raise VideoRejected("the video holds no frame that can be decoded; the file is damaged — export it again")
    if not outcome.warning and outcome.last_seconds < 0.9 * facts.seconds - 1.0:
        outcome.warning = (f"the frames end at {timecode(outcome.last_seconds)} but the header says "
                           f"{timecode(facts.seconds)}: the file looks truncated; the stills come from the part "
                           "that is there")
