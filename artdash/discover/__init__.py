"""Candidate stills from video (after Netflix's AVA): shots found, frames scored, near-duplicates
collapsed, faces and focal points read — a ranked contact sheet an editor picks from.

Usable from a notebook::

    from artdash.discover import find_candidates
    sheet = find_candidates(Path("trailer.mp4"), "trailer.mp4", top=30)
    for c in sheet.candidates: print(c.timecode, c.score, c.annotations.cast_shot)
"""

from artdash.discover.sheet import Candidate, ContactSheet, find_candidates
from artdash.discover.shots import ShotDetector

__all__ = ["Candidate", "ContactSheet", "ShotDetector", "find_candidates"]
