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

import gc
import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from artdash import clock
from artdash.access.api_keys import ApiKeyView, key_table
from artdash.catalog.eligibility import aware
from artdash.db.engine import make_engine
from artdash.decision.catalog import catalog_fingerprint
from artdash.decision.decide import Decided, HeldOut, Member, decide
from artdash.decision.holdout import current_holdout
from artdash.decision.models import (
    ServedPolicy,
    TrainReport,
    latest_version,
    load_latest,
)
from artdash.decision.snapshot import Snapshot, load_snapshot
from artdash.decision.timeline import Timeline, load_timeline
from artdash.errors import ValidationError
from artdash.lab.promotions import PromotionView
from artdash.lab.served import floor_of, served_choice
from artdash.policy.registry import DEFAULT_POLICY, LABELS
from artdash.serve import learn
from artdash.serve.journal import (
    Journal,
    MoveReport,
    decision_line,
    move_journal,
    outcome_line,
    service_secret,
)
from artdash.serve.keys import KeyRing
from artdash.serve.learner import Learner
from artdash.serve.log import (
    Outcome,
    OutcomeReport,
    check_signed,
    gather,
    record_outcomes,
    sum_reports,
    write_decisions,
)
from artdash.serve.mover import MoverProcess
from artdash.serve.schema import DecideIn, OutcomeIn, OutcomesIn
from artdash.serve.settings import ServiceError, ServiceSettings, parse, unavailable
from artdash.serve.shadow import ShadowView, current_shadow
from artdash.serve.writer import GroupWriter, durable
from artdash.workspace import Workspace

log = logging.getLogger("artdash.serve")
MAX_KNOWN_CONTEXTS = 1_000_000


def settle_heap() -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    A serving process holds ~120,000 long-lived objects (the framework, the ORM, the catalog),
    and a full collection walks them all: ~100 ms with the GIL held, every request waiting —
    the paced benchmark's p99 and max. Frozen, they are never walked again (refcounts still
    free them); what requests allocate is collected as before."""
    gc.freeze()


class DecisionService:
    """Decide, record outcomes, report health and the served policy; learn beside."""

    def __init__(self, ws: Workspace, settings: ServiceSettings | None = None, background: bool = True):
        self.ws = ws = ws.as_trusted()  # server-side, like the command line: it logs as "artdash-serve"
        self.settings = settings or ServiceSettings()
        ws.results_engine  # noqa: B018 - migrated before the first write
        self.writer = GroupWriter(durable(make_engine(ws.settings.results_url)))
        self.signer = service_secret(ws.results_engine)
        self.journal: Journal | None = None
        self.mover: MoverProcess | None = None
        if self.settings.journal_dir:
            move_journal(Path(self.settings.journal_dir), ws.results_engine)   # what a worker that died left
            self.journal = Journal(Path(self.settings.journal_dir))
            if background:      # the bulk moves run in a process of their own, off this one's GIL
                self.mover = MoverProcess(self.journal.folder, ws.settings.results_url, self.settings.move_seconds)
        self._recent_outcomes: set[str] = set()
        self.keys = KeyRing(self.settings.require_keys)
        self._lock = threading.Lock()
        self._fresh = random.Random(self.settings.seed) if self.settings.seed is not None else None
        self._known_contexts: set[str] = set()
        self.started_at = clock.now()
        self.promotion: PromotionView | None = None
        self.shadow_entry: ShadowView | None = None
        self.shadow: ServedPolicy | None = None
        self.held_out: HeldOut | None = None       # the holdout in force, over the snapshot
        self.snapshot: Snapshot
        self.timeline: Timeline
        self.served: ServedPolicy                # the newest trained version (what learning continues)
        self._loaded: dict[int, ServedPolicy] = {}
        self.counters = {"decisions": 0, "requests": 0, "outcomes": 0, "late": 0, "unknown": 0, "duplicate": 0}
        self.last_error = ""
        self.refresh(force=True)
        self.learner = Learner(self)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.mover is not None:
            self.mover.start()
        if background:
            settle_heap()
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
        self.keys.write_used(self.ws.engine)
        with self.ws.session() as s:
            keys = key_table(s)
            name, entry, note = served_choice(s)
            changed = force or catalog_fingerprint(s) != self.snapshot.fingerprint
            snapshot = load_snapshot(s) if changed else self.snapshot
            shadow_entry = current_shadow(s)
            holdout = current_holdout(s)
        self.keys.reload(keys)
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
        held_out = HeldOut.of(holdout, snapshot)
        if changed and not force and self._thread is not None:
            settle_heap()              # the new catalog's objects join the long-lived ones
        with self._lock:
            self.snapshot, self.timeline, self.served, self.promotion = snapshot, timeline, served, entry
            self.shadow, self.shadow_entry = shadow, shadow_entry if shadow_name else None
            self.held_out = held_out
        return swap

    # --- keys ---------------------------------------------------------------------------------
    def authenticate(self, presented: str | None, scope: str) -> ApiKeyView | None:
        """The key's view if ``presented`` may call ``scope`` now (:class:`KeyRing`)."""
        return self.keys.authenticate(presented, scope)

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
            snapshot, timeline, shadow, held_out = self.snapshot, self.timeline, self.shadow, self.held_out
            member = self.member_of(request, snapshot)
            return decide(snapshot, timeline, member, request.titles, when, self.settings.sticky_hours,
                          request.explain, shadow, self.signer, held_out, self._fresh)

    def log_decided(self, decided: Decided) -> Future:
        """Hand the decisions to the journal (or the writer); the future resolves once they are
        on disk."""
        if self.journal is not None:
            future = self.journal.submit(self.journal_line(decided))
        else:
            future = self.writer.submit(write_decisions(decided.rows, self._new_context(decided)))

        def remember(done: Future) -> None:
            if done.exception() is None:
                self.logged(decided)

        future.add_done_callback(remember)
        return future

    def _new_context(self, decided: Decided) -> dict | None:
        """The request's context row, unless this worker has logged it before."""
        return None if decided.context["context_hash"] in self._known_contexts else decided.context

    def journal_line(self, decided: Decided) -> bytes:
        """The journal line of a request's decisions (its context too, unless logged before)."""
        return decision_line(decided.rows, self._new_context(decided))

    def logged(self, decided: Decided) -> None:
        """Note that ``decided`` is on disk: its context need not be logged again."""
        if len(self._known_contexts) >= MAX_KNOWN_CONTEXTS:   # bounded memory; a miss costs one SELECT
            self._known_contexts.clear()
        self._known_contexts.add(decided.context["context_hash"])

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
    def submit_outcomes(self, body) -> Future:
        """Record one outcome or a batch (``{"outcomes": [...]}``); the future resolves to an
        :class:`OutcomeReport` once they are on disk. An id this service signed is checked
        without a lookup (unknown, late and — for what this worker has seen — duplicate are
        known at once; a duplicate another worker took is ignored when the journals reach the
        store: the first stands); an id from before signing is looked up in the store."""
        if isinstance(body, dict) and "outcomes" not in body:
            single = parse(OutcomeIn, body)
            body = OutcomesIn(outcomes=[single])
        batch = parse(OutcomesIn, body)
        items = [Outcome(o.event_id, o.played, o.play_seconds if o.played else 0.0) for o in batch.outcomes]
        now_ms = int(clock.now().timestamp() * 1000)
        window_ms = int(self.settings.reward_window_seconds * 1000)
        if self.journal is None:
            return self.writer.submit(record_outcomes(items, now_ms, window_ms))
        rows, legacy, mine = check_signed(items, self.signer.check, self._recent_outcomes, now_ms, window_ms)
        parts = [self.journal.submit(outcome_line(rows))] if rows else []
        if legacy:
            parts.append(self.writer.submit(record_outcomes(legacy, now_ms, window_ms)))

        def remember(done: Future) -> None:
            if done.exception() is None:
                if len(self._recent_outcomes) >= MAX_KNOWN_CONTEXTS:
                    self._recent_outcomes.clear()
                self._recent_outcomes.update(r[0] for r in rows)

        if rows:
            parts[0].add_done_callback(remember)
        return gather(parts, lambda results: sum_reports(mine, *(r for r in results if r is not None)))

    def counted(self, report: OutcomeReport) -> dict:
        """Count a committed batch of outcomes and answer it."""
        for key, value in (("outcomes", report.accepted), ("late", report.late), ("unknown", report.unknown),
                           ("duplicate", report.duplicate)):
            self.counters[key] += value
        self.learner.outcomes_since_train += report.accepted - report.late
        return report.as_json()

    def outcomes(self, body) -> dict:
        """Record one outcome or a batch; unknown event ids are refused and duplicates ignored,
        each counted in the answer."""
        future = self.submit_outcomes(body)
        try:
            report = future.result(30)
        except Exception as e:  # noqa: BLE001
            raise unavailable("outcomes", e) from e
        return self.counted(report)

    def move(self) -> MoveReport:
        """Take this worker's journal (up to now) and any a dead worker left into the results store
        now (after the mover process's move under way, if any)."""
        if self.journal is None:
            return MoveReport(0, 0, 0)
        self.journal.rotate().result(30)
        return move_journal(self.journal.folder, self.results, wait=self.mover is not None)

    # --- health and policy --------------------------------------------------------------------
    def health(self) -> dict:
        """Whether the service can decide, and its counters since start."""
        snapshot = self.snapshot
        return {"status": "ok" if snapshot.n_titles else "no_artwork", "titles_with_artwork": snapshot.n_titles,
                "policy": self.served.name, "model_version": self.served.version,
                "started_at": self.started_at.isoformat(), "counters": dict(self.counters),
                "worker": self.journal.name if self.journal is not None else f"{socket.gethostname()}-{os.getpid()}",
                "learner": self.learner.lock.held,
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
                "holdout": self._holdout_info(),
                "reward_window_seconds": self.settings.reward_window_seconds,
                "refresh_seconds": self.settings.refresh_seconds}

    def _holdout_info(self) -> dict | None:
        held_out = self.held_out
        if held_out is None:
            return None
        h = held_out.holdout
        return {"share": h.share, "policy": h.policy, "logged_as": h.logged_as,
                "since": aware(h.since).isoformat() if h.since else None, "set_by": h.by}

    def _shadow_info(self) -> dict | None:
        shadow, entry = self.shadow, self.shadow_entry
        if shadow is None or entry is None:
            return None
        return {"policy": shadow.name, "label": LABELS.get(shadow.name, shadow.name), "model_version": shadow.version,
                "since": entry.at.isoformat(), "started_by": entry.by}

    # --- learning -----------------------------------------------------------------------------
    def learn_now(self, now: datetime | None = None, full: bool = False) -> tuple[learn.FlushReport, TrainReport | None]:
        """Flush resolved decisions and retrain now (:meth:`Learner.learn_now`)."""
        return self.learner.learn_now(now, full)

    def _loop(self) -> None:
        last_refresh = last_move = time.monotonic()
        while not self._stop.wait(min(0.5, self.settings.move_seconds)):
            try:
                now = time.monotonic()
                if now - last_refresh >= self.settings.refresh_seconds:
                    self.refresh()
                    last_refresh = now
                if now - last_move >= self.settings.move_seconds:
                    if self.mover is None:
                        self.move()
                    elif self.journal is not None:       # the mover process takes the closed segment
                        self.journal.rotate()
                        self.mover.keep_alive()
                    last_move = now
                self.learner.step(now)
                self.last_error = ""
            except Exception as e:  # noqa: BLE001 - the service keeps deciding; health reports it
                self.last_error = f"{type(e).__name__}: {e}"[:500]
                log.exception("learner step failed")

    def close(self) -> None:
        """Stop the learner, commit what is queued and take the journal into the store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.writer.close()
        if self.journal is not None:
            self.journal.close()
            if self.mover is not None:
                self.mover.stop()
            # waits for a move the learner may still be making (its thread outlived the join when a
            # retrain ran long): returning at once left this worker's last segment on disk
            move_journal(self.journal.folder, self.results, wait=True)
        self.learner.lock.release()
