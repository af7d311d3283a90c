"""The decision service's core, in-process: decisions logged with propensities before they are
answered, outcomes joined by event id, live traffic into Results, retraining, promotion and
takedowns picked up by a refresh. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from artdash import clock
from artdash.catalog import variants as variant_ops
from artdash.db.results_schema import (
    decision_contexts,
    decisions,
    imports,
    outcomes,
    rollup_variants,
)
from artdash.lab.store import promote
from artdash.results import rollup_store
from artdash.serve import DecisionService, LocalClient, ServiceError, ServiceSettings


@pytest.fixture
def service(catalog_ws):
    svc = DecisionService(catalog_ws, ServiceSettings(require_keys=False, reward_window_seconds=600), background=False)
    yield svc
    svc.close()


def titles_of(svc):
    return sorted(t for t, c in svc.snapshot.candidates.items() if c)


def logged(svc):
    with svc.results.connect() as conn:
        return [r._asdict() for r in conn.execute(select(decisions).order_by(decisions.c.at_ms))]


def test_every_decision_is_logged_with_its_propensity_before_it_is_answered(service):
    client = LocalClient(service)
    titles = titles_of(service)
    answer = client.decide({"id": "m-1", "tastes": {"genre:romance": 0.9, "tone:dark": -0.5}, "country": "fr"},
                           titles)
    assert [d["title_id"] for d in answer["decisions"]] == titles            # the row's order
    assert answer["policy"] == "linucb" and answer["model_version"] == 0
    rows = {r["event_id"]: r for r in logged(service)}                       # already committed
    assert len(rows) == len(titles)
    for d in answer["decisions"]:
        row = rows[d["event_id"]]
        assert row["variant_id"] == d["variant_id"] and 0 < row["propensity"] == d["propensity"] <= 1
        candidates = dict(json.loads(row["candidates"]))
        assert sum(candidates.values()) == pytest.approx(1.0)
        assert candidates[d["variant_id"]] == pytest.approx(d["propensity"])
        assert set(candidates) == {c.variant_id for c in service.snapshot.candidates[d["title_id"]]}
        assert row["policy"] == "linucb" and row["model_version"] == 0 and row["country"] == "FR"
        assert d["reason"]
    with service.results.connect() as conn:
        context = conn.execute(select(decision_contexts)).one()
    assert context.context_hash == row["context_hash"] and len(json.loads(context.affinities)) == 2


def test_a_member_sees_the_same_image_within_the_window(service):
    client = LocalClient(service)
    titles = titles_of(service)
    member = {"id": "m-sticky", "tastes": {"genre:comedy": 0.4}}
    first = [d["variant_id"] for d in client.decide(member, titles)["decisions"]]
    assert [d["variant_id"] for d in client.decide(member, titles)["decisions"]] == first
    ids = {d["event_id"] for d in client.decide(member, titles)["decisions"]}
    assert len(ids) == len(titles)                                            # each showing its own event


def test_without_stickiness_a_seeded_service_answers_the_same_requests_the_same(catalog_ws):
    """--seed: the draws of a service without stickiness follow the seed, so a simulation that
    sends the same requests in the same order is answered the same; unseeded, they differ."""
    def choices(seed):
        svc = DecisionService(catalog_ws, ServiceSettings(require_keys=False, sticky_hours=0, seed=seed),
                              background=False)
        try:
            client = LocalClient(svc)
            return [d["variant_id"] for i in range(30)
                    for d in client.decide({"id": f"m-{i % 3}"}, titles_of(svc))["decisions"]]
        finally:
            svc.close()

    assert choices(5) == choices(5)
    assert choices(5) != choices(6) and choices(None) != choices(None)


def test_titles_that_cannot_be_shown_get_no_decision_and_nothing_is_logged(service):
    client = LocalClient(service)
    answer = client.decide({"id": "m-2"}, [999_999, titles_of(service)[0]])
    unknown, known = answer["decisions"]
    assert unknown == {"title_id": 999_999, "variant_id": None, "propensity": None, "event_id": None,
                       "reason": "unknown title: nothing to show"}
    assert known["variant_id"] is not None
    assert len(logged(service)) == 1


@pytest.mark.parametrize("body, message", [
    ({"member": {"id": "m"}, "titles": []}, "titles: List should have at least 1 item"),
    ({"member": {}, "titles": [1]}, "member.id: Field required"),
    ({"member": {"id": "m", "tastes": {"genre:romance": 3}}, "titles": [1]}, "must be from -1 to 1"),
    ({"member": {"id": "m", "tastes": {"no such tag": 0.5}}, "titles": [1]}, "there is no tag 'no such tag'"),
    ({"member": {"id": "m", "country": "France"}, "titles": [1]}, "member.country"),
    ({"member": {"id": "m"}, "titles": [1], "extra": 1}, "extra: Extra inputs are not permitted"),
    ({"member": {"id": "m"}, "titles": ["one"]}, "titles.0: Input should be a valid integer"),
    (["not", "an", "object"], "the body must be a JSON object"),
])
def test_a_bad_request_is_refused_with_what_was_wrong_and_nothing_is_logged(service, body, message):
    with pytest.raises(ServiceError) as refused:
        service.decide(body)
    assert refused.value.status == 422 and message in str(refused.value)
    assert logged(service) == []


def test_outcomes_join_by_event_id_unknown_counted_duplicates_ignored_late_flagged(service, frozen_clock):
    client = LocalClient(service)
    events = [d["event_id"] for d in client.decide({"id": "m-3"}, titles_of(service))["decisions"]]
    report = client.outcomes([{"event_id": events[0], "played": True, "play_seconds": 1200},
                              {"event_id": events[0], "played": False},
                              {"event_id": "never-decided", "played": True, "play_seconds": 5}])
    assert report == {"accepted": 1, "late": 0, "unknown": 1, "duplicate": 1, "unknown_event_ids": ["never-decided"]}
    assert client.outcome(events[0], played=False)["duplicate"] == 1        # the first outcome stands
    clock.freeze(frozen_clock + timedelta(seconds=601))                      # past the reward window
    assert client.outcome(events[1], played=True, play_seconds=900) == {
        "accepted": 1, "late": 1, "unknown": 0, "duplicate": 0, "unknown_event_ids": []}
    with service.results.connect() as conn:
        stored = {r.event_id: r for r in conn.execute(select(outcomes))}
    assert stored[events[0]].played == 1 and stored[events[0]].play_seconds == 1200 and not stored[events[0]].late
    assert stored[events[1]].late == 1
    counters = service.health()["counters"]
    assert (counters["outcomes"], counters["late"], counters["unknown"], counters["duplicate"]) == (2, 1, 1, 2)


def test_a_malformed_outcome_is_refused_and_nothing_is_written(service):
    with pytest.raises(ServiceError) as refused:
        service.outcomes({"outcomes": [{"event_id": "a", "played": True}, {"event_id": "b", "played": "maybe"}]})
    assert refused.value.status == 422 and "outcomes.1.played" in str(refused.value)
    with pytest.raises(ServiceError, match="play_seconds"):
        service.outcomes({"event_id": "a", "played": True, "play_seconds": -3})
    with service.results.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == 0


def test_resolved_decisions_become_live_traffic_in_results_and_the_policy_retrains(service, frozen_clock):
    client = LocalClient(service)
    titles = titles_of(service)
    for i in range(60):
        answer = client.decide({"id": f"m{i}", "tastes": {"genre:romance": 0.8} if i % 2 else {"genre:comedy": 0.8}},
                               titles)
        client.outcomes([{"event_id": d["event_id"], "played": i % 3 == 0, "play_seconds": 1500 if i % 3 == 0 else 0}
                         for d in answer["decisions"]])
    unresolved = client.decide({"id": "late-comer"}, titles)["decisions"]    # no outcome yet, window open
    flushed, trained = service.learn_now()
    n = 60 * len(titles)
    assert flushed.n_decisions == n and flushed.n_plays == 20 * len(titles)
    assert trained.version == 1 and trained.n_rows == n
    with service.results.connect() as conn:
        kind, experiments = conn.execute(select(imports.c.kind, imports.c.experiments)
                                         .where(imports.c.id == flushed.import_id)).one()
        assert kind == "live" and json.loads(experiments) == ["live"]
        assert rollup_store.rows(conn, select(func.sum(rollup_variants.c.impressions)))[0][0] == n
        assert rollup_store.rows(conn, select(func.sum(rollup_variants.c.quality_plays)))[0][0] == 20 * len(titles)
        waiting = conn.execute(select(func.count()).select_from(decisions).where(decisions.c.import_id.is_(None)))
        assert waiting.scalar_one() == len(unresolved)
    # the new version is stored and said; a member meets it at their next sticky window, so a
    # member whose window is open is still served what they were (the version before: 0)
    assert service.served.version == 1 and service.policy_info()["trained_on_decisions"] == n
    assert client.decide({"id": "m-new", "tastes": {"genre:romance": 0.8}}, titles)["model_version"] == 0
    # once their window closes, the unresolved ones go as no-plays; nothing is written twice
    clock.freeze(frozen_clock + timedelta(seconds=601))
    again, _ = service.learn_now()
    assert again.n_decisions == len(unresolved) + len(titles) and again.n_plays == 0
    assert service.learn_now()[0].n_decisions == 0
    # a day on, every member's window began after version 1 took effect: it says so on every decision
    clock.freeze(frozen_clock + timedelta(days=1, minutes=30))
    service.refresh()
    assert client.decide({"id": "m-new", "tastes": {"genre:romance": 0.8}}, titles)["model_version"] == service.served.version


def test_a_promotion_and_a_takedown_reach_the_service_at_its_next_refresh(service, catalog_ws):
    client = LocalClient(service)
    titles = titles_of(service)
    with catalog_ws.transaction() as s:
        promote(s, "uniform", "local-admin", note="a clean log for the next test")
    assert service.refresh() is True
    info = client.policy()
    assert info["policy"] == "uniform" and info["promoted_by"] == "local-admin"
    assert info["promotion_note"] == "a clean log for the next test"
    title = titles[0]
    victim = service.snapshot.candidates[title][0].variant_id
    with catalog_ws.transaction() as s:
        variant_ops.set_variant_status(s, victim, "retired", "local-admin")
    service.refresh()
    shown = {d["variant_id"] for i in range(200)
             for d in client.decide({"id": f"m{i}"}, [title])["decisions"]}
    assert victim not in shown and len(shown) == len(service.snapshot.candidates[title])


def test_the_decision_log_trained_versions_and_keys_survive_a_backup(service, catalog_ws, tmp_path, frozen_clock):
    from workspaces import make_settings

    from artdash.access.api_keys import create_key, verify
    from artdash.db.results_schema import policy_models
    from artdash.ops import backup
    from artdash.workspace import Workspace

    client = LocalClient(service)
    for i in range(20):
        answer = client.decide({"id": f"m{i}", "tastes": {"genre:romance": 0.5}}, titles_of(service))
        client.outcome(answer["decisions"][0]["event_id"], played=True, play_seconds=900)
    service.learn_now()
    client.decide({"id": "after"}, titles_of(service))
    with catalog_ws.transaction() as s:
        secret = create_key(s, "local-admin", "homepage").secret
    archive = tmp_path / "backup.zip"
    backup.backup(catalog_ws, archive, include_results=True)
    target = Workspace.open(make_settings(tmp_path / "target"))
    try:
        backup.restore(target, archive)
        for engine in (catalog_ws.results_engine, target.results_engine):
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == 21 * len(titles_of(service))
                assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == 20
        with catalog_ws.results_engine.connect() as a, target.results_engine.connect() as b:
            assert a.execute(select(policy_models.c.state)).scalar_one() == b.execute(select(policy_models.c.state)).scalar_one()
        with target.session() as s:
            assert verify(s, secret).name == "homepage"
        restored = DecisionService(target, ServiceSettings(require_keys=False), background=False)
        assert restored.served.version == 1
        restored.close()
    finally:
        target.close()


def test_offline_evaluation_of_live_traffic_uses_the_candidates_the_service_logged(service, catalog_ws, frozen_clock):
    """A variant that became available halfway through the log was no candidate for the first
    half's decisions: the service logs each decision's candidates, and offline evaluation
    scores every policy over those — not over every variant the log ever shows for the title
    (which would weigh the first half's rows of uniform random by (1/k)/(1/(k-1)) and pull IPS
    away from SNIPS)."""
    from artdash import lab
    from artdash.catalog.eligibility import set_eligibility
    from artdash.results.service import impression_log

    client = LocalClient(service)
    title = titles_of(service)[0]
    ids = [c.variant_id for c in service.snapshot.candidates[title]]
    k = len(ids)
    assert k >= 3, "the demo title needs three active variants"
    halfway = frozen_clock + timedelta(hours=1)
    with catalog_ws.transaction() as s:
        set_eligibility(s, [ids[-1]], "local-admin", available_from=halfway)
        promote(s, "uniform", "local-admin", note="a clean log")
    for half, when in enumerate((frozen_clock, halfway + timedelta(minutes=1))):
        clock.freeze(when)
        service.refresh(force=True)
        for i in range(200):
            answer = client.decide({"id": f"m{half}-{i}"}, [title])
            client.outcomes([{"event_id": d["event_id"], "played": i % 3 == 0,
                              "play_seconds": 1500 if i % 3 == 0 else 0} for d in answer["decisions"]])
    service.learn_now()
    with catalog_ws.session() as s:
        world = lab.load_world(s)
    rounds, info = lab.rounds_from_results(impression_log(catalog_ws), world, "live")
    assert info.used == info.recorded == 400 and info.added_since == 0
    first = np.isclose(rounds.propensity, 1 / (k - 1))
    assert first.sum() == 200 and np.isclose(rounds.propensity[~first], 1 / k).all()
    assert (info.support[first].sum(axis=1) == k - 1).all() and (info.support[~first].sum(axis=1) == k).all()
    assert "decision service logged them for 400" in lab.log_note(info)
    table = lab.offline_table(world, lab.LabConfig(mix={int(a): 1.0 for a in world.archetype_ids}), rounds,
                              ["uniform"], then=info.support).set_index("estimator")
    observed = float(rounds.quality.mean())
    assert table.loc["IPS", "value"] == pytest.approx(observed)
    assert table.loc["SNIPS", "value"] == pytest.approx(observed)
    # inferred from the log instead (every variant it shows), IPS would not agree
    inferred = lab.offline_table(world, lab.LabConfig(mix={int(a): 1.0 for a in world.archetype_ids}), rounds,
                                 ["uniform"]).set_index("estimator")
    assert inferred.loc["IPS", "value"] != pytest.approx(observed, abs=0.01)
