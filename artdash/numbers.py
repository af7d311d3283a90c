"""One written form per kind of number, the same on every page, chart and message.

- a **rate** (a share: take rate, P(shown), a propensity, a share of impressions) is a percentage
  with two decimals: ``1.25%``, ``27.69%``, ``0.50%``;
- a **change** (a relative lift) is the same with its sign: ``+12.34%``, ``-0.50%``;
- a **count** has thousands separators: ``12,345``;
- a **level** (a confidence level, a threshold someone set) is a whole percentage: ``95%``;
- a **p-value** has four decimals, ``< 0.0001`` below that.

A missing value is written ``—``. CSV downloads keep the raw numbers (0.0125, 12345), never these
strings. Charts take the d3 forms below; the tables the matching column settings in
:mod:`artdash.ui.numbers`.
"""

from __future__ import annotations

import math

MISSING = "—"

# d3-format strings for plotly (text, hover): the same forms as the functions below.
RATE_D3 = ".2%"
CHANGE_D3 = "+.2%"
COUNT_D3 = ",d"
# Axis ticks: as many decimals as the ticks need, no more (".0%" made 1.2% and 1.4% both "1%").
AXIS_RATE_D3 = "~%"


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rate(value: float | None) -> str:
    """``0.0125`` → ``1.25%``."""
    return MISSING if _missing(value) else f"{value:.2%}"


def change(value: float | None) -> str:
    """``0.1234`` → ``+12.34%``."""
    return MISSING if _missing(value) else f"{value:+.2%}"


def rate_range(low: float | None, high: float | None) -> str:
    """An interval of rates: ``1.10% – 1.40%`` (empty when either end is missing)."""
    return "" if _missing(low) or _missing(high) else f"{rate(low)} – {rate(high)}"


def change_range(low: float | None, high: float | None) -> str:
    """An interval of changes: ``-3.20% – +8.10%``."""
    return "" if _missing(low) or _missing(high) else f"{change(low)} – {change(high)}"


def count(value: int | float | None) -> str:
    """``12345`` → ``12,345``."""
    return MISSING if _missing(value) else f"{int(value):,}"  # type: ignore[arg-type]


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun, singular for one: ``1 impression``, ``12,345 impressions``."""
    return f"{int(value):,} {noun if int(value) == 1 else plural or noun + 's'}"


def level(value: float | None) -> str:
    """A level someone chose: ``0.95`` → ``95%``."""
    return MISSING if _missing(value) else f"{value:.0%}"


def p_value(value: float | None) -> str:
    """``0.01234`` → ``0.0123``; below 0.0001 → ``< 0.0001``."""
    if _missing(value):
        return MISSING
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"  # type: ignore[operator]
