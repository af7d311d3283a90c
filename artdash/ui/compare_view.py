"""Title & artwork → Compare: a title's variants side by side — image, tags, what ArtDash read off
it, take rate with its interval — and how each is cropped in the product's slots."""

from __future__ import annotations

import io

import streamlit as st
from PIL import Image

from artdash import numbers, stats
from artdash.catalog import VariantView
from artdash.media.images.crops import SLOT_RATIOS, crop_around
from artdash.media.images.faces import shot_label
from artdash.media.images.overlay import cut
from artdash.ui import widgets
from artdash.ui.gallery import TitlePage
from artdash.ui.text import md

MAX_SIDE_BY_SIDE = 4


def render(page: TitlePage) -> None:
    """The Compare tab."""
    if len(page.variants) < 2:
        st.info("Compare needs two variants or more; upload or discover some first.")
        return
    active = [v.id for v in page.variants if v.status == "active"][:MAX_SIDE_BY_SIDE]
    default = active if len(active) >= 2 else [v.id for v in page.variants][:MAX_SIDE_BY_SIDE]
    chosen = st.multiselect("Variants side by side", [v.id for v in page.variants], default=default,
                            format_func=lambda i: page.variant_label.get(i, f"#{i}"), max_selections=MAX_SIDE_BY_SIDE,
                            key=widgets.labelled_key(f"compare-{page.title_id}", page.variant_label),
                            help=f"Up to {MAX_SIDE_BY_SIDE}; the active ones are chosen first.")
    by_id = {v.id: v for v in page.variants}
    if not chosen:
        st.caption("Choose the variants to compare.")
        return
    columns = st.columns(len(chosen), gap="medium")
    for column, variant_id in zip(columns, chosen):
        v = by_id[variant_id]
        with column:
            st.image(widgets.thumbnail_path(page.ws, v), width="stretch")
            st.markdown(f"**#{v.id} {md(v.label)}**  \n{widgets.STATUS_BADGES[v.status]} · {md(v.shape)} · "
                        f"{v.width}×{v.height}")
            if v.id in page.performance:
                quality, shown = page.performance[v.id]
                rate = stats.rate_estimate(quality, shown)
                st.metric("Quality take rate", numbers.rate(rate.rate),
                          help=f"95% interval {numbers.rate_range(rate.interval.low, rate.interval.high)} over {shown:,} "
                               "impressions of real traffic")
                st.caption(f"{numbers.rate_range(rate.interval.low, rate.interval.high)} over {shown:,} impressions")
            else:
                st.caption("No real traffic yet.")
            notes = v.annotations
            st.caption(f"{md(shot_label(notes.get('cast_shot', 'not annotated')))} · {md(notes.get('face_count', 0))} face(s) · "
                       f"{md(notes.get('placement', '—'))}  \nbrightness {v.brightness:.2f} · contrast {v.contrast:.2f} · "
                       f"colourful {v.colourfulness:.0f} · warmth {v.warmth:+.2f}")
            widgets.tag_chips(v.tags)
            _slots(page, v)


def _slots(page: TitlePage, v: VariantView) -> None:
    """The variant as each slot would cut it, around its focal point."""
    thumbnail = page.ws.store.thumbnail_path(v.sha256)
    if not thumbnail.is_file():
        return
    data = thumbnail.read_bytes()


    with Image.open(io.BytesIO(data)) as im:
        scale = im.width / v.width
    for name, ratio in SLOT_RATIOS.items():
        focal_x, focal_y = v.focal_point
        box = crop_around(v.width, v.height, focal_x, focal_y, ratio)
        scaled = (round(box.left * scale), round(box.top * scale), round(box.right * scale), round(box.bottom * scale))
        if box.size == (v.width, v.height):
            st.caption(f"{name} slot: the image as it is")
        else:
            st.image(cut(data, scaled, (320, 320)), caption=f"{name} slot ({box.size[0]}×{box.size[1]} cut around "
                                                           "the focal point)")
