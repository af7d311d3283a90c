"""The Results page's review, beyond the table: the experiment's plan and its sample-ratio
check, the one method the page reads with (and what it promises), variance reduction (CUPED,
post-stratification) beside the unadjusted lifts, and how long plays last."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from artdash import export, numbers
from artdash.errors import ArtdashError
from artdash.results import plans, queries, report
from artdash.results.abandonment import (
    ABANDON_SECONDS,
    MAX_ABANDON_SECONDS,
    creative_flags,
    flags_frame,
)
from artdash.results.cells import cell_comparison
from artdash.results.metric import PLAYS, QUALITY, Metric, choose_metric, metric_named
from artdash.results.review import flags_across_titles, title_flags
from artdash.stats import Proportion, inference, sample_ratio_mismatch
from artdash.stats.rates import SRM_P_THRESHOLD
from artdash.ui import charts, results_data, sticky, widgets
from artdash.ui.numbers import count_column, grid, rate_column
from artdash.ui.text import md, md_list
from artdash.workspace import Workspace


def split_check(ws: Workspace, sel: queries.Selection, cells: pd.DataFrame,
                simulated: tuple[str, ...]) -> plans.ExperimentPlan | None:
    """The sample-ratio check against the experiment's plan, and the form to declare one;
    returns the plan (None: none declared, or no experiment chosen)."""
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
                           f"experiment, whatever the segment) matches {planned}: χ² p = {srm.p_value:.2g}. Only "
                           f"p < {SRM_P_THRESHOLD:g} counts as a mismatch — a sign that assignment or logging is "
                           "broken, which would make every number below untrustworthy.")
    if sel.experiment and sel.experiment not in simulated:
        plan_form(ws, sel.experiment, cells["cell"].tolist(), plan)

    return plan


METHOD_LABELS = {inference.SEQUENTIAL: "Sequential (safe to peek)", inference.FIXED: "Fixed horizon",
                 inference.BAYESIAN: "Bayesian"}
PRIORS = {"flat": None, "sceptical (±10%)": 0.10, "sceptical (±30%)": 0.30}


def plan_form(ws: Workspace, experiment: str, cells: list[str], plan: plans.ExperimentPlan | None) -> None:
    """Declare an experiment's planned split and end (editors)."""
    title = (f"Plan of {experiment}: {plan.describe()}" + (f", ends {plan.planned_end:%Y-%m-%d}" if plan.planned_end
                                                           else ", no planned end")) if plan else \
        f"Plan of {experiment}: none declared"
    with st.expander(md(title)), st.form(f"plan_{experiment}"):
        st.caption("The share of traffic each cell should get (any positive weights: 9 and 1 is 90% / 10%) and "
                   "the day the experiment should end. The sample-ratio check compares the observed split with "
                   "it; until the end the page reviews with sequential intervals.")
        names = list(dict.fromkeys([*cells, *(plan.weights if plan else [])]))
        columns = st.columns(min(len(names), 4) or 1)
        weights = {c: columns[i % len(columns)].number_input(
            f"Weight of {md(c)}", min_value=0.0, value=float(plan.weights.get(c, 1.0)) if plan else 1.0, step=1.0,
            key=f"plan_{experiment}_{c}") for i, c in enumerate(names)}
        end = st.date_input("Planned end", value=plan.planned_end if plan else None, key=f"plan_{experiment}_end",
                            help="Leave empty for an open-ended experiment.")
        options = ["auto", QUALITY.option, PLAYS.option]
        current = metric_named(plan.metric).option if plan and plan.metric else "auto"
        metric = st.radio("Success metric", options, index=options.index(current), horizontal=True,
                          key=f"plan_{experiment}_metric", format_func=lambda m: md(METRIC_CHOICES[m]),
                          help="What its readout counts: a quality play (at least the quality threshold of "
                               "viewing) or any play. Auto reads a log without play durations by its take rate.")
        if st.form_submit_button("Save the plan", icon=":material/save:", disabled=not widgets.may("editor")):
            chosen = {c: w for c, w in weights.items() if w > 0}
            try:
                plans.set_plan(ws, experiment, chosen, end, widgets.actor(), None if metric == "auto" else metric)
            except ArtdashError as exc:
                st.error(f"Not saved — {md(exc)}")
            else:
                widgets.flash("success", f"Saved the plan of {md(experiment)}.")
                st.rerun()


METRIC_CHOICES = {"auto": "What the log supports", QUALITY.option: "Quality plays (quality take rate)",
                  PLAYS.option: "Plays (take rate)"}


def chosen_metric(plan: plans.ExperimentPlan | None, totals: pd.DataFrame) -> Metric:
    """The readout's metric (the plan's, else what the log supports), said on the page when it
    is not the usual quality take rate."""
    chosen = choose_metric(plan.metric if plan else None, totals)
    if chosen.metric != QUALITY:
        st.info(f"Read by **{md(chosen.metric.rate_name)}** (plays over impressions): {md(chosen.reason)}.")
    return chosen.metric


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
        "Method", kinds, format_func=lambda k: METHOD_LABELS[k], key="results_method",
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
        return inference.Method(kind, prior_sd=PRIORS[prior or "flat"])
    corrections: list[str] = [inference.HOLM, inference.BH]
    names = {inference.HOLM: "Holm (family-wise error)", inference.BH: "Benjamini–Hochberg (false discoveries)"}
    sticky.restore("results_correction", corrections, "correction")
    correction = c2.selectbox("Across variants", corrections, key="results_correction",
                              format_func=lambda c: names[c])
    sticky.keep("results_correction", "correction")
    return inference.Method(kind, correction or inference.HOLM)


def method_note(review: report.VariantReport, totals: pd.DataFrame, control: int) -> None:
    """What the chosen method promises, and what it costs."""
    method = review.inference
    if method.kind == inference.SEQUENTIAL:
        row = totals[totals["variant_id"] == control]
        n, q = int(row["impressions"].iloc[0]), int(row[review.metric.key].iloc[0])
        cost = ""
        if n > 1 and 0 < q < n:
            _, variance = inference.relative_effect(Proportion(q, n), Proportion(q, n))
            ratio = inference.sequential_width_ratio(variance, 2 * n, 1 - review.confidence, method.tuning)
            cost = f" The price: at this sample size they are {ratio:.1f}× as wide as intervals read once."
        st.caption("**Safe to look as often as you like**: these intervals and p-values hold at every look at "
                   f"once, so a daily review never inflates false positives.{md(cost)}")
    elif method.kind == inference.FIXED:
        st.caption("**Read once**: fixed-horizon intervals hold for one look at the planned end. Looking daily "
                   "and acting on the first significant result finds \"winners\" that are not (a test measures: "
                   "over 20 daily looks at an A/A experiment, about a quarter cross zero at some look). Use "
                   "*Sequential* while the experiment runs.")
    else:
        st.caption("**Bayesian**: credible intervals, the chance that each variant beats the control and the "
                   "risk (expected loss) of choosing it; no multiple-comparison adjustment.")


def adjusted_section(ws: Workspace, review: report.VariantReport, sel: queries.Selection, overview: results_data.Overview,
                     label: Callable[[int], str]) -> None:
    """The lifts post-stratified by a segment, beside the unadjusted ones (on demand)."""
    kinds = ["cuped", *(k for k in ("country", "device") if k != sel.segment_kind)]
    kind = st.segmented_control(
        "Variance reduction", kinds, key="results_adjust",
        format_func=lambda k: "CUPED (plays before)" if k == "cuped" else f"Post-stratify by {md(k)}",
        help="CUPED: each member's quality plays in the 4 weeks before the first day predict part of their plays "
             "during; taking that out narrows the interval of the lift in plays per member. Post-stratification: "
             "each variant's rate as the mix of its rates within segments, weighted by the segments' shares. The "
             "unadjusted result stays beside either.")
    if not kind or review.control is None:
        return
    if kind == "cuped":
        cuped_section(ws, review, sel, label)
        return
    by_segment = results_data.by_segment(overview, sel, kind)
    if by_segment.empty:
        st.caption(f"No {md(kind)} data in this selection.")
        return
    adjusted = report.post_stratified(review, by_segment)
    if adjusted.empty:
        st.caption("Nothing to adjust: no variant could be compared with the control.")
        return
    shown = adjusted.table.assign(variant=[label(v) for v in adjusted.table["variant_id"]])
    shown = shown[["variant", *[c for c in shown.columns if c not in ("variant", "variant_id")]]]
    grid(shown, hide_index=True, width="stretch", column_config={
        **{c: rate_column() for c in
           ("lift", "lift low", "lift high", "adjusted lift", "adjusted low", "adjusted high")},
        "variance reduction": rate_column(help="How much smaller the lift's variance is")})
    notes = [f"{len(adjusted.strata)} {kind} segments"]
    if adjusted.pooled:
        notes.append(f"{len(adjusted.pooled)} small ones pooled into one")
    if adjusted.left_out_share:
        notes.append(f"{numbers.rate(adjusted.left_out_share)} of impressions left out (segments an arm never saw)")
    st.caption(f"Post-stratified by {md(kind)} ({md_list(notes, '; ')}), under the page's method: "
               f"{md(review.inference.describe(review.confidence))}.")
    st.download_button("Download adjusted CSV", export.csv_bytes(adjusted.table), f"results-adjusted-by-{kind}.csv",
                       "text/csv", key="results_adjusted_csv",
                       help="Per variant: the unadjusted and post-stratified lift with interval bounds, raw numbers")


def cuped_section(ws: Workspace, review: report.VariantReport, sel: queries.Selection,
                  label: Callable[[int], str]) -> None:
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
    grid(shown, hide_index=True, width="stretch", column_config={
        **{c: rate_column() for c in
           ("lift", "lift low", "lift high", "adjusted lift", "adjusted low", "adjusted high")},
        "plays per member": st.column_config.NumberColumn(format="%.3f"),
        "variance reduction": rate_column(help="How much smaller the lift's variance is")})
    notes = [f"{totals.members:,} members, {totals.with_history:,} with plays in the {totals.pre_days} days before"]
    if totals.mixed_members:
        notes.append(f"{totals.mixed_members:,} who met more than one variant left out (CUPED needs each member "
                     "in one arm)")
    st.caption(f"CUPED on quality plays per member ({md_list(notes, '; ')}), under the page's method: "
               f"{md(review.inference.describe(review.confidence))}.")
    st.download_button("Download CUPED CSV", export.csv_bytes(table), "results-cuped.csv", "text/csv",
                       key="results_cuped_csv",
                       help="Per variant: members, plays per member, the unadjusted and CUPED lift with bounds")


def duration_section(ws: Workspace, sel: queries.Selection, confidence: float, label: Callable[[int], str],
                     totals: pd.DataFrame, review: report.VariantReport, shown: list[str]) -> None:
    """How long plays last per variant (quantiles of play seconds with exact intervals) and how
    many plays are abandoned early, as ``shown`` asks ("Play durations", "Abandonment")."""
    if "Abandonment" in shown:
        abandonment_section(ws, sel, totals, review, label)
    if "Play durations" in shown:
        _quantile_section(ws, sel, confidence, label)


def _quantile_section(ws: Workspace, sel: queries.Selection, confidence: float, label: Callable[[int], str]) -> None:
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


def clickbait_note(totals: pd.DataFrame, review: report.VariantReport, label: Callable[[int], str]) -> None:
    """Variants whose take rate beats the control while their quality take rate does not."""
    flags = creative_flags(totals, pd.DataFrame(columns=["variant_id", "abandoned", "timed"]), review.control,
                           review.inference, review.confidence)
    if flags:
        st.warning("Possibly misleading artwork — " + "; ".join(
            f"{md(label(f.variant_id))}: {md(f.reason)}" for f in flags) + ". **Charts → Abandonment** shows "
            "how soon its plays end.")


def flags_across_section(ws: Workspace) -> None:
    """Every title's possibly misleading artwork (clickbait, abandoned more), real traffic."""
    from artdash import catalog

    st.markdown("**Possibly misleading artwork** across every title (last 30 days of real traffic, each against "
                "its title's editor's pick, else its most shown image; fixed horizon)")
    seconds = st.number_input("A play shorter than this many seconds was abandoned", min_value=10,
                              max_value=int(MAX_ABANDON_SECONDS), value=int(ABANDON_SECONDS), step=10,
                              key="insights_abandon_seconds")
    with st.spinner("Reading play durations from the log…"):
        flags = flags_across_titles(ws, seconds)
    if not flags:
        st.caption("None flagged: no image wins the click without the watch, none is abandoned significantly more "
                   "often than its title's others.")
        return
    with ws.session() as s:
        titles = dict(catalog.title_choices(s))
    frame = flags_frame(flags).assign(title=lambda f: [titles.get(int(t), f"#{t}") for t in f["title_id"]])
    grid(frame[["title", "variant", "flag", "why"]], hide_index=True, width="stretch",
                 column_config={"why": st.column_config.TextColumn(width="large")})
    st.download_button("Download flags CSV", export.csv_bytes(frame), "creative-flags.csv", "text/csv",
                       key="insights_flags_csv", help="One row per flagged image: title, variant, flag, why")


def abandonment_section(ws: Workspace, sel: queries.Selection, totals: pd.DataFrame, review: report.VariantReport,
                        label: Callable[[int], str]) -> None:
    """Per variant, the share of plays abandoned within a threshold, and the flags."""
    seconds = st.number_input("A play shorter than this many seconds was abandoned", min_value=10,
                              max_value=int(MAX_ABANDON_SECONDS), value=int(ABANDON_SECONDS), step=10,
                              key="results_abandon_seconds")
    with st.spinner("Reading play durations from the log…"):
        table, flags = title_flags(ws, sel, totals, review.control, review.inference, review.confidence, seconds)
    if not int(table["timed"].sum()) if len(table) else True:
        st.caption("No play in this selection has a duration (a log of clicks): abandonment cannot be read.")
        return
    for f in flags:
        st.warning(f"{md(label(f.variant_id))} — **{md(f.kind)}**: {md(f.reason)}.")
    shown = table.assign(variant=[label(v) for v in table["variant_id"]],
                         interval=[numbers.rate_range(lo, hi) for lo, hi in zip(table["low"], table["high"])])
    grid(shown[["variant", "plays", "timed", "abandoned", "rate", "interval"]], hide_index=True,
                 width="stretch", column_config={"rate": rate_column(help="Abandoned plays over plays with a duration"),
                                                 "plays": count_column(), "timed": count_column(
                                                     help="Plays with a duration (the others cannot be judged)"),
                                                 "abandoned": count_column()})
    st.caption(f"Abandoned: a play shorter than {seconds:g} s, among plays with a duration; "
               f"{review.confidence:.0%} Wilson intervals. Flagged when a variant's abandonment is significantly "
               "above the title's other images together (Holm-adjusted).")
    st.download_button("Download abandonment CSV", export.csv_bytes(table), "results-abandonment.csv", "text/csv",
                       key="results_abandon_csv", help="Per variant: plays, plays with a duration, abandoned plays, "
                                                       "the rate and its interval bounds, the threshold")


def cells_section(ws: Workspace, sel: queries.Selection, method: inference.Method, confidence: float,
                  metric: Metric = QUALITY) -> None:
    """An experiment whose cells are policies read as an A/B test of its cells (on demand):
    each cell's rate and lift over the control cell across all titles and for this title."""
    if sel.experiment is None or not st.toggle("Compare the cells", key=f"results_cells_{sel.experiment}",
                                               help="Read the experiment's cells (e.g. uniform vs Thompson) as "
                                                    "arms: members are the unit, the page's method and level."):
        return
    try:
        readout, frame = cell_comparison(ws, sel.experiment, method, confidence, day_from=sel.day_from,
                                         day_to=sel.day_to, metric=metric.option)
    except ArtdashError as exc:
        st.info(md(exc))
        return
    st.caption(f"Lift of each cell over **{md(readout.control)}** (the control cell), {md(metric.count_name)} per "
               "impression, "
               f"members as the unit; {md(readout.method.describe(confidence))}.")
    if readout.srm is not None:
        if readout.srm.mismatch:
            st.error(f"Members' split does not match the {md(readout.split_name)}: {md(readout.srm.reason)}.")
        else:
            st.caption(f"Members' split matches the {md(readout.split_name)} (χ² p = {readout.srm.p_value:.2f}; below "
                       f"{SRM_P_THRESHOLD:g} would mean assignment or logging is broken).")
    shown = frame[frame["title_id"].isna() | (frame["title_id"] == sel.title_id)]
    shown = shown.assign(**{c: shown[c].astype(float) * 100 for c in ("lift", "lift low", "lift high")})
    grid(shown[["title", "cell", "rate", "lift", "lift low", "lift high", "members", "impressions", "note"]],
                 hide_index=True, width="stretch", column_config={
                     "rate": rate_column(), "members": count_column(), "impressions": count_column(),
                     **{c: st.column_config.NumberColumn(c, format="%+.2f%%") for c in ("lift", "lift low",
                                                                                        "lift high")}})
    st.download_button("Download cells CSV", export.csv_bytes(frame), f"results-cells-{sel.experiment}.csv",
                       "text/csv", key="results_cells_csv", icon=":material/download:",
                       help="Every cell across all titles and per title: members, impressions, rate, lift over the "
                            "control cell with its interval and p-value, the method.")
