"""CUPED (Deng et al. 2013): variance reduction with a pre-experiment covariate.

The unit is the member (who is randomised), the metric each member's quality plays during
the experiment, the covariate their quality plays in the weeks before it. A member who
played a lot before tends to play a lot during; subtracting ``θ·(x − x̄)`` with
``θ = cov(y, x) / var(x)`` (pooled over the two arms compared) removes that predictable part
of the noise and leaves the effect: the same estimate on average, a narrower interval.

Computed from per-arm sufficient statistics (n, Σy, Σy², Σx, Σx², Σxy) the way GrowthBook's
engine does it (``gbstats.models.statistics.RegressionAdjustedStatistic``), which the tests
check it against.
"""

from __future__ import annotations

from dataclasses import dataclass

from artdash.stats.inference import Arm


@dataclass(frozen=True)
class MemberSums:
    """One arm's members: how many, and the sums of their metric y and covariate x."""

    n: int
    y: float
    yy: float
    x: float
    xx: float
    xy: float

    def __add__(self, other: MemberSums) -> MemberSums:
        return MemberSums(self.n + other.n, self.y + other.y, self.yy + other.yy, self.x + other.x,
                          self.xx + other.xx, self.xy + other.xy)

    def var_y(self) -> float:
        """Sample variance of the metric."""
        return (self.yy - self.y ** 2 / self.n) / (self.n - 1) if self.n > 1 else 0.0

    def var_x(self) -> float:
        """Sample variance of the covariate."""
        return (self.xx - self.x ** 2 / self.n) / (self.n - 1) if self.n > 1 else 0.0

    def cov(self) -> float:
        """Sample covariance of metric and covariate."""
        return (self.xy - self.y * self.x / self.n) / (self.n - 1) if self.n > 1 else 0.0


def theta(a: MemberSums, b: MemberSums) -> float:
    """The adjustment's slope, pooled over both arms (0 when either has no variance)."""
    joint = a + b
    if joint.var_x() <= 0 or joint.var_y() <= 0:
        return 0.0
    return joint.cov() / joint.var_x()


def adjusted(arm: MemberSums, slope: float) -> Arm:
    """The arm's mean metric per member adjusted by ``slope``, the variance of that mean, and
    the unadjusted mean (what a relative lift is expressed against)."""
    unit = arm.var_y() + slope ** 2 * arm.var_x() - 2 * slope * arm.cov()
    mean = arm.y / arm.n - slope * arm.x / arm.n
    return Arm(mean, unit / arm.n, arm.n, unadjusted=arm.y / arm.n)


def unadjusted(arm: MemberSums) -> Arm:
    """The arm's mean metric per member, not adjusted."""
    return Arm(arm.y / arm.n, arm.var_y() / arm.n, arm.n)


def pair(treatment: MemberSums, control: MemberSums) -> tuple[Arm, Arm]:
    """(treatment, control) adjusted with their pooled slope, for one comparison."""
    slope = theta(control, treatment)
    return adjusted(treatment, slope), adjusted(control, slope)
