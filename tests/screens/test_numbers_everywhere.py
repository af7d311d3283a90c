"""Numbers written one way on every page (README's rule, :mod:`artdash.numbers`): no grid shows
``None``, no count of 1,000 or more goes without its separators, one form for an interval and
for a level (AppTest over the demo with results)."""

import json
import re

import pandas as pd
import pytest
from apptest import assert_clean, open_page, title_id

from artdash.ui.numbers import IDENTIFIERS

PAGES = [("catalog", {}), ("title", {"tab": "Gallery"}), ("title", {"tab": "Compare"}), ("taxonomy", {}),
         ("results", {}), ("results", {"results_tab": "Creative insights"}), ("results", {"results_tab": "Import"}),
         ("results", {"results_tab": "Live traffic"}), ("preview", {}), ("preview", {"preview_tab": "Win matrix"}),
         ("personas", {}), ("lab", {}), ("users", {}), ("api_keys", {}), ("audit", {})]
BRACKETED = re.compile(r"^\s*\[[-+\d.,%\s]+\]\s*$")           # "[0.12, 0.34]": the lab's old interval form
SPACED_LEVEL = re.compile(r"\b\d{1,3} %")                     # "95 %" beside "95%"


def grid_problems(at) -> list[str]:
    problems = []
    for grid in at.dataframe:
        frame: pd.DataFrame = grid.value
        config = json.loads(grid.proto.columns or "{}")
        if grid.proto.placeholder != "—":                # a missing value shows as the grid's own "None"
            problems.append(f"a grid of {list(frame.columns)[:3]}… writes a missing value as None")
        for column in frame.columns:
            values = frame[column]
            if values.dtype == object and values.map(lambda v: isinstance(v, str) and v in ("None", "nan")).any():
                problems.append(f"{column!r} shows None as text")
            if values.dtype == object and values.map(lambda v: isinstance(v, str) and bool(BRACKETED.match(v))).any():
                problems.append(f"{column!r} writes an interval as [a, b]")
            if pd.api.types.is_integer_dtype(values) and str(column) not in IDENTIFIERS and len(values) \
                    and values.abs().max() >= 1000:
                fmt = (config.get(str(column)) or {}).get("type_config", {}).get("format")
                if fmt != "localized":
                    problems.append(f"{column!r} writes counts ≥ 1,000 without separators ({fmt})")
    return problems


@pytest.mark.parametrize("page, query", PAGES, ids=[f"{p}-{'-'.join(q.values()) or 'default'}" for p, q in PAGES])
def test_every_page_writes_numbers_one_way(demo_ws, page, query):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    if page == "title":
        query = {"title": title_id(demo_ws), **query}
    at = open_page(page, **query)
    assert_clean(at)
    assert grid_problems(at) == []
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "success") for e in at.get(kind)]
    assert [t for t in texts if SPACED_LEVEL.search(t)] == []


def test_the_lab_writes_intervals_and_counts_as_results_does(demo_ws):
    """The lab wrote ``12.34% [11.00%, 13.50%]`` where Results writes ``11.00% – 13.50%``, and
    its history ``6000`` beside ``6,000``."""
    from artdash import lab
    from artdash.lab import store as lab_store

    with demo_ws.session() as s:
        world = lab.load_world(s)
    config = lab.LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes}, impressions=2_000, batch_size=1_000,
                           policies=("uniform", "linucb"), seed=1)
    with demo_ws.transaction() as s:
        run = lab_store.save_run(s, lab.run_online(world, config), "pm", "seed 1")
    at = open_page("lab", lab_tab="History")
    at.multiselect(key="lab_history_runs").set_value([run.id]).run()
    assert_clean(at)
    assert grid_problems(at) == []
    written = [v for grid in at.dataframe for column in grid.value.columns if "rate" in str(column)
               for v in grid.value[column] if isinstance(v, str)]
    assert written and all(re.fullmatch(r"\d+\.\d\d% \(\d+\.\d\d% – \d+\.\d\d%\)", v) for v in written), written
