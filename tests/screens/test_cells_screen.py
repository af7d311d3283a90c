"""An experiment's cells read as arms: members randomised between two policies, each cell's
rate, the lift over the control cell with the page's method, the members' split against the
plan — on the page, in the CSV and on the command line."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from workspaces import FROZEN_NOW, copy_demo, make_settings

from artdash.cli import main
from artdash.errors import ValidationError
from artdash.results.cells import cell_comparison
from artdash.results.plans import set_plan
from artdash.results.service import import_log
from artdash.workspace import Workspace

RATES = {"uniform": 0.10, "thompson": 0.16}


@pytest.fixture
def ws(tmp_path):
    from artdash.demo import DEMO_TITLES

    copy_demo(tmp_path / "data", DEMO_TITLES[:2])
    workspace = Workspace.open(make_settings(tmp_path))
    with workspace.session() as s:
        pairs = s.execute(text("SELECT title_id, id FROM variants WHERE status = 'active' ORDER BY id")).all()
    rng = np.random.default_rng(7)
    rows = []
    for m in range(1200):                      # members randomised between the cells, 6 impressions each
        cell = "uniform" if rng.random() < 0.5 else "thompson"
        for i in range(6):
            title, variant = pairs[int(rng.integers(len(pairs)))]
            quality = rng.random() < RATES[cell]
            rows.append({"event_id": f"e{m}-{i}", "timestamp": (FROZEN_NOW - timedelta(days=2, minutes=i)).isoformat(),
                         "member_id": f"m{m}", "title_id": title, "variant_id": variant, "policy": cell,
                         "experiment": "policy-test", "cell": cell, "propensity": 0.5, "played": int(quality),
                         "play_seconds": 900 if quality else 0})
    report = import_log(workspace, pd.DataFrame(rows).to_csv(index=False).encode(), "cells.csv", "local-admin")
    assert report.import_id is not None
    yield workspace
    workspace.close()


def test_the_cells_compare_as_arms_with_the_lift_covering_the_truth(ws):
    readout, frame = cell_comparison(ws, "policy-test", "fixed", control="uniform")
    overall = frame[frame["title_id"].isna()].set_index("cell")
    assert list(overall.index) == ["uniform", "thompson"] and overall.loc["uniform", "control"]
    assert overall["members"].sum() == 1200 and overall["impressions"].sum() == 7200
    lift = overall.loc["thompson"]
    assert lift["lift low"] <= RATES["thompson"] / RATES["uniform"] - 1 <= lift["lift high"]
    assert lift["lift low"] > 0                                     # the better cell is seen to be better
    assert readout.srm is not None and not readout.srm.mismatch and readout.split == "assumed equal"
    assert set(frame["title_id"].dropna()) and "Fixed horizon" in frame["method"].iloc[0]
    # against a plan that says 3:1, the split of members is a mismatch
    set_plan(ws, "policy-test", {"uniform": 3, "thompson": 1}, None, "local-admin")
    readout, _ = cell_comparison(ws, "policy-test")
    assert readout.srm.mismatch and readout.split == "plan" and readout.control == "uniform"
    with pytest.raises(ValidationError, match="not a cell"):
        cell_comparison(ws, "policy-test", control="nope")


def test_cells_on_the_command_line_and_on_the_page(ws, monkeypatch, tmp_path):
    from apptest import assert_clean, labelled, open_page

    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": ""}
    done = CliRunner().invoke(main, ["results", "report", "--experiment", "policy-test", "--cells", "--format", "csv"],
                              env=env)
    assert done.exit_code == 0, done.output
    table = pd.read_csv(io.StringIO(done.output))
    assert {"uniform", "thompson"} == set(table["cell"]) and (table["title"] == "all titles").sum() == 2
    shown = CliRunner().invoke(main, ["results", "report", "--experiment", "policy-test", "--cells"], env=env)
    assert shown.exit_code == 0 and "lift over uniform" in shown.output and "thompson" in shown.output
    refused = CliRunner().invoke(main, ["results", "report", "--cells"], env=env)
    assert refused.exit_code != 0 and "--experiment" in refused.output
    for name, value in env.items():
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    at = open_page("results", experiment="policy-test")
    assert_clean(at)
    labelled(at.toggle, "Compare the cells").set_value(True).run()
    assert_clean(at)
    [cells] = [d.value for d in at.dataframe if "cell" in d.value.columns]
    assert set(cells["cell"]) == {"uniform", "thompson"} and "all titles" in set(cells["title"])
    assert any(b.label == "Download cells CSV" for b in at.get("download_button"))
