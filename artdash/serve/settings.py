"""The decision service's settings and refusals: how it refreshes, learns, journals and logs,
and the errors a request gets (an HTTP status, a stable code, what was wrong and what to do)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError as PydanticError

from artdash.errors import ArtdashError, ValidationError
from artdash.serve.schema import error_message


class ServiceError(ArtdashError):
    """A refused request: ``status`` is the HTTP status, ``code`` a stable word, the message
    says what was wrong and what to do."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after


def unavailable(what: str, error: BaseException) -> ServiceError:
    """The refusal when the log cannot take a request's rows (``what``: decisions or outcomes)."""
    then = "nothing was decided: show your default image and retry" if what == "decisions" else "nothing was written: retry"
    return ServiceError(503, "log_unavailable", f"the {what} could not be logged ({type(error).__name__}); {then}")


@dataclass(frozen=True)
class ServiceSettings:
    """How the service refreshes, learns and logs."""

    refresh_seconds: float = 15.0          # catalog, promotion, trained version and keys
    reward_window_seconds: float = 3600.0  # an outcome later than this after its decision is late
    retrain_every: int = 1000              # outcomes between two retrains …
    retrain_seconds: float = 30.0          # … or this long, whichever comes first (reward to model ≤ 60 s)
    flush_seconds: float = 60.0            # resolved decisions → impression log
    sticky_hours: float = 24.0             # a member keeps a title's image this long (0: off)
    learn: bool = True                     # run the learner thread (one learner per results store)
    require_keys: bool = True              # False: no API key needed (local trials only)
    journal_dir: str = ""                  # this worker's journal (artdash.serve.journal); "": log straight to the store
    move_seconds: float = 1.0              # journal → results store
    seed: int | None = None                # stickiness off: the draws follow this seed (a reproducible simulation)

    def __post_init__(self) -> None:
        for name in ("refresh_seconds", "reward_window_seconds", "retrain_seconds", "flush_seconds", "move_seconds"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name.replace('_', ' ')} must be more than 0")
        if not 0 <= self.sticky_hours <= 24 * 90:
            raise ValidationError("sticky hours must be from 0 (stickiness off) to 2160 (90 days)")
        if self.retrain_every < 1:
            raise ValidationError("retrain every must be at least 1 outcome")


def parse(model, body):
    """``body`` (a dict, or already a model) checked against ``model``; a refusal names the fields."""
    if isinstance(body, model):
        return body
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_request", "the body must be a JSON object (see /docs)")
    try:
        return model.model_validate(body)
    except PydanticError as e:
        raise ServiceError(422, "invalid_request", error_message(e.errors())) from None
