"""Served against holdout, on the pages (Results → Live, Policy lab → Live): what
personalisation earns live, overall and per title, with the members' split against the
holdout's share, and the table as a download."""

from __future__ import annotations

import streamlit as st

from artdash import export, numbers
from artdash.serve.holdout_readout import holdout_table
from artdash.stats.rates import SRM_P_THRESHOLD
from artdash.ui.numbers import count_column, grid, rate_column
from artdash.ui.text import md
from artdash.workspace import Workspace

# What a reader looks for first comes first (a 1024 px screen shows five or six columns).
COLUMNS = ["title", "lift", "lift low", "lift high", "served rate", "holdout rate", "served members", "holdout members",
           "note"]


def holdout_panel(ws: Workspace, key: str) -> None:
    """The live readout of personalisation against the holdout (nothing to read: how to start one)."""
    readout, frame = holdout_table(ws)
    overall = readout.overall
    if readout.holdout.share <= 0 and overall.holdout.members == 0:
        st.caption("**No holdout**: every member is served the promoted policy, so what personalisation earns "
                   "live is not measured. Start the service with `--holdout 0.05` to serve 5% of members "
                   "(chosen by id) uniform random instead: this panel then compares the two.")
        return
    st.markdown("##### Personalisation against the holdout")
    st.caption(f"{md(readout.holdout.describe())}. Quality plays per impression, members as the unit (each one "
               f"is in one arm, by id); {md(readout.method.describe(readout.confidence))}.")
    c = overall.comparison
    if c is not None and c.interval is not None:
        verdict = ("more than" if c.interval.low > 0 else "less than" if c.interval.high < 0 else "no clear "
                   "difference from")
        st.metric("Lift of personalisation (all titles)", numbers.change(c.relative),
                  help="Served quality take rate over the holdout's, minus one; the interval below.")
        st.caption(f"Served members play {numbers.rate(overall.served.rate)} of impressions, held-out members "
                   f"{numbers.rate(overall.holdout.rate)}: {md(verdict)} the holdout, lift "
                   f"{numbers.change_range(c.interval.low, c.interval.high)}.")
    else:
        st.info(md(overall.note or "Not enough live traffic yet to compare the arms."))
    if readout.srm is not None:
        if readout.srm.mismatch:
            st.error(f"Members' split does not match the holdout's share: {md(readout.srm.reason)}.")
        else:
            st.caption(f"Members' split ({numbers.count(overall.served.members)} served, "
                       f"{numbers.count(overall.holdout.members)} held out) matches the {readout.holdout.share:.0%} "
                       f"share (χ² p = {readout.srm.p_value:.2f}; below {SRM_P_THRESHOLD:g} would mean assignment "
                       "or logging is broken).")
    if readout.mixed_members:
        st.caption(f"{numbers.count(readout.mixed_members)} members were in both arms (the share changed) and "
                   "are left out.")
    shown = frame[COLUMNS].copy()
    lifts = ["lift", "lift low", "lift high"]
    shown[lifts] = shown[lifts].astype(float) * 100      # written as the page writes changes: +12.34%
    grid(shown, hide_index=True, width="stretch", key=f"{key}_holdout_table", column_config={
        "served rate": rate_column(), "holdout rate": rate_column(),
        "served members": count_column(), "holdout members": count_column(),
        **{c: st.column_config.NumberColumn(c, format="%+.2f%%") for c in lifts}})
    st.download_button("Download CSV", export.csv_bytes(frame), "artdash-holdout.csv", "text/csv",
                       key=f"{key}_holdout_csv", icon=":material/download:",
                       help="This table with the holdout, the metric and the method in every row.")


__all__ = ["holdout_panel"]
