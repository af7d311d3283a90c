"""Quantiles of play seconds with distribution-free intervals: a play that lasts is what
matters, and play durations are skewed (many short plays, a long tail of binge sessions), so
means and normal intervals mislead where quantiles with order-statistic intervals do not.

The interval of the q-quantile is between two order statistics of the sorted sample, chosen
from the binomial distribution of how many values fall below the true quantile (exact at
any sample size; the same as ``scipy.stats.quantile_test(...).confidence_interval()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

from artdash.errors import ValidationError


@dataclass(frozen=True)
class QuantileEstimate:
    """The q-quantile of a sample, with its interval (None where the sample is too small)."""

    q: float
    value: float | None
    low: float | None
    high: float | None
    n: int

    @property
    def has_interval(self) -> bool:
        """Whether the sample is large enough to bound the quantile on both sides."""
        return self.low is not None and self.high is not None


def quantile(values: np.ndarray, q: float, confidence: float = 0.95, is_sorted: bool = False) -> QuantileEstimate:
    """The ``q``-quantile of ``values`` (linear interpolation) and its exact two-sided interval."""
    if not 0 < q < 1:
        raise ValidationError(f"a quantile must be between 0 and 1 (got {q})")
    if not 0 < confidence < 1:
        raise ValidationError(f"`confidence` must be between 0 and 1 (got {confidence})")
    x = np.asarray(values, dtype=float)
    if not is_sorted:
        x = np.sort(x)
    n = len(x)
    if n == 0:
        return QuantileEstimate(q, None, None, None, 0)
    value = float(np.quantile(x, q))
    dist = binom(n, q)
    alpha = (1 - confidence) / 2
    low_index = int(dist.ppf(alpha)) - 1
    high_index = int(dist.isf(alpha))
    low = float(x[low_index]) if low_index >= 0 else None
    high = float(x[high_index]) if high_index < n else None
    return QuantileEstimate(q, value, low, high, n)


def quantiles(values: np.ndarray, qs: tuple[float, ...] = (0.5, 0.9),
              confidence: float = 0.95) -> list[QuantileEstimate]:
    """Several quantiles of one sample (sorted once)."""
    x = np.sort(np.asarray(values, dtype=float))
    return [quantile(x, q, confidence, is_sorted=True) for q in qs]


def minimum_sample(q: float, confidence: float = 0.95) -> int:
    """The smallest sample whose interval of the q-quantile is bounded on both sides."""
    alpha = (1 - confidence) / 2
    return max(math.ceil(math.log(alpha) / math.log(max(q, 1 - q))), 1)
