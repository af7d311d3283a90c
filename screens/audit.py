"""Audit trail: every change — who, when, what, before and after — filtered and downloadable."""

import json
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from artdash import clock, export
from artdash.access import audit
from artdash.ui import widgets
from artdash.ui.numbers import grid
from artdash.ui.text import md

ws = widgets.page("Audit trail")

with ws.session() as s:
    people = audit.actors(s)
    entities = audit.entity_names(s)

if not people:
    st.info("Nothing has been changed yet. Every change to titles, artwork, tags, the taxonomy, personas, "
            "imports, lab runs, promotions and users will be listed here.")
    st.stop()

c1, c2, c3 = st.columns([5, 5, 7])   # the date range needs ~230 px at 1024: the search gets its own row
who = c1.selectbox("Person", ["(everyone)", *people], key="audit_person")
what = c2.selectbox("Entity", ["(everything)", *entities], key="audit_entity",
                    format_func=lambda e: e.replace("_", " "))
today = clock.now().date()
span = c3.date_input("Dates", (today - timedelta(days=30), today), key="audit_dates")
needle = st.text_input("Search", key="audit_search", placeholder="a name, a tag, a value…",
                       help="Entries whose person, action, entity, id or values before or after contain this text.")
start, end = (span if isinstance(span, tuple) and len(span) == 2 else (span[0], span[0]) if span else (today, today))

with ws.session() as s:
    trail = audit.entries(s, actor=None if who == "(everyone)" else who,
                          entity=None if what == "(everything)" else what,
                          since=datetime.combine(start, time.min, UTC), until=datetime.combine(end, time.max, UTC))
trail = audit.search(trail, needle).reset_index(drop=True)

st.caption(f"{len(trail):,} change(s) shown, newest first.")
if trail.empty:
    st.info("No change matches these filters. Widen the dates, pick everyone or clear the search.")
    st.stop()
shown = trail.assign(
    change=[audit.summarize(a, b, c) for a, b, c in zip(trail["action"], trail["before"], trail["after"])],
    before=trail["before"].map(lambda v: "" if v is None else json.dumps(v, ensure_ascii=False)),
    after=trail["after"].map(lambda v: "" if v is None else json.dumps(v, ensure_ascii=False)),
)[["entry", "when", "who", "action", "entity", "id", "change", "before", "after"]]
# The table's key follows the filters: a selection never carries over to whatever entry then
# sits on the selected row; the detail pane shows the entry by its id.
filters = (who, what, str(start), str(end), needle.strip().casefold())
picked = grid(shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                      key=f"audit_table-{abs(hash(filters))}",
                      column_config={"entry": st.column_config.NumberColumn("#", format="%d", width="small"),
                                     "when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                     "change": st.column_config.TextColumn(width="large"),
                                     "before": st.column_config.TextColumn(width="medium"),
                                     "after": st.column_config.TextColumn(width="medium")})
st.download_button("Download CSV", export.csv_bytes(shown), "artdash-audit.csv", "text/csv")
rows = picked.selection.rows if picked else []
if not rows:
    st.caption("Select a row to see the whole entry, before and after.")
else:
    entry_id = int(shown.iloc[rows[0]]["entry"])
    entry = trail[trail["entry"] == entry_id].iloc[0]
    st.markdown(f"**Entry #{entry_id}: {md(entry['action'])} {md(str(entry['entity']).replace('_', ' '))} {md(entry['id'])}** "
                f"by {md(entry['who'])}, {entry['when']:%Y-%m-%d %H:%M:%S}")
    left, right = st.columns(2)
    with left:
        st.markdown("Before")
        st.json(entry["before"] or {}, expanded=True)
    with right:
        st.markdown("After")
        st.json(entry["after"] or {}, expanded=True)
