"""The decision service's core, without HTTP: what ``artdash serve`` runs and what the
in-process client calls.

It holds one :class:`Snapshot` of the catalog and the :class:`Timeline` of the served policy's
trained versions (a member is served the version in effect when their sticky window began),
swapped whole when a refresh finds the catalog, the promotion or the trained versions changed
(every ``refresh_seconds``: a promotion or a takedown reaches the service within that, without
a restart; a retrain reaches members at their next window). A policy started in shadow mode (``artdash.serve.shadow``) is loaded beside it and
its choice logged next to each decision. Decisions are logged through the group writer before
they are answered. A learner thread flushes resolved decisions into the impression log and
retrains the served policy (and a shadow that learns) every ``retrain_every`` outcomes or
``retrain_seconds``.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import ValidationError as PydanticError
from sqlalchemy import Engine, update

from artdash import clock
from artdash.access.api_keys import ApiKeyView, digest, key_table, prefix_of
from artdash.catalog.eligibility import aware
from artdash.db.engine import make_engine
from artdash.db.models import ApiKey
from artdash.decision.catalog import catalog_fingerprint
from artdash.decision.decide import Decided, Member, decide
from artdash.decision.models import (
    ServedPolicy,
    TrainReport,
    latest_version,
    load_latest,
    train,
)
from artdash.decision.snapshot import Snapshot, load_snapshot
from artdash.decision.timeline import Timeline, effective_from, load_timeline
from artdash.errors import ArtdashError, ValidationError
from artdash.lab.served import floor_of, served_choice
from artdash.lab.store import PromotionView
from artdash.policy.registry import DEFAULT_POLICY, LABELS
from artdash.serve import learn
from artdash.serve.log import Outcome, OutcomeReport, record_outcomes, write_decisions
from artdash.serve.ratelimit import RateLimiter
from artdash.serve.schema import DecideIn, OutcomeIn, OutcomesIn, error_message
from artdash.serve.shadow import ShadowView, current_shadow
from artdash.serve.writer import GroupWriter, durable
from artdash.workspace import Workspace

log = logging.getLogger("artdash.serve")
MAX_KNOWN_CONTEXTS = 1_000_000


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
    retrain_seconds: float = 600.0         # … or this long, whichever comes first
    flush_seconds: float = 60.0            # resolved decisions → impression log
    sticky_hours: float = 24.0             # a member keeps a title's image this long (0: off)
    learn: bool = True                     # run the learner thread (one learner per results store)
    require_keys: bool = True              # False: no API key needed (local trials only)

    def __post_init__(self) -> None:
        for name in ("refresh_seconds", "reward_window_seconds", "retrain_seconds", "flush_seconds"):
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


class DecisionService:
    """Decide, record outcomes, report health and the served policy; learn beside."""

    def __init__(self, ws: Workspace, settings: ServiceSettings | None = None, background: bool = True):
        ws.trusted = True  # server-side, like the command line: it logs as "artdash-serve"
        self.ws = ws
        self.settings = settings or ServiceSettings()
        self.writer = GroupWriter(durable(make_engine(ws.settings.results_url)))
        ws.results_engine  # noqa: B018 - migrated before the first write
        self.limiter = RateLimiter()
        self._lock = threading.Lock()
        self._known_contexts: set[str] = set()
        self._keys: dict[str, tuple[str, ApiKeyView]] = {}
        self._used: dict[int, datetime] = {}   # key id → last request, written at each refresh
        self.started_at = clock.now()
        self.promotion: PromotionView | None = None
        self.shadow_entry: ShadowView | None = None
        self.shadow: ServedPolicy | None = None
        self.snapshot: Snapshot
        self.timeline: Timeline
        self.served: ServedPolicy                # the newest trained version (what learning continues)
        self._loaded: dict[int, ServedPolicy] = {}
        self.counters = {"decisions": 0, "requests": 0, "outcomes": 0, "late": 0, "unknown": 0, "duplicate": 0}
        self._outcomes_since_train = 0
        self._last_train = time.monotonic()
        self._last_flush = time.monotonic()
        self.last_error = ""
        self.refresh(force=True)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="artdash-serve-learner", daemon=True)
            self._thread.start()

    # --- refresh ------------------------------------------------------------------------------
    @property
    def results(self) -> Engine:
        """The results store (decisions, outcomes, trained versions, the impression log's tables)."""
        return self.ws.results_engine

    def refresh(self, force: bool = False) -> bool:
        """Reload what changed (catalog, promoted policy, trained version, API keys); True if
        the policy or the catalog was swapped."""
        used, self._used = self._used, {}
        if used:
            with self.ws.engine.begin() as conn:   # bookkeeping, not an edit: no audit entry
                for key_id, at in used.items():
                    conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
        with self.ws.session() as s:
            keys = key_table(s)
            name, entry, note = served_choice(s)
            changed = force or catalog_fingerprint(s) != self.snapshot.fingerprint
            snapshot = load_snapshot(s) if changed else self.snapshot
            shadow_entry = current_shadow(s)
        self._keys = keys
        floor = floor_of(entry, name)
        shadow_name = shadow_entry.policy if shadow_entry and shadow_entry.policy != name else None
        previous = None if force else self.timeline
        if changed or previous is None or previous.name != name:
            self._loaded = {}
        with self.results.connect() as conn:
            timeline = load_timeline(conn, name, snapshot, clock.now(), self.settings.sticky_hours, floor,
                                     self._loaded)
            shadow = None
            if shadow_name is not None:
                keep = (not changed and self.shadow is not None and self.shadow.name == shadow_name
                        and self.shadow.version == latest_version(conn, shadow_name))
                shadow = self.shadow if keep else load_latest(conn, shadow_name, snapshot)
        self._loaded = {v.version: v for v in timeline.versions if v.trained}
        swap = (previous is None or changed or previous.name != name
                or [v.version for v in previous.versions] != [v.version for v in timeline.versions])
        served = timeline.newest
        if note:
            served = replace(served, note=note)
        with self._lock:
            self.snapshot, self.timeline, self.served, self.promotion = snapshot, timeline, served, entry
            self.shadow, self.shadow_entry = shadow, shadow_entry if shadow_name else None
        return swap

    # --- keys ---------------------------------------------------------------------------------
    def authenticate(self, presented: str | None, scope: str) -> ApiKeyView | None:
        """The key's view if ``presented`` is an active key with ``scope`` and within its rate
        limit; raises :class:`ServiceError` (401, 403, 429) otherwise."""
        if not self.settings.require_keys:
            return None
        if not presented:
            raise ServiceError(401, "missing_key", "no API key: send it as 'Authorization: Bearer <key>' "
                                                   "(an admin creates keys with `artdash keys create`)")
        prefix = prefix_of(presented)
        found = self._keys.get(prefix) if prefix else None
        if found is None or not hmac.compare_digest(found[0], digest(presented)):
            raise ServiceError(401, "invalid_key", "this API key is not valid (mistyped, or revoked); "
                                                   "ask an admin for a key")
        key = found[1]
        if scope not in key.scopes:
            raise ServiceError(403, "wrong_scope", f"the key {key.name!r} may not call {scope}: its scopes are "
                                                   f"{', '.join(key.scopes)}")
        self._used[key.id] = clock.now()
        allowed, wait = self.limiter.allow(key.prefix, key.rate_per_second)
        if not allowed:
            raise ServiceError(429, "rate_limited", f"the key {key.name!r} is over its limit of "
                                                    f"{key.rate_per_second:,} requests per second; retry shortly",
                               retry_after=max(wait, 0.001))
        return key

    # --- decide -------------------------------------------------------------------------------
    def member_of(self, body: DecideIn, snapshot: Snapshot) -> Member:
        """The request's member with tastes resolved to tag ids (or an imported member's)."""
        m = body.member
        try:
            if m.tastes is not None:
                return Member(m.id, snapshot.resolve_tastes(m.tastes), m.country, m.device, m.locale, m.maturity)
        except ValidationError as e:
            raise ServiceError(422, "invalid_request", str(e)) from None
        known = snapshot.members.get(m.id)
        if known is not None:
            return Member(m.id, dict(known.affinities), m.country or known.country, m.device or known.device,
                          m.locale, m.maturity)
        return Member(m.id, {}, m.country, m.device, m.locale, m.maturity)

    def prepare(self, body) -> Decided:
        """The decisions for a request, not yet logged."""
        request = parse(DecideIn, body)
        when = clock.now()
        with self._lock:
            snapshot, timeline, shadow = self.snapshot, self.timeline, self.shadow
            member = self.member_of(request, snapshot)
            return decide(snapshot, timeline, member, request.titles, when, self.settings.sticky_hours,
                          request.explain, shadow)

    def log_decided(self, decided: Decided) -> Future:
        """Hand the decisions to the writer; the future resolves once they are committed."""
        known = decided.context["context_hash"] in self._known_contexts
        future = self.writer.submit(write_decisions(decided.rows, None if known else decided.context))
        def remember(done: Future) -> None:
            if done.exception() is None:
                if len(self._known_contexts) >= MAX_KNOWN_CONTEXTS:   # bounded memory; a miss costs one SELECT
                    self._known_contexts.clear()
                self._known_contexts.add(decided.context["context_hash"])

        future.add_done_callback(remember)
        return future

    def answer(self, decided: Decided) -> dict:
        """The JSON answer to a request whose decisions are committed."""
        self.counters["requests"] += 1
        self.counters["decisions"] += len(decided.rows)
        return {"decisions": [d.as_json() for d in decided.decisions], "policy": decided.policy,
                "model_version": decided.model_version, "served_at": decided.at.isoformat()}

    def decide(self, body) -> dict:
        """Decide, log (waiting for the commit) and answer."""
        decided = self.prepare(body)
        try:
            self.log_decided(decided).result(30)
        except Exception as e:  # noqa: BLE001
            raise unavailable("decisions", e) from e
        return self.answer(decided)

    # --- outcomes -----------------------------------------------------------------------------
    def outcome_job(self, body):
        """The writer job for a body of one outcome or a batch (``{"outcomes": [...]}``)."""
        if isinstance(body, dict) and "outcomes" not in body:
            single = parse(OutcomeIn, body)
            body = OutcomesIn(outcomes=[single])
        batch = parse(OutcomesIn, body)
        items = [Outcome(o.event_id, o.played, o.play_seconds if o.played else 0.0) for o in batch.outcomes]
        now_ms = int(clock.now().timestamp() * 1000)
        return record_outcomes(items, now_ms, int(self.settings.reward_window_seconds * 1000))

    def counted(self, report: OutcomeReport) -> dict:
        """Count a committed batch of outcomes and answer it."""
        for key, value in (("outcomes", report.accepted), ("late", report.late), ("unknown", report.unknown),
                           ("duplicate", report.duplicate)):
            self.counters[key] += value
        self._outcomes_since_train += report.accepted - report.late
        return report.as_json()

    def outcomes(self, body) -> dict:
        """Record one outcome or a batch; unknown event ids are refused and duplicates ignored,
        each counted in the answer."""
        job = self.outcome_job(body)
        try:
            report = self.writer.run(job)
        except Exception as e:  # noqa: BLE001
            raise unavailable("outcomes", e) from e
        return self.counted(report)

    # --- health and policy --------------------------------------------------------------------
    def health(self) -> dict:
        """Whether the service can decide, and its counters since start."""
        snapshot = self.snapshot
        return {"status": "ok" if snapshot.n_titles else "no_artwork", "titles_with_artwork": snapshot.n_titles,
                "policy": self.served.name, "model_version": self.served.version,
                "started_at": self.started_at.isoformat(), "counters": dict(self.counters),
                "last_learner_error": self.last_error}

    def policy_info(self) -> dict:
        """What is served, since when and by whom (the promotion), and the trained version."""
        served, entry = self.served, self.promotion
        return {"policy": served.name, "label": LABELS.get(served.name, served.name),
                "model_version": served.version,
                "trained_at": aware(served.trained_at).isoformat() if served.trained_at else None,
                "trained_on_decisions": served.n_rows,
                "promoted": entry is not None,
                "promoted_at": aware(entry.at).isoformat() if entry else None, "promoted_by": entry.by if entry else None,
                "promotion_note": entry.note if entry else "",
                "note": served.note or ("" if entry else f"nothing is promoted: serving the default, {LABELS[DEFAULT_POLICY]}"),
                "shadow": self._shadow_info(),
                "reward_window_seconds": self.settings.reward_window_seconds,
                "refresh_seconds": self.settings.refresh_seconds}

    def _shadow_info(self) -> dict | None:
        shadow, entry = self.shadow, self.shadow_entry
        if shadow is None or entry is None:
            return None
        return {"policy": shadow.name, "label": LABELS.get(shadow.name, shadow.name), "model_version": shadow.version,
                "since": entry.at.isoformat(), "started_by": entry.by}

    # --- learning -----------------------------------------------------------------------------
    def learn_now(self, now: datetime | None = None, full: bool = False) -> tuple[learn.FlushReport, TrainReport | None]:
        """Flush resolved decisions to the impression log and retrain the served policy (and a
        shadow that learns) now: from the previous version's sums, or with ``full`` from the
        whole log."""
        now = now or clock.now()
        closed = now - timedelta(seconds=self.settings.reward_window_seconds)
        flushed = learn.flush_closed(self.ws, closed)
        # a new version reaches members at their next window, from a tick every worker has heard of
        # it by (with stickiness off: at once)
        effective = now if self.settings.sticky_hours == 0 else effective_from(now, self.settings.refresh_seconds)
        with self.ws.session() as s:
            report = train(self.results, s, self.served.name, self.snapshot, self.ws.settings.quality_play_seconds,
                           closed, now=now, full=full, effective_at=effective)
            shadow = self.shadow
            if shadow is not None:      # the shadow learns from the same log (IPS-weighted by what was served)
                train(self.results, s, shadow.name, self.snapshot, self.ws.settings.quality_play_seconds, closed,
                      now=now, full=full)
        self._outcomes_since_train = 0
        self._last_train = self._last_flush = time.monotonic()
        self.refresh()
        return flushed, report

    def _loop(self) -> None:
        last_refresh = time.monotonic()
        while not self._stop.wait(0.5):
            try:
                now = time.monotonic()
                if now - last_refresh >= self.settings.refresh_seconds:
                    self.refresh()
                    last_refresh = now
                if not self.settings.learn:
                    continue
                due_train = (self._outcomes_since_train >= self.settings.retrain_every
                             or now - self._last_train >= self.settings.retrain_seconds)
                if due_train or now - self._last_flush >= self.settings.flush_seconds:
                    self.learn_now()
                self.last_error = ""
            except Exception as e:  # noqa: BLE001 - the service keeps deciding; health reports it
                self.last_error = f"{type(e).__name__}: {e}"[:500]
                log.exception("learner step failed")

    def close(self) -> None:
        """Stop the learner and commit what is queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.writer.close()
