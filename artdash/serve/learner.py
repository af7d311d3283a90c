"""The learner beside the decision service: in whichever worker holds the store's learner lock,
it moves resolved decisions into the impression log and retrains the served policy (and a
shadow that learns) every so many outcomes or seconds."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from artdash import clock
from artdash.decision.models import ServedPolicy, TrainReport, train
from artdash.decision.retention import prune_superseded
from artdash.decision.snapshot import Snapshot
from artdash.decision.timeline import effective_from
from artdash.serve import learn
from artdash.serve.journal import OUTCOMES_MOVED, Journal, read_counter
from artdash.serve.leader import LearnerLock
from artdash.serve.settings import ServiceSettings
from artdash.workspace import Workspace


class Served(Protocol):
    """What the learner needs of the service it learns beside."""

    ws: Workspace
    settings: ServiceSettings
    journal: Journal | None
    served: ServedPolicy
    shadow: ServedPolicy | None
    snapshot: Snapshot

    @property
    def results(self) -> Engine:
        """The results store."""

    def move(self) -> Any:
        """Take the journals into the store."""

    def refresh(self, force: bool = False) -> bool:
        """Reload what changed."""


class Learner:
    """When to learn and the learning itself, for one service (``service``)."""

    def __init__(self, service: Served):
        self.service = service
        self.lock = LearnerLock(service.results)          # one learner per results store
        self.outcomes_since_train = 0                     # on-time outcomes this process recorded
        self._moved_at_train = read_counter(service.results, OUTCOMES_MOVED)
        self._last_train = self._last_flush = time.monotonic()

    def new_outcomes(self) -> int:
        """On-time outcomes since the last training: taken from every worker's journal into
        the store (a shared counter), or without a journal, those this process recorded."""
        if self.service.journal is None:
            return self.outcomes_since_train
        return read_counter(self.service.results, OUTCOMES_MOVED) - self._moved_at_train

    def step(self, now: float) -> None:
        """Learn if this process is the learner (taking the lock if free) and it is due."""
        settings = self.service.settings
        if not settings.learn or not self.lock.try_acquire():
            return                                        # another worker or replica is the learner
        due_train = (self.new_outcomes() >= settings.retrain_every
                     or now - self._last_train >= settings.retrain_seconds)
        if due_train or now - self._last_flush >= settings.flush_seconds:
            self.learn_now()

    def learn_now(self, now: datetime | None = None, full: bool = False) -> tuple[learn.FlushReport, TrainReport | None]:
        """Flush resolved decisions to the impression log and retrain the served policy (and a
        shadow that learns) now: from the previous version's sums, or with ``full`` from the
        whole log."""
        service, settings = self.service, self.service.settings
        ws = service.ws
        now = now or clock.now()
        closed = now - timedelta(seconds=settings.reward_window_seconds)
        service.move()
        moved = read_counter(service.results, OUTCOMES_MOVED)
        flushed = learn.flush_closed(ws, closed)
        # a new version reaches members at their next window, from a tick every worker has heard of
        # it by (with stickiness off: at once)
        effective = now if settings.sticky_hours == 0 else effective_from(now, settings.refresh_seconds)
        with ws.session() as s:
            report = train(service.results, s, service.served.name, service.snapshot, ws.settings.quality_play_seconds,
                           closed, now=now, full=full, effective_at=effective)
            shadow = service.shadow
            if shadow is not None:      # the shadow learns from the same log (IPS-weighted by what was served)
                train(service.results, s, shadow.name, service.snapshot, ws.settings.quality_play_seconds, closed,
                      now=now, full=full)
        with service.results.begin() as conn:     # versions no member will ever be served are not kept
            for name in {service.served.name, *([shadow.name] if shadow is not None else [])}:
                prune_superseded(conn, name)
        self.outcomes_since_train = 0
        self._moved_at_train = moved
        self._last_train = self._last_flush = time.monotonic()
        service.refresh()
        return flushed, report
