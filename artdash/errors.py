"""One family of errors: every message says what was wrong and what to do about it.

Pages catch :class:`ArtdashError` and show its message; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ArtdashError(Exception):
    """Base of every error a person can cause and fix."""


class ValidationError(ArtdashError):
    """An input (form field, file, argument) was refused."""


class NotFoundError(ArtdashError):
    """Something referred to by id or name does not exist."""


class ConflictError(ArtdashError):
    """A stale edit: someone else changed the row since it was read.

    ``current`` carries the newer value so the page can show it.
    """

    def __init__(self, message: str, current: object | None = None):
        super().__init__(message)
        self.current = current


class DuplicateError(ValidationError):
    """The thing already exists (a tag, an identical image)."""


class ImageRejected(ValidationError):
    """An uploaded file cannot become an artwork variant."""


class VideoRejected(ValidationError):
    """A video cannot be searched for stills (not a video, too long, truncated, unknown codec)."""


class Cancelled(ArtdashError):
    """A person stopped long work before it finished; nothing it would have written was written."""


@dataclass(frozen=True)
class RowIssue:
    """One bad row of a file someone gave (a log, a manifest, a viewing history): its line (the
    header is line 1; 0 for the file as a whole), the column or field, and what is wrong."""
    line: int
    column: str
    problem: str


class RowsRefused(ValidationError):
    """A file with bad rows, of which nothing was imported: ``issues`` holds the first ones (in
    line order), ``n_issues`` counts them all. Every page and command shows them one way."""

    def __init__(self, message: str, issues: Sequence[RowIssue] = (), n_issues: int = 0):
        super().__init__(message)
        self.issues = tuple(issues)
        self.n_issues = n_issues or len(self.issues)


class ConfigError(ArtdashError):
    """A setting (environment variable) has a value that cannot be used."""
