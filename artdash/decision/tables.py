"""A served version's probabilities over the whole catalog, worked out once.

A policy whose probabilities do not depend on who asks (uniform, the editor's pick, the
per-variant bandits: ``Policy.context_free``) gives every member the same row for a title, so
a request needs only its titles' rows of one (titles × candidates) table, computed the first
time a version meets a snapshot — not the policy's per-title work again for every request. A
row that eligibility narrowed (some candidates may not be shown to this member) is not that
row any more: the caller asks the policy for it as before.
"""

from __future__ import annotations

import threading

import numpy as np

from artdash.decision.models import ServedPolicy
from artdash.decision.snapshot import Snapshot

MAX_TABLES = 16                         # versions × snapshots kept (a worker serves one or two at a time)

_tables: dict[tuple[int, int], tuple[ServedPolicy, Snapshot, np.ndarray]] = {}
_lock = threading.Lock()


def catalog_table(served: ServedPolicy, snapshot: Snapshot) -> np.ndarray | None:
    """The (titles, K) probabilities of ``served`` on every row of ``snapshot``'s table, or None
    for a policy whose probabilities depend on the member. Read-only: callers index it."""
    if not getattr(served.policy, "context_free", False):
        return None
    key = (id(served), id(snapshot))
    found = _tables.get(key)
    if found is not None and found[0] is served and found[1] is snapshot:
        return found[2]
    table = np.asarray(served.policy.table(snapshot.table, np.zeros((1, snapshot.features.n_tags))))[0].copy()
    table.setflags(write=False)
    with _lock:
        if len(_tables) >= MAX_TABLES:
            _tables.clear()
        _tables[key] = (served, snapshot, table)    # the objects kept with it: their ids cannot be reused meanwhile
    return table
