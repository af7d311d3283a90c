"""What an uploaded table may look like before it is parsed: a bounded header, a bounded number
of columns, bounded fields — checked up front, with a short message that names at most a few
columns (a file with a million columns used to take 28 s and 5 GB, and its error message was
nine million characters long)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from artdash.errors import ValidationError

MAX_HEADER_BYTES = 64 << 10   # the first line of a CSV: its column names
MAX_COLUMNS = 64              # an impression log has 13 columns, a viewing history 4
MAX_FIELD_BYTES = 16 << 20    # one cell (the CSV reader's block: a bigger field cannot be parsed)
NAMES_SHOWN = 6

# Characters no typed name may hold: C0/C1 controls, and the bidirectional controls (U+202E
# RIGHT-TO-LEFT OVERRIDE and kin) that make ``gpj.exe`` read as ``exe.jpg``.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
CONTROL_BUT_LINE_BREAKS = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")  # tab and newline allowed


def some(names: Sequence[object], n: int = NAMES_SHOWN) -> str:
    """At most ``n`` names, then how many more: ``a, b, c … and 999,997 more``."""
    shown = ", ".join(str(x)[:40] for x in names[:n])
    return f"{shown} … and {len(names) - n:,} more" if len(names) > n else shown or "none"


def header_line(first_bytes: bytes) -> bytes:
    """The first line of a CSV from its first bytes, refused if it does not end within
    :data:`MAX_HEADER_BYTES`."""
    end = first_bytes.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if end < 0 and len(first_bytes) > MAX_HEADER_BYTES:
        raise ValidationError(f"the first line (the column names) is longer than {MAX_HEADER_BYTES >> 10} KB; "
                              "the file is not a table ArtDash reads — check it is the right export")
    return first_bytes if end < 0 else first_bytes[:end + 1]


def check_columns(names: Sequence[object], needed: Sequence[str], limit: int = MAX_COLUMNS) -> None:
    """Refuse a table with more than ``limit`` columns (:data:`MAX_COLUMNS` by default), naming a few of them."""
    if len(names) > limit:
        raise ValidationError(f"the file has {len(names):,} columns ({some(names)}); a table ArtDash imports "
                              f"has at most {limit:,} — it needs {', '.join(needed)}")
