"""Video in: checked before it is decoded, then decoded once, frame by frame, with limits.

- ``probe``: what a file is (sniffed from its bytes, never from its name), how long, how large,
  which codec — and a refusal a person can act on when it is not a video, too long, too large
  or in a codec the bundled FFmpeg (PyAV's wheel) cannot decode;
- ``frames``: one pass over the decoded frames, each reduced by FFmpeg's scaler to the sizes the
  shot detector and the scorer need (no full-size copy unless a frame is kept);
- ``assemble``: a clip made from still photographs with pans and zooms and known cut points —
  the test footage and the demo trailer.
"""

from artdash.media.video.probe import VideoFacts, open_video, probe_video, sniff_container

__all__ = ["VideoFacts", "open_video", "probe_video", "sniff_container"]
