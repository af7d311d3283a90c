"""The decision service on the pages (AppTest): the Live tab of Policy lab (shadow mode: start,
readout, promotion refused until the interval supports it) and the live traffic of Results
and Policy lab, fed by the real service in-process."""

from datetime import timedelta

from apptest import assert_clean, labelled, open_page
from sqlalchemy import select

from artdash import clock
from artdash.db.results_schema import decisions
from artdash.lab.store import current_policy, promote
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.serve.shadow import current_shadow, start_shadow


def traffic(ws, requests=40, outcomes=True):
    """Requests from 8 members for every title with artwork, outcomes reported for all."""
    service = DecisionService(ws, ServiceSettings(require_keys=False), background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        for i in range(requests):
            answer = client.decide({"id": f"m-{i % 8}", "tastes": {"genre:comedy": 0.5}}, titles)
            if outcomes:
                client.outcomes([{"event_id": d["event_id"], "played": j == 0, "play_seconds": 900 if j == 0 else 0}
                                 for j, d in enumerate(answer["decisions"])])
    finally:
        service.close()


def test_results_live_traffic_is_empty_until_the_service_decides(demo_ws, frozen_clock):
    at = open_page("results", results_tab="Live traffic")
    assert_clean(at)
    assert any("has not decided anything yet" in i.value for i in at.info)
    traffic(demo_ws)
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decisions"] == "80" and metrics["Outcomes joined"] == "100.00%"
    assert metrics["Take rate"] == "50.00%"
    assert len(at.get("plotly_chart")) >= 3            # rate, versions, change-rate distribution
    assert any(b.label == "Download live traffic CSV" for b in at.get("download_button"))
    clock.freeze(frozen_clock + timedelta(days=2))     # two days on: nothing in the last 24 hours
    at.run()
    assert any("No decisions in the last 24 hours" in i.value for i in at.info)


def test_a_shadow_is_started_on_the_page_and_cannot_be_promoted_without_evidence(demo_ws, frozen_clock):
    with demo_ws.transaction() as s:
        promote(s, "uniform", "local-admin")
    at = open_page("lab", lab_tab="Live")
    assert_clean(at)
    assert any("No policy runs in shadow" in i.value for i in at.info)
    assert "uniform" not in labelled(at.selectbox, "Policy").options   # never the served one
    at.selectbox(key="shadow_policy").set_value("linucb")
    at.text_input(key="shadow_note").set_value("<b>bandit</b> beside chance")
    at.button(key="FormSubmitter:shadow_start-Run in shadow").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        entry = current_shadow(s)
        assert entry.policy == "linucb" and entry.note == "<b>bandit</b> beside chance"
    traffic(demo_ws, requests=20)
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["In shadow"] == "Contextual bandit (LinUCB)" and metrics["Decisions logged beside"] == "40"
    assert any("only 40 resolved decisions so far; promotion needs at least 500" in w.value for w in at.warning)
    promote_button = at.button(key="FormSubmitter:shadow_promote-Promote Contextual bandit (LinUCB)")
    assert promote_button.disabled
    with demo_ws.session() as s:
        assert current_policy(s)[0] == "uniform"
    at.button(key="FormSubmitter:shadow_promote-Stop shadow mode").click().run()
    assert_clean(at)
    assert any("Shadow mode stopped" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert current_shadow(s) is None


def test_a_supported_shadow_is_promoted_from_the_page(demo_ws, frozen_clock):
    with demo_ws.transaction() as s:
        promote(s, "uniform", "local-admin")
        start_shadow(s, "editors-pick", "local-admin")
    service = DecisionService(demo_ws, ServiceSettings(require_keys=False), background=False)
    try:                      # members play exactly what the shadow would have shown: it is clearly better
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        for i in range(300):
            answer = client.decide({"id": f"m-{i}", "tastes": {"genre:comedy": 0.5}}, titles)
            ids = [d["event_id"] for d in answer["decisions"]]
            with demo_ws.results_engine.connect() as conn:
                liked = dict(conn.execute(select(decisions.c.event_id, decisions.c.shadow_variant_id)
                                          .where(decisions.c.event_id.in_(ids))).all())
            client.outcomes([{"event_id": d["event_id"], "played": d["variant_id"] == liked[d["event_id"]],
                              "play_seconds": 900 if d["variant_id"] == liked[d["event_id"]] else 0}
                             for d in answer["decisions"]])
    finally:
        service.close()
    at = open_page("lab", lab_tab="Live")
    assert_clean(at)
    assert any("promotion is supported" in m.value for m in at.success), [w.value for w in at.warning]
    at.text_input(key="shadow_promote_note").set_value("it beat chance")
    at.button(key="FormSubmitter:shadow_promote-Promote Editor's pick").click().run()
    assert_clean(at)
    assert any("Editor's pick is now served" in m.value for m in at.success)
    with demo_ws.session() as s:
        promoted, entry = current_policy(s)
        assert promoted == "editors-pick" and entry.note.startswith("it beat chance — from shadow: 600 decisions")
        assert current_shadow(s) is None
    # the calibration history: the shadow's estimate, kept with the promotion, beside what came true
    assert any("Calibration history" in m.value for m in at.markdown)
    service = DecisionService(demo_ws, ServiceSettings(require_keys=False), background=False)
    try:
        client = LocalClient(service)
        for i in range(60):
            answer = client.decide({"id": f"after-{i}", "tastes": {"genre:comedy": 0.5}}, titles)
            client.outcomes([{"event_id": d["event_id"], "played": j % 2 == 0, "play_seconds": 900}
                             for j, d in enumerate(answer["decisions"])])
        service.learn_now()
    finally:
        service.close()
    at.run()
    assert_clean(at)
    [table] = [d.value for d in at.dataframe if "estimate from" in d.value.columns]
    assert list(table["source"]) == ["shadow (live traffic)", "no estimate recorded"]
    assert table["promotion"].iloc[0].endswith("Editor's pick") and table["members served"].iloc[0] == 60
    assert table["realised"].iloc[0].endswith("%)") and table["covered"].iloc[0] in ("yes", "no")
    assert list(table["expected"])[1] == "—" and list(table["until"])[0] == "still served"
    assert not {"None", "NaT", "nan"} & set(table.astype(str).to_numpy().ravel())
    assert any("of 1 covered" in c.value for c in at.caption)
    assert any(b.label == "Download calibration CSV" for b in at.get("download_button"))
    assert any(c.proto.spec and "Expected vs realised" in c.proto.spec for c in at.get("plotly_chart"))
