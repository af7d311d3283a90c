"""Package faces that load their modules on first use.

A package's ``__init__`` that imports every module makes each caller pay for all of them: the
decision service, which needs one rule of the catalog, loaded the video and face code too. With
:func:`exports` a package keeps its public names (``from artdash.catalog import create_title``
works as before, and type checkers see them through an ``if TYPE_CHECKING:`` import block) while
each module is imported the first time one of its names is asked for.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def exports(package: str, modules: Mapping[str, Sequence[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose public names live in
    ``modules`` (module path → its names)."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)      # once: the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(home))

    return __getattr__, __dir__
