"""The shapes of the service's requests (pydantic: checked at the edge, documented at /docs).

Everything a client sends is checked here or in :mod:`artdash.serve.service` before anything
is decided or written; a refusal names the field and says what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from artdash.catalog.eligibility import MATURITY
from artdash.decision.decide import MAX_TITLES
from artdash.serve.log import MAX_OUTCOMES


class MemberIn(BaseModel):
    """The member a row is for. ``tastes`` (tag → weight from −1 avoids to 1 loves) come from
    their viewing history; without them, a member imported into ArtDash is looked up by id."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100, description="a stable member id (hashed ids are fine)")
    tastes: dict[str, float] | None = Field(default=None, description="tag → weight in −1 … 1, e.g. {'genre:romance': 0.8}")
    country: str = Field(default="", max_length=2, description="ISO 3166 two-letter code, or empty")
    device: str = Field(default="", max_length=10, description="tv, mobile, tablet, web … or empty")
    locale: str = Field(default="", max_length=20, description="e.g. fr-FR (for localised artwork)")
    maturity: str = Field(default="", max_length=10, description="the member's maturity limit: all, 7+, 13+, 16+, "
                                                                 "18+ (empty: no limit)")

    @field_validator("tastes")
    @classmethod
    def _few_tastes(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and len(value) > 1000:
            raise ValueError("at most 1,000 tastes per member")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.strip().upper()
        if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise ValueError("a two-letter country code such as FR or US, or empty")
        return value

    @field_validator("maturity")
    @classmethod
    def _maturity(cls, value: str) -> str:
        value = value.strip().lower()
        if value and value not in MATURITY:
            raise ValueError(f"one of {', '.join(MATURITY)}, or empty for no limit")
        return value

    @field_validator("id", "device", "locale")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("printable text only")
        return value.strip()

    @field_validator("id")
    @classmethod
    def _some_id(cls, value: str) -> str:
        if not value:
            raise ValueError("a member id is needed, not only spaces")
        return value


class DecideIn(BaseModel):
    """Which image to show ``member`` for each title of a row."""

    model_config = ConfigDict(extra="forbid")

    member: MemberIn
    titles: list[int] = Field(min_length=1, max_length=MAX_TITLES, description="title ids, in row order")
    explain: bool = Field(default=False, description="a longer reason per title (slower)")


class OutcomeIn(BaseModel):
    """What the member did with one decision."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=40)
    played: bool
    play_seconds: float = Field(default=0.0, ge=0, le=86_400 * 2, description="seconds watched (0 if not played)")


class OutcomesIn(BaseModel):
    """A batch of outcomes."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=MAX_OUTCOMES)


def error_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """pydantic's errors as one sentence per field: ``member.id: …; titles: …``."""
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        message = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


# --- answers (documented at /docs; built by the service as plain JSON, checked by the tests) ---
class TitleDecisionOut(BaseModel):
    """One title's answer: the variant to show (null: nothing may be shown), its propensity
    and the event id to report the outcome under."""

    title_id: int
    variant_id: int | None
    propensity: float | None = Field(description="the probability the variant had (log it with the impression)")
    event_id: str | None = Field(description="report the member's outcome under this id")
    reason: str


class DecideOut(BaseModel):
    """The answers for a row, in the order of its titles, and the model version that gave them."""

    decisions: list[TitleDecisionOut]
    policy: str
    model_version: int
    served_at: str = Field(description="ISO 8601")


class OutcomesOut(BaseModel):
    """What became of a batch: accepted (late ones included), late (after the reward window:
    kept, not counted as plays), unknown event ids (refused), duplicates (the first stands)."""

    accepted: int
    late: int
    unknown: int
    duplicate: int
    unknown_event_ids: list[str] = Field(description="up to 20 of them")


class HealthOut(BaseModel):
    """Whether the service can decide, and its counters since start."""

    status: str = Field(description="ok, or no_artwork")
    titles_with_artwork: int
    policy: str
    model_version: int
    started_at: str
    counters: dict[str, int]
    worker: str = Field(description="which worker answered (host-process)")
    learner: bool = Field(description="whether this worker is the store's one learner")
    last_learner_error: str


class ShadowOut(BaseModel):
    """The policy run in shadow beside the served one."""

    policy: str
    label: str
    model_version: int
    since: str
    started_by: str


class HoldoutOut(BaseModel):
    """The share of members served a fixed comparison policy instead (their decisions are
    logged under ``logged_as``)."""

    share: float
    policy: str
    logged_as: str
    since: str | None
    set_by: str


class PolicyOut(BaseModel):
    """What is served, since when and by whom, and the trained version."""

    policy: str
    label: str
    model_version: int
    trained_at: str | None
    trained_on_decisions: int
    promoted: bool
    promoted_at: str | None
    promoted_by: str | None
    promotion_note: str
    note: str
    shadow: ShadowOut | None
    holdout: HoldoutOut | None = None
    reward_window_seconds: float
    refresh_seconds: float


class ErrorDetail(BaseModel):
    """A refusal: a stable code and what was wrong and what to do."""

    code: str
    message: str


class ErrorOut(BaseModel):
    """Every refused request's body."""

    error: ErrorDetail
