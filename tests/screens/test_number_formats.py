"""One written form per kind of number on every page, chart and CSV (artdash.numbers); CSVs
hold raw numbers. The heatmap said 1% where the table said 1.25%."""

import io
import json
import re

import pandas as pd
import pytest
from apptest import assert_clean, open_page

from artdash import export, numbers

RATE = r"[0-9]+\.[0-9]{2}%"
CHANGE = r"[+-][0-9]+\.[0-9]{2}%"
FORMATTED = re.compile(r"^\s*[+-]?[0-9][0-9,]*(\.[0-9]+)?\s?%\s*$|^[0-9]{1,3}(,[0-9]{3})+$")


def test_each_kind_has_one_form():
    assert numbers.rate(0.0125) == "1.25%" and numbers.rate(0.01) == "1.00%" and numbers.rate(0.2769) == "27.69%"
    assert numbers.change(0.1234) == "+12.34%" and numbers.change(-0.005) == "-0.50%"
    assert numbers.rate_range(0.011, 0.014) == "1.10% – 1.40%" and numbers.rate_range(None, 0.1) == ""
    assert numbers.change_range(-0.032, 0.081) == "-3.20% – +8.10%"
    assert numbers.count(12345) == "12,345" and numbers.level(0.95) == "95%"
    assert numbers.p_value(0.01234) == "0.0123" and numbers.p_value(1e-9) == "< 0.0001"
    assert {numbers.rate(None), numbers.change(float("nan")), numbers.count(None)} == {numbers.MISSING}


@pytest.fixture
def csvs(monkeypatch):
    """Every CSV the pages offer for download in this test, by file contents."""
    made: list[bytes] = []
    real = export.csv_bytes

    def recording(frame, *args, **kwargs):
        data = real(frame, *args, **kwargs)
        made.append(data)
        return data

    monkeypatch.setattr(export, "csv_bytes", recording)
    return made


def _columns(at, index=0):
    return {c: json.loads(v) if isinstance(v, str) else v
            for c, v in json.loads(at.dataframe[index].proto.columns).items()}


def test_results_table_writes_rates_changes_and_counts_one_way(demo_ws, csvs):
    from artdash.demo.results import load_demo_results

    load_demo_results(demo_ws, n=6000)
    at = open_page("results")
    assert_clean(at)
    table = at.dataframe[0].value
    assert all(re.fullmatch(f"{RATE} – {RATE}", s) for s in table["quality CI"] if s)
    assert all(s == "control" or re.fullmatch(CHANGE, s) for s in table["lift vs control"])
    assert all(s == "control" or re.fullmatch(f"{CHANGE} – {CHANGE}", s) for s in table["lift CI"] if s)
    columns = _columns(at)
    for rate_column in ("quality take rate", "take rate"):   # the grid writes 0.0125 as 1.25%, like the CI beside it
        assert columns[rate_column]["type_config"] == {"type": "number", "format": "percent", "step": 0.0001}
    assert columns["P(best)"]["type_config"]["step"] == 0.0001        # 0.00%, not 0%, beside 0.01%
    for count_column in ("impressions", "plays"):
        assert columns[count_column]["type_config"]["format"] == "localized"
    assert csvs, "the page offers its table as CSV"
    _raw(csvs)


def test_the_win_matrix_heatmap_writes_shares_as_the_table_does(demo_ws, csvs):
    at = open_page("preview", preview_tab="Win matrix")
    assert_clean(at)
    heat = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert heat["data"][0]["texttemplate"] == "%{z:.2%}"
    variant_columns = [c for c in at.dataframe[0].value.columns if c.startswith("#")]
    columns = _columns(at)
    assert all(columns[c]["type_config"]["step"] == 0.0001 for c in variant_columns)
    _raw(csvs)


@pytest.mark.parametrize("page", ["catalog", "audit", "taxonomy", "users"])
def test_csvs_hold_raw_numbers(demo_ws, csvs, page):
    assert_clean(open_page(page))
    assert csvs
    _raw(csvs)


def _raw(csvs):
    for data in csvs:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        for column in frame.columns:
            formatted = [v for v in frame[column] if FORMATTED.match(v)]
            assert not formatted, f"{column!r} holds formatted numbers: {formatted[:3]}"


IDENTIFIER_COLUMNS = {"id", "seed", "year", "version", "run", "promotion", "title_id", "variant_id"}


def _unformatted_counts(at) -> list[str]:
    """Grid columns holding a whole number of 1,000 or more that the grid writes without its
    thousands separator (1828 beside 15,323): every dataframe on the page."""
    found = []
    for index, frame in enumerate(at.dataframe):
        columns = _columns(at, index)
        for name in frame.value.columns:
            column = frame.value[name]
            numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
            values = pd.to_numeric(column, errors="coerce") if numeric else None
            if values is None or str(name) in IDENTIFIER_COLUMNS or not (values.dropna() >= 1000).any():
                continue
            if not (values.dropna() % 1 == 0).all():
                continue
            config = columns.get(str(name), {}).get("type_config", {})
            if config.get("format") not in ("localized", "percent"):
                found.append(f"{name}: {values.dropna().iloc[0]:.0f}")
    return found


def test_no_grid_writes_a_count_without_its_separator(demo_ws):
    """Creative insights wrote 1828 quality plays beside 15,323 impressions; the lab's history 6000."""
    from artdash.demo.results import load_demo_results
    from artdash.lab import LabConfig, load_world, run_online
    from artdash.lab.store import save_run

    load_demo_results(demo_ws, n=20000)
    with demo_ws.session() as s:
        world = load_world(s)
    result = run_online(world, LabConfig(mix={a: 1.0 for a, _ in world.archetypes}, policies=("uniform",),
                                         impressions=6000, seed=3))
    with demo_ws.transaction() as s:
        save_run(s, result, "local-admin")
    for page, params in (("results", {"results_tab": "Creative insights"}), ("results", {}),
                         ("lab", {"lab_tab": "History"}), ("audit", {})):
        at = open_page(page, **params)
        assert_clean(at)
        assert at.dataframe, (page, params)
        assert _unformatted_counts(at) == [], (page, params)
