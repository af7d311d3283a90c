"""The one list of policies: what each is called, what it needs, and how to make one.

The CLI, the Policy lab, Preview, the decision service and promotion all read this registry,
so a policy added here (its module and one entry) is offered everywhere, under one name and
one label; whether the service can serve it is said here too, with the reason when not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from artdash.errors import ValidationError
from artdash.policy.base import Policy
from artdash.policy.baselines import BestSingleVariantPolicy, EditorsPickPolicy, UniformPolicy
from artdash.policy.features import FeatureSpace
from artdash.policy.linear import LinearBanditPolicy
from artdash.policy.thompson import ThompsonSamplingPolicy

BEST_SINGLE_MIN_EXPLORATION = 0.1  # a non-personalised winner still needs its rivals measured


@dataclass(frozen=True)
class Build:
    """What a policy may be built from: the feature space, the editor's picks (title id →
    variant id) and the exploration share."""

    features: FeatureSpace
    picks: Mapping[int, int]
    exploration: float


def _vw(build: Build) -> Policy:
    from artdash.policy.vw import VowpalWabbitPolicy

    return VowpalWabbitPolicy(build.features, epsilon=build.exploration)


@dataclass(frozen=True)
class PolicyKind:
    """One registered policy: its key (logged with every decision), its label, whether it
    personalises, how to make a fresh one, the optional package it needs (``None``: always
    available) and — when the decision service cannot serve it — why not (promotion and shadow
    mode refuse it with that reason)."""

    name: str
    label: str
    personalised: bool
    factory: Callable[[Build], Policy]
    colour: str                    # its colour in every chart
    needs: str | None = None
    not_servable: str = ""

    @property
    def servable(self) -> bool:
        """Whether the decision service can serve it (store its trained versions and load them)."""
        return not self.not_servable

    @functools.cached_property
    def learns(self) -> bool:
        """Whether its served versions retrain from the decisions the service logs (asked of a
        throwaway instance once: every refresh and retrain reads it)."""
        return self.make_probe().learns

    def make_probe(self) -> Policy:
        """A throwaway instance over an empty feature space (to ask it what it is)."""
        return self.factory(Build(FeatureSpace([]), {}, 0.05))

    def available(self) -> bool:
        """Whether it can run here (its optional package is installed)."""
        if self.needs != "vowpalwabbit":
            return True
        from artdash.policy.vw import available

        return available()


KINDS: dict[str, PolicyKind] = {k.name: k for k in (
    PolicyKind("uniform", "Uniform random", personalised=False, factory=lambda b: UniformPolicy(), colour="#9aa0a6"),
    PolicyKind("editors-pick", "Editor's pick", personalised=False, factory=lambda b: EditorsPickPolicy(b.picks),
               colour="#f6c343"),
    PolicyKind("best-single", "Best single variant", personalised=False, colour="#f28b82",
               factory=lambda b: BestSingleVariantPolicy({}, exploration=max(b.exploration, BEST_SINGLE_MIN_EXPLORATION))),
    PolicyKind("thompson", "Thompson sampling", personalised=False, colour="#c58af9",
               factory=lambda b: ThompsonSamplingPolicy({}, exploration=b.exploration)),
    PolicyKind("linucb", "Contextual bandit (LinUCB)", personalised=True, colour="#8ab4f8",
               factory=lambda b: LinearBanditPolicy(b.features, exploration=b.exploration)),
    PolicyKind("vw", "Contextual bandit (Vowpal Wabbit)", personalised=True, factory=_vw, needs="vowpalwabbit",
               colour="#81c995",
               not_servable="the decision service cannot store Vowpal Wabbit's trained state as a model version "
                            "yet; evaluate it in the lab, and serve LinUCB (the same features) instead"),
)}
LABELS: dict[str, str] = {name: kind.label for name, kind in KINDS.items()}
COLOURS: dict[str, str] = {name: kind.colour for name, kind in KINDS.items()}
DEFAULT_POLICY = "linucb"                       # what Preview serves until a policy is promoted
DEFAULT_LINEUP = ("uniform", "editors-pick", "best-single", "linucb")   # the lab's default comparison


def fixed_rules() -> list[str]:
    """The servable policies that learn nothing (uniform, editor's pick): exact propensities
    from the first decision — what a holdout may serve."""
    return [n for n in names(available_only=True, servable_only=True) if not KINDS[n].learns]


def names(available_only: bool = False, servable_only: bool = False) -> list[str]:
    """Every registered policy key (or only those that can run here, or be served), in display order."""
    return [n for n, k in KINDS.items()
            if (not available_only or k.available()) and (not servable_only or k.servable)]


def check(name: str) -> PolicyKind:
    """The registered policy ``name``, or a refusal naming the choices."""
    kind = KINDS.get(name)
    if kind is None:
        raise ValidationError(f"unknown policy {name!r}; choose from {', '.join(KINDS)}")
    return kind


def check_servable(name: str) -> PolicyKind:
    """The registered policy ``name`` if the decision service can serve it, or a refusal that
    says why not (what promotion and shadow mode answer)."""
    kind = check(name)
    if not kind.servable:
        raise ValidationError(f"{kind.label} cannot be served: {kind.not_servable}")
    return kind


def make(name: str, features: FeatureSpace, *, picks: Mapping[int, int] | None = None,
         exploration: float = 0.05) -> Policy:
    """A fresh, untrained policy ``name`` over ``features`` (``picks``: title id → editor's pick)."""
    kind = check(name)
    if not kind.available():
        raise ValidationError(f"{kind.label} needs the {kind.needs} package (pip install 'artdash[vw]'); "
                              "leave it out")
    return kind.factory(Build(features, dict(picks or {}), exploration))
