"""Results: per-variant take rates and A/B results with honest uncertainty, creative
insights by tag, and log imports."""


import pandas as pd
import streamlit as st

from artdash import catalog, clock, export, numbers
from artdash.results import plans, quality, queries, report
from artdash.results.review import default_control
from artdash.ui import (
    charts,
    holdout_view,
    live_view,
    log_import,
    results_data,
    results_review,
    results_sources,
    results_table,
    sticky,
    widgets,
    windows,
)
from artdash.ui.numbers import count_columns, grid, rate_column
from artdash.ui.text import md, md_list

ws = widgets.page("Results")
overview = results_data.overview()

# Tabs run lazily (bound to the URL): only the open tab's queries and figures are computed.
review_tab, insights_tab, live_tab, import_tab, sources_tab = st.tabs(
    ["A/B review", "Creative insights", "Live traffic", "Import", "Sources"], key="results_tab", bind="query-params")
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
            load_demo_results(ws, actor=widgets.actor())
        widgets.flash("success", "Generated the demo results.")
        st.rerun()


def choose_selection(title_ids: list[int], titles: dict[int, str]) -> tuple[queries.Selection, float]:
    """The reviewer's choice of title, experiment, dates, segment and confidence."""
    # The selection survives tab switches and lives in the URL (a review can be linked to).
    c1, c2 = st.columns([5, 4])          # a title's whole name shows at 1024 px ("The Last Laugh Hotel (2021)")
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
    c3, c4, c6 = st.columns([4, 2.4, 3.6])   # the date range needs ~210 px at 1024, the confidence levels ~170
    if span is not None:
        with c3:
            start, end = windows.choose_window(span, f"results_dates_{title_id}_{experiment or ''}")
        day_from, day_to = queries.to_day(start), queries.to_day(end)
    kinds = ["all", "country", "device", "policy"]
    sticky.restore("results_segment_kind", kinds, "segment_kind")
    segment_kind = c4.selectbox("Segment", kinds, format_func=lambda k: "Everyone" if k == "all" else k.capitalize(),
                                key="results_segment_kind")
    sticky.keep("results_segment_kind", "segment_kind")
    segment = ""
    if segment_kind != "all":
        values = results_data.segment_values(overview, segment_kind, title_id)
        sticky.restore("results_segment", values, "segment")
        segment = c4.selectbox(md(segment_kind.capitalize()), values, key="results_segment") if values else ""
        sticky.keep("results_segment", "segment")
    else:
        st.query_params.pop("segment", None)
    levels = [0.9, 0.95, 0.99]
    sticky.restore("results_confidence", levels, "confidence", float)
    if "results_confidence" not in st.session_state:
        st.session_state["results_confidence"] = 0.95
    chosen_level = c6.segmented_control("Confidence", levels, format_func=numbers.level, key="results_confidence")
    confidence = chosen_level if chosen_level is not None else 0.95    # a click on the chosen one unselects it
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
    first_control = default_control(pick, totals)
    control = st.selectbox("Control variant (lift is measured against it)", ids, index=ids.index(first_control),
                           format_func=label, key=f"results_control_{sel.title_id}")
    plan = results_review.split_check(ws, sel, cells, overview.simulated)

    metric = results_review.chosen_metric(plan, totals)
    method = results_review.choose_method(plans.default_method(plan, clock.now().date()))
    review, trend = results_data.variant_review(overview, sel, control, confidence, method, metric)
    results_review.method_note(review, totals, control)
    if review.thin:
        st.warning("Not enough data to judge: " + "; ".join(
            f"{md(label(r.variant_id))} ({md(r.note)}: {numbers.count(r.impressions)} impressions, "
            f"{numbers.count(r.successes)} {md(metric.count_name)})" for r in review.thin) + ".")
    low_q, _ = queries.quality_thresholds(overview.stamp)
    built = low_q if low_q is not None else ws.settings.quality_play_seconds
    mismatch = quality.threshold_note(queries.quality_thresholds(overview.stamp), ws.settings.quality_play_seconds)
    if mismatch:
        st.warning(f"Take rates may mislead: {md(mismatch)}.")
    st.caption(f"Quality play: at least {built:g} s of viewing, as these rollups were built "
               f"(ARTDASH_QUALITY_PLAY_SECONDS). Method: {review.method}.")
    results_table.review_table(review, trend, variants, ws.store)
    results_review.clickbait_note(totals, review, label)
    # Written when clicked (a callable): a page view costs no CSV.
    st.download_button("Download CSV", lambda: export.csv_bytes(review.frame().assign(**sel.describe(titles))),
                       f"results-title-{sel.title_id}-{queries.from_day(sel.day_from)}-{queries.from_day(sel.day_to)}"
                       ".csv", "text/csv", help="One row per variant: counts, rates and lift with their interval "
                                             "bounds, p-values, P(best), as raw numbers, and the method used.")
    act_on_result(review, pick, sel, simulated=sel.experiment in overview.simulated)
    results_review.adjusted_section(ws, review, sel, overview, label)
    results_review.cells_section(ws, sel, method, confidence, metric)
    # The detailed charts load the charting library: on demand (the choice stays in the URL).
    charts = st.segmented_control("Charts", ["Over time", "By segment", "Play durations", "Abandonment"],
                                  selection_mode="multi", key="results_charts", bind="query-params",
                                  help="Take rate per day with intervals; broken down by country, device or "
                                       "policy; how long plays last (quantiles of play seconds); how many plays "
                                       "are abandoned early.") or []
    if "Over time" in charts:
        over_time(daily, confidence)
    if "By segment" in charts:
        segment_breakdown(sel)
    if "Play durations" in charts or "Abandonment" in charts:
        results_review.duration_section(ws, sel, confidence, label, totals, review, charts)


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
            st.markdown(f"{md(label(found.winner))} beats the control: lift {numbers.change(w.lift)} "
                        f"({numbers.change_range(w.lift_low, w.lift_high)}), P(best) {numbers.rate(w.p_best)}.")
            if st.button("Make it the editor's pick", icon=":material/star:", key="results_make_pick"):
                widgets.act(ws, lambda s: catalog.set_editors_pick(s, title_id, found.winner, widgets.actor()),
                            f"{md(label(found.winner))} is now the editor's pick of this title.")
        if found.weak:
            st.markdown("Significantly worse than the control: " + "; ".join(
                f"{md(label(v))} ({numbers.change(review.row(v).lift)})" for v in found.weak) + ".")
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
        st.caption(f"The breakdown covers everyone in this selection: it splits all of it by {md(kind)}, not only "
                   f"the {md(sel.segment_kind)} {md(sel.segment)} chosen above.")
    st.plotly_chart(charts.take_rate_by_segment(report.segment_rates(by_segment), label, kind), width="stretch")


def insights_section() -> None:
    st.markdown("Quality take rate by **image tag** across every title: which kinds of artwork earn quality "
                "plays. A variant counts for each of its tags.")
    everything = results_data.all_variants(overview)
    with ws.session() as s:
        variant_tags = catalog.variant_tag_labels(s)
    facets = sorted({t.split(": ")[0] for tags in variant_tags.values() for t in tags})
    facet = st.segmented_control("Facet", facets, format_func=md, default="visual" if "visual" in facets else None,
                                 key="insights_facet")
    insights = report.tag_insights(everything, {v: [t for t in tags if not facet or t.startswith(f"{facet}: ")]
                                                for v, tags in variant_tags.items()})
    if insights.empty:
        st.info("No tagged variants with impressions yet.")
        return
    insights = insights.sort_values("quality take rate")
    st.plotly_chart(charts.take_rate_by_tag(insights), width="stretch")
    grid(insights, hide_index=True, width="stretch", column_config=count_columns(
        insights, **{"quality take rate": rate_column(), "low": rate_column(), "high": rate_column()}))
    st.download_button("Download CSV", export.csv_bytes(insights), "creative-insights.csv", "text/csv")
    results_review.flags_across_section(ws)


if import_tab.open:
    with import_tab:
        log_import.import_section(ws)
if sources_tab.open:
    with sources_tab:
        results_sources.sources_section(ws)
if live_tab.open:
    with live_tab:
        st.caption("What the decision service (`artdash serve`) decided and what members did, as it happens. "
                   "Resolved decisions also join the impression log as experiment **live** (A/B review).")
        holdout_view.holdout_panel(ws, "results_live")
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
