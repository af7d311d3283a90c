"""The one list of policies: what each is called, what it needs, and how to make one.

The CLI, the Policy lab, Preview and promotion all read this registry, so a policy added
here is offered everywhere, under one name and one label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from artdash.errors import ValidationError
from artdash.policy.base import Policy
from artdash.policy.baselines import BestSingleVariantPolicy, EditorsPickPolicy, UniformPolicy
from artdash.policy.features import FeatureSpace
from artdash.policy.linear import LinearBanditPolicy

BEST_SINGLE_MIN_EXPLORATION = 0.1  # a non-personalised winner still needs its rivals measured


@dataclass(frozen=True)
class PolicyKind:
    """One registered policy: its key (logged with every decision), its label, whether it
    personalises, and the optional package it needs (``None``: always available)."""

    name: str
    label: str
    personalised: bool
    needs: str | None = None

    def available(self) -> bool:
        """Whether it can run here (its optional package is installed)."""
        if self.needs != "vowpalwabbit":
            return True
        from artdash.policy.vw import available

        return available()


KINDS: dict[str, PolicyKind] = {k.name: k for k in (
    PolicyKind("uniform", "Uniform random", personalised=False),
    PolicyKind("editors-pick", "Editor's pick", personalised=False),
    PolicyKind("best-single", "Best single variant", personalised=False),
    PolicyKind("linucb", "Contextual bandit (LinUCB)", personalised=True),
    PolicyKind("vw", "Contextual bandit (Vowpal Wabbit)", personalised=True, needs="vowpalwabbit"),
)}
LABELS: dict[str, str] = {name: kind.label for name, kind in KINDS.items()}
DEFAULT_POLICY = "linucb"                       # what Preview serves until a policy is promoted
DEFAULT_LINEUP = ("uniform", "editors-pick", "best-single", "linucb")   # the lab's default comparison


def names(available_only: bool = False) -> list[str]:
    """Every registered policy key (or only those that can run here), in display order."""
    return [n for n, k in KINDS.items() if not available_only or k.available()]


def check(name: str) -> PolicyKind:
    """The registered policy ``name``, or a refusal naming the choices."""
    kind = KINDS.get(name)
    if kind is None:
        raise ValidationError(f"unknown policy {name!r}; choose from {', '.join(KINDS)}")
    return kind


def make(name: str, features: FeatureSpace, *, picks: Mapping[int, int] | None = None,
         exploration: float = 0.05) -> Policy:
    """A fresh, untrained policy ``name`` over ``features`` (``picks``: title id → editor's pick)."""
    kind = check(name)
    if not kind.available():
        raise ValidationError(f"{kind.label} needs the {kind.needs} package (pip install 'artdash[vw]'); "
                              "leave it out")
    if name == "uniform":
        return UniformPolicy()
    if name == "editors-pick":
        return EditorsPickPolicy(picks)
    if name == "best-single":
        return BestSingleVariantPolicy({}, exploration=max(exploration, BEST_SINGLE_MIN_EXPLORATION))
    if name == "linucb":
        return LinearBanditPolicy(features, exploration=exploration)
    from artdash.policy.vw import VowpalWabbitPolicy

    return VowpalWabbitPolicy(features, epsilon=exploration)
