"""Alignment moves and pm4py's standard integer costs, shared by the aligner's search and its
callers (log move and visible model move 10000, silent move 1, synchronous move 0)."""

from __future__ import annotations

from dataclasses import dataclass

LOG_COST = 10000
MODEL_COST = 10000
TAU_COST = 1
DEAD = 1 << 60  # a lower bound for a state that cannot reach the final marking: no path through it


@dataclass(frozen=True)
class Move:
    """One alignment move. `log` is the activity on the log side or None for a model move;
    `model` is the transition label (None for silent) or None for a log move."""

    log: str | None
    model: str | None
    transition: str | None  # transition name (for silent moves: tells which end was taken)

    @property
    def kind(self) -> str:
        if self.log is not None and self.transition is not None:
            return "sync"
        if self.log is not None:
            return "log"
        return "model" if self.model is not None else "silent"


def labels_ahead(trace: tuple[str, ...]) -> list[frozenset[str]]:
    """The labels of trace[i:] for each position i (one object while the set stays the same)."""
    out: list[frozenset[str]] = [frozenset()] * (len(trace) + 1)
    for i in range(len(trace) - 1, -1, -1):
        out[i] = out[i + 1] if trace[i] in out[i + 1] else out[i + 1] | {trace[i]}
    return out
