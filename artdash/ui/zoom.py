"""A large original at full resolution, to zoom into (scroll or the + / − buttons) and pan (drag)."""

from __future__ import annotations

import base64
import io

import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from artdash.ui import charts

MAX_INLINE_BYTES = 12 << 20     # larger files are shown as a 4096 px rendition
RENDITION_SIDE = 4096


def _source(data: bytes, media_type: str, width: int) -> tuple[str, float]:
    """A data URL of the picture (or of a rendition, if the file is large) and the original
    pixels per pixel of what it holds."""
    scale = 1.0
    if len(data) > MAX_INLINE_BYTES:
        with Image.open(io.BytesIO(data)) as im:
            picture = im.convert("RGB")
        picture.thumbnail((RENDITION_SIDE, RENDITION_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=90)
        data, media_type, scale = buffer.getvalue(), "image/jpeg", width / picture.width
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}", scale


def zoomable(data: bytes, width: int, height: int, media_type: str, key: str) -> None:
    """The picture in a plotly frame (in its own pixels) that zooms and pans."""
    source, scale = _source(data, media_type, width)   # a rendition is stretched over the original's pixels
    figure = go.Figure(go.Image(source=source, x0=0, y0=0, dx=scale, dy=scale))
    figure.update_xaxes(visible=False, range=[0, width])
    figure.update_yaxes(visible=False, range=[height, 0], scaleanchor="x")
    figure.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, dragmode="pan", height=640)
    st.plotly_chart(charts.plain(figure), key=key, config={"scrollZoom": True, "displaylogo": False,
                                            "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]})
    st.caption(f"{width}×{height}: scroll or use + / − to zoom, drag to pan, double-click to fit.")
