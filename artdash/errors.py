"""One family of errors: every message says what was wrong and what to do about it.

Pages catch :class:`ArtdashError` and show its message; anything else is a bug.
"""

from __future__ import annotations


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


class ConfigError(ArtdashError):
    """A setting (environment variable) has a value that cannot be used."""
