"""Per-member sums for CUPED, by the engine where the log lives, equal to the same sums
counted by hand; members who met several variants are left out and counted."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from test_results import HEADER, QUALITY, do_ingest, log  # noqa: F401  (the log fixture, on every backend)

from artdash.results.members import member_totals
from artdash.results.queries import Selection, to_day


def line(event, member, variant, day, played, seconds):
    fields = {"event_id": event, "timestamp": f"{day}T10:00:00Z", "member_id": member, "title_id": 1,
              "variant_id": variant, "policy": "uniform", "experiment": "exp1", "cell": "A", "propensity": 0.5,
              "played": "true" if played else "false", "play_seconds": seconds if played else 0, "country": "fr",
              "device": "TV"}
    return ",".join(str(fields[c]) for c in HEADER.strip().split(",")) + "\n"


def test_member_sums_per_variant_with_the_pre_period_covariate(log):  # noqa: F811
    text = HEADER
    plan = [  # member, variant, day, played, seconds
        ("a1", 11, "2026-11-02", 1, 900), ("a1", 11, "2026-11-03", 1, 1200), ("a1", 11, "2026-10-20", 1, 600),
        ("a1", 11, "2026-10-21", 1, 30), ("a2", 11, "2026-11-02", 0, 0), ("a2", 11, "2026-10-25", 1, 400),
        ("a3", 11, "2026-11-04", 1, 350), ("b1", 12, "2026-11-02", 1, 2000), ("b2", 12, "2026-11-03", 0, 0),
        ("b2", 12, "2026-10-30", 1, 1000), ("b2", 12, "2026-09-01", 1, 1000),          # too early: not counted
        ("mix", 11, "2026-11-02", 1, 999), ("mix", 12, "2026-11-03", 1, 999)]          # saw both: left out
    for i, row in enumerate(plan):
        text += line(f"e{i}", *row)
    do_ingest(log, text)
    sel = Selection(1, to_day(date(2026, 11, 1)), to_day(date(2026, 11, 30)), experiment="exp1")
    with log.engine.connect() as conn:
        totals = member_totals(log, conn, sel, QUALITY)
    frame = pd.DataFrame(plan, columns=["member", "variant", "day", "played", "seconds"])
    frame["q"] = ((frame.played == 1) & (frame.seconds >= QUALITY)).astype(int)
    during = frame[(frame.day >= "2026-11-01") & (frame.member != "mix")].groupby(["member", "variant"]).q.sum()
    before = frame[(frame.day >= "2026-10-04") & (frame.day < "2026-11-01")].groupby("member").q.sum()
    for variant in (11, 12):
        y = during.xs(variant, level="variant")
        x = before.reindex(y.index).fillna(0)
        arm = totals.arms[variant]
        assert (arm.n, arm.y, arm.yy) == (len(y), y.sum(), (y * y).sum())
        assert (arm.x, arm.xx, arm.xy) == pytest.approx((x.sum(), (x * x).sum(), (x * y).sum()))
    assert totals.mixed_members == 1 and totals.with_history == 3 and totals.members == 5


def test_an_empty_log_has_no_members(log):  # noqa: F811
    with log.engine.connect() as conn:
        totals = member_totals(log, conn, Selection(1, 100, 200), QUALITY)
    assert totals.arms == {} and totals.members == 0 and totals.mixed_members == 0
