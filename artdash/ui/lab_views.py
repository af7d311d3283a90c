"""The Policy-lab page's building blocks: a run shown with its figures, charts and offline
estimates, the promotion form, and saving a finished run with a progress bar."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from artdash import clock, export, lab
from artdash.decision.models import list_versions
from artdash.errors import ArtdashError
from artdash.lab import service as lab_service
from artdash.lab import store as lab_store
from artdash.lab.estimates import offline_estimate
from artdash.serve.shadow import direct_promotion_refusal
from artdash.ui import charts, widgets
from artdash.ui.numbers import count_column, grid
from artdash.ui.text import md
from artdash.workspace import Workspace


def show_summary(summary: pd.DataFrame, key: str) -> None:
    """A run's online results: the table and the quality take rates with intervals."""
    grid(lab.summary_for_display(summary), hide_index=True, width="stretch")
    st.plotly_chart(charts.estimates_with_intervals(lab.with_labels(summary), "quality take rate", "quality low", "quality high",
                                   "Quality take rate with 95% intervals"), width="stretch", key=f"{key}_bars")


def show_offline(table: pd.DataFrame, key: str) -> None:
    """Offline estimates: a chart for one estimator, the caveats, the table and its CSV."""
    if table.empty:
        st.info("Nothing to show.")
        return
    estimator = st.segmented_control("Estimator for the chart", ["DR", "SNIPS", "IPS", "DM", "replay"],
                                     default="DR", key=f"{key}_estimator") or "DR"
    chosen = lab.with_labels(lab.ranking(table, estimator))
    shown = chosen[chosen["value"].notna()]
    if shown.empty:
        st.warning(f"Every {md(estimator)} estimate is withheld: {md(chosen['note'].iloc[0])}")
    else:
        st.plotly_chart(charts.estimates_with_intervals(shown, "value", "low", "high",
                                       f"{estimator} estimate of quality plays per impression (95% intervals)",
                                       truth="truth"), width="stretch", key=f"{key}_chart")
    if "as_served" in table and table["as_served"].notna().any():
        st.caption("**— as served** is the stored version the decision service serves now, scored with the very "
                   "probabilities `/v1/decide` draws from (not retrained on half the log like the others: it may have "
                   "learnt from this log, which flatters it).")
    warnings = sorted({n for n in table["note"].dropna() if n and not n.startswith("the interval")})
    for note in warnings:
        st.warning(md(note))
    display = lab.offline_for_display(table)
    grid(display, hide_index=True, width="stretch")
    st.download_button("Download CSV", export.csv_bytes(table), f"artdash-offline-{key}.csv", "text/csv",
                       key=f"{key}_download")


def promote_form(ws: Workspace, policies: list[str], key: str, run_id: int | None, suggestion: str | None,
                 offline: tuple[pd.DataFrame, str] | None = None) -> None:
    """Make a policy the one the decision service serves and Preview shows (admins), with an
    optional reason; ``offline`` (the evaluation on the page and what it ran on) and the run's
    own estimates are kept with the promotion for the calibration history."""
    with st.form(f"{key}_promote"):
        st.markdown("**Promote** — make a policy the one the decision service serves and Preview shows (recorded in the history).")
        c1, c2 = st.columns([1, 2])
        # Nothing is pre-selected without evidence (every estimate withheld): the person chooses.
        index = policies.index(suggestion) if suggestion in policies else None
        policy = c1.selectbox("Policy", policies, index=index, format_func=lambda p: lab.POLICY_LABELS[p],
                              key=f"{key}_promote_policy", placeholder="Choose a policy")
        note = c2.text_input("Why (optional)", placeholder="won the offline comparison on the uniform log")
        refusal = direct_promotion_refusal(ws.results_engine, clock.now())
        if refusal:
            st.caption(f"Promotion from here is off: {md(refusal)}.")
        if st.form_submit_button("Promote", icon=":material/rocket_launch:",
                                 disabled=not widgets.may("admin") or refusal is not None):
            if policy is None:
                st.warning("Choose the policy to promote first.")
                return
            expected = [e for e in [offline_estimate(offline[0], policy, offline[1])] if e] if offline else []
            widgets.act(ws, lambda s: lab_store.promote(s, policy, widgets.actor(), run_id, note, expected),
                        f"{lab.POLICY_LABELS[policy]} is now the policy the decision service serves and Preview shows.")


def best_policy(summary: pd.DataFrame) -> str | None:
    """The policy with the highest quality take rate in a run's summary."""
    if summary.empty:
        return None
    return str(summary.sort_values("quality take rate", ascending=False)["policy"].iloc[0])


def show_run(ws: Workspace, world: lab.LabWorld, run: lab_store.RunView, key: str) -> None:
    """One saved run: its figures, charts, offline estimates, downloads, promotion and data."""
    st.subheader(f"Run {md(run.title)}")
    with st.container(horizontal=True, gap="large"):     # each figure as wide as it needs, wrapping when narrow
        st.metric("When", f"{run.created_at:%Y-%m-%d %H:%M}", width="content")
        st.metric("Impressions per policy", f"{run.impressions:,}", width="content")
        st.metric("Status", run.status, width="content")
        st.metric("Seed", str(run.seed), width="content")
        st.metric("Took", f"{run.seconds:.1f} s", width="content")
    if run.status == "cancelled":
        st.warning("This run was stopped before the end; the numbers cover what it did.")
    if run.catalog_fingerprint is None:
        st.caption("The catalog this run ran on was not recorded (saved before ArtDash kept it).")
    elif run.catalog_fingerprint == world.fingerprint():
        st.caption(f"Ran on the catalog as it is now (fingerprint {md(run.catalog_fingerprint)}): the same seed and "
                   "settings give the same run.")
    else:
        st.caption(f"Ran on an earlier catalog (fingerprint {md(run.catalog_fingerprint)}; now "
                   f"{md(world.fingerprint())}): titles, artwork, tags or personas changed since, so running it again "
                   "with the same seed gives different numbers.")
    show_summary(run.summary, key)
    if not run.curves.empty:
        left, right = st.columns(2)
        left.plotly_chart(charts.learning_curves(run.curves, "quality take rate", "Cumulative quality take rate",
                                                 True, lab.POLICY_LABELS), width="stretch", key=f"{key}_rate")
        right.plotly_chart(charts.learning_curves(run.curves, "regret", "Cumulative regret (quality plays lost vs. "
                                                  "each member's best image)", False, lab.POLICY_LABELS),
                           width="stretch", key=f"{key}_regret")
    if run.offline is not None and not run.offline.empty:
        st.subheader("Offline evaluation on this run's uniform log")
        st.caption("Each policy estimated on the whole uniformly random log, each half scored by the policy "
                   "trained on the other half; the yellow mark is the true value (known here because the data is "
                   "simulated).")
        show_offline(run.offline, f"{key}_offline")
    d1, d2 = st.columns(2)
    d1.download_button("Download summary CSV", export.csv_bytes(run.summary),
                       f"artdash-lab-run-{run.id}.csv", "text/csv", key=f"{key}_summary_csv")
    d2.download_button("Download curves CSV", export.csv_bytes(run.curves),
                       f"artdash-lab-run-{run.id}-curves.csv", "text/csv", key=f"{key}_curves_csv")
    promote_form(ws, list(run.config.policies), key, run.id, best_policy(run.summary))
    if run.has_logged_data:
        st.caption(f"This run's impressions are in the results database as experiment **lab-{run.id}** "
                   "(marked as simulated).")
        if st.button("Remove its simulated data from the results database", key=f"{key}_remove",
                     icon=":material/delete:", disabled=not widgets.may("admin")):
            try:
                removed = lab_store.remove_run_data(ws, run.id, widgets.actor())
            except ArtdashError as exc:
                st.error(f"Not removed — {md(exc)}")
            else:
                widgets.flash("success", f"Removed {removed:,} simulated impressions of run #{run.id}.")
                st.rerun()


def finish_run(ws: Workspace, world: lab.LabWorld, result: lab.LabResult, name: str, log_data: bool) -> int:
    """Save a run (with offline estimates on its uniform log, and its log if asked)."""
    bar = st.empty()
    total = result.n_done * len(result.config.policies)

    def logged(n: int) -> None:
        bar.progress(min(n / total, 1.0), text=f"Writing the simulated impressions: {n:,} of {total:,}")

    finished = lab_service.finish_run(ws, world, result, widgets.actor(), name, log_data, progress=logged)
    bar.empty()
    return finished.run.id


def runs_overview(runs: list[lab_store.RunView]) -> pd.DataFrame:
    """The History table: what decides first (the best policy, status), the long policy list last."""
    return pd.DataFrame([{
        "run": r.id, "name": r.name, "best": lab.POLICY_LABELS.get(best_policy(r.summary) or "", "—"),
        "status": r.status, "when": r.created_at, "impressions": r.impressions, "seed": r.seed,
        "in results database": "yes" if r.has_logged_data else "", "by": r.created_by,
        "policies": ", ".join(lab.POLICY_LABELS[p] for p in r.config.policies),
    } for r in runs])


def models_panel(ws: Workspace) -> None:
    """Every stored model version: what it learnt from, when, by whom, and from when members
    are served it (the same rows as `artdash models list`), with a CSV."""
    with ws.results_engine.connect() as conn:
        versions = list_versions(conn)
    st.caption("Every trained version of every policy — by the decision service from live outcomes, from an "
               "imported log, or on a simulated log — is stored once and loaded by the service, Preview and the lab alike. A new version "
               "reaches each member at the start of their next sticky window (it never moves an image within one). "
               "The same list: `artdash models list`.")
    train_from_import_form(ws)
    if not versions:
        st.info("No trained version yet: the decision service stores one each time it retrains, Preview can "
                "train a first one on a simulated log, and an admin can train one from an imported log (above).")
        return
    table = pd.DataFrame([{
        "version": v["version"], "policy": v["label"], "source": v["source"], "trained at": v["trained_at"],
        "by": v["trained_by"] or "—", "decisions": v["n_rows"], "in effect": v["in_effect"],
        "catalog": v["catalog_fingerprint"] or "—", "note": v["note"]} for v in versions])
    grid(table, hide_index=True, width="stretch", column_config={
        "trained at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "decisions": count_column(), "note": st.column_config.TextColumn(width="large")})
    st.download_button("Download CSV", lambda: export.csv_bytes(table), "model-versions.csv", "text/csv",
                       help="One row per stored version: policy, source, when and by whom it was trained, how many "
                            "decisions it learnt from, from when it is in effect, the catalog it was trained over.")


def train_from_import_form(ws: Workspace) -> None:
    """(Admins) train a policy on an imported log's experiment and store it as a new version."""
    from artdash.decision.imported import train_imported
    from artdash.policy import registry
    from artdash.results import queries
    from artdash.results.service import impression_log

    with ws.results_engine.connect() as conn:
        experiments = queries.experiments(conn)
    learners = [n for n in registry.names(servable_only=True) if registry.KINDS[n].learns]
    with st.expander("Train a version from an imported log", icon=":material/model_training:"):
        if not experiments:
            st.caption("The results database has no experiments yet: import a log on the Results page first.")
            return
        with st.form("lab_train_import"):
            c1, c2, c3 = st.columns(3)
            with ws.session() as s:
                served = lab_store.current_policy(s)[0] or registry.DEFAULT_POLICY
            policy = c1.selectbox("Policy", learners, format_func=lambda p: lab.POLICY_LABELS[p],
                                  index=learners.index(served) if served in learners else 0)
            experiment = c2.selectbox("Experiment", experiments)
            cell = c3.text_input("Cell (optional)", help="Only this cell, e.g. the uniformly random one.")
            st.caption("Each impression is weighed by 1 / its logged propensity; members imported with tastes are "
                       "personalised on them. Members meet the version at their next sticky window, and the "
                       "decision service's retrains go on from it. Same as `artdash models train`.")
            if st.form_submit_button("Train and store", icon=":material/save:", disabled=not widgets.may("admin")):
                widgets.act(ws, lambda s: train_imported(s, ws.results_engine, impression_log(ws), policy, experiment,
                                                         widgets.actor(), cell.strip() or None),
                            lambda made: f"Stored {lab.POLICY_LABELS[made.policy]} version {made.version}, trained on "
                                         f"{made.rows:,} impressions of {experiment}.")


def promotions_panel(ws: Workspace, promoted: str | None) -> None:
    """The promotion history, and (admins) a form to demote the promoted policy."""
    with ws.session() as s:
        promotions = lab_store.promotion_history(s)
    st.subheader("Promotions")
    if promotions.empty:
        st.caption("No policy has been promoted yet.")
    else:
        grid(promotions, hide_index=True, width="stretch",
                     column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    if promoted:
        with st.form("lab_demote"):
            note = st.text_input("Why demote (optional)")
            if st.form_submit_button(f"Demote {lab.POLICY_LABELS[promoted]} (back to the default)",
                                     icon=":material/undo:", disabled=not widgets.may("admin")):
                widgets.act(ws, lambda s: lab_store.demote(s, widgets.actor(), note),
                            "The service and Preview are back on the default policy.")
