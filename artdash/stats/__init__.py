"""Statistics for take rates and A/B reviews: pure functions on counts (SQL computes the
sums; these compute the statistics). ``rates``: intervals, lift, SRM, P(best);
``inference``: one consistent comparison per method (fixed horizon, sequential, Bayesian)."""

from artdash.stats.rates import *  # noqa: F403
from artdash.stats.rates import (  # noqa: F401  (private helpers some callers and tests use)
    _check_counts,
    _pooled_z_p_value,
)
