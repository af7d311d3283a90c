"""Training continues from the previous version: each retrain adds only the decisions resolved
since (their window closed, or their outcome arrived — early, late or not at all), and the
model is the one a training on the whole log from scratch makes. On each backend."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, text

from artdash import clock
from artdash.db.results_schema import policy_models
from artdash.decision.models import FOLD_CLOSED, _sum_rows, load_latest, load_version, train
from artdash.serve import DecisionService, LocalClient, ServiceSettings


def state(service, version):
    with service.results.connect() as conn:
        blob = conn.execute(select(policy_models.c.state).where(policy_models.c.version == version)).scalar_one()
    with np.load(io.BytesIO(blob)) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("policy", ["linucb", "best-single"])
def test_a_chain_of_retrains_is_the_model_of_one_training_on_everything(catalog_ws, frozen_clock, policy):
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False, reward_window_seconds=600),
                              background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        rng = np.random.default_rng(1)
        pending: list[str] = []
        versions = []

        def traffic(minute: int, n: int) -> None:
            clock.freeze(frozen_clock + timedelta(minutes=minute))
            for i in range(n):
                tastes = {"genre:comedy": round(float(rng.uniform(-1, 1)), 2), "tone:dark": round(float(rng.uniform(-1, 1)), 2)}
                answer = client.decide({"id": f"m-{i % 17}", "tastes": tastes}, titles)
                pending.extend(d["event_id"] for d in answer["decisions"])

        def report(minute: int, share: float) -> None:
            clock.freeze(frozen_clock + timedelta(minutes=minute))
            chosen = [e for e in pending if rng.random() < share]
            for e in chosen:
                pending.remove(e)
            client.outcomes([{"event_id": e, "played": bool(rng.random() < 0.5),
                              "play_seconds": float(rng.choice([30, 900]))} for e in chosen])

        def retrain(minute: int, full: bool = False):
            now = frozen_clock + timedelta(minutes=minute)
            clock.freeze(now)
            with catalog_ws.session() as s:
                done = train(service.results, s, policy, service.snapshot, 300.0, now - timedelta(minutes=10),
                             now=now, full=full)
            if done is not None:
                versions.append(done.version)
            return done

        traffic(0, 30)
        report(0.5, 0.4)                      # early outcomes, some within the settling minute
        first = retrain(1)
        assert not first.incremental and first.new_rows > 0
        traffic(5, 30)
        report(6, 0.3)
        report(12, 0.3)                       # late for the first traffic: kept, learnt as no play
        second = retrain(12.5)
        assert second.incremental and second.n_rows > first.n_rows
        traffic(13, 20)
        report(13.5, 0.5)
        third = retrain(40)                   # every window closed
        assert third.incremental and third.new_rows < third.n_rows
        assert retrain(40.5) is None          # nothing new: no new version, the newest stays
        with service.results.connect() as conn:
            assert load_latest(conn, policy, service.snapshot).version == third.version
        whole = retrain(41, full=True)
        assert not whole.incremental and whole.n_rows == third.n_rows == 80 * len(titles)
        with service.results.connect() as conn:
            chained, scratch = (load_version(conn, v, service.snapshot).policy for v in (third.version, whole.version))
        if policy == "linucb":
            for key in ("theta", "a_inv"):
                np.testing.assert_allclose(getattr(chained, key), getattr(scratch, key), rtol=1e-9, atol=1e-12)
        else:
            assert chained.counts == scratch.counts
    finally:
        service.close()


def test_a_version_stored_before_versions_were_artifacts_is_served_and_continued(sqlite_catalog_ws, frozen_clock):
    """Versions written before r0009 (the bandit's theta and A⁻¹ with its folded sums; best single
    variant's served counts under "served_") load as they were and training continues from them."""
    from artdash.decision.models import _pack

    service = DecisionService(sqlite_catalog_ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        dim = service.snapshot.features.dim
        rng = np.random.default_rng(2)
        x = rng.normal(size=(50, dim))
        xx, xr = x.T @ x, x.T @ rng.random(50)
        a_inv = np.linalg.inv(np.eye(dim) + xx)
        theta = a_inv @ xr
        tag_ids = np.array([t.id for t in service.snapshot.features.tags])
        old_linucb = _pack(theta=theta, a_inv=a_inv, tag_ids=tag_ids, xx=xx, xr=xr, w=np.array(50.0), n=np.array(50),
                           folded_d=np.array(0), folded_o=np.array(0))
        variant = service.snapshot.candidates[next(iter(service.snapshot.candidates))][0].variant_id
        old_best = _pack(served_variant=np.array([variant]), served_successes=np.array([7]), served_trials=np.array([20]),
                         variant=np.array([variant]), successes=np.array([5]), trials=np.array([15]), n=np.array(15),
                         folded_d=np.array(0), folded_o=np.array(0))
        with service.results.begin() as conn:
            conn.execute(policy_models.insert(), [
                {"version": 1, "policy": "linucb", "trained_at": frozen_clock, "n_rows": 50, "state": old_linucb,
                 "note": ""},
                {"version": 2, "policy": "best-single", "trained_at": frozen_clock, "n_rows": 20, "state": old_best,
                 "note": ""}])
        with service.results.connect() as conn:
            linucb, best = load_latest(conn, "linucb", service.snapshot), load_latest(conn, "best-single", service.snapshot)
        assert linucb.version == 1 and linucb.source == "live" and linucb.effective_at == frozen_clock
        np.testing.assert_allclose(linucb.policy.theta, theta)
        np.testing.assert_allclose(linucb.policy.a_inv, a_inv)
        assert best.version == 2 and best.policy.counts == {variant: (7, 20)}
        client = LocalClient(service)                # one new request, its outcomes reported
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        answer = client.decide({"id": "m-1", "tastes": {"genre:comedy": 0.5}}, titles)
        client.outcomes([{"event_id": d["event_id"], "played": True, "play_seconds": 900} for d in answer["decisions"]])
        with sqlite_catalog_ws.session() as s:      # continued from the folded sums: the old counts and the new rows
            again = train(service.results, s, "best-single", service.snapshot, 300.0, frozen_clock, now=frozen_clock)
        assert again is not None and again.incremental and again.new_rows == len(titles)
        assert again.n_rows == 15 + again.new_rows
    finally:
        service.close()


def test_versions_superseded_within_their_quarter_hour_keep_their_times_not_their_weights(catalog_ws, frozen_clock):
    """Retraining every 30 seconds (the default) stores what members did within a minute, and
    a version a later one replaces before its quarter-hour tick — never served to anyone —
    keeps its row (when it was trained: reward to model reads it) but not its weights. What
    members are served, now and in their sticky windows, is the same as with every version."""
    from artdash.decision.models import list_versions
    from artdash.decision.timeline import load_timeline
    from artdash.serve.live import reward_to_model

    assert ServiceSettings().retrain_seconds <= 60
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False), background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        start = frozen_clock.replace(minute=0, second=0)
        for step in range(8):                                  # 30 s apart: ticks at :15 split them
            clock.freeze(start + timedelta(minutes=12, seconds=30 * step))
            answer = client.decide({"id": f"m-{step}", "tastes": {"genre:comedy": 0.5}}, titles)
            client.outcomes([{"event_id": d["event_id"], "played": True, "play_seconds": 900}
                             for d in answer["decisions"]])
            flushed, report = service.learner.learn_now()
            assert report is not None
        clock.freeze(start + timedelta(minutes=17))
        assert service.learner.learn_now()[1] is not None      # the last minute's outcomes, settled, are folded in
        clock.freeze(start + timedelta(minutes=19))
        assert service.learner.learn_now()[1] is None          # nothing new: no new version
        with service.results.connect() as conn:
            rows = conn.execute(select(policy_models.c.version, policy_models.c.effective_at,
                                       policy_models.c.state)).all()
            kept = [v for v, _, blob in rows if blob]
            assert len(rows) == 9 and len(kept) == 2             # one per quarter hour the versions take effect in
            by_tick = {}
            for v, at, _ in rows:
                by_tick[at] = max(v, by_tick.get(at, 0))
            assert sorted(kept) == sorted(by_tick.values())
            listed = [item["version"] for item in list_versions(conn)]
            assert sorted(listed) == sorted(kept)
            timeline = load_timeline(conn, service.served.name, service.snapshot, clock.now(), 24)
            assert [v.version for v in timeline.versions if v.version] == sorted(kept)
            with pytest.raises(Exception, match="superseded within its quarter hour"):
                load_version(conn, min(set(v for v, _, _ in rows) - set(kept)), service.snapshot)
        learnt = reward_to_model(service.results, start, clock.now())
        assert learnt.learnt == learnt.outcomes and learnt.median_seconds == 0     # each learnt at once
    finally:
        service.close()


def test_the_decisions_summed_in_numpy_are_the_engines_group_by(catalog_ws, frozen_clock):
    """On SQLite the plain rows are summed in numpy; every engine's GROUP BY gives the same sums."""
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False), background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        rng = np.random.default_rng(5)
        ids = []
        for i in range(40):
            tastes = {"genre:comedy": round(float(rng.uniform(-1, 1)), 1)}
            ids += [d["event_id"] for d in client.decide({"id": f"m-{i % 7}", "tastes": tastes}, titles)["decisions"]]
        client.outcomes([{"event_id": e, "played": bool(rng.random() < 0.6), "play_seconds": float(rng.choice([30, 900]))}
                         for e in ids[::2]])
        params = {"quality": 300.0, "from_d": 0, "to_d": 2**62, "from_o": 0, "to_o": 2**62}
        with service.results.connect() as conn:
            folded = _sum_rows(conn, FOLD_CLOSED, params)
            rows = conn.execute(text(
                "SELECT d.context_hash, d.variant_id, COUNT(*), SUM(1.0 / d.propensity), "
                "SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= 300 THEN 1.0 / d.propensity ELSE 0 END), "
                "SUM(CASE WHEN o.played = 1 AND o.late = 0 AND o.play_seconds >= 300 THEN 1 ELSE 0 END) "
                f"{FOLD_CLOSED} GROUP BY d.context_hash, d.variant_id"), params).all()
        g = folded.groups
        mine = {(folded.contexts[c], int(v)): (int(n), float(w), float(wr), int(q))
                for c, v, n, w, wr, q in zip(folded.context, g.variant, g.n, g.w, g.wr, g.q, strict=True)}
        theirs = {(h, int(v)): (int(n), float(w), float(wr), int(q)) for h, v, n, w, wr, q in rows}
        assert mine.keys() == theirs.keys() and sum(n for n, *_ in mine.values()) == len(ids)
        for key, (n, w, wr, q) in theirs.items():
            assert mine[key][0] == n and mine[key][3] == q
            assert mine[key][1] == pytest.approx(w) and mine[key][2] == pytest.approx(wr)
    finally:
        service.close()


def test_a_variant_the_snapshot_no_longer_shows_is_learnt_with_its_catalog_tags(sqlite_catalog_ws):
    from artdash.catalog.variants import set_variant_status
    from artdash.decision.features import ContextCache, context_affinities, variant_features
    from artdash.decision.snapshot import load_snapshot

    ws = sqlite_catalog_ws
    with ws.session() as s:
        before = load_snapshot(s)
    shown = np.array([c.variant_id for cands in before.candidates.values() for c in cands])
    with ws.transaction() as s:
        set_variant_status(s, int(shown[0]), "retired", "test")
    with ws.session() as s:
        after = load_snapshot(s)
        assert int(shown[0]) not in {c.variant_id for cands in after.candidates.values() for c in cands}
        from_snapshot = variant_features(s, before.features, shown, before)
        retired_from_catalog = variant_features(s, after.features, shown, after)
        catalog_only = variant_features(s, before.features, shown)
    for a, b, c in zip(from_snapshot, retired_from_catalog, catalog_only, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert from_snapshot[0][:, :].any(), "the demo's variants have tags"

    # contexts: read once, kept by the hash of what they hold; an unknown hash has no tastes
    from artdash.db.results_schema import decision_contexts
    tag = before.features.tags[0]
    with ws.results_engine.begin() as conn:
        conn.execute(decision_contexts.insert(), [{"context_hash": "c0ffee", "affinities": f'{{"{tag.id}": 0.5, "999999": 1}}',
                                                   "country": "", "device": ""}])
    cache = ContextCache(limit=1)
    rows = context_affinities(ws.results_engine, before.features, ["c0ffee", "unknown"], cache)
    assert rows.shape == (2, before.features.n_tags)
    assert rows[0, before.features.index[tag.id]] == 0.5 and rows[0].sum() == 0.5 and not rows[1].any()
    assert len(cache) == 1
