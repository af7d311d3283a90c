"""Policy lab: would a new policy do better? Simulate a population, run policies side by side,
evaluate them offline on logged data, promote the winner."""

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from artdash import lab
from artdash.errors import ArtdashError
from artdash.lab import service as lab_service
from artdash.lab import store as lab_store
from artdash.policy.vw import available as vw_available
from artdash.results import queries
from artdash.ui import widgets

ws = widgets.page("Policy lab", needs="editor", doing="running simulations")

RUNNING = "lab_running"      # the run in progress (kept so an interrupted run is not lost)
OPEN_RUN = "lab_open_run"    # id of the run shown under Simulate
OFFLINE = "lab_offline"      # last offline table (and where it came from)
COLOURS = {"uniform": "#9aa0a6", "editors-pick": "#f6c343", "best-single": "#f28b82", "linucb": "#8ab4f8",
           "vw": "#81c995"}

try:
    with ws.session() as s:
        world = lab.load_world(s)
except ArtdashError as exc:
    st.info(f"The lab cannot run yet: {exc}.")
    st.page_link("screens/title.py", label="Go to Title & artwork", icon=":material/photo_library:")
    st.page_link("screens/personas.py", label="Go to Personas", icon=":material/group:")
    st.stop()

with ws.session() as s:
    promoted, promotion = lab_store.current_policy(s)
if promoted:
    st.caption(f"Preview serves **{lab.POLICY_LABELS[promoted]}** by default (promoted by {promotion.by} on "
               f"{promotion.at:%Y-%m-%d %H:%M}).")
else:
    st.caption(f"Preview serves the built-in default, **{lab.POLICY_LABELS[lab_store.DEFAULT_POLICY]}**; "
               "promote a policy from a run or an offline evaluation to change it.")

simulate_tab, offline_tab, history_tab = st.tabs(["Simulate", "Offline evaluation", "History"], key="lab_tab",
                                                 bind="query-params")


# --- charts and tables shared by the tabs ------------------------------------------------------

def curves_chart(curves: pd.DataFrame, column: str, title: str, percent: bool) -> go.Figure:
    fig = go.Figure()
    for name, rows in curves.groupby("policy", sort=False):
        fig.add_trace(go.Scatter(x=rows["impressions"], y=rows[column], mode="lines", name=lab.POLICY_LABELS[name],
                                 line={"color": COLOURS.get(name), "width": 3}))
    fig.update_layout(title=title, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="impressions", legend={"orientation": "h", "y": -0.25})
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def interval_chart(rows: pd.DataFrame, value: str, low: str, high: str, title: str,
                   truth: str | None = None) -> go.Figure:
    fig = go.Figure()
    values = rows[value].astype(float)
    fig.add_trace(go.Scatter(
        x=values, y=rows["label"], mode="markers", name="estimate", marker={"size": 12, "color": "#8ab4f8"},
        error_x={"type": "data", "symmetric": False, "array": rows[high].astype(float) - values,
                 "arrayminus": values - rows[low].astype(float)}))
    if truth and rows[truth].notna().any():
        fig.add_trace(go.Scatter(x=rows[truth], y=rows["label"], mode="markers", name="true value",
                                 marker={"symbol": "line-ns-open", "size": 22, "color": "#f6c343",
                                         "line": {"width": 3}}))
    fig.update_layout(title=title, height=90 + 45 * len(rows), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"tickformat": ".0%"}, legend={"orientation": "h", "y": -0.3})
    fig.update_yaxes(autorange="reversed")
    return fig


def show_summary(summary: pd.DataFrame, key: str) -> None:
    st.dataframe(lab.summary_for_display(summary), hide_index=True, width="stretch")
    st.plotly_chart(interval_chart(summary, "quality take rate", "quality low", "quality high",
                                   "Quality take rate with 95 % intervals"), width="stretch", key=f"{key}_bars")


def show_offline(table: pd.DataFrame, key: str) -> None:
    if table.empty:
        st.info("Nothing to show.")
        return
    estimator = st.segmented_control("Estimator for the chart", ["DR", "SNIPS", "IPS", "DM", "replay"],
                                     default="DR", key=f"{key}_estimator") or "DR"
    chosen = lab.ranking(table, estimator)
    shown = chosen[chosen["value"].notna()]
    if shown.empty:
        st.warning(f"Every {estimator} estimate is withheld: {chosen['note'].iloc[0]}")
    else:
        st.plotly_chart(interval_chart(shown, "value", "low", "high",
                                       f"{estimator} estimate of quality plays per impression (95 % intervals)",
                                       truth="truth"), width="stretch", key=f"{key}_chart")
    warnings = sorted({n for n in table["note"].dropna() if n and not n.startswith("the interval")})
    for note in warnings:
        st.warning(note)
    display = lab.offline_for_display(table)
    st.dataframe(display, hide_index=True, width="stretch")
    st.download_button("Download CSV", table.to_csv(index=False).encode(), f"artdash-offline-{key}.csv", "text/csv",
                       key=f"{key}_download")


def promote_form(policies: list[str], key: str, run_id: int | None, suggestion: str | None) -> None:
    with st.form(f"{key}_promote"):
        st.markdown("**Promote** — make a policy the one Preview serves by default (recorded in the history).")
        c1, c2 = st.columns([1, 2])
        index = policies.index(suggestion) if suggestion in policies else 0
        policy = c1.selectbox("Policy", policies, index=index, format_func=lambda p: lab.POLICY_LABELS[p],
                              key=f"{key}_promote_policy")
        note = c2.text_input("Why (optional)", placeholder="won the offline comparison on the uniform log")
        if st.form_submit_button("Promote", icon=":material/rocket_launch:", disabled=not widgets.may("admin")):
            widgets.act(ws, lambda s: lab_store.promote(s, policy, widgets.actor(), run_id, note),
                        f"{lab.POLICY_LABELS[policy]} is now the policy Preview serves.")


def best_policy(summary: pd.DataFrame) -> str | None:
    if summary.empty:
        return None
    return str(summary.sort_values("quality take rate", ascending=False)["policy"].iloc[0])


def show_run(run: lab_store.RunView, key: str) -> None:
    st.subheader(f"Run {run.title}")
    c = st.columns(5)
    c[0].metric("When", f"{run.created_at:%Y-%m-%d %H:%M}")
    c[1].metric("Impressions per policy", f"{run.impressions:,}")
    c[2].metric("Status", run.status)
    c[3].metric("Seed", run.seed)
    c[4].metric("Took", f"{run.seconds:.1f} s")
    if run.status == "cancelled":
        st.warning("This run was stopped before the end; the numbers cover what it did.")
    if run.catalog_fingerprint is None:
        st.caption("The catalog this run ran on was not recorded (saved before ArtDash kept it).")
    elif run.catalog_fingerprint == world.fingerprint():
        st.caption(f"Ran on the catalog as it is now (fingerprint {run.catalog_fingerprint}): the same seed and "
                   "settings give the same run.")
    else:
        st.caption(f"Ran on an earlier catalog (fingerprint {run.catalog_fingerprint}; now "
                   f"{world.fingerprint()}): titles, artwork, tags or personas changed since, so running it again "
                   "with the same seed gives different numbers.")
    show_summary(run.summary, key)
    if not run.curves.empty:
        left, right = st.columns(2)
        left.plotly_chart(curves_chart(run.curves, "quality take rate", "Cumulative quality take rate", True),
                          width="stretch", key=f"{key}_rate")
        right.plotly_chart(curves_chart(run.curves, "regret", "Cumulative regret (quality plays lost vs. "
                                        "each member's best image)", False), width="stretch", key=f"{key}_regret")
    if run.offline is not None and not run.offline.empty:
        st.subheader("Offline evaluation on this run's uniform log")
        st.caption("Each policy trained on the first half of the uniformly random log, estimated on the second "
                   "half; the yellow mark is the true value (known here because the data is simulated).")
        show_offline(run.offline, f"{key}_offline")
    d1, d2 = st.columns(2)
    d1.download_button("Download summary CSV", run.summary.to_csv(index=False).encode(),
                       f"artdash-lab-run-{run.id}.csv", "text/csv", key=f"{key}_summary_csv")
    d2.download_button("Download curves CSV", run.curves.to_csv(index=False).encode(),
                       f"artdash-lab-run-{run.id}-curves.csv", "text/csv", key=f"{key}_curves_csv")
    promote_form(list(run.config.policies), key, run.id, best_policy(run.summary))
    if run.has_logged_data:
        st.caption(f"This run's impressions are in the results database as experiment **lab-{run.id}** "
                   "(marked as simulated).")
        if st.button("Remove its simulated data from the results database", key=f"{key}_remove",
                     icon=":material/delete:", disabled=not widgets.may("admin")):
            try:
                removed = lab_store.remove_run_data(ws, run.id, widgets.actor())
            except ArtdashError as exc:
                st.error(f"Not removed — {exc}")
            else:
                widgets.flash("success", f"Removed {removed:,} simulated impressions of run #{run.id}.")
                st.rerun()


def finish_run(result: lab.LabResult, name: str, log_data: bool) -> int:
    """Save a run (with offline estimates on its uniform log, and its log if asked)."""
    bar = st.empty()
    total = result.n_done * len(result.config.policies)

    def logged(n: int) -> None:
        bar.progress(min(n / total, 1.0), text=f"Writing the simulated impressions: {n:,} of {total:,}")

    finished = lab_service.finish_run(ws, world, result, widgets.actor(), name, log_data, progress=logged)
    bar.empty()
    return finished.run.id


# --- Simulate ------------------------------------------------------------------------------------

with simulate_tab:
    interrupted = st.session_state.pop(RUNNING, None)
    if interrupted is not None:
        result, name = interrupted
        result.cancelled = True
        if result.n_done:
            run_id = finish_run(result, name, log_data=False)
            st.session_state[OPEN_RUN] = run_id
            st.warning(f"The run was cancelled after {result.n_done:,} impressions; what it did is saved as run "
                       f"#{run_id}.")

    st.markdown("Members are drawn from the persona archetypes in the mix below, each with tastes of their own "
                "(the archetype's plus noise); a hidden take model decides who presses play. Every policy meets "
                "the same members, titles and dice, and learns every *learning period* impressions.")
    policies_available = [p for p in lab.POLICY_LABELS if p != "vw" or vw_available()]
    open_id = st.session_state.get(OPEN_RUN)
    setup = st.expander("Set up a run" if open_id is None else "Set up another run", expanded=open_id is None,
                        icon=":material/tune:")
    with setup, st.form("lab_setup"):
        st.markdown("**Population** — share of each archetype")
        cols = st.columns(4)
        shares = {}
        for i, (pid, name) in enumerate(world.archetypes):
            shares[pid] = cols[i % 4].number_input(name, min_value=0.0, max_value=10.0, value=1.0, step=0.5,
                                                   key=f"lab_share_{pid}")
        c1, c2, c3, c4 = st.columns(4)
        noise = c1.slider("Taste noise", 0.0, 1.0, 0.3, 0.05,
                          help="How far members' true tastes stray from their archetype's.")
        members = c2.number_input("Members", 100, 200_000, 5_000, 100)
        strength = c3.slider("Taste strength", 0.0, 3.0, 1.5, 0.1,
                             help="How strongly a match between tastes and image tags drives plays.")
        appeal = c4.slider("Image appeal spread", 0.0, 1.0, 0.25, 0.05,
                           help="Some images are simply more clickable, for everyone.")
        c1, c2, c3, c4 = st.columns(4)
        impressions = c1.number_input("Impressions per policy", 1_000, 1_000_000, 20_000, 1_000)
        batch = c2.number_input("Learning period", 100, 100_000, 2_000, 100,
                                help="Policies retrain every this many impressions.")
        seed = c3.number_input("Seed", 0, 2**31 - 1, 0, help="The same seed and settings give the same run.")
        name = c4.text_input("Name (optional)", max_chars=120)
        chosen = st.multiselect("Policies", policies_available,
                                default=[p for p in ("uniform", "editors-pick", "best-single", "linucb")],
                                format_func=lambda p: lab.POLICY_LABELS[p])
        log_data = st.checkbox("Write the simulated impressions to the results database (marked as simulated, "
                               "removable in one step)", value=True)
        submitted = st.form_submit_button("Run", type="primary", icon=":material/play_arrow:",
                                          disabled=not widgets.may("editor"))

    if submitted:
        try:
            config = lab.LabConfig(mix=shares, noise_sd=float(noise), n_members=int(members), strength=float(strength),
                                   appeal_sd=float(appeal), impressions=int(impressions),
                                   batch_size=min(int(batch), int(impressions)), policies=tuple(chosen),
                                   seed=int(seed), quality_seconds=ws.settings.quality_play_seconds).check(world)
        except ArtdashError as exc:
            st.error(f"Cannot run — {exc}")
        else:
            st.button("Cancel", icon=":material/stop:", key="lab_cancel",
                      help="Stops the run; what it did so far is kept as a cancelled run.")
            bar = st.progress(0.0, text="Starting…")
            left, right = st.columns(2)
            rate_box, regret_box = left.empty(), right.empty()
            last_draw = [0.0]

            def progress(result: lab.LabResult):
                st.session_state[RUNNING] = (result, name)
                bar.progress(result.n_done / config.impressions,
                             text=f"{result.n_done:,} of {config.impressions:,} impressions per policy")
                now = time.monotonic()
                if now - last_draw[0] > 0.7 or result.n_done >= config.impressions:
                    last_draw[0] = now
                    curves = result.curves()
                    rate_box.plotly_chart(curves_chart(curves, "quality take rate", "Cumulative quality take rate",
                                                       True), width="stretch", key=f"live_rate_{result.n_done}")
                    regret_box.plotly_chart(curves_chart(curves, "regret", "Cumulative regret", False),
                                            width="stretch", key=f"live_regret_{result.n_done}")

            try:
                result = lab.run_online(world, config, progress)
                st.session_state.pop(RUNNING, None)
                run_id = finish_run(result, name, log_data)
            except ArtdashError as exc:
                st.session_state.pop(RUNNING, None)
                st.error(f"The run failed — {exc}")
            else:
                st.session_state[OPEN_RUN] = run_id
                widgets.flash("success", f"Run #{run_id} finished: {result.n_done:,} impressions per policy in "
                                         f"{result.seconds:.1f} s.")
                st.rerun()

    if open_id is not None and not submitted:
        try:
            with ws.session() as s:
                run = lab_store.get_run(s, open_id)
        except ArtdashError:
            st.session_state.pop(OPEN_RUN, None)
        else:
            show_run(run, "current")


# --- Offline evaluation ---------------------------------------------------------------------------

with offline_tab:
    st.markdown("Would a policy have done better on data that was already logged? Each candidate is trained on "
                "the first half of the log and estimated on the second half by **replay** (Li et al. 2011; "
                "uniformly random logs only), **IPS**, **SNIPS**, the **direct method** (a reward model per "
                "archetype × image, cross-fitted) and **doubly robust**, with 95 % intervals and effective sample "
                "sizes. Estimates are withheld where the policy would show images the log never showed.")
    with ws.session() as s:
        runs = lab_store.list_runs(s)
    with ws.results_engine.connect() as conn:
        experiment_names = queries.experiments(conn)
    source = st.radio("Logged data", ["A saved lab run", "The results database"], horizontal=True,
                      key="lab_offline_source")
    candidates = st.multiselect("Candidate policies", policies_available,
                                default=[p for p in ("uniform", "editors-pick", "best-single", "linucb")],
                                format_func=lambda p: lab.POLICY_LABELS[p], key="lab_offline_policies")
    if source == "A saved lab run":
        if not runs:
            st.info("No saved runs yet: run a simulation in the **Simulate** tab first.")
        else:
            by_id = {r.id: r for r in runs}
            c1, c2 = st.columns(2)
            run_id = c1.selectbox("Run", list(by_id), format_func=lambda i: by_id[i].title, key="lab_offline_run")
            logger = c2.selectbox("Whose log", list(by_id[run_id].config.policies),
                                  format_func=lambda p: lab.POLICY_LABELS[p], key="lab_offline_logger",
                                  help="Uniformly random logs are the fair ground for every estimator.")
            if st.button("Evaluate", type="primary", key="lab_offline_go", icon=":material/analytics:"):
                config = by_id[run_id].config
                try:
                    with st.spinner(f"Rerunning run #{run_id} (same seed) and estimating…"):
                        result = lab.run_online(world, config)
                        table = lab.offline_on_run(world, result, logger, candidates or None)
                except ArtdashError as exc:
                    st.error(f"Cannot evaluate — {exc}")
                else:
                    st.session_state[OFFLINE] = (table, f"run #{run_id}, {lab.POLICY_LABELS[logger]} log", run_id)
    else:
        if not experiment_names:
            st.info("The results database has no experiments yet. Import a log on the Results page, or run a "
                    "simulation with *write to the results database* ticked.")
        else:
            c1, c2 = st.columns(2)
            experiment = c1.selectbox("Experiment", experiment_names, key="lab_offline_experiment")
            with ws.results_engine.connect() as conn:
                cells = queries.cell_totals(conn, experiment)["cell"].tolist()
            cell = c2.selectbox("Cell (the logging policy)", ["(all)"] + cells, key="lab_offline_cell")
            if st.button("Evaluate", type="primary", key="lab_offline_go_db", icon=":material/analytics:"):
                try:
                    with st.spinner("Reading the log and estimating…"):
                        with ws.results_engine.connect() as conn:
                            rounds, info = lab.rounds_from_results(conn, world, experiment,
                                                                   None if cell == "(all)" else cell)
                        config = lab.LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes})
                        table = lab.offline_table(world, config, rounds, candidates or None)
                except ArtdashError as exc:
                    st.error(f"Cannot evaluate — {exc}")
                else:
                    where = f"experiment {experiment}" + ("" if cell == "(all)" else f", cell {cell}")
                    notes = [f"{info['used']:,} impressions used"]
                    if info["left_out"]:
                        notes.append(f"{info['left_out']:,} left out (titles or images no longer active)")
                    if info["unknown_members"]:
                        notes.append(f"{info['unknown_members']:,} from members of unknown taste (treated as blank)")
                    st.session_state[OFFLINE] = (table, f"{where} — " + "; ".join(notes), None)
    if OFFLINE in st.session_state:
        table, where, run_id = st.session_state[OFFLINE]
        st.subheader("Offline estimates")
        st.caption(f"On {where}.")
        show_offline(table, "offline")
        best = lab.ranking(table, "DR")
        suggestion = str(best["policy"].iloc[0]) if best["value"].notna().any() else None
        promote_form(sorted(set(table["policy"]), key=list(lab.POLICY_LABELS).index), "offline_tab", run_id,
                     suggestion)


# --- History ---------------------------------------------------------------------------------------

with history_tab:
    with ws.session() as s:
        runs = lab_store.list_runs(s)
        promotions = lab_store.promotion_history(s)
    st.subheader("Promotions")
    if promotions.empty:
        st.caption("No policy has been promoted yet.")
    else:
        st.dataframe(promotions, hide_index=True, width="stretch",
                     column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    if promoted:
        with st.form("lab_demote"):
            note = st.text_input("Why demote (optional)")
            if st.form_submit_button(f"Demote {lab.POLICY_LABELS[promoted]} (back to the default)",
                                     icon=":material/undo:", disabled=not widgets.may("admin")):
                widgets.act(ws, lambda s: lab_store.demote(s, widgets.actor(), note),
                            "Preview is back on the default policy.")
    st.subheader("Runs")
    if not runs:
        st.info("No runs yet: the **Simulate** tab starts one.")
    else:
        overview = pd.DataFrame([{  # what decides first; the long list of policies last
            "run": r.id, "name": r.name, "best": lab.POLICY_LABELS.get(best_policy(r.summary) or "", "—"),
            "status": r.status, "when": r.created_at, "impressions": r.impressions, "seed": r.seed,
            "in results database": "yes" if r.has_logged_data else "", "by": r.created_by,
            "policies": ", ".join(lab.POLICY_LABELS[p] for p in r.config.policies),
        } for r in runs])
        st.dataframe(overview, hide_index=True, width="stretch",
                     column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        by_id = {r.id: r for r in runs}
        picked = st.multiselect("Open or compare runs", list(by_id), format_func=lambda i: by_id[i].title,
                                key="lab_history_runs", placeholder="Pick one run to reopen it, several to compare")
        if len(picked) == 1:
            show_run(by_id[picked[0]], f"history_{picked[0]}")
        elif len(picked) > 1:
            both = lab_store.compare_runs([by_id[i] for i in picked])
            fig = go.Figure()
            for run_title, rows in both.groupby("run", sort=False):
                fig.add_trace(go.Bar(x=rows["label"], y=rows["quality take rate"], name=run_title,
                                     error_y={"type": "data", "symmetric": False,
                                              "array": rows["quality high"] - rows["quality take rate"],
                                              "arrayminus": rows["quality take rate"] - rows["quality low"]}))
            fig.update_layout(barmode="group", title="Quality take rate by run (95 % intervals)", height=380,
                              yaxis={"tickformat": ".0%"}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
            st.plotly_chart(fig, width="stretch")
            st.dataframe(both[["run", "label", "impressions", "take rate", "quality take rate", "regret per 1k",
                               "oracle fraction", "seed", "status"]], hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="percent")
                                        for c in ("take rate", "quality take rate", "oracle fraction")})
            st.download_button("Download comparison CSV", both.to_csv(index=False).encode(),
                               "artdash-lab-comparison.csv", "text/csv")
