"""The Results page's variant table: decision columns first (quality take rate, lift,
significance, P(best), the daily trend), raw counts after, each variant with its thumbnail."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from artdash.catalog import VariantView
from artdash.media.store import MediaStore


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


def review_table(table: pd.DataFrame, control: int, trend: dict[int, list[float]],
                 variants: Mapping[int, VariantView], store: MediaStore) -> pd.DataFrame:
    """Draw the variant table (decision columns first: quality take rate, lift, significance,
    P(best), the trend; raw counts after) and return it."""
    shown = pd.DataFrame({
        "image": [thumbnail_uri(store, variants, v) for v in table["variant_id"]],
        "variant": [variant_label(variants, v) for v in table["variant_id"]],
        "quality take rate": table["quality take rate"],
        "quality CI": [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(table["quality low"], table["quality high"])],
        # The control's lift is 0 by definition (its interval column says "control").
        "lift vs control": pd.to_numeric(table["lift"], errors="coerce").where(table["variant_id"] != control, 0.0),
        "lift CI": ["control" if v == control else "" if pd.isna(lo) else f"{lo:+.1%} – {hi:+.1%}"
                    for v, lo, hi in zip(table["variant_id"], table["lift low"], table["lift high"])],
        "significant": table["significant"], "P(best)": table["P(best)"],
        "per day": [trend.get(v, []) for v in table["variant_id"]],
        "impressions": table["impressions"],
        "detectable lift": pd.to_numeric(table["detectable lift"], errors="coerce"),
        "p (Holm)": pd.to_numeric(table["p (Holm)"], errors="coerce"),
        "take rate": table["take rate"],
        "take rate CI": [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(table["take low"], table["take high"])],
        "plays": table["plays"],
        "status": [variants[v].status if v in variants else "?" for v in table["variant_id"]],
        "note": table["note"],
    })
    st.dataframe(shown, hide_index=True, width="stretch", row_height=64, column_config={
        "image": st.column_config.ImageColumn("image", width="small"),
        "significant": st.column_config.CheckboxColumn(width="small"),
        "per day": st.column_config.LineChartColumn(
            width="small", y_min=0.0, help="Quality take rate, one point per day of the selection; **Charts** below "
                                           "adds intervals."),
        "take rate": st.column_config.NumberColumn(format="percent"),
        "quality take rate": st.column_config.NumberColumn(format="percent"),
        "lift vs control": st.column_config.NumberColumn(format="percent"),
        "detectable lift": st.column_config.NumberColumn(
            format="percent", help="The smallest lift over the control this comparison would detect 80 % of the "
                                   "time with the impressions so far (before the Holm adjustment). A true "
                                   "difference smaller than this can easily show as not significant."),
        "p (Holm)": st.column_config.NumberColumn(format="%.4f"),
        "P(best)": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
    })
    return shown
