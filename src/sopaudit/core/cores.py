"""How many cores are idle now: what decides whether work is split over processes or threads
(a second worker on a busy machine only waits for a core, and costs its start and its share of
the GIL)."""

from __future__ import annotations

import os


def idle_cores() -> float:
    """The machine's cores less its one-minute load average; where the system has none, every
    core but the one this process runs on."""
    cores = os.cpu_count() or 1
    try:
        return cores - os.getloadavg()[0]
    except (AttributeError, OSError):
        return float(cores - 1)


def workers(most: int) -> int:
    """Workers worth running side by side, at most `most`: this one plus one per idle core, a
    core counting as idle when at least half of it is. (Counting whole cores only, one busy
    process - this one a minute ago, or the audit before it - reads as a load just over 1, and a
    two-core machine with a core free would get no second worker.)"""
    return max(1, min(most, 1 + round(max(0.0, idle_cores()) + 1e-9)))
