"""The live view: decisions per second, outcomes joined, versions over time and each member's
change rate, computed by the database from the service's log — on a SQLite file and on
PostgreSQL — and equal to the same numbers counted by hand from the logged rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from artdash import clock
from artdash.db.results_schema import decisions
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.serve.live import bucket_for, last_decision_at, live_traffic


@pytest.fixture
def service(catalog_ws):
    svc = DecisionService(catalog_ws, ServiceSettings(require_keys=False, sticky_hours=1), background=False)
    yield svc
    svc.close()


def test_the_live_view_counts_what_the_service_logged(service, frozen_clock):
    client = LocalClient(service)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    assert last_decision_at(service.results) is None
    events = []
    for minute in range(5):                         # 5 bursts of traffic, 2 hours apart (new sticky windows)
        clock.freeze(frozen_clock + timedelta(hours=2 * minute))
        for m in range(4):
            answer = client.decide({"id": f"m-{m}", "tastes": {"genre:comedy": 0.2 * m}}, titles)
            events += [d["event_id"] for d in answer["decisions"]]
        if minute == 0:                              # outcomes for the first burst, in time; every third played
            client.outcomes([{"event_id": e, "played": i % 3 == 0, "play_seconds": 600 if i % 3 == 0 else 0}
                             for i, e in enumerate(events)])
            first = len(events)
    until = frozen_clock + timedelta(hours=9)
    live = live_traffic(service.results, frozen_clock, until, bucket_seconds=3600)
    assert live.decisions == len(events) == 5 * 4 * len(titles)
    assert (live.with_outcome, live.plays, live.late) == (first, len(range(0, first, 3)), 0)
    assert live.joined_share == pytest.approx(first / len(events))
    assert list(live.per_bucket["decisions"]) == [4 * len(titles)] * 5
    hour = frozen_clock.replace(minute=0)           # buckets start on the hour
    assert list(live.per_bucket["at"]) == [hour + timedelta(hours=2 * i) for i in range(5)]
    assert live.per_bucket["decisions per second"].iloc[0] == pytest.approx(4 * len(titles) / 3600)
    assert set(live.by_version["version"]) == {0} and live.by_version["decisions"].sum() == len(events)
    assert last_decision_at(service.results) == frozen_clock + timedelta(hours=8)

    # the change rate, counted by hand from the logged rows
    with service.results.connect() as conn:
        rows = conn.execute(select(decisions.c.member_id, decisions.c.title_id, decisions.c.variant_id)
                            .order_by(decisions.c.at_ms, decisions.c.event_id)).all()
    last, repeats, changes = {}, defaultdict(int), defaultdict(int)
    for member, title, variant in rows:
        if (member, title) in last:
            repeats[member] += 1
            changes[member] += last[(member, title)] != variant
        last[(member, title)] = variant
    change = live.change
    assert (change.repeats, change.changes, change.members) == (sum(repeats.values()), sum(changes.values()), 4)
    assert change.changes > 0                        # a new sticky window may show another image
    assert change.distribution["members"].sum() == 4
    top = change.top.set_index("member")
    for member in repeats:
        assert top.loc[member, "changes"] == changes[member]
        assert top.loc[member, "change rate"] == pytest.approx(changes[member] / repeats[member])


def test_an_empty_log_is_an_empty_view(service, frozen_clock):
    live = live_traffic(service.results, frozen_clock - timedelta(days=1), frozen_clock)
    assert live.empty and live.per_bucket.empty and live.change.repeats == 0
    assert live.change.rate != live.change.rate      # NaN: no member saw a title twice


def test_buckets_keep_a_chart_readable():
    assert bucket_for(timedelta(minutes=30)) == 10
    assert bucket_for(timedelta(hours=24)) == 900
    assert bucket_for(timedelta(days=30)) == 6 * 3600


def test_a_little_traffic_in_a_long_window_gets_buckets_of_its_own_span(service, frozen_clock):
    """Daily use: a minute of decisions seen through the 24-hour window used to be one 15-minute
    bar filling the plot, with ticks like 23:29:59.9996 and a share axis in 36.942%; the buckets
    now come from the span the decisions cover, the axis is a dozen buckets wide at least, ticks
    at whole clock times, and the share axis in whole percents."""
    from artdash.ui import charts

    client = LocalClient(service)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    for second in range(0, 60, 5):
        clock.freeze(frozen_clock + timedelta(seconds=second))
        client.decide({"id": f"m-{second}", "tastes": {}}, titles)
    until = frozen_clock + timedelta(hours=12)
    live = live_traffic(service.results, until - timedelta(hours=24), until)
    assert live.bucket_seconds == 10                               # not 900
    assert live.per_bucket["decisions"].sum() == live.decisions == 12 * len(titles)
    figure = charts.live_decisions(live.per_bucket, live.bucket_seconds)
    low, high = (pd.Timestamp(x) for x in figure.layout.xaxis.range)
    assert high - low >= pd.Timedelta(seconds=12 * live.bucket_seconds)
    assert figure.layout.xaxis.tickformat == "%H:%M:%S" and figure.layout.yaxis2.tickformat == ".0%"
    versions = charts.versions_over_time(live.by_version, live.bucket_seconds)
    assert versions.layout.xaxis.tickformat == "%H:%M:%S"


def test_reward_to_model_is_the_wait_from_an_outcome_to_the_first_version_that_learnt_it(service, frozen_clock):
    from artdash.serve.live import reward_to_model

    client = LocalClient(service)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    events = []
    for second in (0, 10, 20):                          # outcomes arrive at 0, 10 and 20 s
        clock.freeze(frozen_clock + timedelta(seconds=second))
        answer = client.decide({"id": f"m-{second}", "tastes": {"genre:comedy": 0.5}}, titles[:2])
        client.outcomes([{"event_id": d["event_id"], "played": True, "play_seconds": 900}
                         for d in answer["decisions"]])
        events += answer["decisions"]
    until = frozen_clock + timedelta(minutes=5)
    assert reward_to_model(service.results, frozen_clock, until).learnt == 0
    clock.freeze(frozen_clock + timedelta(seconds=50))
    service.learn_now()                                 # one version, trained at 50 s: waits 50, 40, 30 s
    found = reward_to_model(service.results, frozen_clock, until)
    assert (found.outcomes, found.learnt, found.waiting) == (len(events), len(events), 0)
    assert found.median_seconds == pytest.approx(40.0) and found.p90_seconds == pytest.approx(50.0)   # 2 titles each
