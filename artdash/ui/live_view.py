"""The decision service's live view (Results and Policy lab) and shadow mode (Policy lab):
what the service has been deciding, how often a member's image changes, and a candidate
policy evaluated beside the served one before anyone sees it."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from artdash import clock, export, numbers
from artdash.policy import registry
from artdash.policy.registry import LABELS
from artdash.serve.live import last_decision_at, live_traffic, reward_to_model
from artdash.serve.service import ServiceSettings
from artdash.serve.shadow import (
    MIN_RESOLVED,
    current_shadow,
    promote_shadow,
    readout,
    served_name,
    shadow_history,
    start_shadow,
    stop_shadow,
)
from artdash.ui import charts, widgets
from artdash.ui.numbers import grid, rate_column
from artdash.ui.text import md
from artdash.workspace import Workspace

WINDOWS = {"Last hour": timedelta(hours=1), "Last 24 hours": timedelta(hours=24), "Last 7 days": timedelta(days=7),
           "Last 30 days": timedelta(days=30)}
SHORT = {"Last hour": "1 h", "Last 24 hours": "24 h", "Last 7 days": "7 d", "Last 30 days": "30 d"}
REWARD_WINDOW = timedelta(seconds=ServiceSettings().reward_window_seconds)


def _pct(x: float) -> str:
    return numbers.rate(x)


def _pp(x: float) -> str:
    return "–" if x != x else f"{x * 100:+.2f} pp"


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def traffic_panel(ws: Workspace, key: str) -> None:
    """Decisions per second, outcomes joined, versions over time and the change rate."""
    last = last_decision_at(ws.results_engine)
    if last is None:
        st.info("The decision service has not decided anything yet. Start it with `artdash serve` (or "
                "`make serve`), create an API key on the **API keys** page, and call `POST /v1/decide`; "
                "its traffic appears here as it arrives.")
        return
    window = st.segmented_control("Window", list(WINDOWS), default="Last 24 hours", key=f"{key}_window") \
        or "Last 24 hours"
    until = clock.now()
    live = live_traffic(ws.results_engine, until - WINDOWS[window], until)
    if live.empty:
        st.info(f"No decisions in the {md(window.lower())}; the last one was at {last:%Y-%m-%d %H:%M} UTC. "
                "Pick a longer window.")
        return
    seconds = WINDOWS[window].total_seconds()
    row = st.container(horizontal=True, gap="large")     # wraps on a narrow screen, never cuts a number
    c = [row] * 5
    c[0].metric("Decisions", f"{live.decisions:,}", help=f"made by the service in the {window.lower()}")
    per_second = live.decisions / seconds
    c[1].metric(f"Per second ({SHORT[window]} average)",
                f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2f}" if per_second >= 0.1
                else f"{per_second:.2g}",
                help=f"{live.decisions:,} decisions over the {window.lower()} ({seconds:,.0f} s)")
    c[2].metric("Outcomes joined", _pct(live.joined_share),
                help="decisions whose outcome (played or not) has arrived; the rest are pending or never reported")
    c[3].metric("Take rate", _pct(live.plays / live.with_outcome if live.with_outcome else float("nan")),
                help="plays over the outcomes that arrived")
    c[4].metric("Image change rate", _pct(live.change.rate),
                help="when a member sees a title again, how often its image is not the one they saw before")
    if live.late:
        st.caption(f"{live.late:,} outcomes arrived after the reward window: kept and flagged, not counted as plays.")
    learnt = reward_to_model(ws.results_engine, until - WINDOWS[window], until)
    if learnt.median_seconds is not None:
        st.caption(f"**Reward to model**: half of the outcomes that arrived in the {md(window.lower())} were learnt "
                   f"by a new version within {md(_wait(learnt.median_seconds))}, 90% within "
                   f"{md(_wait(learnt.p90_seconds))} ({learnt.learnt:,} of {learnt.outcomes:,}; "
                   f"{learnt.waiting:,} wait for the next retrain — `--retrain-every` outcomes or "
                   "`--retrain-seconds`, whichever comes first). A new version reaches members at their next "
                   "sticky window.")
    elif learnt.outcomes:
        st.caption(f"**Reward to model**: none of the {learnt.outcomes:,} outcomes in the {md(window.lower())} "
                   "has been learnt yet — the service retrains after `--retrain-every` outcomes or "
                   "`--retrain-seconds`.")
    st.plotly_chart(charts.live_decisions(live.per_bucket, live.bucket_seconds), width="stretch", key=f"{key}_rate")
    st.plotly_chart(charts.versions_over_time(live.by_version, live.bucket_seconds), width="stretch",
                    key=f"{key}_versions")
    st.markdown("**How often a member's image of a title changes** — a member who meets a new image on every "
                "visit may not recognise the title (Netflix names change effects as a risk). The service keeps "
                "a member's image for its sticky window; a retrain, a takedown or exploration can still change it.")
    change = live.change
    if change.repeats == 0:
        st.caption("No member has seen the same title twice in this window yet.")
    else:
        left, right = st.columns(2)
        left.plotly_chart(charts.change_rate_distribution(change.distribution), width="stretch",
                          key=f"{key}_change")
        right.caption(f"{change.changes:,} changes in {change.repeats:,} repeat showings to {change.members:,} "
                      "members. The members whose image changed most:")
        right.dataframe(change.top, hide_index=True, width="stretch",
                        column_config={"change rate": rate_column()})
    with st.expander(f"Trained versions ({len(live.versions):,})"):
        if live.versions.empty:
            st.caption("No version has been trained yet: the service retrains as outcomes arrive.")
        else:
            grid(live.versions, hide_index=True, width="stretch",
                         column_config={"trained at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    st.download_button("Download live traffic CSV", export.csv_bytes(live.per_bucket),
                       f"artdash-live-traffic-{window.lower().replace(' ', '-')}.csv", "text/csv", key=f"{key}_csv",
                       help=f"decisions, outcomes and plays per {live.bucket_seconds:,} s over the {window.lower()}")


def shadow_panel(ws: Workspace) -> None:
    """Start or stop a shadow policy, read its evaluation, promote it when the evidence allows."""
    with ws.session() as s:
        served = served_name(s)
        entry = current_shadow(s)
        history = shadow_history(s)
    st.markdown(f"The service serves **{md(LABELS.get(served, served))}**. A policy in **shadow** decides beside it "
                "on every request: its choice is logged next to the served one and shown to no one, so it can be "
                "evaluated on live traffic before anyone sees it. It can be promoted only when the interval of its "
                "estimated gain lies above zero.")
    if entry is None:
        st.info("No policy runs in shadow.")
    else:
        closed = clock.now() - REWARD_WINDOW
        result = readout(ws.results_engine, entry, ws.settings.quality_play_seconds, closed)
        row = st.container(horizontal=True, gap="large")
        c = [row] * 4
        c[0].metric("In shadow", result.label, help=f"since {entry.at:%Y-%m-%d %H:%M} UTC, started by {entry.by}")
        c[1].metric("Decisions logged beside", f"{result.logged:,}",
                    help=f"{result.resolved:,} resolved (outcome arrived or reward window of "
                         f"{REWARD_WINDOW.total_seconds() / 60:.0f} min closed); promotion needs {MIN_RESOLVED:,}")
        c[2].metric("Match rate", _pct(result.match_rate),
                    help="how often the shadow would have shown the image that was shown")
        d, lo, hi = result.difference
        c[3].metric("Estimated gain", _pp(d), help=f"95% interval {_pp(lo)} … {_pp(hi)} (quality take rate)")
        if result.resolved >= 2 and result.shadow[0] == result.shadow[0]:
            rows = pd.DataFrame([
                {"label": f"{LABELS.get(served, served)} (served, observed)", "value": result.served[0],
                 "low": result.served[1], "high": result.served[2]},
                {"label": f"{result.label} (shadow, SNIPS estimate)", "value": result.shadow[0],
                 "low": result.shadow[1], "high": result.shadow[2]}])
            st.plotly_chart(charts.estimates_with_intervals(rows, "value", "low", "high",
                                                            "Quality take rate with 95% intervals"),
                            width="stretch", key="shadow_chart")
        (st.success if result.supports_promotion else st.warning)(md(result.why))
        with st.form("shadow_promote"):
            note = st.text_input("Why (optional)", key="shadow_promote_note")
            c1, c2 = st.columns(2)
            promote = c1.form_submit_button(f"Promote {result.label}", icon=":material/rocket_launch:", type="primary",
                                            disabled=not (widgets.may("admin") and result.supports_promotion),
                                            help=None if result.supports_promotion else md(result.why))
            stop = c2.form_submit_button("Stop shadow mode", icon=":material/stop_circle:",
                                         disabled=not widgets.may("admin"))
        if promote:
            widgets.act(ws, lambda s: promote_shadow(s, result, widgets.actor(), note),
                        f"{result.label} is now served; shadow mode stopped.")
        if stop:
            widgets.act(ws, lambda s: stop_shadow(s, widgets.actor(), note), "Shadow mode stopped.")
    choices = [p for p in registry.names(available_only=True, servable_only=True) if p != served]
    with st.form("shadow_start"):
        st.markdown("**Run a policy in shadow**" + (" (replaces the one running now)" if entry else ""))
        c1, c2 = st.columns([1, 2])
        policy = c1.selectbox("Policy", choices, format_func=lambda p: LABELS.get(p, p), key="shadow_policy")
        why = c2.text_input("Why (optional)", placeholder="does the bandit beat the editor's pick?", key="shadow_note")
        if st.form_submit_button("Run in shadow", icon=":material/visibility:", disabled=not widgets.may("admin")):
            widgets.act(ws, lambda s: start_shadow(s, policy, widgets.actor(), why),
                        f"{LABELS.get(policy, policy)} runs in shadow from the service's next refresh.")
    if not widgets.may("admin"):
        widgets.role_note("admin", "start, stop or promote a shadow policy")
    if not history.empty:
        with st.expander(f"Shadow history ({len(history):,})"):
            grid(history, hide_index=True, width="stretch",
                         column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
