"""Policies: map (persona context, a title's active variants) to a probability per variant.

Every policy implements :class:`artdash.policy.base.Policy`; decisions are sticky (a hash of
member, title and time window picks from the probabilities, so the same member sees the same
image within a window) and carry the propensity that offline evaluation needs.
"""

from artdash.policy.base import Candidate, Context, Decision, Policy, sticky_draw
from artdash.policy.baselines import BestSingleVariantPolicy, EditorsPickPolicy, UniformPolicy
from artdash.policy.linear import LinearBanditPolicy

POLICIES = {
    "uniform": UniformPolicy,
    "editors-pick": EditorsPickPolicy,
    "best-single": BestSingleVariantPolicy,
    "linucb": LinearBanditPolicy,
}

__all__ = ["Candidate", "Context", "Decision", "Policy", "sticky_draw", "UniformPolicy", "EditorsPickPolicy",
           "BestSingleVariantPolicy", "LinearBanditPolicy", "POLICIES"]
