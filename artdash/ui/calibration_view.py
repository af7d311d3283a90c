"""The calibration history on Policy lab → Live: for each promotion, the lab's, the offline
and the shadow estimate of the promoted policy beside what it earned once it served — a chart,
how often each source's interval held the realised rate, the table and its CSV."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from artdash import export, numbers
from artdash.lab.estimates import SOURCE_LABELS
from artdash.serve.calibration import calibration_history, calibration_table, coverage
from artdash.serve.holdout_readout import finite
from artdash.ui import charts
from artdash.ui.numbers import count_column, grid
from artdash.ui.text import md
from artdash.workspace import Workspace

# What a reader compares first comes first (a 1024 px screen shows the first five columns).
COLUMNS = ["promotion", "source", "covered", "expected", "realised", "members served", "lift over holdout",
           "promoted at", "until", "estimate from", "note"]


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The calibration table as the page writes it: each value with its interval in one cell."""
    def with_interval(value, low, high, write=numbers.rate, span=numbers.rate_range) -> str:
        if not finite(value):
            return "—"
        interval = span(low, high)
        return f"{write(value)} ({interval})" if interval else write(value)

    return pd.DataFrame({
        "promotion": [f"#{p} {name}" for p, name in zip(table["promotion"], table["policy"])],
        "source": table["source"],
        "expected": [with_interval(*r) for r in zip(table["estimate"], table["estimate low"], table["estimate high"])],
        "realised": [with_interval(*r) for r in zip(table["realised rate"], table["realised low"],
                                                    table["realised high"])],
        "covered": table["covered"].replace("", "—"),
        "members served": table["realised members"],
        "lift over holdout": [with_interval(v, lo, hi, numbers.change, numbers.change_range) for v, lo, hi in
                              zip(table["lift over holdout"], table["lift low"], table["lift high"])],
        "promoted at": [f"{at:%Y-%m-%d %H:%M}" for at in table["promoted at"]],
        "until": [f"{at:%Y-%m-%d %H:%M}" if isinstance(at, datetime) and not pd.isna(at) else "still served"
                  for at in table["until"]],
        "estimate from": table["estimate from"], "note": table["note"]}, columns=COLUMNS)


def calibration_panel(ws: Workspace) -> None:
    """Every promotion's estimates against what came true (nothing promoted yet: what this will show)."""
    st.markdown("##### Calibration history: did the estimates come true?")
    history = calibration_history(ws)
    if not history:
        st.caption("No policy has been promoted yet. Each promotion keeps what the lab, an offline evaluation and the "
                   "shadow expected it to earn; once the policy serves, this section sets those estimates beside "
                   "the quality take rate it really earned.")
        return
    st.caption("For each promotion, what was expected of the promoted policy (quality plays per impression, with "
               "each source's interval) and what it earned while it served — members not held out, decisions it "
               "made, from the promotion to the next change, 95% interval clustered by member. An estimate "
               "*covers* when its interval holds the realised rate.")
    table = calibration_table(history)
    hits = coverage(history)
    if hits:
        covered = " · ".join(f"**{md(SOURCE_LABELS[source])}**: {hit} of {judged} covered"
                             for source, (hit, judged) in hits.items())
        st.caption(f"{covered}. About 95% is what honest intervals give; far less means that source is too sure of "
                   "itself.")
    if table["estimate"].notna().any() or table["realised rate"].notna().any():
        st.plotly_chart(charts.calibration_history(table), width="stretch", key="calibration_chart")
    else:
        st.info("No estimates recorded and no live traffic since the promotions yet: promote from a lab run, an "
                "offline evaluation or shadow mode to keep what was expected, and serve members to see what comes "
                "true.")
    grid(shown_table(table), hide_index=True, width="stretch", key="calibration_table", column_config={
        "members served": count_column()})
    unrecorded = int((table["source"] == "no estimate recorded").sum())
    if unrecorded:
        st.caption(f"{numbers.count(unrecorded)} promotion{'s' if unrecorded != 1 else ''} kept no estimate (made "
                   "directly, or before estimates were kept).")
    st.download_button("Download calibration CSV", export.csv_bytes(table), "artdash-calibration.csv", "text/csv",
                       key="calibration_csv", icon=":material/download:",
                       help="One row per promotion and source: the estimate with its interval and where it came "
                            "from, the realised rate with its interval, whether it was covered, and the lift over "
                            "the holdout in the same span.")


__all__ = ["calibration_panel"]
