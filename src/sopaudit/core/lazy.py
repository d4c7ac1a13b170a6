"""Packages whose public names are imported on first use (PEP 562), so importing the package
loads no pandas or pm4py until a name that needs them is used."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_names(package: str, api: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` of `package`, whose names `api` maps to the module
    that defines each."""
    def __getattr__(name: str):
        if name in api:
            value = getattr(importlib.import_module(api[name]), name)
            setattr(sys.modules[package], name, value)  # later look-ups skip this function
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(getattr(sys.modules[package], "__all__", sorted(api)))

    return __getattr__, __dir__
