"""Experiment plans: the planned split the sample-ratio check compares with (unequal splits
are common), the planned end that decides the default method; refused when malformed, with
nothing saved; audited. On each backend."""

from __future__ import annotations

from datetime import date

import pytest
from workspaces import make_settings

from artdash import stats
from artdash.access.audit import entries
from artdash.errors import ValidationError
from artdash.results import plans
from artdash.stats.inference import FIXED, SEQUENTIAL
from artdash.workspace import Workspace


@pytest.fixture
def ws(tmp_path, database_url):
    workspace = Workspace.open(make_settings(tmp_path, database_url))
    yield workspace
    workspace.close()


def test_a_plan_is_declared_replaced_and_audited(ws, frozen_clock):
    assert plans.get_plan(ws.results_engine, "spring") is None
    plan = plans.set_plan(ws, "spring", {"control": 9, "bandit": 1}, date(2027, 4, 1), "local-admin")
    assert plan.shares() == {"control": 0.9, "bandit": 0.1} and plan.describe() == "control 90% · bandit 10%"
    again = plans.get_plan(ws.results_engine, "spring")
    assert again.weights == {"control": 9.0, "bandit": 1.0} and again.planned_end == date(2027, 4, 1)
    plans.set_plan(ws, "spring", {"control": 1, "bandit": 1}, None, "local-admin")
    assert plans.get_plan(ws.results_engine, "spring").planned_end is None
    with ws.session() as s:
        logged = entries(s, entity="experiment plan")
    assert list(logged["action"])[:2] == ["update", "create"] and set(logged["id"]) == {"spring"}


@pytest.mark.parametrize("weights, words", [
    ({"control": 1}, "at least two cells"), ({"control": 1, "bandit": 0}, "above 0"),
    ({"control": 1, "bandit": float("nan")}, "above 0"), ({"": 1, "b": 1}, "1 to 40 characters"),
    ({"x" * 41: 1, "b": 1}, "1 to 40 characters")])
def test_a_malformed_plan_is_refused_and_nothing_is_saved(ws, weights, words):
    with pytest.raises(ValidationError, match=words):
        plans.set_plan(ws, "spring", weights, None, "local-admin")
    assert plans.get_plan(ws.results_engine, "spring") is None


def test_weights_are_parsed_from_text_or_refused():
    assert plans.parse_weights("control=9, bandit = 1") == {"control": 9.0, "bandit": 1.0}
    with pytest.raises(ValidationError, match="not CELL=WEIGHT"):
        plans.parse_weights("control:9")
    with pytest.raises(ValidationError, match="not a number"):
        plans.parse_weights("control=nine,b=1")


def test_the_sample_ratio_check_uses_the_plan():
    plan = plans.ExperimentPlan("spring", {"control": 9, "bandit": 1}, None)
    split = plans.planned_split(plan, ["bandit", "control"])
    assert split.weights == (1, 9) and split.source == "plan"
    # 1,000 / 9,000 is what a 10 / 90 plan should give; an equal split would cry mismatch
    assert not stats.sample_ratio_mismatch([1000, 9000], list(split.weights)).mismatch
    assert stats.sample_ratio_mismatch([1000, 9000], [1, 1]).mismatch
    assert plans.planned_split(None, ["a", "b"]).source == "assumed equal"
    assert "does not name (holdout)" in plans.planned_split(plan, ["control", "holdout"]).problem


def test_sequential_until_the_planned_end_then_fixed_horizon():
    plan = plans.ExperimentPlan("spring", {"a": 1, "b": 1}, date(2027, 4, 1))
    assert plans.default_method(plan, date(2027, 3, 31)) == SEQUENTIAL
    assert plans.default_method(plan, date(2027, 4, 1)) == SEQUENTIAL
    assert plans.default_method(plan, date(2027, 4, 2)) == FIXED
    assert plans.default_method(None, date(2030, 1, 1)) == SEQUENTIAL
