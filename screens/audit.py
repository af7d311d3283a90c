"""Audit trail: every change — who, when, what, before and after — filtered and downloadable."""

import json
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from artdash import clock, export
from artdash.access import audit
from artdash.ui import widgets
from artdash.ui.text import md

ws = widgets.page("Audit trail")

with ws.session() as s:
    people = audit.actors(s)
    entities = audit.entity_names(s)

if not people:
    st.info("Nothing has been changed yet. Every change to titles, artwork, tags, the taxonomy, personas, "
            "imports, lab runs, promotions and users will be listed here.")
    st.stop()

c1, c2, c3 = st.columns([1, 1, 2])
who = c1.selectbox("Person", ["(everyone)", *people], key="audit_person")
what = c2.selectbox("Entity", ["(everything)", *entities], key="audit_entity",
                    format_func=lambda e: e.replace("_", " "))
today = clock.now().date()
span = c3.date_input("Dates", (today - timedelta(days=30), today), key="audit_dates")
start, end = (span if isinstance(span, tuple) and len(span) == 2 else (span[0], span[0]) if span else (today, today))

with ws.session() as s:
    trail = audit.entries(s, actor=None if who == "(everyone)" else who,
                          entity=None if what == "(everything)" else what,
                          since=datetime.combine(start, time.min, UTC), until=datetime.combine(end, time.max, UTC))

st.caption(f"{len(trail):,} change(s) shown, newest first.")
if trail.empty:
    st.info("No change matches these filters. Widen the dates or pick everyone.")
    st.stop()
shown = trail.assign(
    change=[audit.summarize(a, b, c) for a, b, c in zip(trail["action"], trail["before"], trail["after"])],
    before=trail["before"].map(lambda v: "" if v is None else json.dumps(v, ensure_ascii=False)),
    after=trail["after"].map(lambda v: "" if v is None else json.dumps(v, ensure_ascii=False)),
)[["when", "who", "action", "entity", "id", "change", "before", "after"]]
picked = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                      key="audit_table",
                      column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                     "change": st.column_config.TextColumn(width="large"),
                                     "before": st.column_config.TextColumn(width="medium"),
                                     "after": st.column_config.TextColumn(width="medium")})
st.download_button("Download CSV", export.csv_bytes(shown), "artdash-audit.csv", "text/csv")
rows = picked.selection.rows if picked else []
if not rows:
    st.caption("Select a row to see the whole entry, before and after.")
else:
    entry = trail.iloc[rows[0]]
    st.markdown(f"**{entry['action']} {str(entry['entity']).replace('_', ' ')} {md(entry['id'])}** by {md(entry['who'])}, "
                f"{entry['when']:%Y-%m-%d %H:%M:%S}")
    left, right = st.columns(2)
    with left:
        st.markdown("Before")
        st.json(entry["before"] or {}, expanded=True)
    with right:
        st.markdown("After")
        st.json(entry["after"] or {}, expanded=True)
