"""A clip made of still photographs, one shot each, with a slow pan or zoom inside every shot and a
hard cut between shots — footage whose cut points are known (tests, benchmarks, the demo trailer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class AssembledClip:
    """Where the clip is, its frame rate and size, and the frame numbers where each new shot starts."""
    path: Path
    fps: int
    size: tuple[int, int]
    cuts: tuple[int, ...]        # first frame of every shot after the first
    n_frames: int


def assemble_clip(photos: Sequence[Image.Image], path: Path, *, seconds_per_shot: float | Sequence[float] = 3.0,
                  fps: int = 24, size: tuple[int, int] = (640, 360), codec: str = "libx264") -> AssembledClip:
    """Write an H.264 MP4 (or ``codec``) with one shot per photo: even shots pan, odd shots zoom in."""
    width, height = size
    lengths = ([seconds_per_shot] * len(photos) if isinstance(seconds_per_shot, int | float)
               else list(seconds_per_shot))
    path.parent.mkdir(parents=True, exist_ok=True)
    cuts: list[int] = []
    n = 0
    with av.open(str(path), mode="w") as out:
        stream = cast(av.video.stream.VideoStream, out.add_stream(codec, rate=fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "20"}
        for shot, (photo, length) in enumerate(zip(photos, lengths, strict=True)):
            if shot:
                cuts.append(n)
            frames = max(2, round(length * fps))
            cover = _cover(photo.convert("RGB"), int(width * 1.25), int(height * 1.25))
            for i in range(frames):
                progress = i / (frames - 1)
                picture = _pan(cover, width, height, progress) if shot % 2 == 0 else _zoom(cover, width, height,
                                                                                             progress)
                for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                    out.mux(packet)
                n += 1
        for packet in stream.encode():
            out.mux(packet)
    return AssembledClip(path, fps, size, tuple(cuts), n)


def _cover(photo: Image.Image, width: int, height: int) -> np.ndarray:
    scale = max(width / photo.width, height / photo.height)
    resized = photo.resize((max(width, round(photo.width * scale)), max(height, round(photo.height * scale))),
                           Image.Resampling.LANCZOS)
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return np.asarray(resized.crop((left, top, left + width, top + height)))


def _pan(cover: np.ndarray, width: int, height: int, progress: float) -> np.ndarray:
    x = round((cover.shape[1] - width) * progress)
    y = round((cover.shape[0] - height) * 0.5)
    return np.ascontiguousarray(cover[y:y + height, x:x + width])


def _zoom(cover: np.ndarray, width: int, height: int, progress: float) -> np.ndarray:
    scale = 1.0 - 0.2 * progress           # from the whole cover to its central 80 %
    w, h = round(cover.shape[1] * scale), round(cover.shape[0] * scale)
    left, top = (cover.shape[1] - w) // 2, (cover.shape[0] - h) // 2
    window = Image.fromarray(cover[top:top + h, left:left + w])
    return np.asarray(window.resize((width, height), Image.Resampling.BILINEAR))
