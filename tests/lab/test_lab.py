"""Policy lab on the demo catalog: the Netflix ordering online and offline, cancellation,
simulated logs in the results database, saved runs and promotions."""

import numpy as np
import pytest

from artdash import clock, lab
from artdash.errors import NotFoundError, ValidationError
from artdash.lab import store as lab_store
from artdash.results import queries
from artdash.results.service import impression_log


@pytest.fixture(scope="module")
def world(demo_workspace):
    with demo_workspace.session() as s:
        return lab.load_world(s)


def config_for(world, **changes):
    base = {"mix": {int(a): 1.0 for a in world.archetype_ids}, "impressions": 24_000, "batch_size": 2_000,
            "policies": ("uniform", "best-single", "linucb"), "seed": 3}
    return lab.LabConfig(**(base | changes))


@pytest.fixture(scope="module")
def run(world):
    return lab.run_online(world, config_for(world))


def test_online_ordering_random_below_best_single_below_personalised(run):
    summary = run.summary().set_index("policy")
    uniform, best, bandit = (summary.loc[p] for p in ("uniform", "best-single", "linucb"))
    # Quality take rates with 95 % intervals that do not overlap, in the Netflix order.
    assert uniform["quality high"] < best["quality low"]
    assert best["quality high"] < bandit["quality low"]
    assert uniform["regret per 1k"] > best["regret per 1k"] > bandit["regret per 1k"]
    curves = run.curves()
    assert set(curves["policy"]) == {"uniform", "best-single", "linucb"}
    assert curves.groupby("policy")["impressions"].max().eq(24_000).all()


def test_offline_estimates_reproduce_the_ordering_and_cover_the_truth(world, run):
    config = run.config
    trace = run.traces["uniform"]
    truth = config.truth(world)
    table = lab.offline_table(world, config, trace.all_rounds(), support=np.concatenate(trace.support),
                              truth=truth, members=np.concatenate(trace.members))
    dr = table[table["estimator"] == "DR"].set_index("policy")
    assert dr.loc["uniform", "high"] < dr.loc["best-single", "low"]
    assert dr.loc["best-single", "high"] < dr.loc["linucb", "low"]
    for estimator in ("replay", "IPS", "SNIPS", "DR"):
        rows = table[table["estimator"] == estimator]
        inside = ((rows["low"] <= rows["truth"]) & (rows["truth"] <= rows["high"])).sum()
        assert inside >= 2, f"{estimator} missed the truth for most policies"
    assert (table[table["estimator"] == "IPS"]["effective sample"] > 100).all()
    # the whole log is scored (each half by the policy trained on the other), as `artdash evaluate` says
    assert (table[table["estimator"] == "DM"]["effective sample"] == len(trace.all_rounds())).all()


def test_same_seed_same_run(world):
    small = config_for(world, impressions=4_000, batch_size=1_000)
    first, second = lab.run_online(world, small), lab.run_online(world, small)
    assert first.summary().equals(second.summary())


def test_a_run_can_be_cancelled_and_keeps_what_it_did(world):
    calls = []

    def progress(result):
        calls.append(result.n_done)
        return len(calls) < 2

    result = lab.run_online(world, config_for(world, impressions=10_000), progress)
    assert result.cancelled and result.n_done == 4_000 and calls == [2_000, 4_000]
    assert result.summary()["impressions"].eq(4_000).all()


@pytest.mark.parametrize("changes, words", [
    ({"mix": {}}, "no archetypes"),
    ({"mix": {1: 0.0}}, "no archetypes"),
    ({"impressions": 0}, "impressions must be between"),
    ({"policies": ()}, "at least one policy"),
    ({"policies": ("magic",)}, "unknown policy"),
    ({"mix": {999_999: 1.0}}, "not personas with tastes"),
])
def test_bad_configurations_are_refused(world, changes, words):
    with pytest.raises(ValidationError, match=words):
        lab.run_online(world, config_for(world, **changes))


def test_editors_pick_logs_have_no_overlap_with_personalised_policies(world):
    picks = {int(t): int(v[0]) for t, v in zip(world.title_ids, world.variant_ids)}
    picked = lab.LabWorld(**{**world.__dict__, "picks": picks})
    result = lab.run_online(picked, config_for(picked, impressions=6_000, policies=("editors-pick",)))
    trace = result.traces["editors-pick"]
    table = lab.offline_table(picked, result.config, trace.all_rounds(), policies=["uniform", "linucb"],
                              support=np.concatenate(trace.support))
    ips = table[table["estimator"] == "IPS"].set_index("policy")
    assert ips["value"].isna().all() and ips["note"].str.contains("too little overlap").all()


def test_run_log_goes_to_the_results_database_and_comes_out_in_one_step(demo_workspace, world):
    result = lab.run_online(world, config_for(world, impressions=3_000, batch_size=1_000,
                                              policies=("uniform", "linucb")))
    engine = demo_workspace.results_engine
    with engine.connect() as conn:
        before = queries.count_impressions(conn)
    with demo_workspace.transaction() as s:
        saved = lab_store.save_run(s, result, "tester", "logged run")
    report = lab_store.log_run(demo_workspace, world, result, saved.id, "tester")
    assert report.n_inserted == 6_000
    experiment = f"lab-{saved.id}"
    with engine.connect() as conn:
        assert queries.count_impressions(conn) == before + 6_000
        assert experiment in queries.experiments(conn)
    rounds, info = lab.rounds_from_results(impression_log(demo_workspace), world, experiment, "uniform")
    assert info.used == 3_000 and info.unknown_members == 0 and info.recorded == 0
    table = lab.offline_table(world, result.config, rounds, policies=["uniform", "linucb"])
    assert set(table["estimator"]) == {"replay", "IPS", "SNIPS", "DM", "DR"}
    with demo_workspace.session() as s:
        assert lab_store.get_run(s, saved.id).has_logged_data
    assert lab_store.remove_run_data(demo_workspace, saved.id, "tester") == 6_000
    with engine.connect() as conn:
        assert queries.count_impressions(conn) == before
    with pytest.raises(ValidationError, match="no simulated data"):
        lab_store.remove_run_data(demo_workspace, saved.id, "tester")


def test_saved_runs_reopen_and_compare(demo_workspace, run):
    with demo_workspace.transaction() as s:
        saved = lab_store.save_run(s, run, "pm", "  first   look ")
    with demo_workspace.session() as s:
        again = lab_store.get_run(s, saved.id)
        assert again.name == "first look" and again.status == "done" and again.impressions == 24_000
        assert again.config == run.config
        assert again.summary.set_index("policy").loc["linucb", "quality take rate"] == pytest.approx(
            run.summary().set_index("policy").loc["linucb", "quality take rate"])
        assert saved.id in [r.id for r in lab_store.list_runs(s)]
        both = lab_store.compare_runs([again, again])
        assert len(both) == 2 * len(run.config.policies)
        with pytest.raises(NotFoundError):
            lab_store.get_run(s, 10**6)


def test_promote_and_demote_are_recorded(demo_workspace):
    with demo_workspace.transaction() as s:
        assert lab_store.current_policy(s) == (None, None)
        lab_store.promote(s, "thompson", "pm", note="won the lab")
        lab_store.promote(s, "best-single", "pm2")
        assert lab_store.current_policy(s)[0] == "best-single"
        lab_store.demote(s, "pm", "back to the default")
        assert lab_store.current_policy(s) == (None, None)
        history = lab_store.promotion_history(s)
        assert history["action"].tolist() == ["demote", "promote", "promote"]
        assert history["by"].tolist() == ["pm", "pm2", "pm"]
        with pytest.raises(ValidationError, match="unknown policy"):
            lab_store.promote(s, "magic", "pm")
        # a policy the decision service cannot serve cannot be promoted: the refusal says why
        with pytest.raises(ValidationError, match="Vowpal Wabbit.*cannot be served: the decision service cannot"):
            lab_store.promote(s, "vw", "pm")
        assert lab_store.promotion_history(s)["action"].tolist() == ["demote", "promote", "promote"]
        with pytest.raises(ValidationError, match="no policy is promoted"):
            lab_store.demote(s, "pm")


def test_the_demo_log_is_a_fair_ground_for_offline_evaluation(tmp_path, world):
    """Its members carry the archetype they were drawn from, so a personalised candidate can
    be evaluated on it (members of unknown taste could only be treated as blank)."""
    from artdash.config import Settings
    from artdash.demo import load_demo
    from artdash.demo.results import EXPERIMENT, load_demo_results
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path)}))
    try:
        load_demo(ws)
        load_demo_results(ws, n=6_000)
        with ws.session() as s:
            demo_world = lab.load_world(s)
        rounds, info = lab.rounds_from_results(impression_log(ws), demo_world, EXPERIMENT, "control")
        assert info.used > 2_000 and info.unknown_members == 0
        assert len(set(rounds.group.tolist())) == len(demo_world.archetype_ids)
    finally:
        ws.close()


def test_removing_a_runs_import_directly_marks_the_run(demo_workspace, world):
    from artdash.results.service import remove_import

    result = lab.run_online(world, config_for(world, impressions=2_000, batch_size=1_000, policies=("uniform",)))
    with demo_workspace.transaction() as s:
        saved = lab_store.save_run(s, result, "tester")
    report = lab_store.log_run(demo_workspace, world, result, saved.id, "tester")
    assert remove_import(demo_workspace, report.import_id, "tester") == 2_000
    with demo_workspace.session() as s:
        assert not lab_store.get_run(s, saved.id).has_logged_data
    with pytest.raises(ValidationError, match="no simulated data"):
        lab_store.remove_run_data(demo_workspace, saved.id, "tester")


def test_a_run_records_the_catalog_it_ran_on(world, demo_workspace):
    """Same fingerprint and seed → the same run; any change to the catalog changes the fingerprint."""
    with_same_catalog = lab.LabWorld(**world.__dict__)
    assert with_same_catalog.fingerprint() == world.fingerprint()
    small = config_for(world, impressions=2_000, batch_size=1_000, policies=("uniform",))
    result = lab.run_online(world, small)
    assert result.catalog_fingerprint == world.fingerprint()
    changed = lab.LabWorld(**{**world.__dict__, "picks": {**world.picks, int(world.title_ids[0]): -1}})
    assert changed.fingerprint() != world.fingerprint()
    fewer = lab.LabWorld(**{**world.__dict__, "n_actions": world.n_actions - (world.n_actions > 1)})
    assert fewer.fingerprint() != world.fingerprint()
    with demo_workspace.transaction() as s:
        run = lab_store.save_run(s, result, "local-admin")
    with demo_workspace.session() as s:
        assert lab_store.get_run(s, run.id).catalog_fingerprint == world.fingerprint()


def test_a_saved_run_holds_data_and_labels_come_from_the_registry_when_shown(world, demo_workspace):
    from artdash.db.models import LabRun
    from artdash.policy.registry import LABELS

    result = lab.run_online(world, config_for(world, impressions=2_000, batch_size=1_000,
                                              policies=("uniform", "linucb")))
    offline = lab.offline_on_run(world, result)
    with demo_workspace.transaction() as s:
        run = lab_store.save_run(s, result, "local-admin", offline=offline)
    with demo_workspace.session() as s:
        stored = s.get(LabRun, run.id)
        for records in (stored.summary, stored.curves, stored.offline):
            assert records and all("label" not in r for r in records)  # keys and numbers only
    shown = lab.summary_for_display(run.summary)
    assert list(shown["policy"]) == [LABELS["uniform"], LABELS["linucb"]]


def test_offline_evaluation_uses_the_candidates_of_decision_time(tmp_path):
    """Variants added to a title after its log was written are not candidates the log's
    decisions had: uniform random is evaluated over the ones shown then (IPS and SNIPS agree),
    and the change is named. It used to score uniform over today's catalog: IPS 7.16 % vs
    SNIPS 11.43 % on the same log, with no warning."""
    from workspaces import make_settings

    from artdash import catalog
    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.results.service import import_log
    from artdash.workspace import Workspace

    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    assert len(active) >= 3, "the demo title needs three active variants"
    then = active[:2]
    rng = np.random.default_rng(3)
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds,experiment"]
    for i in range(4000):
        variant = then[i % 2]
        played = rng.random() < (0.3 if variant == then[0] else 0.1)
        lines.append(f"e{i},2026-11-{1 + i % 20:02d}T10:00:00Z,m{i % 300},{title.id},{variant},uniform,0.5,"
                     f"{'true' if played else 'false'},{900 if played else 0},old-log")
    import_log(ws, ("\n".join(lines) + "\n").encode(), "old.csv", "local-admin")
    with ws.session() as s:
        world = lab.load_world(s)
    rounds, info = lab.rounds_from_results(impression_log(ws), world, "old-log")
    assert info.shown_then == 2 and info.added_since == len(active) - 2
    assert lab.catalog_note(info).startswith(f"{len(active) - 2:,} variant") and "over the 2 that were candidates then" in \
        lab.catalog_note(info)
    table = lab.offline_table(world, lab.LabConfig(mix={int(a): 1.0 for a in world.archetype_ids}), rounds,
                              ["uniform"]).set_index("estimator")
    observed = float(rounds.quality.mean())
    assert table.loc["IPS", "value"] == pytest.approx(observed) and table.loc["SNIPS", "value"] == pytest.approx(observed)
    assert info.metric == "quality_plays" and not any("take rate" in n for n in lab.log_notes(info))
    # the same clicks without durations: the reward is a play (the take rate), and the notes say so
    import_log(ws, ("\n".join(lines).replace(",900,old-log", ",0,old-log").replace("old-log", "clicks")
                    .replace("\ne", "\nc") + "\n").encode(), "clicks.csv", "local-admin")
    rounds, info = lab.rounds_from_results(impression_log(ws), world, "clicks")
    assert info.metric == "plays" and rounds.quality.sum() == rounds.played.sum() > 0
    assert any("the reward is a play (take rate)" in n for n in lab.log_notes(info))
    ws.close()


def test_offline_evaluation_scores_the_version_the_service_serves_with_the_probabilities_decide_draws_from(tmp_path):
    """The lab evaluates "as served" the stored version the decision service serves — not a
    policy of its own training — and the probabilities it scores are the ones ``decide``
    (Preview, ``/v1/decide``) draws each member's image from."""
    from workspaces import make_settings

    from artdash.decision.bootstrap import train_simulated
    from artdash.decision.decide import Member, decide
    from artdash.decision.snapshot import load_snapshot
    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.simulator.world import group_affinity
    from artdash.workspace import Workspace

    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:3])
    with ws.session() as s:
        version = train_simulated(s, ws.results_engine, "linucb", "tester", 5_000)
        world = lab.load_world(s)
        snapshot = load_snapshot(s)
    served = lab.as_served(ws)
    assert (served.name, served.version) == ("linucb", version)
    result = lab.run_online(world, config_for(world, impressions=3_000, batch_size=1_000, policies=("uniform",)))
    table = lab.offline_on_run(world, result, "uniform", ["uniform"], served=served)
    shown = lab.offline_for_display(table)
    assert set(shown["policy"]) == {"Uniform random", f"Contextual bandit (LinUCB) v{version} — as served"}
    assert table["as_served"].notna().sum() == table["estimator"].nunique()   # one row per estimator
    scored = np.asarray(served.policy.table(world, group_affinity(world)))
    for g, affinity in enumerate(world.archetype_affinity):
        member = Member(f"persona-{g}", {tag.id: float(w) for tag, w in zip(world.features.tags, affinity) if w})
        decided = decide(snapshot, served, member, world.title_ids.tolist(), clock.now(), explain=True)
        for row, d in enumerate(decided.decisions):
            n = int(world.n_actions[row])
            assert [v for v, _ in d.probabilities] == world.variant_ids[row, :n].tolist()
            assert np.allclose([p for _, p in d.probabilities], scored[g, row, :n])
    ws.close()


def test_offline_evaluation_scores_as_served_with_the_holdout_as_the_service_serves_it(tmp_path):
    """With a holdout in force, the rounds of held-out members are scored "as served" with the
    holdout's fixed rule — what ``/v1/decide`` answers them — and the rest with the served
    version; one service function does it for the page and the CLI."""
    from workspaces import copy_demo, make_settings

    from artdash.decision.bootstrap import train_simulated
    from artdash.decision.holdout import Holdout, set_holdout
    from artdash.demo import DEMO_TITLES
    from artdash.demo.results import EXPERIMENT, load_demo_results
    from artdash.lab.offline import _over
    from artdash.lab.service import evaluate_log
    from artdash.results.service import impression_log
    from artdash.simulator.world import group_affinity
    from artdash.workspace import Workspace

    copy_demo(tmp_path / "data", DEMO_TITLES[:3])
    ws = Workspace.open(make_settings(tmp_path))
    load_demo_results(ws, n=6000)
    with ws.session() as s:
        train_simulated(s, ws.results_engine, "linucb", "tester", 5_000)
        world = lab.load_world(s)
    served = lab.as_served(ws)
    rounds, info = lab.rounds_from_results(impression_log(ws), world, EXPERIMENT)
    held = np.array([Holdout(0.5, "uniform").holds(m) for m in info.members])
    assert 0.3 < held.mean() < 0.7

    def ips(table) -> float:
        return float(table[(table["estimator"] == "IPS") & table["as_served"].notna()]["value"].iloc[0])

    before, _ = evaluate_log(ws, world, EXPERIMENT, policies=["uniform"])
    with ws.transaction() as s:
        set_holdout(s, 0.5, "uniform", "local-admin")
    after, _ = evaluate_log(ws, world, EXPERIMENT, policies=["uniform"])
    target = np.asarray(served.policy.table(world, group_affinity(world)))[rounds.group, rounds.title]
    uniform = np.where(np.arange(target.shape[1]) < world.n_actions[rounds.title][:, None], 1.0, 0.0)
    mixed = np.where(held[:, None], uniform / uniform.sum(axis=1, keepdims=True), target)
    for scored, table in ((target, before), (mixed, after)):
        over = _over(scored, info.support)
        expected = np.mean(over[np.arange(len(rounds)), rounds.action] / rounds.propensity * rounds.quality)
        assert ips(table) == pytest.approx(min(max(expected, 0.0), 1.0))
    assert ips(before) != ips(after)
    ws.close()
