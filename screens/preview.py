"""Preview: which image each persona or member is served for each title, and why — as the
decision service serves them now, or under another stored version or policy."""

from datetime import timedelta

import streamlit as st

from artdash import clock, export, numbers, preview
from artdash.catalog import personas
from artdash.decision.bootstrap import train_simulated
from artdash.errors import ArtdashError
from artdash.policy.assign import window_of
from artdash.policy.registry import LABELS
from artdash.ui import charts, resources, widgets
from artdash.ui.numbers import grid, rate_column
from artdash.ui.text import md, md_list

ws = widgets.page("Preview")

with ws.session() as s:
    people = personas.list_personas(s)
view = resources.served_view()
catalog = resources.preview_catalog()

if not people:
    st.info("There are no personas yet. Create one first.")
    st.page_link("screens/personas.py", label="Go to Personas", icon=":material/group:")
    st.stop()
if not any(t.candidates for t in catalog):
    st.info("No title has active artwork yet: activate some variants first.")
    st.page_link("screens/title.py", label="Go to Title & artwork", icon=":material/photo_library:")
    st.stop()

now = clock.now()
by_id = {p.id: p for p in people}
served_label = LABELS.get(view.name, view.name)
models = {"served": None} | {f"version:{v.version}": v for v in reversed(view.timeline.versions) if v.trained} \
    | {f"policy:{name}": v for name, v in view.candidates.items()}


def model_label(key: str) -> str:
    if key == "served":
        return f"As served — {served_label}"
    v = models[key]
    if key.startswith("version:"):
        return f"{served_label}, version {v.version} ({v.source}, {v.trained_at:%Y-%m-%d %H:%M})"
    return f"{LABELS.get(v.name, v.name)} — " + (f"newest version {v.version}" if v.trained else "a fixed rule"
                                                 if not v.policy.learns else "not trained yet")


c1, c2 = st.columns([2, 3])
persona_id = c1.selectbox("Persona", list(by_id), format_func=lambda i: by_id[i].name, key="preview_persona")
model_key = c2.selectbox("Model", list(models), format_func=model_label, key="preview_model",
                         help="What members get now (as served), another stored version of the served policy, or "
                              "the newest version of another policy the service could serve.")
persona = by_id[persona_id]
member = preview.member_of(persona)
model = view.timeline if model_key == "served" else models[model_key]
held = view.held_out if model_key == "served" else None     # the holdout applies to what is served
if view.note:
    st.warning(md(view.note) + ".")
if view.promotion is not None and view.promotion.policy == view.name:
    st.caption(f"Promoted in the Policy lab by {md(view.promotion.by)} on {view.promotion.at:%Y-%m-%d}"
               + (f": {md(view.promotion.note)}" if view.promotion.note else "") + ".")


def describe(version) -> str:
    if view.held_out is not None and version is view.held_out.policy:
        return f"the holdout — {view.held_out.holdout.describe()}, and this member is one of them"
    if not version.policy.learns:
        return f"{LABELS.get(version.name, version.name)} is a fixed rule — it learns nothing"
    if not version.trained:
        return (f"{LABELS.get(version.name, version.name)} is not trained yet: members are served uniform random "
                "until the decision service has learnt from their plays")
    return (f"{LABELS.get(version.name, version.name)} version {version.version}, trained "
            f"{'by the service from live traffic' if version.source == 'live' else 'on a simulated log'} "
            f"({numbers.count(version.n_rows)} decisions) on {version.trained_at:%Y-%m-%d %H:%M} UTC")


showable = [t for t in catalog if t.candidates]
titles_by_id = {t.id: t for t in showable}
tiles, skipped, version = preview.served(view.snapshot, model, member, showable, now, view.sticky_hours, held)
window = window_of(f"member:{member.id}", now, view.sticky_hours)
who = f"member {md(member.id)}" if persona.member_id else md(persona.name)
if model_key == "served":
    when = (f"{who}'s sticky window began {window.start:%Y-%m-%d %H:%M} UTC: they keep these images until "
            f"{window.start + timedelta(hours=view.sticky_hours):%Y-%m-%d %H:%M} UTC, and a newer version reaches "
            "them then" if window.start is not None else "Stickiness is off: every visit draws afresh")
    st.caption(f"**As served now**: {describe(version)}. {when}. *p* is the probability the image shown had "
               "(its propensity) — exactly what `/v1/decide` answers.")
    if not version.trained and version.policy.learns and widgets.may("admin"):
        if st.button("Train a first version on a simulated log", key="preview_bootstrap",
                     help="20,000 impressions simulated from the seeded taste model over the personas: a version "
                          "Preview shows and the service serves until it has learnt from live traffic."):
            try:
                with ws.session() as s:
                    made = train_simulated(s, ws.results_engine, view.name, widgets.actor())
            except ArtdashError as e:
                st.error(f"Not trained: {md(str(e))}.")
            else:
                st.success(f"Trained version {md(made)}.")
                st.rerun()
else:
    _, _, served_version = (as_served := preview.served(view.snapshot, view.timeline, member, showable, now,
                                                        view.sticky_hours, view.held_out))
    moved = preview.changed_images(tiles, as_served[0])
    st.caption(f"**Previewing** {describe(version)} — not what is served ({describe(served_version)}): "
               f"{moved:,} of {len(tiles):,} titles would show {who} another image.")

homepage_tab, compare_tab, matrix_tab = st.tabs(["Homepage", "Compare personas", "Win matrix"],
                                                key="preview_tab", bind="query-params")

TILE_WIDTH = 170  # tiles of a fixed width wrap to fit the window (1024 to 1920 px)


def tile(t: preview.ServedTile) -> None:
    title, decision = t.title, t.decision
    with st.container(border=True, width=TILE_WIDTH):
        sha = title.images[decision.variant_id]
        st.image(widgets.tile_image(ws.store.thumbnail_path(sha)), width="stretch")
        label = next(c.label for c in title.candidates if c.variant_id == decision.variant_id)
        take = f" · predicted quality take {numbers.rate(t.predicted_take)}" if t.predicted_take is not None else ""
        st.markdown(f"**{md(title.name)}**  \n#{decision.variant_id} {md(label)}")
        st.caption(f"p = {numbers.rate(decision.propensity)}{md(take)}")
        reasons = (decision.reason or "—").split("; ")
        st.caption(md(reasons[0]), help=md("; ".join(reasons)) if len(reasons) > 1 else None)
        for warning in title.misleading.get(decision.variant_id, ()):
            st.caption(f":orange[:material/report: Served although {md(warning)}]")


def homepage() -> None:
    fallback = version.policy.fallback_reason(preview.context_for(persona))
    if persona.is_blank:
        st.warning(f"{md(persona.name)} has no tastes set: a personalised policy can only give its non-personalised "
                   "choice. Set tastes on the Personas page.")
    elif fallback and version.trained:
        st.warning(f"{md(persona.name)}: {md(fallback)}.")
    strongest = ", ".join(f"{md(t.name)} {w:+.1f}" for t, w in persona.strongest(4)) or "no tastes set"
    st.markdown(f"**{md(persona.name)}** — {strongest}")
    rows = preview.served_rows(tiles, per_row=6)
    if rows and not rows[0][0].startswith("Top picks"):
        st.caption(f"No *Top picks* row: {md(LABELS.get(version.name, version.name))} does not predict take rates, "
                   "so it cannot rank titles for a persona; the rows below are by genre.")
    for row_name, row in rows:
        st.subheader(md(row_name))
        with st.container(horizontal=True, gap="small"):
            for t in row:
                tile(t)
    if skipped:
        st.info(f"Not shown — no active artwork this persona may be shown (status, territory, window or "
                f"approval): {md_list(t.display_name for t in skipped)}.")


def compare() -> None:
    c1, c2 = st.columns([1, 2])
    compare_title = c1.selectbox("Title", list(titles_by_id), format_func=lambda i: titles_by_id[i].display_name,
                                 key="compare_title")
    chosen_people = c2.multiselect("Personas", list(by_id), default=list(by_id)[:4],
                                   format_func=lambda i: by_id[i].name, key="compare_personas")
    title = titles_by_id[compare_title]
    if not chosen_people:
        st.caption("Pick at least one persona.")
        return
    for col, person_id in zip(st.columns(len(chosen_people)), chosen_people):
        with col:
            st.markdown(f"##### {md(by_id[person_id].name)}")
            found, _, _ = preview.served(view.snapshot, model, preview.member_of(by_id[person_id]), [title], now,
                                         view.sticky_hours, held)
            if found:
                tile(found[0])
            else:
                st.caption("Nothing this persona may be shown.")


def win_matrix() -> None:
    matrix_title = titles_by_id[st.selectbox("Title", list(titles_by_id),
                                             format_func=lambda i: titles_by_id[i].display_name, key="matrix_title")]
    matrix = preview.served_matrix(view.snapshot, model, people, matrix_title, now, view.sticky_hours, held)
    variant_columns = [c for c in matrix.columns if c.startswith("#")]
    pages = charts.matrix_pages(variant_columns)
    page = 0
    if len(pages) > 1:                        # many variants: a page of them at a time, every label kept
        page = st.segmented_control(f"Variants ({len(variant_columns)}, {charts.MATRIX_COLUMNS} at a time)",
                                    range(len(pages)), default=0, key=f"matrix_page_{matrix_title.id}",
                                    format_func=lambda i: md(f"{pages[i][0].split()[0]} – {pages[i][-1].split()[0]}")) or 0
    heat = charts.win_matrix(matrix, pages[page], f"Which image each persona gets — {matrix_title.display_name}")
    thumbs = [ws.store.thumbnail_path(matrix_title.images[int(c.split()[0][1:])]) for c in pages[page]]
    st.plotly_chart(charts.thumbnails_over_columns(heat, pages[page], [p.read_bytes() if p.is_file() else None
                                                                         for p in thumbs]), width="stretch")
    unloved = preview.unloved_variants(matrix, matrix_title)
    weak = preview.weakly_served(matrix)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Variants no persona receives**")
        st.markdown("\n".join(f"- {md(v)}" for v in unloved) if unloved else "_every variant wins for someone_")
    with c2:
        st.markdown(f"**Personas whose best option is weak** (predicted quality take < {numbers.rate(preview.WEAK_TAKE)})")
        st.markdown("\n".join(f"- {md(p)}" for p in weak) if weak else "_none_")
    shown = matrix.copy()
    grid(shown, hide_index=True, width="stretch",
                 column_config={c: rate_column() for c in variant_columns} | {"predicted take": rate_column()})
    st.download_button("Download CSV", export.csv_bytes(shown), f"win-matrix-title-{matrix_title.id}.csv", "text/csv",
                       help="One row per persona: the probability of each variant being shown to them as previewed "
                            "here, the variant they most likely get and its predicted quality take rate.")


# Only the open tab is computed (the tab is in the URL): the win matrix's chart costs nothing
# until it is opened.
for tab, draw in ((homepage_tab, homepage), (compare_tab, compare), (matrix_tab, win_matrix)):
    if tab.open:
        with tab:
            draw()
