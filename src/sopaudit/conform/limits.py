"""The bounds on one variant's alignment search, in a module of their own: the command line
reads their defaults for its options without loading the search (and numpy with it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlignLimits:
    """Bounds on one variant's search: states it may keep in memory (each costs roughly half a
    kilobyte, more for long traces) and seconds it may run. A variant over either is reported as
    not aligned."""

    max_states: int = 500_000
    max_seconds: float = 60.0
