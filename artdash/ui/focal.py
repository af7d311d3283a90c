"""The focal point of a picture, set by clicking on it (or with two sliders), and the crops it gives."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from artdash.media.images.crops import SLOT_RATIOS, crop_around
from artdash.media.images.overlay import annotated_picture, cut
from artdash.ui import charts

GRID = (40, 24)    # clickable points across and down the picture
PANE_WIDTH = 560
UPRIGHT_WIDTH = 380    # the picture pane's width at 1024 px: a square or portrait picture is never wider


def focal_picker(key: str, data: bytes, size: tuple[int, int], detected: tuple[float, float],
                 faces: Sequence[Sequence[float]] = (), ratios: dict[str, tuple[int, int]] | None = None
                 ) -> tuple[float, float]:
    """Show the picture (``data``: the image or a smaller rendition of it; ``size``: the image's own)
    with its faces, focal point and crops; a click on it (or the sliders) moves the focal point.
    Returns the focal point (fractions of width and height)."""
    ratios = ratios or SLOT_RATIOS
    x_key, y_key = f"{key}-x", f"{key}-y"
    st.session_state.setdefault(x_key, round(detected[0], 2))
    st.session_state.setdefault(y_key, round(detected[1], 2))
    chart_key = f"{key}-click"
    clicked = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points", [])
    if clicked and st.session_state.get(f"{key}-seen") != clicked:
        st.session_state[f"{key}-seen"] = clicked
        st.session_state[x_key] = round(min(max(float(clicked[0]["x"]), 0.0), 1.0), 2)
        st.session_state[y_key] = round(min(max(float(clicked[0]["y"]), 0.0), 1.0), 2)
    fx, fy = float(st.session_state[x_key]), float(st.session_state[y_key])
    width, height = size
    boxes = {name: crop_around(width, height, fx, fy, ratio) for name, ratio in ratios.items()}
    with Image.open(io.BytesIO(data)) as shown:   # ``data`` may be a smaller rendition (a thumbnail)
        scale = shown.width / width
    scaled = {name: (round(box.left * scale), round(box.top * scale), round(box.right * scale),
                     round(box.bottom * scale)) for name, box in boxes.items()}
    marked = annotated_picture(data, faces, (fx, fy), list(scaled.values()))
    figure = _clickable(marked)
    # A landscape frame fills the pane; a square or portrait one is drawn at its own size (a pane's
    # width at the pane's height padded a square picture with empty bands above and below it).
    upright = figure.layout.width is not None
    st.plotly_chart(charts.plain(figure), key=chart_key, on_select="rerun", selection_mode="points",
                    config={"displayModeBar": False}, width="content" if upright else "stretch")
    st.caption("Click the subject to move the focal point (red); blue frames are the crops, yellow boxes faces.")
    c1, c2 = st.columns(2)
    c1.slider("Focal point, across", 0.0, 1.0, step=0.01, key=x_key)
    c2.slider("Focal point, down", 0.0, 1.0, step=0.01, key=y_key)
    columns = st.columns(len(boxes))
    for column, (name, crop) in zip(columns, boxes.items()):
        whole = crop.size == (width, height)
        column.image(cut(data, scaled[name], (240, 240)),
                     caption=f"{name}: the whole picture (no crop needed)" if whole
                     else f"{name} crop ({crop.size[0]}×{crop.size[1]})")
    return fx, fy


def _clickable(jpeg: bytes) -> go.Figure:
    with Image.open(io.BytesIO(jpeg)) as im:
        picture = np.asarray(im.convert("RGB"))
    h, w = picture.shape[:2]
    xs, ys = np.meshgrid(np.linspace(0, 1, GRID[0]), np.linspace(0, 1, GRID[1]))
    figure = go.Figure(go.Image(z=picture, x0=0, dx=1 / w, y0=0, dy=1 / h, hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=xs.ravel(), y=ys.ravel(), mode="markers", hoverinfo="none",
                                marker={"size": max(8, 640 // GRID[0]), "opacity": 0.01, "color": "white"}))
    figure.update_xaxes(visible=False, range=[0, 1])
    figure.update_yaxes(visible=False, range=[1, 0], scaleanchor="x", scaleratio=h / w)
    figure.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False, dragmode=False,
                         clickmode="event+select")
    if h >= 0.9 * w:    # square or portrait: its own size, no wider than the narrowest pane (1024 px screens)
        width = min(UPRIGHT_WIDTH, round(PANE_WIDTH * w / h))
        figure.update_layout(width=width, height=round(width * h / w))
    else:               # landscape: as tall as the picture is at the pane's usual width
        figure.update_layout(height=round(PANE_WIDTH * h / w))
    return figure
