"""The registry is the one list of policies: no other list of policy names in the package or
the pages, every list there is read from it, and what it says of each policy holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from artdash.errors import ValidationError
from artdash.lab import store as lab_store
from artdash.policy import registry
from artdash.policy.features import FeatureSpace

ROOT = Path(__file__).resolve().parents[2]


def literal_lists_of_policies() -> list[str]:
    """Every tuple, list, set or dict literal outside the registry that names two policies or more."""
    found = []
    files = [*(ROOT / "artdash").rglob("*.py"), *(ROOT / "screens").rglob("*.py"), ROOT / "app.py"]
    for path in files:
        if path == ROOT / "artdash" / "policy" / "registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            elif isinstance(node, ast.Dict):
                values = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            else:
                continue
            named = [v for v in values if isinstance(v, str) and v in registry.KINDS]
            if len(named) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {named}")
    return found


def test_no_other_list_of_policies_exists():
    assert literal_lists_of_policies() == []


def test_each_entry_makes_its_policy_and_says_whether_it_is_served():
    features = FeatureSpace([])
    for name, kind in registry.KINDS.items():
        if not kind.available():
            continue
        policy = registry.make(name, features)
        assert policy.name == name and kind.colour.startswith("#")
        assert kind.learns == policy.learns
        if kind.servable:
            assert registry.check_servable(name) is kind
        else:
            with pytest.raises(ValidationError, match="cannot be served: "):
                registry.check_servable(name)
    assert set(registry.names(servable_only=True)) == {n for n, k in registry.KINDS.items() if k.servable}


def test_a_policy_the_service_cannot_serve_cannot_be_promoted(demo_workspace):
    unservable = [n for n, k in registry.KINDS.items() if not k.servable]
    assert unservable, "the test needs a registered policy the service cannot serve"
    with demo_workspace.transaction() as s:
        for name in unservable:
            with pytest.raises(ValidationError, match="cannot be served"):
                lab_store.promote(s, name, "local-admin")
        assert lab_store.current_policy(s) == (None, None)
