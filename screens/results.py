"""Results: per-variant take rates and A/B results with honest uncertainty, creative
insights by tag, and log imports."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from artdash import catalog, clock, export
from artdash.errors import ArtdashError
from artdash.results import plans, quality, queries, report
from artdash.stats import inference, sample_ratio_mismatch
from artdash.ui import charts, live_view, log_import, results_data, results_table, sticky, widgets
from artdash.ui.text import md, md_list

ws = widgets.page("Results")
overview = results_data.overview()

# Tabs run lazily (bound to the URL): only the open tab's queries and figures are computed.
review_tab, insights_tab, live_tab, import_tab = st.tabs(["A/B review", "Creative insights", "Live traffic", "Import"],
                                                         key="results_tab", bind="query-params")
variants: dict[int, catalog.VariantView] = {}


def load_variants(ids) -> dict[int, catalog.VariantView]:
    """The variants on screen (not the whole catalog)."""
    with ws.session() as s:
        return catalog.variants_by_id(s, ids)


def label(variant_id: int) -> str:
    return results_table.variant_label(variants, variant_id)


def empty_state() -> None:
    st.info("No impressions yet. Import a log in the **Import** tab, or generate the demo log "
            "(200,000 simulated impressions over 30 days, an A/B test of the editor's pick against the bandit).")
    if widgets.may("admin") and st.button("Generate demo results"):
        from artdash.demo.results import load_demo_results

        with st.spinner("Simulating and importing 200,000 impressions…"):
            load_demo_results(ws)
        widgets.flash("success", "Generated the demo results.")
        st.rerun()


def choose_selection(title_ids: list[int], titles: dict[int, str]) -> tuple[queries.Selection, float]:
    """The reviewer's choice of title, experiment, dates, segment and confidence."""
    # The selection survives tab switches and lives in the URL (a review can be linked to).
    c1, c2, c3 = st.columns([2, 2, 2])
    sticky.restore("results_title", title_ids, "title", int)
    title_id = c1.selectbox("Title", title_ids, format_func=titles.get, key="results_title")
    sticky.keep("results_title", "title")
    simulated = set(overview.simulated)
    experiments = [None, *[e for e in overview.experiments if e not in simulated], *overview.simulated]
    sticky.restore("results_experiment", experiments, "experiment")
    experiment = c2.selectbox(
        "Experiment", experiments,
        format_func=lambda e: ("All real traffic" if simulated else "All traffic") if e is None
        else f"{e} (simulated)" if e in simulated else e, key="results_experiment",
        help="Simulated experiments (written by Policy lab runs) are never mixed into all traffic; pick one to "
             "review it alone." if simulated else None)
    sticky.keep("results_experiment", "experiment")
    # The window comes from the selection's own data: the last 30 days of this title's impressions
    # in this experiment (or in real traffic), whatever else the log holds.
    span = results_data.span(overview, title_id, experiment)
    day_from = day_to = None
    if span is not None:
        low, high = span
        dates_key = f"results_dates_{title_id}_{experiment or ''}"
        kept = st.session_state.get(f"{dates_key}__kept")
        if dates_key not in st.session_state and kept and all(low <= d <= high for d in kept):
            st.session_state[dates_key] = kept
        chosen = c3.date_input("Dates", value=(max(low, high - timedelta(days=29)), high), min_value=low,
                               max_value=high, key=dates_key)
        sticky.keep(dates_key)
        start, end = (chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (low, high))
        day_from, day_to = queries.to_day(start), queries.to_day(end)
    c4, c5, c6 = st.columns([2, 2, 2])
    kinds = ["all", "country", "device", "policy"]
    sticky.restore("results_segment_kind", kinds, "segment_kind")
    segment_kind = c4.selectbox("Segment", kinds, format_func=lambda k: "Everyone" if k == "all" else k.capitalize(),
                                key="results_segment_kind")
    sticky.keep("results_segment_kind", "segment_kind")
    segment = ""
    if segment_kind != "all":
        values = results_data.segment_values(overview, segment_kind, title_id)
        sticky.restore("results_segment", values, "segment")
        segment = c5.selectbox(segment_kind.capitalize(), values, key="results_segment") if values else ""
        sticky.keep("results_segment", "segment")
    else:
        st.query_params.pop("segment", None)
    levels = [0.9, 0.95, 0.99]
    sticky.restore("results_confidence", levels, "confidence", float)
    confidence = c6.select_slider("Confidence", levels, value=st.session_state.get("results_confidence", 0.95),
                                  format_func=lambda c: f"{c:.0%}", key="results_confidence")
    sticky.keep("results_confidence", "confidence")
    sel = queries.Selection(title_id, day_from, day_to, segment_kind, segment, experiment,
                            exclude=overview.simulated)
    return sel, confidence


def review_section() -> None:
    with ws.session() as s:
        titles = dict(catalog.title_choices(s))
    title_ids = [t for t in titles if t in overview.titles]
    if not title_ids:
        st.info("The log has no impressions of titles in this catalog.")
        return
    sel, confidence = choose_selection(title_ids, titles)
    totals, daily, cells = results_data.review(overview, sel)
    if totals.empty:
        if sel.experiment is None and overview.simulated:
            st.info("No real impressions of this title in this selection. Its simulated impressions (Policy lab) "
                    "are under the simulated experiments: pick one in **Experiment** to review them.")
        else:
            st.warning("No impressions for this title in this selection. Widen the dates or pick another segment.")
        return
    ids = totals["variant_id"].tolist()
    variants.update(load_variants(ids))
    with ws.session() as s:
        pick = catalog.editors_pick(s, sel.title_id)
    default_control = pick if pick in ids else int(totals.sort_values("impressions").iloc[-1]["variant_id"])
    control = st.selectbox("Control variant (lift is measured against it)", ids, index=ids.index(default_control),
                           format_func=label, key=f"results_control_{sel.title_id}")
    plan = plans.get_plan(ws.results_engine, sel.experiment) if sel.experiment else None
    if sel.experiment and len(cells) >= 2:
        split = plans.planned_split(plan, cells["cell"].tolist())
        if split.weights is None:
            st.warning(f"The traffic split of {md(sel.experiment)} cannot be checked: {md(split.problem)}.")
        else:
            srm = sample_ratio_mismatch(cells["impressions"].tolist(), list(split.weights))
            planned = (f"the planned split ({md(plan.describe())})" if plan is not None
                       else "an equal split (assumed: no plan is declared for this experiment — declare one below)")
            if srm.mismatch:
                st.error(f"Sample ratio mismatch in {md(sel.experiment)}: {md(srm.reason)}; compared with {planned}.")
            else:
                st.caption(f"Traffic split across cells ({md_list(cells['cell'])}, checked over everyone in the "
                           f"experiment, whatever the segment) matches {planned} (χ² p = {srm.p_value:.2f}).")
    if sel.experiment and sel.experiment not in overview.simulated:
        plan_form(sel.experiment, cells["cell"].tolist(), plan)

    method = choose_method(plans.default_method(plan, clock.now().date()))
    review = report.variant_report(totals, control, confidence, method=method)
    method_note(review, totals, control)
    if review.thin:
        st.warning("Not enough data to judge: " + "; ".join(f"{md(label(r.variant_id))} ({md(r.note)})"
                                                            for r in review.thin) + ".")
    low_q, _ = queries.quality_thresholds(overview.stamp)
    built = low_q if low_q is not None else ws.settings.quality_play_seconds
    mismatch = quality.threshold_note(queries.quality_thresholds(overview.stamp), ws.settings.quality_play_seconds)
    if mismatch:
        st.warning(f"Take rates may mislead: {mismatch}.")
    st.caption(f"Quality play: at least {built:g} s of viewing, as these rollups were built "
               f"(ARTDASH_QUALITY_PLAY_SECONDS). Method: {review.method}.")
    results_table.review_table(review, report.daily_trend(daily), variants, ws.store)
    st.download_button("Download CSV", export.csv_bytes(review.frame().assign(**sel.describe(titles))),
                       f"results-title-{sel.title_id}-{queries.from_day(sel.day_from)}-{queries.from_day(sel.day_to)}"
                       ".csv", "text/csv", help="One row per variant: counts, rates and lift with their interval "
                                             "bounds, p-values, P(best), as raw numbers, and the method used.")
    act_on_result(review, pick, sel, simulated=sel.experiment in overview.simulated)
    adjusted_section(review, sel)
    # The detailed charts load the charting library: on demand (the choice stays in the URL).
    charts = st.segmented_control("Charts", ["Over time", "By segment", "Play durations"], selection_mode="multi",
                                  key="results_charts", bind="query-params",
                                  help="Take rate per day with intervals; broken down by country, device or "
                                       "policy; how long plays last (quantiles of play seconds).") or []
    if "Over time" in charts:
        over_time(daily, confidence)
    if "By segment" in charts:
        segment_breakdown(sel)
    if "Play durations" in charts:
        duration_section(sel, confidence)


METHOD_LABELS = {inference.SEQUENTIAL: "Sequential (safe to peek)", inference.FIXED: "Fixed horizon",
                 inference.BAYESIAN: "Bayesian"}
PRIORS = {"flat": None, "sceptical (±10 %)": 0.10, "sceptical (±30 %)": 0.30}


def plan_form(experiment: str, cells: list[str], plan: plans.ExperimentPlan | None) -> None:
    """Declare an experiment's planned split and end (editors)."""
    title = (f"Plan of {experiment}: {plan.describe()}" + (f", ends {plan.planned_end:%Y-%m-%d}" if plan.planned_end
                                                           else ", no planned end")) if plan else \
        f"Plan of {experiment}: none declared"
    with st.expander(title), st.form(f"plan_{experiment}"):
        st.caption("The share of traffic each cell should get (any positive weights: 9 and 1 is 90 % / 10 %) and "
                   "the day the experiment should end. The sample-ratio check compares the observed split with "
                   "it; until the end the page reviews with sequential intervals.")
        names = list(dict.fromkeys([*cells, *(plan.weights if plan else [])]))
        columns = st.columns(min(len(names), 4) or 1)
        weights = {c: columns[i % len(columns)].number_input(
            f"Weight of {c}", min_value=0.0, value=float(plan.weights.get(c, 1.0)) if plan else 1.0, step=1.0,
            key=f"plan_{experiment}_{c}") for i, c in enumerate(names)}
        end = st.date_input("Planned end", value=plan.planned_end if plan else None, key=f"plan_{experiment}_end",
                            help="Leave empty for an open-ended experiment.")
        if st.form_submit_button("Save the plan", icon=":material/save:", disabled=not widgets.may("editor")):
            chosen = {c: w for c, w in weights.items() if w > 0}
            try:
                plans.set_plan(ws, experiment, chosen, end, widgets.actor())
            except ArtdashError as exc:
                st.error(f"Not saved — {md(exc)}")
            else:
                widgets.flash("success", f"Saved the plan of {md(experiment)}.")
                st.rerun()


def choose_method(default: str = inference.SEQUENTIAL) -> inference.Method:
    """The page's one inference method (kept in the URL): sequential by default while an
    experiment may still be running, fixed horizon once its planned end has passed."""
    c1 = st.container()                    # the method's choices need the width (1024 px screens)
    c2, _ = st.columns([2, 3])
    kinds = list(METHOD_LABELS)
    sticky.restore("results_method", kinds, "method")
    if "results_method" not in st.session_state:
        st.session_state["results_method"] = default
    kind = c1.segmented_control(
        "Method", kinds, format_func=METHOD_LABELS.get, key="results_method",
        help="One method for every interval, p-value and verdict on the page. Sequential intervals stay valid "
             "however often you look; fixed-horizon ones only for one look at the planned end; Bayesian gives "
             "the chance to beat the control and the risk of choosing a variant.") or inference.SEQUENTIAL
    sticky.keep("results_method", "method")
    if kind == inference.BAYESIAN:
        priors = list(PRIORS)
        sticky.restore("results_prior", priors, "prior")
        prior = c2.selectbox("Prior on the lift", priors, key="results_prior",
                             help="Flat: the data alone. Sceptical: a normal prior centred on no change, with "
                                  "this standard deviation, which pulls small samples' lifts towards zero.")
        sticky.keep("results_prior", "prior")
        return inference.Method(kind, prior_sd=PRIORS[prior])
    corrections = [inference.HOLM, inference.BH]
    sticky.restore("results_correction", corrections, "correction")
    correction = c2.selectbox("Across variants", corrections, key="results_correction",
                              format_func={inference.HOLM: "Holm (family-wise error)",
                                           inference.BH: "Benjamini–Hochberg (false discoveries)"}.get)
    sticky.keep("results_correction", "correction")
    return inference.Method(kind, correction)


def method_note(review: report.VariantReport, totals: pd.DataFrame, control: int) -> None:
    """What the chosen method promises, and what it costs."""
    method = review.inference
    if method.kind == inference.SEQUENTIAL:
        row = totals[totals["variant_id"] == control]
        n, q = int(row["impressions"].iloc[0]), int(row["quality_plays"].iloc[0])
        cost = ""
        if n > 1 and 0 < q < n:
            _, variance = inference.relative_effect((q, n), (q, n))
            ratio = inference.sequential_width_ratio(variance, 2 * n, 1 - review.confidence, method.tuning)
            cost = f" The price: at this sample size they are {ratio:.1f}× as wide as intervals read once."
        st.caption("**Safe to look as often as you like**: these intervals and p-values hold at every look at "
                   f"once, so a daily review never inflates false positives.{cost}")
    elif method.kind == inference.FIXED:
        st.caption("**Read once**: fixed-horizon intervals hold for one look at the planned end. Looking daily "
                   "and acting on the first significant result finds \"winners\" that are not (a test measures: "
                   "over 20 daily looks at an A/A experiment, about a quarter cross zero at some look). Use "
                   "*Sequential* while the experiment runs.")
    else:
        st.caption("**Bayesian**: credible intervals, the chance that each variant beats the control and the "
                   "risk (expected loss) of choosing it; no multiple-comparison adjustment.")


def adjusted_section(review: report.VariantReport, sel: queries.Selection) -> None:
    """The lifts post-stratified by a segment, beside the unadjusted ones (on demand)."""
    kinds = ["cuped", *(k for k in ("country", "device") if k != sel.segment_kind)]
    kind = st.segmented_control(
        "Variance reduction", kinds, key="results_adjust",
        format_func=lambda k: "CUPED (plays before)" if k == "cuped" else f"Post-stratify by {k}",
        help="CUPED: each member's quality plays in the 4 weeks before the first day predict part of their plays "
             "during; taking that out narrows the interval of the lift in plays per member. Post-stratification: "
             "each variant's rate as the mix of its rates within segments, weighted by the segments' shares. The "
             "unadjusted result stays beside either.")
    if not kind or review.control is None:
        return
    if kind == "cuped":
        cuped_section(review, sel)
        return
    by_segment = results_data.by_segment(overview, sel, kind)
    if by_segment.empty:
        st.caption(f"No {kind} data in this selection.")
        return
    adjusted = report.post_stratified(review, by_segment)
    if adjusted.empty:
        st.caption("Nothing to adjust: no variant could be compared with the control.")
        return
    shown = adjusted.table.assign(variant=[label(v) for v in adjusted.table["variant_id"]])
    shown = shown[["variant", *[c for c in shown.columns if c not in ("variant", "variant_id")]]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        **{c: st.column_config.NumberColumn(format="percent") for c in
           ("lift", "lift low", "lift high", "adjusted lift", "adjusted low", "adjusted high")},
        "variance reduction": st.column_config.NumberColumn(format="percent",
                                                            help="How much smaller the lift's variance is")})
    notes = [f"{len(adjusted.strata)} {kind} segments"]
    if adjusted.pooled:
        notes.append(f"{len(adjusted.pooled)} small ones pooled into one")
    if adjusted.left_out_share:
        notes.append(f"{adjusted.left_out_share:.1%} of impressions left out (segments an arm never saw)")
    st.caption(f"Post-stratified by {kind} ({'; '.join(notes)}), under the page's method: "
               f"{md(review.inference.describe(review.confidence))}.")
    st.download_button("Download adjusted CSV", export.csv_bytes(adjusted.table), f"results-adjusted-by-{kind}.csv",
                       "text/csv", key="results_adjusted_csv",
                       help="Per variant: the unadjusted and post-stratified lift with interval bounds, raw numbers")


def cuped_section(review: report.VariantReport, sel: queries.Selection) -> None:
    """The lift in quality plays per member, CUPED-adjusted by plays before the selection."""
    from artdash.results.members import member_totals
    from artdash.results.service import impression_log

    with st.spinner("Summing each member's plays before and during…"), ws.results_engine.connect() as conn:
        totals = member_totals(impression_log(ws), conn, sel, ws.settings.quality_play_seconds)
    table = report.cuped(review, totals.arms)
    if table.empty:
        st.caption("Nothing to adjust: no variant has members to compare with the control's.")
        return
    shown = table.assign(variant=[label(v) for v in table["variant_id"]])
    shown = shown[["variant", *[c for c in shown.columns if c not in ("variant", "variant_id")]]]
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        **{c: st.column_config.NumberColumn(format="percent") for c in
           ("lift", "lift low", "lift high", "adjusted lift", "adjusted low", "adjusted high")},
        "plays per member": st.column_config.NumberColumn(format="%.3f"),
        "variance reduction": st.column_config.NumberColumn(format="percent",
                                                            help="How much smaller the lift's variance is")})
    notes = [f"{totals.members:,} members, {totals.with_history:,} with plays in the {totals.pre_days} days before"]
    if totals.mixed_members:
        notes.append(f"{totals.mixed_members:,} who met more than one variant left out (CUPED needs each member "
                     "in one arm)")
    st.caption(f"CUPED on quality plays per member ({'; '.join(notes)}), under the page's method: "
               f"{md(review.inference.describe(review.confidence))}.")
    st.download_button("Download CUPED CSV", export.csv_bytes(table), "results-cuped.csv", "text/csv",
                       key="results_cuped_csv",
                       help="Per variant: members, plays per member, the unadjusted and CUPED lift with bounds")


def act_on_result(review: report.VariantReport, pick: int | None, sel: queries.Selection, simulated: bool) -> None:
    """Close the loop for editors: make a clear winner the editor's pick, retire variants
    that do significantly worse than the control (real traffic only, never one segment)."""
    found = report.verdict(review, pick, {v: variants[v].status for v in variants})
    if not (found.winner or found.weak) or not widgets.may("editor") or simulated:
        return
    title_id = sel.title_id
    if sel.segment_kind != "all":
        st.caption("A decision on artwork is taken on everyone's impressions: pick *Everyone* as the segment to "
                   "act on this result.")
        return
    with st.container(border=True):
        st.markdown("**Act on this result**")
        if found.winner:
            w = review.row(found.winner)
            st.markdown(f"{md(label(found.winner))} beats the control: lift {w.lift:+.1%} "
                        f"({w.lift_low:+.1%} to {w.lift_high:+.1%}), P(best) {w.p_best:.1%}.")
            if st.button("Make it the editor's pick", icon=":material/star:", key="results_make_pick"):
                widgets.act(ws, lambda s: catalog.set_editors_pick(s, title_id, found.winner, widgets.actor()),
                            f"{md(label(found.winner))} is now the editor's pick of this title.")
        if found.weak:
            st.markdown("Significantly worse than the control: " + "; ".join(
                f"{md(label(v))} ({review.row(v).lift:+.1%})" for v in found.weak) + ".")
            chosen = st.multiselect("Retire", list(found.weak), default=list(found.weak), format_func=label,
                                    key=f"results_retire_{title_id}")
            if st.button("Retire them", icon=":material/archive:", key="results_retire", disabled=not chosen):
                def retire(s):
                    for v in chosen:
                        catalog.set_variant_status(s, v, "retired", widgets.actor(), variants[v].version)
                widgets.act(ws, retire, f"Retired {md_list(label(v) for v in chosen)}; they can be reactivated "
                                        "on the title's page.")


def over_time(daily: pd.DataFrame, confidence: float) -> None:
    bands = report.daily_bands(daily, confidence)
    daily_tab, cumulative_tab = st.tabs(["Daily", "Cumulative"])
    for tab, cumulative in ((daily_tab, False), (cumulative_tab, True)):
        tab.plotly_chart(charts.take_rate_over_time(bands, label, confidence, cumulative), width="stretch")


def duration_section(sel: queries.Selection, confidence: float) -> None:
    """How long plays last per variant: quantiles of play seconds with exact intervals."""
    from artdash.results.durations import MAX_PLAYS, play_durations
    from artdash.results.service import impression_log

    log = impression_log(ws)
    with st.spinner("Reading play durations from the log…"), ws.results_engine.connect() as conn:
        table, capped = play_durations(log, conn, sel, confidence)
    if table.empty:
        st.caption("No plays in this selection.")
        return
    table = table.assign(variant=[label(v) for v in table["variant_id"]])
    st.plotly_chart(charts.play_duration_quantiles(table, confidence), width="stretch", key="results_durations")
    st.caption(f"Among plays: the 25th, 50th (median) and 90th percentile of play seconds, each with its exact "
               f"{confidence:.0%} interval (between two order statistics; none where a variant has too few plays). "
               "Durations are skewed, so quantiles say more than a mean would."
               + (f" Read from the first {MAX_PLAYS:,} plays of this selection." if capped else ""))
    st.download_button("Download play durations CSV", export.csv_bytes(table), "results-play-durations.csv",
                       "text/csv", key="results_durations_csv",
                       help="Per variant and quantile: plays, play seconds and its interval bounds")


def segment_breakdown(sel: queries.Selection) -> None:
    kind = st.segmented_control("Break down by", ["country", "device", "policy"], default="device",
                                key="results_breakdown") or "device"
    by_segment = results_data.by_segment(overview, queries.Selection(sel.title_id, sel.day_from, sel.day_to,
                                                                     experiment=sel.experiment, exclude=sel.exclude),
                                         kind)
    if by_segment.empty:
        st.caption("No segment data in this selection.")
        return
    if sel.segment_kind != "all":
        st.caption(f"The breakdown covers everyone in this selection: it splits all of it by {kind}, not only "
                   f"the {sel.segment_kind} {md(sel.segment)} chosen above.")
    st.plotly_chart(charts.take_rate_by_segment(report.segment_rates(by_segment), label, kind), width="stretch")


def insights_section() -> None:
    st.markdown("Quality take rate by **image tag** across every title: which kinds of artwork earn quality "
                "plays. A variant counts for each of its tags.")
    everything = results_data.all_variants(overview)
    with ws.session() as s:
        variant_tags = catalog.variant_tag_labels(s)
    facets = sorted({t.split(": ")[0] for tags in variant_tags.values() for t in tags})
    facet = st.segmented_control("Facet", facets, default="visual" if "visual" in facets else None,
                                 key="insights_facet")
    insights = report.tag_insights(everything, {v: [t for t in tags if not facet or t.startswith(f"{facet}: ")]
                                                for v, tags in variant_tags.items()})
    if insights.empty:
        st.info("No tagged variants with impressions yet.")
        return
    insights = insights.sort_values("quality take rate")
    st.plotly_chart(charts.take_rate_by_tag(insights), width="stretch")
    st.dataframe(insights, hide_index=True, width="stretch", column_config={
        "quality take rate": st.column_config.NumberColumn(format="percent"),
        "low": st.column_config.NumberColumn(format="percent"),
        "high": st.column_config.NumberColumn(format="percent")})
    st.download_button("Download CSV", export.csv_bytes(insights), "creative-insights.csv", "text/csv")


if import_tab.open:
    with import_tab:
        log_import.import_section(ws)
if live_tab.open:
    with live_tab:
        st.caption("What the decision service (`artdash serve`) decided and what members did, as it happens. "
                   "Resolved decisions also join the impression log as experiment **live** (A/B review).")
        live_view.traffic_panel(ws, "results_live")
if overview.impressions == 0 or overview.span is None:
    if review_tab.open:
        with review_tab:
            empty_state()
    if insights_tab.open:
        with insights_tab:
            st.info("No impressions yet: insights appear once a log is imported.")
else:
    if review_tab.open:
        with review_tab:
            review_section()
    if insights_tab.open:
        with insights_tab:
            insights_section()
