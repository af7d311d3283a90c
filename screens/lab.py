"""Policy lab: would a new policy do better? Simulate a population, run policies side by side,
evaluate them offline on logged data, promote the winner."""

import time

import streamlit as st

from artdash import clock, export, lab
from artdash.errors import ArtdashError
from artdash.lab import service as lab_service
from artdash.lab import store as lab_store
from artdash.policy import registry
from artdash.results import queries
from artdash.ui import charts, holdout_view, lab_views, live_view, resources, widgets
from artdash.ui.calibration_view import calibration_panel
from artdash.ui.numbers import count_column, count_columns, grid, rate_column
from artdash.ui.text import md

ws = widgets.page("Policy lab", needs="editor", doing="running simulations")

RUNNING = "lab_running"      # the run in progress (kept so an interrupted run is not lost)
OPEN_RUN = "lab_open_run"    # id of the run shown under Simulate
OFFLINE = "lab_offline"      # last offline table (and where it came from)

try:
    with ws.session() as s:
        world = lab.load_world(s)
except ArtdashError as exc:
    st.info(f"The lab cannot run yet: {md(exc)}.")
    st.page_link("screens/title.py", label="Go to Title & artwork", icon=":material/photo_library:")
    st.page_link("screens/personas.py", label="Go to Personas", icon=":material/group:")
    st.stop()

with ws.session() as s:
    promoted, promotion = lab_store.current_policy(s)
view = resources.served_view()                                # cached with Preview's: not reloaded each rerun
served = view.timeline.at(clock.now())
serving = f"{lab.POLICY_LABELS[served.name]}" + (f" v{served.version}" if served.trained else
                                                  ", untrained" if registry.check(served.name).learns else "")
if view.held_out is not None:
    serving += f" to all but the holdout ({view.held_out.holdout.describe()})"
if promoted:
    st.caption(f"The decision service serves **{md(serving)}** (promoted by {md(promotion.by)} on "
               f"{promotion.at:%Y-%m-%d %H:%M}); Preview shows it, and offline evaluation scores it as served.")
else:
    st.caption(f"The decision service serves the built-in default, **{md(serving)}**; Preview shows it. Promote a "
               "policy from a run or an offline evaluation to change it.")

simulate_tab, offline_tab, live_tab, models_tab, history_tab = st.tabs(
    ["Simulate", "Offline evaluation", "Live", "Models", "History"], key="lab_tab", bind="query-params")


# --- Simulate ------------------------------------------------------------------------------------

with simulate_tab:
    interrupted = st.session_state.pop(RUNNING, None)
    if interrupted is not None:
        result, name = interrupted
        result.cancelled = True
        if result.n_done:
            run_id = lab_views.finish_run(ws, world, result, name, log_data=False)
            st.session_state[OPEN_RUN] = run_id
            st.warning(f"The run was cancelled after {result.n_done:,} impressions; what it did is saved as run "
                       f"#{run_id}.")

    st.markdown("Members are drawn from the persona archetypes in the mix below, each with tastes of their own "
                "(the archetype's plus noise); a hidden take model decides who presses play. Every policy meets "
                "the same members, titles and dice, and learns every *learning period* impressions.")
    policies_available = registry.names(available_only=True)
    lineup = [p for p in registry.DEFAULT_LINEUP if p in policies_available]   # the default, for both lists
    open_id = st.session_state.get(OPEN_RUN)
    setup = st.expander("Set up a run" if open_id is None else "Set up another run", expanded=open_id is None,
                        icon=":material/tune:")
    with setup, st.form("lab_setup"):
        st.markdown("**Population** — share of each archetype")
        cols = st.columns(4)
        shares = {}
        for i, (pid, name) in enumerate(world.archetypes):
            shares[pid] = cols[i % 4].number_input(md(name), min_value=0.0, max_value=10.0, value=1.0, step=0.5,
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
                                default=lineup,
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
            st.error(f"Cannot run — {md(exc)}")
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
                    rate_box.plotly_chart(charts.learning_curves(curves, "quality take rate",
                                                                 "Cumulative quality take rate", True,
                                                                 lab.POLICY_LABELS),
                                          width="stretch", key=f"live_rate_{result.n_done}")
                    regret_box.plotly_chart(charts.learning_curves(curves, "regret", "Cumulative regret", False,
                                                                   lab.POLICY_LABELS),
                                            width="stretch", key=f"live_regret_{result.n_done}")

            try:
                result = lab.run_online(world, config, progress)
                st.session_state.pop(RUNNING, None)
                run_id = lab_views.finish_run(ws, world, result, name, log_data)
            except ArtdashError as exc:
                st.session_state.pop(RUNNING, None)
                st.error(f"The run failed — {md(exc)}")
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
            lab_views.show_run(ws, world, run, "current")


# --- Offline evaluation ---------------------------------------------------------------------------

with offline_tab:
    st.markdown("Would a policy have done better on data that was already logged? Each candidate is estimated "
                "on the whole log, each half scored by the policy trained on the other half, by **replay** (Li et al. 2011; "
                "uniformly random logs only), **IPS**, **SNIPS**, the **direct method** (a reward model per "
                "archetype × image, cross-fitted) and **doubly robust**, with 95% intervals and effective sample "
                "sizes. Estimates are withheld where the policy would show images the log never showed.")
    with ws.session() as s:
        runs = lab_store.list_runs(s)
    with ws.results_engine.connect() as conn:
        experiment_names = queries.experiments(conn)
    source = st.radio("Logged data", ["A saved lab run", "The results database"], horizontal=True,
                      key="lab_offline_source")
    candidates = st.multiselect("Candidate policies", policies_available,
                                default=lineup,
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
                try:
                    with st.spinner(f"Rerunning run #{run_id} (same seed) and estimating…"):
                        table, _ = lab_service.evaluate_run(ws, world, run_id, logger, candidates or None)
                except ArtdashError as exc:
                    st.error(f"Cannot evaluate — {md(exc)}")
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
                        table, info = lab_service.evaluate_log(ws, world, experiment,
                                                               None if cell == "(all)" else cell, candidates or None)
                except ArtdashError as exc:
                    st.error(f"Cannot evaluate — {md(exc)}")
                else:
                    where = f"experiment {experiment}" + ("" if cell == "(all)" else f", cell {cell}")
                    st.session_state[OFFLINE] = (table, f"{where} — {lab.log_note(info)}", None)
    if OFFLINE in st.session_state:
        table, where, run_id = st.session_state[OFFLINE]
        st.subheader("Offline estimates")
        st.caption(f"On {md(where)}.")
        lab_views.show_offline(table, "offline")
        best = lab.ranking(table, "DR")
        suggestion = str(best["policy"].iloc[0]) if best["value"].notna().any() else None
        lab_views.promote_form(ws, sorted(set(table["policy"]), key=list(lab.POLICY_LABELS).index), "offline_tab", run_id,
                               suggestion, (table, where))


# --- Live: the decision service's shadow mode and traffic -----------------------------------------

if live_tab.open:
    with live_tab:
        st.subheader("Shadow mode")
        live_view.shadow_panel(ws)
        st.subheader("Live traffic")
        holdout_view.holdout_panel(ws, "lab_live")
        calibration_panel(ws)
        live_view.traffic_panel(ws, "lab_live")


# --- Models: every trained version, stored as an artifact ------------------------------------------

if models_tab.open:
    with models_tab:
        lab_views.models_panel(ws)


# --- History ---------------------------------------------------------------------------------------

with history_tab:
    with ws.session() as s:
        runs = lab_store.list_runs(s)
    lab_views.promotions_panel(ws, promoted)
    st.subheader("Runs")
    if not runs:
        st.info("No runs yet: the **Simulate** tab starts one.")
    else:
        overview = lab_views.runs_overview(runs)
        grid(overview, hide_index=True, width="stretch", column_config=count_columns(
            overview, when=st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")))
        by_id = {r.id: r for r in runs}
        picked = st.multiselect("Open or compare runs", list(by_id), format_func=lambda i: by_id[i].title,
                                key="lab_history_runs", placeholder="Pick one run to reopen it, several to compare")
        if len(picked) == 1:
            lab_views.show_run(ws, world, by_id[picked[0]], f"history_{picked[0]}")
        elif len(picked) > 1:
            both = lab_store.compare_runs([by_id[i] for i in picked])
            st.plotly_chart(charts.runs_side_by_side(both), width="stretch")
            grid(both[["run", "label", "impressions", "take rate", "quality take rate", "regret per 1k",
                               "oracle fraction", "seed", "status"]], hide_index=True, width="stretch",
                         column_config={c: rate_column() for c in ("take rate", "quality take rate", "oracle fraction")}
                         | {"impressions": count_column()})
            st.download_button("Download comparison CSV", export.csv_bytes(both),
                               "artdash-lab-comparison.csv", "text/csv")
