"""Rules for the text people type into the catalog: names, synopses, years, kinds, file names."""

from __future__ import annotations

import re
import unicodedata

from artdash import clock, intake
from artdash.db.models import (
    TITLE_KINDS,
)
from artdash.errors import (
    ValidationError,
)

MAX_TITLE_NAME = 200
MAX_SYNOPSIS = 5000
FIRST_FILM_YEAR = 1888
_CONTROL = intake.CONTROL_BUT_LINE_BREAKS
def clean_text(value: str | None, what: str, limit: int, required: bool = False) -> str:
    """``value`` with spacing normalised and control characters refused, at most ``limit`` characters."""
    text = unicodedata.normalize("NFC", value or "")
    if _CONTROL.search(text):
        raise ValidationError(f"the {what} contains control characters; type it again without them")
    text = text.strip()
    if required and not text:
        raise ValidationError(f"a title needs a {what}: type one (blank {what}s are not allowed)")
    if len(text) > limit:
        raise ValidationError(f"the {what} is {len(text)} characters long; keep it to {limit} or fewer")
    return text


def clean_year(year) -> int | None:
    """A release year as an int (or None), refused outside the years films exist."""
    if year is None or (isinstance(year, str) and not year.strip()):
        return None
    try:
        value = int(str(year).strip())
    except ValueError:
        raise ValidationError(f"year {year!r} is not a number; type a year such as 2017, or leave it empty") from None
    last = clock.now().year + 5
    if not FIRST_FILM_YEAR <= value <= last:
        raise ValidationError(f"year {value} is outside {FIRST_FILM_YEAR}–{last}; check the year")
    return value


def clean_kind(kind: str) -> str:
    """``movie`` or ``series``; anything else is refused with the choices."""
    value = (kind or "").strip().lower()
    if value not in TITLE_KINDS:
        raise ValidationError(f"kind {kind!r} is not one of: {', '.join(TITLE_KINDS)}")
    return value



def label_from_name(name: str) -> str:
    """A variant label from an uploaded file name (``couple_at-dusk.jpg`` → ``couple at dusk``)."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    label = re.sub(r"[_\-]+", " ", stem).strip()
    return (label or name)[:200]


def printable(name: str) -> str:
    """A file name safe to show: control characters replaced, at most 200 characters."""
    return _CONTROL.sub("?", str(name))[:200] or "(no name)"
