"""Table columns that write numbers the way :mod:`artdash.numbers` does (the data stays raw, so
sorting works and CSVs hold numbers)."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from artdash.numbers import MISSING

Width = Literal["small", "medium", "large"] | int | None

# Streamlit's "percent" shows as many decimals as the column's step has, minus two: a step of
# 0.0001 gives the two decimals of artdash.numbers.rate (1.25%, 1.00%).
_RATE_STEP = 0.0001


def rate_column(label: str | None = None, help: str | None = None, width: Width = None):
    """A rate (0.0125 shown as 1.25%)."""
    return st.column_config.NumberColumn(label, format="percent", step=_RATE_STEP, help=help, width=width)


def count_column(label: str | None = None, help: str | None = None, width: Width = None):
    """A count with thousands separators (12,345)."""
    return st.column_config.NumberColumn(label, format="localized", step=1, help=help, width=width)


def progress_rate_column(label: str | None = None, help: str | None = None):
    """A probability drawn as a bar with its rate written beside it."""
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent", step=_RATE_STEP,
                                           help=help)


IDENTIFIERS = ("id", "seed", "year", "version", "run", "promotion", "title_id", "variant_id")


def count_columns(frame, **config) -> dict:
    """``config`` plus a count column (12,345) for every other integer column of ``frame`` —
    so no grid writes 1828 beside 15,323 — except identifiers (ids, seeds, years, versions)."""
    import pandas as pd

    counts = {c: count_column() for c in frame.columns
              if c not in config and str(c) not in IDENTIFIERS and pd.api.types.is_integer_dtype(frame[c])}
    return counts | config


def grid(data=None, **kwargs):
    """``st.dataframe`` with a missing value written as every page writes it (``—``, not the
    grid's own ``None``): every table of the app is drawn through this."""
    return st.dataframe(data, placeholder=MISSING, **kwargs)
