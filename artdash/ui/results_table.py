"""The Results page's variant table: decision columns first (quality take rate, lift,
significance, P(best), the daily trend), raw counts after, each variant with its thumbnail."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from artdash import numbers
from artdash.catalog import VariantView
from artdash.media.store import MediaStore
from artdash.results.report import VariantReport
from artdash.stats.inference import BAYESIAN, BH, HOLM, NO_CORRECTION
from artdash.ui.numbers import count_column, grid, progress_rate_column, rate_column


def variant_label(variants: Mapping[int, VariantView], variant_id: int) -> str:
    """``#12 Couple at dusk`` (or ``#12`` for a variant no longer in the catalog)."""
    v = variants.get(variant_id)
    return f"#{variant_id} {v.label}" if v else f"#{variant_id}"


def thumbnail_uri(store: MediaStore, variants: Mapping[int, VariantView], variant_id: int) -> str | None:
    """The variant's thumbnail as a data URI for an image column (None when it has none)."""
    v = variants.get(variant_id)
    path = store.thumbnail_path(v.sha256) if v else None
    if path is None or not path.is_file():
        return None
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def p_label(review: VariantReport) -> str:
    """The p-value column's name: which correction it carries."""
    return {HOLM: "p (Holm)", BH: "p (BH)", NO_CORRECTION: "p"}[review.inference.correction]


# What a reviewer reads first, in this order (five to seven columns fit at 1024 px); the rest is one
# toggle away ("All columns"). The method's evidence (p-value, or chance to win and risk) and the
# note follow these.
FIRST_COLUMNS = ["image", "variant", "quality take rate", "lift vs control", "impressions", "detectable lift",
                 "significant"]


def review_table(review: VariantReport, trend: dict[int, list[float]], variants: Mapping[int, VariantView],
                 store: MediaStore) -> pd.DataFrame:
    """Draw the variant table (decision columns first: quality take rate, lift, significance,
    P(best), the trend; raw counts after) and return what it shows."""
    rows = review.rows
    bayesian = review.inference.kind == BAYESIAN
    evidence = {"chance to win": [None if r.chance_to_win is None else r.chance_to_win for r in rows],
                "risk": [numbers.rate(r.risk) for r in rows]} if bayesian else {
        p_label(review): [numbers.p_value(r.p_adjusted) for r in rows]}
    # Decision columns first, so they stay in view at 1024 px: rate, lift, significance, P(best).
    shown = pd.DataFrame({
        "image": [thumbnail_uri(store, variants, r.variant_id) for r in rows],
        "variant": [variant_label(variants, r.variant_id) for r in rows],
        "quality take rate": pd.to_numeric([r.quality.rate for r in rows], errors="coerce"),
        "lift vs control": ["control" if r.is_control else numbers.change(r.lift) for r in rows],
        "significant": [r.significant for r in rows], "P(best)": [r.p_best for r in rows],
        **evidence,
        "per day": [trend.get(r.variant_id, []) for r in rows],
        "quality CI": [numbers.rate_range(r.quality.interval.low, r.quality.interval.high) for r in rows],
        "lift CI": ["control" if r.is_control else numbers.change_range(r.lift_low, r.lift_high) for r in rows],
        "impressions": [r.impressions for r in rows],
        "detectable lift": [numbers.rate(r.detectable_lift) for r in rows],
        "take rate": pd.to_numeric([r.take.rate for r in rows], errors="coerce"),
        "take rate CI": [numbers.rate_range(r.take.interval.low, r.take.interval.high) for r in rows],
        "plays": [r.plays for r in rows],
        "status": [variants[r.variant_id].status if r.variant_id in variants else "?" for r in rows],
        "note": [r.note for r in rows],
    })
    everything = st.toggle("All columns", key="results_all_columns",
                           help="Off: what a decision needs — rate, lift, significance, impressions, the detectable "
                                "lift, the note. On: also P(best), the daily trend, every interval, the take rate, "
                                "plays and status.")
    first = [review.metric.rate_name if c == "quality take rate" else c for c in FIRST_COLUMNS]
    order = list(shown.columns) if everything else first + list(evidence) + ["note"]
    grid(shown, hide_index=True, width="stretch", row_height=64, column_order=order, column_config={
        "image": st.column_config.ImageColumn("image", width="small"),
        "variant": st.column_config.TextColumn(width="medium"),
        "note": st.column_config.TextColumn(width="large"),
        "per day": st.column_config.LineChartColumn(
            width="small", y_min=0.0, help=f"{review.metric.rate_name.capitalize()}, one point per day of the "
                                           "selection; **Charts** below adds intervals."),
        "take rate": rate_column(), "quality take rate": rate_column(),
        "impressions": count_column(), "plays": count_column(),
        "detectable lift": st.column_config.TextColumn(
            help="The smallest lift over the control this comparison would detect 80% of the "
                                   "time with the impressions so far (before the Holm adjustment). A true "
                                   "difference smaller than this can easily show as not significant."),
        "P(best)": progress_rate_column(),
        "chance to win": rate_column(help="Posterior probability that its lift over the control is above zero"),
        "risk": st.column_config.TextColumn(help="Expected loss (relative quality take rate) if this variant is "
                                                 "chosen and it is in fact worse than the control"),
        "significant": st.column_config.CheckboxColumn(
            width="small", help="Its interval excludes no change (the same test as its p-value)"),
    })
    return shown
