"""Figures the pages draw (plotly, no streamlit): rates with their intervals, learning curves.

Every figure takes its data as a table and the labels to show; none computes a statistic
(those come from :mod:`artdash.results.report` and the lab).
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from artdash.numbers import AXIS_RATE_D3, RATE_D3
from artdash.policy import registry

# A horizontal legend at the figure's foot, under the x axis's ticks and title (a legend placed
# in paper units below the plot sat on the axis title when the figure was short or narrow).
LEGEND_BELOW = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "title": None}

# One colour per variant in every Results chart (by the variant's place among the selection's ids).
VARIANT_PALETTE = ("#8ab4f8", "#f6c343", "#f28b82", "#81c995", "#c58af9", "#fcad70", "#78d9ec", "#ff8bcb")


# --- typed text is text in figures too -------------------------------------------------------
# Plotly draws titles, tick labels, legend entries and hover text through its own small HTML
# (<a href>, <b>, <br> …): a persona called "<a href=…>" would be a link in the chart. Every
# string that came from data is HTML-escaped (Plotly turns &lt; back into "<" on screen).

_TRACE_TEXT = ("x", "y", "text", "hovertext", "name", "labels", "parents", "ids")
_LAYOUT_TEXT = ("categoryarray", "ticktext")


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, np.ndarray) and value.dtype.kind not in "OUS":     # numbers and times: nothing to do
        return value
    if isinstance(value, tuple | list | np.ndarray) and any(isinstance(v, str) for v in np.ravel(value)):
        escaped = np.vectorize(lambda v: html.escape(v, quote=False) if isinstance(v, str) else v, otypes=[object])
        return escaped(np.asarray(value, dtype=object))
    return value


_TEMPLATE_TAGS = re.compile(r"(<br>|<extra>|</extra>)")


def _template(template: str) -> str:
    """A hover template with the text between its line breaks escaped (Plotly Express writes
    axis labels into it); its own ``<br>``/``<extra>`` and ``%{…}`` fields stay."""
    return "".join(part if _TEMPLATE_TAGS.fullmatch(part) else html.escape(part, quote=False)
                   for part in _TEMPLATE_TAGS.split(template))


def _title(owner: Any) -> None:
    title = getattr(owner, "title", None)
    if title is None:
        return
    if title.text:
        title.text = _escaped(title.text)
    subtitle = getattr(title, "subtitle", None)
    if subtitle is not None and subtitle.text:
        subtitle.text = _escaped(subtitle.text)


def plain(figure: go.Figure) -> go.Figure:
    """``figure`` with every text from data (titles, axis and legend titles, category values,
    tick texts, trace names, hover text, images placed at a category) escaped for Plotly's
    HTML; returns it. Escaping twice is a no-op (the figure remembers)."""
    if getattr(figure, "_plain", False):
        return figure
    figure._plain = True
    for trace in figure.data:
        for key in _TRACE_TEXT:
            if key in trace and trace[key] is not None:
                trace[key] = _escaped(trace[key])
        if "hovertemplate" in trace and isinstance(trace.hovertemplate, str):
            trace.hovertemplate = _template(trace.hovertemplate)
    layout = figure.layout
    _title(layout)
    _title(layout.legend)
    if layout.coloraxis is not None and layout.coloraxis.colorbar is not None:
        _title(layout.coloraxis.colorbar)
    for axis_name in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        axis = layout[axis_name]
        _title(axis)
        for key in _LAYOUT_TEXT:
            if axis[key] is not None:
                axis[key] = _escaped(axis[key])
    for note in layout.annotations or ():
        note.text = _escaped(note.text)
    for image in layout.images or ():
        image.x, image.y = _escaped(image.x), _escaped(image.y)
    return figure


def plain_text(build: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """A figure builder whose figure comes back through :func:`plain`."""
    @functools.wraps(build)
    def built(*args: Any, **kwargs: Any) -> go.Figure:
        return plain(build(*args, **kwargs))

    built.plain_text = True  # type: ignore[attr-defined]
    return built


def variant_colour(variant_id: int, variant_ids: list[int]) -> str:
    """The colour of ``variant_id`` among ``variant_ids`` (the same in every chart of a review)."""
    ordered = sorted(set(variant_ids))
    return VARIANT_PALETTE[ordered.index(variant_id) % len(VARIANT_PALETTE)] if variant_id in ordered else "#9aa0a6"


# One colour per policy in every lab chart (the registry's).
POLICY_COLOURS = registry.COLOURS


@plain_text
def take_rate_over_time(bands: pd.DataFrame, label: Callable[[int], str], confidence: float,
                        cumulative: bool) -> go.Figure:
    """Each variant's quality take rate per day (or cumulative), with its interval as a band."""
    prefix, name = ("cum ", "Cumulative") if cumulative else ("", "Daily")
    figure = go.Figure()
    ids = [int(v) for v in bands["variant_id"].unique()]
    for vid, rows in bands.groupby("variant_id"):
        colour = variant_colour(int(vid), ids)
        x = list(rows["date"]) + list(rows["date"])[::-1]
        figure.add_trace(go.Scatter(x=x, y=list(rows[f"{prefix}high"]) + list(rows[f"{prefix}low"])[::-1],
                                    fill="toself", line={"width": 0}, opacity=0.2, showlegend=False,
                                    hoverinfo="skip", name=label(int(vid)), fillcolor=colour))
        figure.add_trace(go.Scatter(x=rows["date"], y=rows[f"{prefix}rate"], mode="lines", name=label(int(vid)),
                                    line={"color": colour}))
    figure.update_layout(title=f"{name} quality take rate with {confidence:.0%} intervals",
                         yaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3}, height=360,
                         margin={"t": 50, "b": 30})
    return figure


@plain_text
def take_rate_by_segment(rates: pd.DataFrame, label: Callable[[int], str], kind: str) -> go.Figure:
    """Grouped bars: each variant's quality take rate per segment value, with error bars
    (``rates`` from :func:`artdash.results.report.segment_rates`)."""
    figure = go.Figure()
    ids = [int(v) for v in rates["variant_id"].unique()]
    for vid, rows in rates.groupby("variant_id"):
        figure.add_trace(go.Bar(x=rows["segment"], y=rows["rate"], name=label(int(vid)),
                                marker={"color": variant_colour(int(vid), ids)}, error_y={
            "type": "data", "symmetric": False, "array": rows["high"] - rows["rate"],
            "arrayminus": rows["rate"] - rows["low"]}))
    figure.update_layout(barmode="group", yaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3}, height=360,
                         title=f"Quality take rate by {kind} (95% intervals)", margin={"t": 50, "b": 30})
    return figure


@plain_text
def taste_profile(profile: pd.DataFrame) -> go.Figure:
    """A persona's affinity per tag (``tag``, ``facet``, ``affinity``), bars coloured by facet,
    with the colours' legend at the figure's foot (under the axis, never over it)."""
    import plotly.express as px

    figure = px.bar(profile.sort_values("affinity"), x="affinity", y="tag", color="facet", orientation="h",
                    range_x=[-1, 1], title="Taste profile", height=max(320, 24 * len(profile) + 220))
    figure.update_layout(showlegend=True, legend=LEGEND_BELOW, yaxis_title=None,
                         margin={"l": 10, "r": 10, "t": 50, "b": 90})
    return figure


@plain_text
def take_rate_by_tag(insights: pd.DataFrame) -> go.Figure:
    """Horizontal bars: the quality take rate of the variants carrying each tag, with intervals."""
    figure = go.Figure(go.Bar(
        y=insights["tag"], x=insights["quality take rate"], orientation="h",
        error_x={"type": "data", "symmetric": False,
                 "array": insights["high"] - insights["quality take rate"],
                 "arrayminus": insights["quality take rate"] - insights["low"]}))
    figure.update_layout(xaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3}, height=max(300, 28 * len(insights) + 100),
                         title="Quality take rate by image tag (95% intervals)", margin={"t": 50, "b": 30})
    return figure


@plain_text
def learning_curves(curves: pd.DataFrame, column: str, title: str, percent: bool,
                    labels: Mapping[str, str]) -> go.Figure:
    """One line per policy over the impressions of a lab run (its colour the same everywhere)."""
    fig = go.Figure()
    for name, rows in curves.groupby("policy", sort=False):
        fig.add_trace(go.Scatter(x=rows["impressions"], y=rows[column], mode="lines", name=labels.get(name, name),
                                 line={"color": POLICY_COLOURS.get(str(name)), "width": 3}))
    fig.update_layout(title=title, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="impressions", legend=LEGEND_BELOW)
    if percent:
        fig.update_yaxes(tickformat=AXIS_RATE_D3, hoverformat=RATE_D3)
    return fig


@plain_text
def estimates_with_intervals(rows: pd.DataFrame, value: str, low: str, high: str, title: str,
                             truth: str | None = None) -> go.Figure:
    """One marker per row (``label``) with its interval; with ``truth``, the true value beside it."""
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
                      xaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3}, legend=LEGEND_BELOW)
    fig.update_yaxes(autorange="reversed")
    return fig


# The calibration history's sources, in the order they come before a promotion.
SOURCE_COLOURS = {"lab (simulated)": "#c58af9", "offline (on a log)": "#8ab4f8", "shadow (live traffic)": "#81c995"}


@plain_text
def calibration_history(table: pd.DataFrame, confidence: float = 0.95) -> go.Figure:
    """One row per promotion (newest on top): each source's estimate of the promoted policy's
    quality take rate with its interval, and the realised rate (yellow) with its own."""
    rows = table.assign(label=[f"#{p} {name} ({at:%Y-%m-%d})" for p, name, at in
                               zip(table["promotion"], table["policy"], pd.to_datetime(table["promoted at"]))])
    order = list(dict.fromkeys(rows["label"]))
    fig = go.Figure()
    for source, colour in SOURCE_COLOURS.items():
        part = rows[rows["source"] == source]
        if part.empty:
            continue
        value = part["estimate"].astype(float)
        fig.add_trace(go.Scatter(
            x=value, y=part["label"], mode="markers", name=f"{source} estimate", offsetgroup=source, orientation="h",
            marker={"size": 11, "color": colour},
            error_x={"type": "data", "symmetric": False, "array": part["estimate high"].astype(float) - value,
                     "arrayminus": value - part["estimate low"].astype(float), "color": colour}))
    came = rows.drop_duplicates("promotion")
    came = came[came["realised rate"].notna()]
    if not came.empty:
        rate = came["realised rate"].astype(float)
        fig.add_trace(go.Scatter(
            x=rate, y=came["label"], mode="markers", name="realised (live, not held out)", offsetgroup="realised",
            orientation="h", marker={"symbol": "line-ns-open", "size": 22, "color": "#f6c343", "line": {"width": 3}},
            error_x={"type": "data", "symmetric": False, "array": came["realised high"].astype(float) - rate,
                     "arrayminus": rate - came["realised low"].astype(float), "color": "#f6c343", "thickness": 1}))
    ends = pd.concat([rows[c] for c in ("estimate low", "estimate high", "estimate", "realised low", "realised high",
                                        "realised rate")]).astype(float).dropna()
    if len(ends):             # the intervals' span (grouped markers would otherwise stretch the axis to 0)
        pad = max(float(ends.max() - ends.min()) * 0.08, 0.002)
        fig.update_xaxes(range=[max(float(ends.min()) - pad, 0.0), min(float(ends.max()) + pad, 1.0)])
    fig.update_layout(title={"text": "Expected vs realised quality take rate",
                             "subtitle": {"text": f"{confidence:.0%} intervals"}},
                      height=120 + 28 * (len(SOURCE_COLOURS) + 1) * len(order),
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, scattermode="group", scattergap=0.3, xaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3},
                      yaxis={"categoryorder": "array", "categoryarray": order, "autorange": "reversed"},
                      legend=LEGEND_BELOW)
    return fig


@plain_text
def runs_side_by_side(both: pd.DataFrame) -> go.Figure:
    """Grouped bars: each policy's quality take rate in each of several lab runs, with intervals."""
    fig = go.Figure()
    for run_title, rows in both.groupby("run", sort=False):
        fig.add_trace(go.Bar(x=rows["label"], y=rows["quality take rate"], name=str(run_title),
                             error_y={"type": "data", "symmetric": False,
                                      "array": rows["quality high"] - rows["quality take rate"],
                                      "arrayminus": rows["quality take rate"] - rows["quality low"]}))
    fig.update_layout(barmode="group", title="Quality take rate by run (95% intervals)", height=380,
                      yaxis={"tickformat": AXIS_RATE_D3, "hoverformat": RATE_D3}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def time_axis(at: pd.Series, bucket_seconds: int) -> dict:
    """An x axis over buckets of ``bucket_seconds`` starting at ``at``: at least a dozen buckets
    wide (one bucket is a bar, not the whole plot), ticks at whole clock times."""
    if at.empty:
        return {}
    width = pd.Timedelta(seconds=bucket_seconds)
    first, last = pd.Timestamp(at.min()), pd.Timestamp(at.max()) + width
    spare = max(width * 12 - (last - first), pd.Timedelta(0)) / 2
    fmt = "%H:%M:%S" if bucket_seconds < 60 else "%H:%M" if bucket_seconds < 6 * 3600 else "%b %d"
    return {"range": [first - spare, last + spare], "tickformat": fmt, "hoverformat": "%Y-%m-%d %H:%M:%S"}


def _bar_width(bucket_seconds: int) -> float:
    return bucket_seconds * 1000 * 0.9          # milliseconds on a date axis


@plain_text
def live_decisions(per_bucket: pd.DataFrame, bucket_seconds: int) -> go.Figure:
    """The service's decisions per second over time, with the share whose outcome arrived."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=per_bucket["at"] + pd.Timedelta(seconds=bucket_seconds / 2),
                         y=per_bucket["decisions per second"], name="decisions per second",
                         width=_bar_width(bucket_seconds), marker={"color": "#8ab4f8"}))
    joined = per_bucket["outcomes"] / per_bucket["decisions"].where(per_bucket["decisions"] > 0)
    fig.add_trace(go.Scatter(x=per_bucket["at"] + pd.Timedelta(seconds=bucket_seconds / 2), y=joined,
                             name="outcomes joined", yaxis="y2", mode="lines+markers", line={"color": "#f6c343"}))
    fig.update_layout(title={"text": "Decisions per second", "subtitle": {"text": f"per {_span(bucket_seconds)}; "
                                                                              "line: share with an outcome"}},
                      height=330, margin={"l": 10, "r": 10, "t": 75, "b": 10},
                      yaxis={"title": "decisions / s", "rangemode": "tozero"},
                      yaxis2={"title": "outcomes joined", "overlaying": "y", "side": "right", "tickformat": ".0%",
                              "hoverformat": RATE_D3, "range": [0, 1.05]},
                      xaxis=time_axis(per_bucket["at"], bucket_seconds), legend=LEGEND_BELOW)
    return fig


@plain_text
def versions_over_time(by_version: pd.DataFrame, bucket_seconds: int) -> go.Figure:
    """Which policy and trained version made the decisions, over time (stacked)."""
    fig = go.Figure()
    for (policy, version), rows in by_version.groupby(["policy", "version"], sort=True):
        fig.add_trace(go.Bar(x=rows["at"] + pd.Timedelta(seconds=bucket_seconds / 2), y=rows["decisions"],
                             width=_bar_width(bucket_seconds), name=f"{policy} v{version}"))
    fig.update_layout(barmode="stack", title={"text": "Decisions by policy version",
                                              "subtitle": {"text": f"per {_span(bucket_seconds)}"}},
                      height=330, margin={"l": 10, "r": 10, "t": 75, "b": 10}, yaxis={"title": "decisions"},
                      xaxis=time_axis(by_version["at"], bucket_seconds), legend=LEGEND_BELOW)
    return fig


@plain_text
def change_rate_distribution(distribution: pd.DataFrame) -> go.Figure:
    """How many members see their image of a title change how often."""
    fig = go.Figure(go.Bar(x=distribution["change rate"], y=distribution["members"], marker={"color": "#c58af9"}))
    fig.update_layout(title={"text": "Members by image change rate",
                             "subtitle": {"text": "changes per repeat showing of a title"}}, height=300,
                      margin={"l": 10, "r": 10, "t": 75, "b": 10},
                      yaxis={"title": "members"})
    return fig


def _span(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} s"


@plain_text
def play_duration_quantiles(table: pd.DataFrame, confidence: float) -> go.Figure:
    """Per variant: the quantiles of play seconds (one marker each) with their intervals."""
    fig = go.Figure()
    symbols = {0.25: "circle-open", 0.5: "diamond", 0.9: "triangle-up"}
    for q, rows in table.groupby("quantile", sort=True):
        values = rows["seconds"].astype(float) / 60
        high = rows["high"].astype(float) / 60
        low = rows["low"].astype(float) / 60
        fig.add_trace(go.Scatter(
            x=values, y=rows["variant"], mode="markers", name=f"{q:.0%} of plays shorter",
            marker={"size": 11, "symbol": symbols.get(float(q), "circle")},
            error_x={"type": "data", "symmetric": False, "array": (high - values).fillna(0),
                     "arrayminus": (values - low).fillna(0)}))
    fig.update_layout(title={"text": "How long plays last",
                             "subtitle": {"text": f"minutes, with {confidence:.0%} intervals"}},
                      height=170 + 50 * table["variant"].nunique(), margin={"l": 10, "r": 10, "t": 75, "b": 10},
                      xaxis={"title": "minutes of play", "rangemode": "tozero"}, legend=LEGEND_BELOW)
    fig.update_yaxes(autorange="reversed")
    return fig


THUMB_PIXELS = 90          # a win-matrix column's thumbnail, tall enough to tell images apart
MATRIX_ROW_PIXELS = 40     # per persona: every label shows, each cell's text is legible
MATRIX_COLUMNS = 6         # variants a win matrix shows at once (100.00% fits a cell at 1024 px); more are paged


@plain_text
def thumbnails_over_columns(figure: go.Figure, columns: Sequence[str], thumbnails: Sequence[bytes | None],
                            pixels: int = THUMB_PIXELS) -> go.Figure:
    """Each column's thumbnail (``pixels`` tall) above a heatmap's column (the win matrix): the
    images, not only their labels, say which variant each column is. Call it once the
    figure's height is set."""

    height = figure.layout.height or 450
    plot = height - (figure.layout.margin.b or 80)
    top = 60 + pixels + 10
    for i, data in enumerate(thumbnails):
        if not data:
            continue
        figure.add_layout_image(source=f"data:image/jpeg;base64,{base64.b64encode(data).decode()}",
                                xref="x", yref="paper", x=columns[i], y=1.02, sizex=0.9,
                                sizey=pixels / max(plot - top, 1), xanchor="center", yanchor="bottom", layer="above")
    figure.update_layout(margin={"t": top}, title={"y": 0.98, "yanchor": "top"})
    figure.update_xaxes(side="bottom")
    return figure


def matrix_pages(columns: Sequence[str], per_page: int = MATRIX_COLUMNS) -> list[list[str]]:
    """The win matrix's variant columns in pages of at most ``per_page``."""
    return [list(columns[i:i + per_page]) for i in range(0, len(columns), per_page)] or [[]]


@plain_text
def win_matrix(table: pd.DataFrame, columns: Sequence[str], title: str) -> go.Figure:
    """P(shown) per persona (rows: ``table``'s ``persona``) and variant (``columns``), sized by
    its rows so every persona's label and every cell's value (as the table writes it) shows."""
    z = table[list(columns)].astype(float).to_numpy()
    personas = table["persona"].astype(str).tolist()
    fig = go.Figure(go.Heatmap(
        z=z, x=list(columns), y=personas, zmin=0, zmax=1, colorscale="Reds", texttemplate="%{z:" + RATE_D3 + "}",
        textfont={"size": 11}, showscale=False,      # each cell says its value: the columns get the width
        hovertemplate="persona %{y}<br>variant %{x}<br>P(shown) %{z:" + RATE_D3 + "}<extra></extra>"))
    height = 60 + THUMB_PIXELS + 10 + MATRIX_ROW_PIXELS * max(len(personas), 1) + 80
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "b": 80},
                      xaxis={"title": {"text": "variant"}, "type": "category"},
                      yaxis={"title": {"text": "persona"}, "type": "category", "autorange": "reversed", "dtick": 1})
    return fig
