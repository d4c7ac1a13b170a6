"""A* over the synchronous product of a trace and the SOP net, and the preferred optimal path.

States are (marking, trace position), numbered marking id * (len(trace) + 1) + position; the
markings come from a `MarkingGraph`, explored only as far as the search goes. The heuristic
(conform/heuristic.py) is consistent, so every closed state's distance is exact; the search goes
on until every state that can lie on an optimal path is closed, and the alignment returned is
then fixed by the preference stated in conform/align.py, not by the search order. So any
heuristic and any numbering of markings give the same moves.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

from sopaudit.conform.heuristic import DEAD
from sopaudit.conform.moves import LOG_COST, MODEL_COST, TAU_COST, Move
from sopaudit.core.errors import SopAuditError
from sopaudit.sop.marking import MarkingGraph

# Preference among optimal moves (lower first).
_MODEL, _SYNC, _TAU, _LOG = 0, 1, 2, 3


@dataclass(frozen=True)
class AlignLimits:
    """Bounds on one variant's search: states it may keep in memory (each costs roughly 200
    bytes) and seconds it may run. A variant over either is reported as not aligned."""

    max_states: int = 2_000_000
    max_seconds: float = 60.0


class AlignmentLimitError(SopAuditError):
    """One variant's alignment search went over its AlignLimits."""


def _edges(graph: MarkingGraph, trace: tuple[str, ...], state: int):
    """Moves out of a state: (preference, transition name, cost, next state, kind, label)."""
    n1 = len(trace) + 1
    m, i = divmod(state, n1)
    out = []
    if i < len(trace):
        out.append((_LOG, "", LOG_COST, state + 1, "log", trace[i]))
    for name, label, m2 in graph.successors(m):
        if label is None:
            out.append((_TAU, name, TAU_COST, m2 * n1 + i, "tau", None))
        else:
            if i < len(trace) and label == trace[i]:
                out.append((_SYNC, name, 0, m2 * n1 + i + 1, "sync", label))
            out.append((_MODEL, name, MODEL_COST, m2 * n1 + i, "model", label))
    return out


def _move(edge) -> Move:
    _, name, _, _, kind, label = edge
    if kind == "log":
        return Move(label, None, None)
    if kind == "tau":
        return Move(None, None, name)
    if kind == "sync":
        return Move(label, label, name)
    return Move(None, label, name)


def _limit(trace: tuple[str, ...], what: str) -> AlignmentLimitError:
    shown = " → ".join(trace) if len(trace) <= 12 else " → ".join(trace[:12]) + f" → … ({len(trace)} events)"
    return AlignmentLimitError(
        f"the variant [{shown}] could not be aligned: its search {what}; the other variants are "
        "aligned. Raise the limits (AlignLimits: max_states, max_seconds) or simplify the model")


def search(graph: MarkingGraph, trace: tuple[str, ...], h: Callable[[int], int], prefix: bool = False,
           limits: AlignLimits | None = None) -> tuple[tuple[Move, ...], int, int]:
    """The preferred optimal alignment of one trace, its cost and the marking it ends in.

    With `prefix`, the trace is aligned as the beginning of a run (a case still under way): the
    alignment may stop in any marking once all events are explained."""
    limits = limits or AlignLimits()
    n = len(trace)
    n1 = n + 1
    start = graph.initial * n1
    final = graph.final
    dist = {start: 0}
    preds: dict[int, list[int]] = {start: []}  # closed states with an edge at distance, per state
    closed: set[int] = set()
    heap = [(h(start), 0, start)]
    best = None
    goals: set[int] = set()
    succ = graph.successors
    push, pop = heapq.heappush, heapq.heappop
    deadline = time.monotonic() + limits.max_seconds
    max_states = limits.max_states

    # A* with a consistent heuristic, so every expanded state's distance is exact; it goes on
    # until all states that can lie on an optimal path are done.
    while heap:
        f, g, s = pop(heap)
        if g > dist[s] or s in closed:
            continue
        if best is not None and f > best:
            break
        closed.add(s)
        if len(closed) & 4095 == 0:
            if len(dist) > max_states:
                raise _limit(trace, f"kept more than {max_states:,} states")
            if time.monotonic() > deadline:
                raise _limit(trace, f"ran longer than {limits.max_seconds:g} s")
        m, i = divmod(s, n1)
        if i == n and (m == final or prefix) and (best is None or g == best):
            best = g
            goals.add(s)
            continue  # the alignment stops here (a prefix one once every event is explained)
        a = trace[i] if i < n else None
        out = [(s + 1, g + LOG_COST)] if i < n else []
        for _, label, m2 in succ(m):
            s2 = m2 * n1 + i
            if label is None:
                out.append((s2, g + TAU_COST))
            else:
                if label == a:
                    out.append((s2 + 1, g))
                out.append((s2, g + MODEL_COST))
        for s2, g2 in out:
            d = dist.get(s2)
            if d is None or g2 < d:
                h2 = h(s2)
                if h2 < DEAD:
                    dist[s2] = g2
                    preds[s2] = [s]
                    push(heap, (g2 + h2, g2, s2))
            elif g2 == d:
                preds[s2].append(s)
    if best is None:
        raise SopAuditError("the reference model cannot reach its final marking; check the model's final marking")
    moves, end = _preferred(graph, trace, start, goals, preds, dist)
    return moves, best, end // n1


def _preferred(graph, trace, start, goals, preds, dist) -> tuple[tuple[Move, ...], int]:
    """Walk from the start along optimal moves, taking the preferred one at each point."""
    # States from which a goal is reached along edges at distance (edges on an optimal path).
    on_path = set(goals)
    stack = list(goals)
    while stack:
        for p in preds[stack.pop()]:
            if p not in on_path:
                on_path.add(p)
                stack.append(p)
    moves = []
    s = start
    while s not in goals:
        g = dist[s]
        # Edges compare by (preference, transition name) first, which no two edges share.
        choice = min(e for e in _edges(graph, trace, s) if e[3] in on_path and dist[e[3]] == g + e[2])
        moves.append(_move(choice))
        s = choice[3]
    return tuple(moves), s
