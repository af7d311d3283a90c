"""Policies: map (persona context, a title's active variants) to a probability per variant.

Every policy implements :class:`artdash.policy.base.Policy`; decisions are sticky
(:mod:`artdash.policy.assign`: a draw fixed by member, title, variant and time window picks
from the probabilities, so the same member sees the same image within a window) and carry the
propensity that offline evaluation needs. The same
objects work on many (context, title) pairs at once (``table``, ``partial_fit``; see
:mod:`artdash.policy.table`), and :mod:`artdash.policy.registry` is the one list of them.
"""

from artdash.policy.base import (
           Candidate,
           CandidateTable,
           Context,
           Decision,
           Policy,
           Rounds,
)
from artdash.policy.baselines import BestSingleVariantPolicy, EditorsPickPolicy, UniformPolicy
from artdash.policy.linear import LinearBanditPolicy
from artdash.policy.registry import DEFAULT_POLICY, KINDS, LABELS, make

__all__ = ["Candidate", "CandidateTable", "Context", "Decision", "Policy", "Rounds", "UniformPolicy",
           "EditorsPickPolicy", "BestSingleVariantPolicy", "LinearBanditPolicy", "DEFAULT_POLICY", "KINDS", "LABELS",
           "make"]
