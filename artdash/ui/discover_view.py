"""Title & artwork → Discover: a video in, a contact sheet of candidate stills out; pick, adjust the
focal point, add as drafts with their crops."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import streamlit as st

from artdash import catalog
from artdash.discover import Candidate, ContactSheet, find_candidates
from artdash.discover.saved import clear_search, load_search, save_search
from artdash.errors import ArtdashError, Cancelled
from artdash.media.images.crops import SLOT_RATIOS, parse_ratio, soft_crops
from artdash.media.images.overlay import annotated_picture
from artdash.media.images.validate import MIN_SHORT_SIDE
from artdash.ui import state, widgets
from artdash.ui.focal import focal_picker
from artdash.ui.text import md
from artdash.workspace import Workspace

VIDEO_TYPES = ["mp4", "mov", "m4v", "mkv", "webm"]
RATIO_CHOICES = ["2:3", "16:9", "1:1", "4:5", "4:3"]
SHORTCUTS = "**j** / **k** next and previous still · **p** pick · **x** reject"


@dataclass
class Discovery:
    """One title's search: the sheet, the video's hash (and bytes, if it is to be kept), the editor's choices."""
    sheet: ContactSheet
    sha256: str
    keep: bytes | None
    current: int = 0
    picked: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)
    focal: dict[int, tuple[float, float]] = field(default_factory=dict)


def render(ws: Workspace, title_id: int, actor: str, can_edit: bool) -> None:
    """The Discover tab."""
    limits = ws.settings.video_limits
    st.markdown(f"Drop a trailer or an episode (**MP4, MOV, MKV or WebM**, up to {limits.max_bytes / 2**30:.1f} GB "
                f"and {limits.max_seconds / 60:.0f} minutes). ArtDash finds the shots, scores a few frames a "
                "second for sharpness, exposure and steadiness, boxes the faces, collapses near-duplicates and "
                "lists the best stills. Nothing leaves this machine.")
    _search_form(ws, title_id, can_edit)
    found: Discovery | None = st.session_state.get(state.DISCOVERY, {}).get(title_id)
    if found is None:
        kept = load_search(ws.settings.data_dir, title_id)    # the last search, across reloads and restarts
        if kept is not None:
            found = Discovery(kept[0], kept[1], None)
            st.session_state.setdefault(state.DISCOVERY, {})[title_id] = found
    if found is None:
        st.info("No video searched yet for this title. The stills you pick become **draft** variants that remember "
                "their frame, with crops for 2:3 box art and 16:9 billboards around their focal point.")
        if st.button("Try it on a demo trailer", key="demo-trailer", disabled=not can_edit,
                     help="A 20-second clip cut from this title's artwork (or the catalog's), searched like a "
                          "video you drop."):
            _demo(ws, title_id)
        return
    _sheet(ws, title_id, actor, can_edit, found)


def _search_form(ws: Workspace, title_id: int, can_edit: bool) -> None:
    limits = ws.settings.video_limits
    generation = st.session_state.get(state.DISCOVERY_GENERATION, 0)
    with st.form(f"discover-{title_id}-{generation}", clear_on_submit=True):
        video = st.file_uploader("Video", type=VIDEO_TYPES, key=f"video-{generation}",
                                 max_upload_size=max(1, int(limits.max_bytes / 2**20)))
        c1, c2 = st.columns(2)
        top = c1.number_input("Candidates to show", 4, 120, 24, step=4)
        keep = c2.checkbox("Keep the video in ArtDash", help="Off: only its name, length and hash are kept, "
                                                               "as the stills' origin.")
        submitted = st.form_submit_button("Find stills", type="primary", disabled=not can_edit)
    if not submitted:
        return
    if video is None:
        st.warning("Choose a video first (drag it onto the box above).")
        return
    cancel = st.empty()   # cleared when the search ends: a refusal left it on the page
    cancel.button("Cancel", key="discover-cancel", help="Stops the search; nothing is kept.")
    data = video.getvalue()
    bar = st.progress(0.0, text=f"Reading {video.name}…")
    try:
        sheet = find_candidates(data, video.name, top=int(top), limits=limits,
                                progress=lambda f: bar.progress(f, text=f"Searching {video.name}: {f:.0%}"))
    except Cancelled:
        cancel.empty()
        st.info("Search stopped; nothing was kept.")
        return
    except ArtdashError as exc:
        bar.empty()
        cancel.empty()
        st.error(f"{md(video.name)} cannot be searched — {md(exc)}")
        return
    bar.empty()
    found = Discovery(sheet, hashlib.sha256(data).hexdigest(), data if keep else None)
    save_search(ws.settings.data_dir, title_id, sheet, found.sha256)
    st.session_state.setdefault(state.DISCOVERY, {})[title_id] = found
    st.session_state[state.DISCOVERY_GENERATION] = generation + 1
    st.rerun()


def _view(found: Discovery, index: int) -> None:
    found.current = index


def _demo(ws: Workspace, title_id: int) -> None:
    from artdash.demo.trailer import demo_trailer

    with st.spinner("Cutting a demo trailer from the artwork…"):
        try:
            data = demo_trailer(ws, title_id)
        except ValueError as exc:
            st.warning(md(exc))
            return
        sheet = find_candidates(data, "demo-trailer.mp4", top=24, limits=ws.settings.video_limits)
    digest = hashlib.sha256(data).hexdigest()
    save_search(ws.settings.data_dir, title_id, sheet, digest)
    st.session_state.setdefault(state.DISCOVERY, {})[title_id] = Discovery(sheet, digest, None)
    st.rerun()


def _move(found: Discovery, step: int) -> None:
    found.current = (found.current + step) % len(found.sheet.candidates)


def _toggle(found: Discovery, index: int, into: str) -> None:
    chosen, other = (found.picked, found.rejected) if into == "pick" else (found.rejected, found.picked)
    if index in chosen:
        chosen.discard(index)
    else:
        chosen.add(index)
        other.discard(index)


def _sheet(ws: Workspace, title_id: int, actor: str, can_edit: bool, found: Discovery) -> None:
    sheet = found.sheet
    st.success(f"**{md(sheet.facts.file_name)}** — {md(sheet.facts.summary)}: {len(sheet.shot_starts)} shots, "
               f"{len(sheet.candidates)} candidate stills ({sheet.collapsed:,} near-duplicates collapsed).")
    if sheet.warning:
        st.warning(md(sheet.warning))
    if st.button("Clear this search", key=f"discover-clear-{title_id}", icon=":material/close:",
                 help="Kept until cleared — across reloads and restarts — so that a reload does not drop it (its "
                      "stills, never the video). Stills already added stay in the gallery."):
        clear_search(ws.settings.data_dir, title_id)
        st.session_state.get(state.DISCOVERY, {}).pop(title_id, None)
        st.rerun()
    if not sheet.candidates:
        st.info("No usable still was found (every frame was black, blank or blurred).")
        return
    found.current = min(found.current, len(sheet.candidates) - 1)
    picture_col, detail_col = st.columns([3, 2], gap="large")
    with detail_col:
        _detail(found)
        _add_form(ws, title_id, actor, can_edit, found)
    with picture_col:
        c = sheet.candidates[found.current]
        notes = c.annotations
        found.focal[found.current] = focal_picker(
            f"focal-{id(found)}-{found.current}", c.jpeg, (c.width, c.height),
            (notes.composition.focal_x, notes.composition.focal_y), [f.as_list() for f in notes.faces])
    st.divider()
    st.caption(f"All candidates, best first. Shortcuts: {SHORTCUTS}. Tick several to pick them at once.")
    with st.container(horizontal=True, gap="small"):
        for i, c in enumerate(sheet.candidates):
            _card(found, i, c)


def _card(found: Discovery, index: int, c: Candidate) -> None:
    notes = c.annotations
    current = index == found.current
    with st.container(border=True, width=190):
        st.image(annotated_picture(c.thumbnail, [f.as_list() for f in notes.faces], box=(320, 320)), width="stretch")
        mark = " :material/arrow_right_alt: **viewing**" if current else ""
        state_mark = " · :green[picked]" if index in found.picked else " · :red[rejected]" if index in found.rejected else ""
        st.markdown(f"**{index + 1:,}.** {md(c.timecode)}{mark}{state_mark}")
        st.caption(f"score {c.score:.2f} · {md(notes.cast_shot)} · {md(notes.composition.placement)}"
                   + (f" · +{c.duplicates:,} alike" if c.duplicates else ""))
        for flag in notes.flags:
            st.caption(f":material/visibility: {md(flag)}")
        key = f"pick-{id(found)}-{index}"
        st.session_state[key] = index in found.picked   # the keyboard and the detail pane pick too
        st.checkbox("Pick", key=key, on_change=_toggle, args=(found, index, "pick"))
        st.button("View", key=f"view-{index}", on_click=_view, args=(found, index), width="stretch",
                  type="primary" if current else "secondary")


def _detail(found: Discovery) -> None:
    c = found.sheet.candidates[found.current]
    notes = c.annotations
    q = notes.quality
    st.markdown(f"**Still {found.current + 1:,} of {len(found.sheet.candidates)}** — {md(c.timecode)}, shot {c.shot + 1:,}")
    with st.container(horizontal=True, gap="small"):
        st.button("Previous", key="disc-prev", shortcut="k", on_click=_move, args=(found, -1),
                  icon=":material/chevron_left:")
        st.button("Next", key="disc-next", shortcut="j", on_click=_move, args=(found, 1),
                  icon=":material/chevron_right:")
        st.button("Unpick" if found.current in found.picked else "Pick", key="disc-pick", shortcut="p",
                  on_click=_toggle, args=(found, found.current, "pick"), type="primary", icon=":material/check:")
        st.button("Restore" if found.current in found.rejected else "Reject", key="disc-reject", shortcut="x",
                  on_click=_toggle, args=(found, found.current, "reject"), icon=":material/close:")
    st.caption(f"{len(notes.faces)} face(s), {md(notes.cast_shot)}; focal point from {md(notes.composition.source)}, "
               f"{md(notes.composition.placement)} · sharpness {q.sharpness:.2f}, exposure {q.exposure:.2f}, "
               f"contrast {q.contrast:.2f}, motion {c.motion:.3f}")
    tags = notes.suggested_tags()
    if tags:
        st.caption("Will suggest: " + ", ".join(f"visual: {md(t)} ({md(why)})" for t, why in tags))


def _add_form(ws: Workspace, title_id: int, actor: str, can_edit: bool, found: Discovery) -> None:
    picked = sorted(found.picked)
    with st.form(f"add-stills-{title_id}"):
        st.markdown(f"**Add {len(picked)} picked still(s) as drafts**"
                    + (f": {', '.join(f'{i + 1:,}' for i in picked)}" if picked else ""))
        ratios = st.multiselect("Crops to derive", RATIO_CHOICES, default=list(SLOT_RATIOS),
                                help="Each around the still's focal point; a crop the frame already has is skipped.")
        extra = st.text_input("Other ratio (width:height)", placeholder="e.g. 7:10")
        frame = found.sheet.candidates[0] if found.sheet.candidates else None
        soft = soft_crops(frame.width, frame.height, RATIO_CHOICES, MIN_SHORT_SIDE) if frame else []
        if frame and soft:
            sizes = md(", ".join(f"a {r} crop is {w}×{h}" for r, w, h in soft))
            st.caption(f"From these {frame.width}×{frame.height} stills, {sizes}: under {MIN_SHORT_SIDE} px on the "
                       "short side, so it will be marked low resolution (sharp enough for a phone, soft on a TV). "
                       "A higher-resolution source video gives sharper crops.")
        go = st.form_submit_button("Add as drafts", type="primary", disabled=not can_edit)
    if not go:
        return
    try:
        chosen = ratios + ([f"{parse_ratio(extra)[0]}:{parse_ratio(extra)[1]}"] if extra.strip() else [])
    except ValueError as exc:
        st.error(f"Not added — {md(exc)}")
        return
    if not picked:
        st.warning("Pick at least one still first (the Pick box on a card, or **p**).")
        return
    picks = [catalog.Pick(found.sheet.candidates[i], found.focal.get(i)) for i in picked]
    bar = st.progress(0.0, text="Adding…")
    try:
        outcomes = catalog.add_stills(ws.sessions, ws.store, title_id, found.sheet, picks, actor,
                                      video_sha256=found.sha256, keep=found.keep, videos=ws.videos,
                                      ratios=chosen, limits=ws.settings.limits,
                                      progress=lambda d, t, name: bar.progress(d / t, text=f"{d}/{t}: {name}"))
    except ArtdashError as exc:
        bar.empty()
        st.error(f"Not added — {md(exc)}")
        return
    added = [o for o in outcomes if o.variant_id is not None]
    refused = [o for o in outcomes if o.variant_id is None]
    message = (f"Added {len(added)} still(s) as drafts with {sum(len(o.crop_ids) for o in added)} crop(s): "
               + ", ".join(f"#{o.variant_id}" for o in added) + ". Review them in the Gallery.")
    if refused:
        message += " Not added: " + "; ".join(f"{o.timecode} ({md(o.reason)})" for o in refused)
    widgets.flash("success" if not refused else "warning", message)
    found.picked.clear()
    st.rerun()
