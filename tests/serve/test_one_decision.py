"""There is one decision: `artdash preview` answers exactly what POST /v1/decide answers a
member (the same function, model version, sticky window and eligibility), before and after a
retrain; a retrain moves no member's image within their sticky window, and reaches them at
their next one."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
from click.testing import CliRunner
from test_http import serving
from workspaces import make_settings

from artdash import clock
from artdash.access.api_keys import create_key
from artdash.cli import main
from artdash.decision.decide import Member as DecisionMember
from artdash.decision.decide import decide
from artdash.demo import DEMO_TITLES, load_demo
from artdash.policy.assign import window_of
from artdash.serve import DecisionService, HttpClient, LocalClient, ServiceSettings
from artdash.workspace import Workspace

N_MEMBERS = 1000


def members_of(snapshot, n: int, seed: int) -> list[dict]:
    """``n`` members with random tastes over the taxonomy, some with a country and a device."""
    rng = np.random.default_rng(seed)
    names = sorted(k for k in snapshot.tag_names if ":" in k and len(snapshot.tag_names[k]) == 1)
    out = []
    for i in range(n):
        picked = rng.choice(len(names), size=3, replace=False)
        member = {"id": f"member-{i}", "tastes": {names[j]: round(float(rng.uniform(-1, 1)), 2) for j in picked}}
        if i % 3 == 0:
            member["country"] = ["FR", "US", "JP"][i % 9 // 3]
        if i % 4 == 0:
            member["device"] = "mobile"
        out.append(member)
    return out


def preview_answers(data, bodies: list[dict], tmp_path) -> list[dict]:
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    env = {"ARTDASH_DATA_DIR": str(data), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": ""}
    result = CliRunner().invoke(main, ["preview", "--requests", str(requests), "--json"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def shown(answer: dict) -> list[tuple]:
    """What a member is answered, but for the event ids (preview logs nothing, so it has none)."""
    return [(d["title_id"], d["variant_id"], d["propensity"], d["reason"], answer["model_version"], answer["policy"])
            for d in answer["decisions"]]


def test_preview_answers_what_the_service_answers_for_a_thousand_members_before_and_after_a_retrain(
        tmp_path, monkeypatch, frozen_clock):
    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:4])
    with ws.transaction() as s:
        key = create_key(s, "local-admin", "homepage", "decide,outcomes", 100_000).secret
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    members = members_of(service.snapshot, N_MEMBERS, seed=33)
    service.close()
    bodies = [{"member": m, "titles": titles} for m in members]
    data = tmp_path / "data"

    def visit(url: str, report: bool) -> list[dict]:
        client = HttpClient(url, key, timeout=30)
        answers = [client.decide(m, titles) for m in members]
        if report:
            rng = np.random.default_rng(5)
            client.outcomes([{"event_id": d["event_id"], "played": bool(rng.random() < 0.4),
                              "play_seconds": float(rng.choice([60, 1800]))}
                             for a in answers for d in a["decisions"] if d["event_id"]])
        return answers

    with serving(data, "--no-learn") as (url, _):
        before = visit(url, report=True)
    assert [shown(a) for a in preview_answers(data, bodies, tmp_path)] == [shown(a) for a in before]   # 0 differences
    assert {a["model_version"] for a in before} == {0}

    later = frozen_clock + timedelta(hours=2)                  # every reward window closed: learn from all of it
    clock.freeze(later)
    learner = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    _, trained = learner.learn_now(now=later)
    learner.close()
    assert trained is not None and trained.n_rows == N_MEMBERS * len(titles)

    next_day = frozen_clock + timedelta(days=1, hours=3)       # every member's window began after it took effect
    clock.freeze(next_day)
    monkeypatch.setenv(clock.ENV, next_day.isoformat())
    with serving(data, "--no-learn") as (url, _):
        after = visit(url, report=False)
    assert {a["model_version"] for a in after} == {trained.version}
    assert [shown(a) for a in preview_answers(data, bodies, tmp_path)] == [shown(a) for a in after]
    ws.close()


def test_a_retrain_between_two_visits_moves_no_image_within_the_window(sqlite_catalog_ws, frozen_clock):
    service = DecisionService(sqlite_catalog_ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        members = members_of(service.snapshot, N_MEMBERS, seed=8)
        first = {m["id"]: client.decide(m, titles)["decisions"] for m in members}
        # outcomes that favour one variant of each title, so the retrained model prefers it
        favourite = {t: service.snapshot.candidates[t][-1].variant_id for t in titles}
        client.outcomes([{"event_id": d["event_id"], "played": d["variant_id"] == favourite[d["title_id"]],
                          "play_seconds": 1800.0 if d["variant_id"] == favourite[d["title_id"]] else 0.0}
                         for answers in first.values() for d in answers])
        _, trained = service.learn_now(now=frozen_clock + timedelta(hours=1, minutes=30))
        assert trained is not None
        second_visit = frozen_clock + timedelta(hours=2)
        clock.freeze(second_visit)
        service.refresh()
        assert service.served.version == trained.version
        # the retrain has teeth: served as it is, the new version would show many members another image
        newest = service.timeline.newest
        would_change = 0
        for m in members:
            member = DecisionMember(m["id"], service.snapshot.resolve_tastes(m["tastes"]), m.get("country", ""),
                                    m.get("device", ""))
            fresh = decide(service.snapshot, newest, member, titles, second_visit).decisions
            would_change += sum(a["variant_id"] != b.variant_id for a, b in zip(first[m["id"]], fresh))
        assert would_change > 100
        changed = repeats = 0
        for m in members:
            window = window_of(f"member:{m['id']}", frozen_clock)
            if not window.start + timedelta(hours=24) > second_visit:
                continue                                    # this member's window rolled over between the visits
            again = client.decide(m, titles)["decisions"]
            for a, b in zip(first[m["id"]], again):
                repeats += 1
                changed += (a["variant_id"], a["propensity"]) != (b["variant_id"], b["propensity"])
        assert repeats > 0.8 * N_MEMBERS * len(titles) and changed == 0
        # a day on, every member's window began after the new version took effect: they are served it
        clock.freeze(frozen_clock + timedelta(days=1, hours=2))
        service.refresh()
        assert {client.decide(m, titles)["model_version"] for m in members[:50]} == {trained.version}
    finally:
        service.close()


def test_the_explanations_of_a_whole_row_are_those_of_each_title_alone(sqlite_catalog_ws, monkeypatch):
    """Preview explains every tile: the bandit's explanations of a row, computed at once, say
    exactly what it says of each title asked alone."""
    from artdash.demo import load_demo_models
    from artdash.policy.linear import LinearBanditPolicy

    load_demo_models(sqlite_catalog_ws)
    service = DecisionService(sqlite_catalog_ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        version = service.timeline.newest
        assert version.trained and isinstance(version.policy, LinearBanditPolicy)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        members = [DecisionMember(m["id"], service.snapshot.resolve_tastes(m["tastes"]))
                   for m in members_of(service.snapshot, 200, seed=4)]
        when = clock.now()
        together = [decide(service.snapshot, version, m, titles, when, explain=True).decisions for m in members]
        monkeypatch.setattr(LinearBanditPolicy, "explain_table", lambda *a, **k: None)
        alone = [decide(service.snapshot, version, m, titles, when, explain=True).decisions for m in members]
        assert [[d.reason for d in row] for row in together] == [[d.reason for d in row] for row in alone]
        assert any(":" in d.reason for row in together for d in row)            # explanations were given
    finally:
        service.close()


def test_a_versions_catalog_table_is_the_policys_own_answer_for_every_member(catalog_ws):
    """The hot path reads a context-free version's probabilities from a table worked out once
    per (version, catalog); for every servable policy, row by row and for any member's tastes,
    that is exactly what the policy computes for the request — counts learnt or not."""
    from artdash.decision.models import ServedPolicy
    from artdash.decision.snapshot import load_snapshot
    from artdash.decision.tables import catalog_table
    from artdash.policy import registry

    with catalog_ws.session() as s:
        snapshot = load_snapshot(s)
    rng = np.random.default_rng(7)
    variants = [v for row in snapshot.table.variant_ids.tolist() for v in row if v]
    for name in registry.names(available_only=True, servable_only=True):
        policy = registry.make(name, snapshot.features, picks=snapshot.picks)
        if hasattr(policy, "counts"):                    # a per-variant bandit that has learnt something
            policy.counts = {v: (int(rng.integers(0, 30)), 30 + int(rng.integers(0, 50))) for v in variants}
            getattr(policy, "changed", lambda: None)()
        served = ServedPolicy(name, 1, policy)
        table = catalog_table(served, snapshot)
        assert (table is not None) == policy.context_free
        if table is None:
            continue
        assert catalog_table(served, snapshot) is table                       # worked out once
        for _ in range(20):
            rows = rng.choice(len(snapshot.table.title_ids), size=rng.integers(1, 4), replace=False)
            affinity = rng.uniform(-1, 1, (1, snapshot.features.n_tags)) * (rng.random(snapshot.features.n_tags) < 0.2)
            own = np.asarray(policy.table(snapshot.table.take(rows), affinity))[0]
            np.testing.assert_array_equal(table[rows], own)
