"""Lab tables as people read them (the page and the CLI show the same). Saved runs hold data
— policy keys and numbers —; labels and formatting are added here, when they are shown."""

from __future__ import annotations

import pandas as pd

from artdash import numbers
from artdash.policy.registry import LABELS


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each policy's label beside its key (``label``), from the registry."""
    if frame.empty or "policy" not in frame:
        return frame
    labels = frame["policy"].map(lambda p: LABELS.get(str(p), str(p)))
    if "as_served" in frame:     # the stored version the service serves, beside the lab's own training
        served = frame["as_served"].notna()
        labels = labels.where(~served, [f"{label}{f' v{int(v)}' if v else ''} — as served"
                                        for label, v in zip(labels, frame["as_served"].fillna(0))])
    return frame.assign(label=labels)


def _pct(value) -> str:
    return numbers.rate(None if value is None or pd.isna(value) else float(value))


def _with_interval(value, low, high) -> str:
    """``12.34% (11.00% – 13.50%)``: the rate and its interval, written as Results writes one."""
    interval = numbers.rate_range(None if pd.isna(low) else float(low), None if pd.isna(high) else float(high))
    return f"{_pct(value)} ({interval})" if interval else _pct(value)


def summary_for_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Online results: one row per policy, rates with their 95% intervals."""
    if summary.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "policy": with_labels(summary)["label"],
        "impressions": summary["impressions"].map("{:,}".format),
        "take rate": [_with_interval(r, lo, hi)
                      for r, lo, hi in zip(summary["take rate"], summary["take low"], summary["take high"])],
        "quality take rate": [_with_interval(r, lo, hi) for r, lo, hi in
                              zip(summary["quality take rate"], summary["quality low"], summary["quality high"])],
        "regret per 1k": summary["regret per 1k"].map("{:.1f}".format),
        "of the oracle": summary["oracle fraction"].map(_pct),
    })


def offline_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """Offline estimates: one row per (policy, estimator), value with interval, ESS, caveats."""
    if table.empty:
        return pd.DataFrame()
    out = pd.DataFrame({
        "policy": with_labels(table)["label"], "estimator": table["estimator"],
        "estimate": [("withheld" if pd.isna(v) else _with_interval(v, lo, hi))
                     for v, lo, hi in zip(table["value"], table["low"], table["high"])],
        "effective sample": table["effective sample"].map(lambda x: "—" if pd.isna(x) else f"{x:,.0f}"),
    })
    if "truth" in table and table["truth"].notna().any():
        out["true value"] = table["truth"].map(_pct)
    out["note"] = table["note"].fillna("")
    return out


def ranking(table: pd.DataFrame, estimator: str = "DR") -> pd.DataFrame:
    """Policies ranked by one estimator (withheld estimates last)."""
    rows = table[table["estimator"] == estimator]
    return rows.sort_values("value", ascending=False, na_position="last")

