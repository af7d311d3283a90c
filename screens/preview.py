"""Preview: which image would this persona see for each title, and why."""

import plotly.express as px
import streamlit as st

from artdash import export, numbers, preview
from artdash.catalog import personas
from artdash.lab import store as lab_store
from artdash.ui import charts, resources, widgets
from artdash.ui.numbers import rate_column
from artdash.ui.text import md, md_list

ws = widgets.page("Preview")

with ws.session() as s:
    people = personas.list_personas(s)
    promoted, promotion = lab_store.current_policy(s)
catalog, policy_set = resources.preview_policies()

if not people:
    st.info("There are no personas yet. Create one first.")
    st.page_link("screens/personas.py", label="Go to Personas", icon=":material/group:")
    st.stop()
if not any(t.candidates for t in catalog):
    st.info("No title has active artwork yet: activate some variants first.")
    st.page_link("screens/title.py", label="Go to Title & artwork", icon=":material/photo_library:")
    st.stop()

FIXED_RULES = ("uniform", "editors-pick")  # the baselines that are a rule, not a model
by_id = {p.id: p for p in people}
policies = policy_set.policies
c1, c2 = st.columns([2, 2])
persona_id = c1.selectbox("Persona", list(by_id), format_func=lambda i: by_id[i].name, key="preview_persona")
served = promoted if promoted in policies else lab_store.DEFAULT_POLICY
policy_name = c2.selectbox("Policy", list(policies), index=list(policies).index(served) if served in policies else 0,
                           format_func=lambda n: policies[n].label + (" (served by default)" if n == served else ""),
                           key="preview_policy")
policy = policies[policy_name]
persona = by_id[persona_id]
if promotion is not None and policy_name == promoted:
    st.caption(f"Promoted in the Policy lab by {md(promotion.by)} on {promotion.at:%Y-%m-%d}"
               + (f": {md(promotion.note)}" if promotion.note else "") + ".")
learns = policy_name not in FIXED_RULES
st.caption(f"Policy {policy.label}: " + (policy_set.training_note if learns else "a fixed rule — it learns nothing")
           + ". Decisions are sticky for 24 hours per persona and title; *p* is the probability the policy gave "
             "the image shown (its propensity).")

homepage_tab, compare_tab, matrix_tab = st.tabs(["Homepage", "Compare personas", "Win matrix"],
                                                key="preview_tab", bind="query-params")


TILE_WIDTH = 170  # tiles of a fixed width wrap to fit the window (1024 to 1920 px)


def tile(title: preview.PreviewTitle, decision) -> None:
    with st.container(border=True, width=TILE_WIDTH):
        sha = title.images[decision.variant_id]
        st.image(widgets.image_file(ws.store.thumbnail_path(sha)), width="stretch")
        label = next(c.label for c in title.candidates if c.variant_id == decision.variant_id)
        take = f" · predicted quality take {numbers.rate(decision.predicted_take)}" if decision.predicted_take is not None else ""
        st.markdown(f"**{md(title.name)}**  \n#{decision.variant_id} {md(label)}")
        st.caption(f"p = {numbers.rate(decision.propensity)}{take}")
        reasons = (decision.explanation or "—").split("; ")
        st.caption(md(reasons[0]), help=md("; ".join(reasons)) if len(reasons) > 1 else None)
        for warning in title.misleading.get(decision.variant_id, ()):
            st.caption(f":orange[:material/report: Served although {md(warning)}]")


def homepage() -> None:
    context = preview.context_for(persona)
    fallback = policy.fallback_reason(context)
    if fallback:
        st.warning(f"{md(persona.name)}: {fallback}.")
    strongest = ", ".join(f"{md(t.name)} {w:+.1f}" for t, w in persona.strongest(4)) or "no tastes set"
    st.markdown(f"**{md(persona.name)}** — {strongest}")
    rows, skipped = preview.homepage_rows(policy, context, catalog, per_row=6)
    if rows and not rows[0][0].startswith("Top picks"):
        st.caption(f"No *Top picks* row: {policy.label} does not predict take rates, so it cannot rank titles "
                   "for a persona; the rows below are by genre.")
    for row_name, tiles in rows:
        st.subheader(md(row_name))
        with st.container(horizontal=True, gap="small"):
            for t in tiles:
                tile(t.title, t.decision)
    if skipped:
        st.info(f"Not shown — no active artwork this persona may be shown (status, territory, window or "
                f"approval): {md_list(t.display_name for t in skipped)}.")


showable = [t for t in catalog if t.candidates]
titles_by_id = {t.id: t for t in showable}


def compare() -> None:
    c1, c2 = st.columns([1, 2])
    compare_title = c1.selectbox("Title", list(titles_by_id), format_func=lambda i: titles_by_id[i].display_name,
                                 key="compare_title")
    chosen_people = c2.multiselect("Personas", list(by_id), default=list(by_id)[:4],
                                   format_func=lambda i: by_id[i].name, key="compare_personas")
    title = titles_by_id[compare_title]
    if not chosen_people:
        st.caption("Pick at least one persona.")
    else:
        results = preview.compare(policy, [by_id[i] for i in chosen_people], title)
        for col, (p, decision) in zip(st.columns(len(results)), results):
            with col:
                st.markdown(f"##### {md(p.name)}")
                tile(title, decision)


def win_matrix() -> None:
    matrix_title = titles_by_id[st.selectbox("Title", list(titles_by_id),
                                             format_func=lambda i: titles_by_id[i].display_name, key="matrix_title")]
    matrix = preview.win_matrix(policy, people, matrix_title)
    variant_columns = [c for c in matrix.columns if c.startswith("#")]
    heat = px.imshow(matrix.set_index("persona")[variant_columns], text_auto=numbers.RATE_D3, aspect="auto",
                     color_continuous_scale="Reds", zmin=0, zmax=1,
                     labels={"x": "variant", "y": "persona", "color": "P(shown)"},
                     title=f"Which image each persona gets — {matrix_title.display_name}")
    thumbs = [ws.store.thumbnail_path(matrix_title.images[int(c.split()[0][1:])]) for c in variant_columns]
    charts.thumbnails_over_columns(heat, variant_columns, [p.read_bytes() if p.is_file() else None for p in thumbs])
    st.plotly_chart(heat, width="stretch")
    unloved = preview.unloved_variants(matrix, matrix_title)
    weak = preview.weakly_served(matrix)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Variants no persona receives**")
        st.markdown("\n".join(f"- {v}" for v in unloved) if unloved else "_every variant wins for someone_")
    with c2:
        st.markdown(f"**Personas whose best option is weak** (predicted quality take < {numbers.rate(preview.WEAK_TAKE)})")
        st.markdown("\n".join(f"- {p}" for p in weak) if weak else "_none_")
    shown = matrix.copy()
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={c: rate_column() for c in variant_columns} | {"predicted take": rate_column()})
    st.download_button("Download CSV", export.csv_bytes(shown),
                       f"win-matrix-title-{matrix_title.id}.csv", "text/csv")


# Only the open tab is computed (the tab is in the URL): the win matrix's chart costs nothing
# until it is opened.
for tab, draw in ((homepage_tab, homepage), (compare_tab, compare), (matrix_tab, win_matrix)):
    if tab.open:
        with tab:
            draw()
