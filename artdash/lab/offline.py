"""Offline evaluation in the lab: estimate each candidate policy's value on the whole log
with every estimator, each half scored by the policy trained on the other half (two-fold
cross-fitting: no round is scored by a policy that learnt from it); on a simulated run,
against the hidden truth too."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from artdash import ope
from artdash.decision.models import ServedPolicy
from artdash.errors import ValidationError
from artdash.lab.config import LabConfig
from artdash.lab.online import LabResult, make_policy
from artdash.policy.base import Rounds
from artdash.results.metric import PLAYS, QUALITY, metric_named
from artdash.results.quality import quality_plays
from artdash.simulator.logs import SIMULATED_MEMBER
from artdash.simulator.population import Truth
from artdash.simulator.world import LabWorld, group_affinity


@dataclass(frozen=True)
class LogInfo:
    """What was read of an impression log for offline evaluation, and how it was matched."""

    rows: int                 # rows read
    used: int                 # rows evaluated on
    left_out: int             # of titles or images no longer active
    unknown_members: int      # from members of unknown taste (treated as blank)
    shown_then: int           # variants that were candidates then, for the titles shown
    added_since: int          # variants active now that were not
    recorded: int             # rows whose candidates the decision service logged (the rest: inferred)
    support: np.ndarray       # (rounds, K) the candidates of decision time, row by row
    members: np.ndarray | None = None    # the member id of each round (what a holdout is drawn from)
    metric: str = "quality_plays"        # the reward estimated: quality plays, or plays (a log without durations)


def rounds_from_results(log, world: LabWorld, experiment: str, cell: str | None = None,
                        limit: int = 2_000_000, metric: str | None = None) -> tuple[Rounds, LogInfo]:
    """Logged rounds from the impression log (one experiment, optionally one cell), mapped
    onto the world. Simulated members (lab runs, the demo log) are matched to their archetype
    through their id (:func:`simulated_member_id`); others count as members of unknown taste.
    Rows of variants no longer active are left out (and counted). The candidates of decision
    time are those the decision service logged with the decision (live traffic); for an
    imported log, the variants the log shows for that title. The reward is ``metric``
    ("quality" or "plays"; None: plays when no play has a duration, else quality plays)."""
    from sqlalchemy import select

    from artdash.db.results_schema import imports

    where, params = "experiment = ?", [experiment]
    if cell:
        where, params = where + " AND cell = ?", [experiment, cell]
    with log.engine.connect() as conn:
        frame = log.frame(conn, ["event_id", "member_id", "title_id", "variant_id", "propensity", "played",
                                 "play_seconds", "import_id"], where, params, limit)
        thresholds = dict(conn.execute(select(imports.c.id, imports.c.quality_seconds)).all())
        recorded = _recorded_candidates(conn, frame)
    frame["quality_seconds"] = frame["import_id"].map(thresholds).astype(float)
    if frame.empty:
        raise ValidationError(f"no logged impressions for experiment {experiment!r}"
                              + (f", cell {cell!r}" if cell else "") + ": nothing to evaluate")
    title_index = pd.Series(np.arange(len(world.title_ids)), index=world.title_ids)
    t = frame["title_id"].map(title_index)
    keep = t.notna().to_numpy().copy()
    t = t.fillna(0).astype(np.int64).to_numpy()
    match = world.variant_ids[t] == frame["variant_id"].to_numpy()[:, None]
    keep &= match.any(axis=1)
    action = match.argmax(axis=1)
    archetype_index = {f"a{pid}": i for i, pid in enumerate(world.archetype_ids.tolist())}
    tokens = frame["member_id"].str.extract(SIMULATED_MEMBER)[0]
    group = tokens.map(archetype_index).fillna(len(world.archetype_ids)).astype(np.int64).to_numpy()
    played = frame["played"].to_numpy().astype(bool)
    seconds = frame["play_seconds"].to_numpy(float)
    chosen = metric_named(metric) if metric else (PLAYS if played.any() and not (seconds[played] > 0).any()
                                                  else QUALITY)
    quality = (played.copy() if chosen == PLAYS
               else quality_plays(played, seconds, frame["quality_seconds"].to_numpy(float)))
    rounds = Rounds(group[keep], t[keep], action[keep], frame["propensity"].to_numpy(float)[keep], played[keep],
                    quality[keep])
    support = _observed_support(world, rounds, rounds)
    events = pd.Series(np.arange(int(keep.sum())), index=frame["event_id"].to_numpy()[keep])
    event_ids, variant_ids = recorded
    row = events.reindex(event_ids).to_numpy()           # NaN: a row left out, or read beyond the limit
    slots = pd.Series(np.tile(np.arange(world.variant_ids.shape[1]), len(world.title_ids)),
                      index=world.variant_ids.ravel())
    slots = slots[slots.index > 0]
    slot = slots.reindex(variant_ids).to_numpy()         # NaN: a variant no longer active
    rows_recorded = np.unique(row[~np.isnan(row)]).astype(np.int64)
    support[rows_recorded] = False
    support[rows_recorded, rounds.action[rows_recorded]] = True
    ok = ~np.isnan(row) & ~np.isnan(slot)
    support[row[ok].astype(np.int64), slot[ok].astype(np.int64)] = True
    n_recorded = len(rows_recorded)
    then = candidates_then(world, rounds, support)
    return rounds, LogInfo(len(frame), int(keep.sum()), int((~keep).sum()),
                           int((group[keep] == len(world.archetype_ids)).sum()), then["shown_then"],
                           then["added_since"], n_recorded, support,
                           frame["member_id"].astype(str).to_numpy()[keep], chosen.key)


def _recorded_candidates(conn, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For the rows the decision service logged (its decisions table keeps each decision's
    candidates with their probabilities): (event id, variant id) of every candidate that could
    be shown then, as two arrays."""
    from sqlalchemy import select

    from artdash.db.results_schema import decisions

    imports_read = sorted({int(i) for i in frame["import_id"].dropna().unique()})
    event_ids: list[str] = []
    variant_ids: list[int] = []
    for start in range(0, len(imports_read), 500):
        query = (select(decisions.c.event_id, decisions.c.candidates)
                 .where(decisions.c.import_id.in_(imports_read[start:start + 500])))
        for event_id, candidates in conn.execute(query):
            shown = [int(v) for v, p in json.loads(candidates) if p > 0]
            event_ids.extend([event_id] * len(shown))
            variant_ids.extend(shown)
    return np.array(event_ids, dtype=object), np.array(variant_ids, dtype=np.int64)


def candidates_then(world: LabWorld, logged: Rounds, support: np.ndarray | None = None) -> dict[str, int]:
    """How the log's candidates differ from today's catalog, for the titles it shows: the
    variants that were candidates then (``support``, row by row; without it, inferred: those
    the log shows) and those active now that never were (added since, or never shown)."""
    seen = np.zeros(world.variant_ids.shape, dtype=bool)
    seen[logged.title, logged.action] = True
    if support is not None:
        for k in range(support.shape[1]):
            seen[logged.title[support[:, k]], k] = True
    titles = np.unique(logged.title)
    valid = np.arange(world.variant_ids.shape[1])[None, :] < world.n_actions[titles, None]
    return {"shown_then": int(seen[titles].sum()), "added_since": int((valid & ~seen[titles]).sum())}


def catalog_note(info: LogInfo) -> str:
    """What a reader of an offline estimate must know when the catalog changed since the log."""
    if not info.added_since:
        return ""
    added = info.added_since
    return (f"{added:,} variant{'s' if added != 1 else ''} active now {'were' if added != 1 else 'was'} never "
            f"candidates in this log (added since, or never shown): every policy is evaluated over the "
            f"{info.shown_then:,} that were candidates then")


def log_notes(info: LogInfo) -> list[str]:
    """What the estimate stands on besides the rows used: rows left out, members of unknown
    taste, where the candidates of decision time came from, and a changed catalog."""
    notes = []
    if info.metric == PLAYS.key:
        notes.append("the reward is a play (take rate): the log's plays have no durations, or the plan says so")
    if info.left_out:
        notes.append(f"{info.left_out:,} left out (titles or images no longer active)")
    if info.unknown_members:
        notes.append(f"{info.unknown_members:,} from members of unknown taste (treated as blank)")
    if info.recorded:
        rest = info.used - info.recorded
        notes.append(f"candidates of decision time as the decision service logged them for {info.recorded:,}"
                     + (f", inferred from the log for {rest:,}" if rest else ""))
    if catalog_note(info):
        notes.append(catalog_note(info))
    return notes


def log_note(info: LogInfo) -> str:
    """:func:`log_notes` in one line, after the number of rows used."""
    return "; ".join([f"{info.used:,} impressions used", *log_notes(info)])


FOLDS = 2


def offline_table(world: LabWorld, config: LabConfig, logged: Rounds, policies: Sequence[str] | None = None,
                  support: np.ndarray | None = None, truth: Truth | None = None, members: np.ndarray | None = None,
                  confidence: float = 0.95, then: np.ndarray | None = None,
                  served: ServedPolicy | None = None, held_out: HeldOutRows | None = None) -> pd.DataFrame:
    """Each candidate policy's value on the whole log, by every estimator: the log is cut in
    two halves (in log order) and each half is scored by the policy trained on the other one.
    ``support``: the logger's own (every candidate it could show); without it, each policy
    chooses among the candidates of decision time, ``then`` (:class:`LogInfo`'s ``support``;
    without it, inferred from the log). With ``served`` (:func:`artdash.lab.served.served_now`)
    the stored version the decision service serves is scored too, as it is (the same
    probabilities ``/v1/decide`` draws from; no cross-fitting: it may have learnt from this
    log); with ``held_out`` the rounds of members the service's holdout serves its fixed rule are
    scored with that rule, as the service answers them. With ``truth`` (simulated data) the true
    value of those policies on the same rounds too."""
    if len(logged) == 0:
        raise ValidationError("the log has no impressions: there is nothing to evaluate a policy on")
    if len(logged) < 2 * FOLDS:
        raise ValidationError("the log is too short to split into halves to train and score on")
    policies = list(policies or config.policies)
    cut = len(logged) // 2
    halves = [slice(0, cut), slice(cut, None)]
    over_then = support is None          # each policy chooses among the candidates of decision time
    data = ope.LoggedData(logged.action, logged.quality.astype(float), logged.propensity,
                          world.n_actions[logged.title],
                          support if support is not None
                          else then if then is not None else _observed_support(world, logged, logged))
    ope.check_logged(data)
    keys = world.variant_ids[logged.title]
    predicted = ope.cross_fitted_predictions(logged.group, keys, data, seed=config.seed)
    true_quality = None
    if truth is not None and members is not None:
        true_quality = truth.probabilities(members, logged.title)[1]
    rows = []
    contexts = group_affinity(world)
    targets: list[tuple[str, int | None, np.ndarray]] = []
    for name in policies:
        target = np.zeros(keys.shape)
        for scored, trained in ((halves[0], halves[1]), (halves[1], halves[0])):
            part = logged.take(scored)
            policy = make_policy(name, world, config.exploration).fit(world, contexts, logged.take(trained))
            target[scored] = policy.table(world, contexts)[part.group, part.title]
        targets.append((name, None, target))
    if served is not None:
        table = np.asarray(served.policy.table(world, contexts))
        target = table[logged.group, logged.title]
        if held_out is not None and held_out.rows.any():
            rule = np.asarray(make_policy(held_out.policy, world, config.exploration).table(world, contexts))
            target[held_out.rows] = rule[logged.group, logged.title][held_out.rows]
        targets.append((served.name, served.version, target))
    for name, version, target in targets:
        if over_then and data.support is not None:
            target = _over(target, data.support)
        true_value = float((target * true_quality).sum(axis=1).mean()) if true_quality is not None else None
        for est in ope.evaluate(data, target, predicted, confidence, seed=config.seed):
            rows.append({"policy": name, "as_served": version, "estimator": est.estimator,
                         "value": est.value, "low": est.low, "high": est.high,
                         "effective sample": est.effective_sample, "matched": est.matched,
                         "truth": true_value, "note": est.note})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class HeldOutRows:
    """The rounds of held-out members (``rows``, a mask over the log) and the fixed rule the
    decision service serves them (``policy``)."""

    rows: np.ndarray
    policy: str


def offline_on_run(world: LabWorld, result: LabResult, logger: str = "uniform",
                   policies: Sequence[str] | None = None, confidence: float = 0.95,
                   served: ServedPolicy | None = None) -> pd.DataFrame:
    """:func:`offline_table` on one policy's log of a simulated run: the logger's own
    probabilities give the support, and the hidden truth gives each policy's true value."""
    if logger not in result.traces or not result.traces[logger].rounds:
        raise ValidationError(f"the run has no log of {logger!r}; it ran {', '.join(result.traces)}")
    config, trace = result.config, result.traces[logger]
    truth = config.truth(world)
    return offline_table(world, config, trace.all_rounds(), policies, support=np.concatenate(trace.support),
                         truth=truth, members=np.concatenate(trace.members), confidence=confidence, served=served)


def _over(target: np.ndarray, support: np.ndarray) -> np.ndarray:
    """``target``'s probabilities renormalised over ``support`` (each row's candidates then;
    uniform over them where the policy gave them nothing)."""
    kept = np.where(support, target, 0.0)
    total = kept.sum(axis=1, keepdims=True)
    uniform = support / np.maximum(support.sum(axis=1, keepdims=True), 1)
    return np.where(total > 0, kept / np.where(total > 0, total, 1.0), uniform)


def _observed_support(world: LabWorld, logged: Rounds, test: Rounds) -> np.ndarray:
    """Without the logger's probabilities: an image counts as loggable for a title if the log
    ever shows it for that title."""
    seen = np.zeros(world.variant_ids.shape, dtype=bool)
    seen[logged.title, logged.action] = True
    return seen[test.title]

