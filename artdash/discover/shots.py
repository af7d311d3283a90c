"""Shot boundaries from one frame at a time: a colour-histogram distance plus a luma difference
of tiny frames, compared with the recent past of the same shot (so pans, zooms and steady motion
do not cut, a change of scene does)."""

from __future__ import annotations

from collections import deque

import numpy as np

MIN_SCORE = 0.10       # a cut changes at least this much (histogram share + mean pixel change)
RATIO = 3.0            # … and at least this many times the shot's recent typical change
WINDOW = 12            # frames of recent past
MIN_SHOT_SECONDS = 0.4


_CHROMA_SHIFT = np.array([0, 16, 16], dtype=np.int32)


def _histogram(tiny: np.ndarray) -> np.ndarray:
    # 8 levels per channel; chroma shifted half a level so that grey (Cb = Cr = 128) sits in the
    # middle of a bin, not on an edge where noise would flip it between two
    q = (np.minimum(tiny.reshape(-1, 3).astype(np.int32) + _CHROMA_SHIFT, 255) >> 5)
    return np.bincount(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2], minlength=512) / len(q)


class ShotDetector:
    """Feed frames in order with :meth:`push`; it says whether each starts a new shot."""

    def __init__(self, fps: float):
        self.min_gap = max(1, round(MIN_SHOT_SECONDS * fps))
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._since_cut = 0
        self.last_change = 0.0      # the last frame's change score
        self.last_motion = 0.0      # … its mean pixel change alone, in [0, 1]

    def push(self, tiny: np.ndarray) -> bool:
        """True when ``tiny`` (an H×W×3 uint8 frame, channel 0 its luma) is the first frame of a new shot."""
        hist, grey = _histogram(tiny), tiny[..., 0].astype(np.float32)
        previous, self._previous = self._previous, (hist, grey)
        self._since_cut += 1
        if previous is None:
            return False
        motion = float(np.abs(grey - previous[1]).mean() / 255.0)
        change = 0.5 * float(np.abs(hist - previous[0]).sum()) + motion
        self.last_change, self.last_motion = change, motion
        typical = float(np.median(self._recent)) if self._recent else 0.0
        is_cut = change >= MIN_SCORE and change >= RATIO * (typical + 0.01) and self._since_cut >= self.min_gap
        if is_cut:
            self._recent.clear()
            self._since_cut = 0
        else:
            self._recent.append(change)
        return is_cut
