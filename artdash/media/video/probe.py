"""What a video file is, read from its header before anything is decoded; refusals say what to do."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av

from artdash.config import VideoLimits
from artdash.errors import VideoRejected
from artdash.media.images import sniff_format

CONTAINERS = ("MP4", "QuickTime", "Matroska/WebM")
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


@dataclass(frozen=True)
class VideoFacts:
    """A video's header facts: container, codec, frame size, duration and frame rate."""
    file_name: str
    n_bytes: int
    container: str
    codec: str
    width: int
    height: int
    seconds: float
    fps: float

    @property
    def n_frames(self) -> int:
        """About how many frames it holds (duration × rate)."""
        return max(1, round(self.seconds * self.fps))

    @property
    def summary(self) -> str:
        """One line a person reads: "1280×720 H264, 2:05 at 24 fps, 48.1 MB"."""
        return (f"{self.width}×{self.height} {self.codec.upper()}, {timecode(self.seconds, tenths=False)} at "
                f"{self.fps:.3g} fps, {self.n_bytes / 1e6:.1f} MB")


def timecode(seconds: float, tenths: bool = True) -> str:
    """00:12:31.4 (hours shown when there are any)."""
    whole = int(seconds)
    h, m, s = whole // 3600, whole // 60 % 60, whole % 60
    text = f"{h:02d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    return f"{text}.{int((seconds - whole) * 10)}" if tenths else text


def sniff_container(head: bytes) -> str | None:
    """The container a file's first bytes announce (MP4, QuickTime, Matroska/WebM), or None."""
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    if len(head) >= 8 and head[4:8] in _MP4_BOXES:
        return "QuickTime" if head[8:10] == b"qt" else "MP4"
    return None


def _what_it_is(head: bytes) -> str:
    image = sniff_format(head)
    if image:
        return f"it is a {image} image, not a video: upload stills on the Upload tab"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "it is an AVI file; convert it to MP4 (e.g. `ffmpeg -i in.avi out.mp4`) and try again"
    if head[:3] == b"ID3" or head[:4] in (b"fLaC", b"OggS"):
        return "it is an audio file, not a video"
    return ("it is not a video this page reads (MP4, MOV, MKV or WebM); export the trailer or episode in one "
            "of those and try again")


def open_video(source: Path | bytes) -> av.container.InputContainer:
    """An open container for a path or the bytes of an upload (the caller closes it)."""
    try:
        return av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), mode="r",
                       metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoRejected(f"the video cannot be opened ({_reason(exc)}); the file is damaged or truncated — "
                            "export it again") from None


def probe_video(source: Path | bytes, file_name: str, limits: VideoLimits | None = None) -> VideoFacts:
    """Check a video's header against the limits, before a single frame is decoded."""
    limits = limits or VideoLimits()
    n_bytes = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if n_bytes == 0:
        raise VideoRejected("the file is empty (0 bytes); export the video again")
    if n_bytes > limits.max_bytes:
        raise VideoRejected(f"the file is {n_bytes / 2**20:,.0f} MB, over the {limits.max_bytes / 2**20:,.0f} MB "
                            "limit; cut the part you want (a trailer, one episode) or raise ARTDASH_MAX_VIDEO_MB")
    head = source[:64] if isinstance(source, bytes) else _head(Path(source))
    container_name = sniff_container(head)
    if container_name is None:
        raise VideoRejected(_what_it_is(head))
    container = open_video(source)
    try:
        streams = container.streams.video
        if not streams:
            raise VideoRejected("the file holds no video stream (audio only?); choose the video file itself")
        stream = streams[0]
        context = stream.codec_context
        codec = (context.name if context is not None else "") or "unknown to FFmpeg"
        try:
            if context is None:
                raise ValueError(codec)
            av.codec.Codec(codec, "r")
        except Exception:
            raise VideoRejected(f"its video codec ({codec}) cannot be decoded here; export it as H.264, HEVC, "
                                "VP9 or AV1") from None
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise VideoRejected("the video stream has no frame size; the file is damaged — export it again")
        if width * height > limits.max_pixels:
            raise VideoRejected(f"its frames are {width}×{height}, larger than 4K UHD (3840×2160); export a "
                                "4K or smaller version")
        seconds = _duration(container, stream)
        if seconds <= 0:
            raise VideoRejected("the video has no duration in its header; the file is damaged or truncated — "
                                "export it again")
        if seconds > limits.max_seconds:
            raise VideoRejected(f"it runs {timecode(seconds, tenths=False)}, longer than the "
                                f"{timecode(limits.max_seconds, tenths=False)} limit; cut the part you want or "
                                "raise ARTDASH_MAX_VIDEO_MINUTES")
        rate = stream.average_rate or stream.guessed_rate or 0
        fps = float(rate) if rate else 25.0
    finally:
        container.close()
    return VideoFacts(file_name=file_name, n_bytes=n_bytes, container=container_name, codec=codec,
                      width=width, height=height, seconds=seconds, fps=fps)


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(64)


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _reason(exc: BaseException) -> str:
    text = str(exc).split(":")[-1].strip() if ":" in str(exc) else str(exc)
    return (text or type(exc).__name__)[:120]
