"""A* over the synchronous product of a trace and the SOP net, returning the preferred optimal
alignment.

States are (marking, trace position), numbered marking id * (len(trace) + 1) + position; the
markings come from a `MarkingGraph`, explored only as far as the search goes. The heuristic
(conform/heuristic.py) is consistent, so a closed state's distance is exact. Ties in the
estimated cost are broken by the moves of the path so far, compared in the preference order of
conform/align.py; the first path to reach the goal is then the preferred optimal alignment, so
any heuristic and any numbering of markings (either gear) gives the same moves.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sopaudit.conform.heuristic import DEAD
from sopaudit.conform.limits import AlignLimits
from sopaudit.conform.moves import LOG_COST, MODEL_COST, TAU_COST, Move, labels_ahead
from sopaudit.core.errors import SopAuditError

if TYPE_CHECKING:  # the graph is only passed in: no pm4py import here
    from sopaudit.sop.marking import MarkingGraph

# Preference among optimal moves (lower first).
_MODEL, _SYNC, _TAU, _LOG = 0, 1, 2, 3
# The least cost of a deviating move, log or visible model move (both 10000, as in pm4py).
DEVIATION = min(LOG_COST, MODEL_COST)


class AlignmentLimitError(SopAuditError):
    """One variant's alignment search went over its AlignLimits."""


class MoveTable:
    """Per marking, its moves split for the search, built as markings are met and kept across
    the traces aligned on one graph: the silent moves, the visible transitions by label (for
    synchronous moves), each as (next marking, rank), and all visible transitions (for model
    moves) as (next marking, rank, label). A rank orders moves by preference, then by transition
    name."""

    def __init__(self, graph: MarkingGraph):
        self.graph = graph
        self.width = len(graph.transitions) + 1
        self.rank = {name: k + 1 for k, (name, _, _, _) in enumerate(graph.transitions)}
        self.transition = [("", None)] + [(name, label) for name, label, _, _ in graph.transitions]  # by rank
        self._rows: dict[int, tuple] = {}

    def row(self, m: int) -> tuple[tuple, dict, tuple]:
        got = self._rows.get(m)
        if got is None:
            taus, by_label, visible = [], {}, []
            w, rank = self.width, self.rank
            for name, label, m2 in self.graph.successors(m):
                if label is None:
                    taus.append((m2, _TAU * w + rank[name]))
                else:
                    by_label.setdefault(label, []).append((m2, _SYNC * w + rank[name]))
                    visible.append((m2, _MODEL * w + rank[name], label))
            got = self._rows[m] = (tuple(taus), by_label, tuple(visible))
        return got


def _limit(trace: tuple[str, ...], what: str) -> AlignmentLimitError:
    if not trace:
        return AlignmentLimitError(
            f"the shortest run of the reference model (needed for the fitness) could not be found: its "
            f"search {what}. Raise the limits (AlignLimits: max_states, max_seconds) or simplify the model")
    shown = " → ".join(trace) if len(trace) <= 12 else " → ".join(trace[:12]) + f" → … ({len(trace)} events)"
    return AlignmentLimitError(
        f"the variant [{shown}] could not be aligned: its search {what}; the other variants are "
        "aligned. Raise the limits (AlignLimits: max_states, max_seconds) or simplify the model")


def search(graph: MarkingGraph, trace: tuple[str, ...], h: Callable[[int], int], prefix: bool = False,
           limits: AlignLimits | None = None, table: MoveTable | None = None,
           lift_exceptions: frozenset[int] | None = None) -> tuple[tuple[Move, ...], int, int]:
    """The preferred optimal alignment of one trace, its cost and the marking it ends in.

    With `prefix`, the trace is aligned as the beginning of a run (a case still under way): the
    alignment may stop in any marking once all events are explained. `table`: the graph's
    MoveTable, if one is kept across traces. `lift_exceptions`: if given, the bound `h` grows by
    at least MODEL_COST along a model move whose label is still ahead in the trace, from every
    marking but these."""
    limits = limits or AlignLimits()
    table = table or MoveTable(graph)
    n = len(trace)
    n1 = n + 1
    start = graph.initial * n1
    final = graph.final
    width = table.width
    log_key = _LOG * width
    dist = {start: 0}
    path_of: dict[int, tuple[int, ...]] = {start: ()}  # ranks of the moves of the best path found
    closed: dict[int, int] = {}  # the closed states, with their estimate f
    heap = [(h(start), (), start)]
    rows, row = table._rows, table.row
    push, pop = heapq.heappush, heapq.heappop
    deadline = time.monotonic() + limits.max_seconds
    max_states = limits.max_states
    goal = None

    # A* with a consistent heuristic, so a state's distance is exact when it is closed. Ties in
    # f are broken by the path's move ranks, lexicographically: the first path to reach the goal
    # is then the preferred optimal one (a state is closed through its preferred optimal path,
    # as any path that beats it has a prefix that comes first in the queue).
    #
    # A closed state's deviating moves (log and model moves, cost DEVIATION) are pushed later, by
    # a stand-in entry (a negative state) keyed below each of them: f2 >= g + DEVIATION and, the
    # bound being consistent, f2 >= f; its path is a prefix of theirs. So the queue pops the same
    # states in the same order, but a variant that fits, or deviates little, never computes the
    # bound for the many deviating moves it will not take. Where the bound grows by a deviation
    # along a model move of a label still ahead (`lift_exceptions`), those moves wait for a second
    # stand-in keyed f + DEVIATION.
    ahead = labels_ahead(trace) if lift_exceptions is not None else None
    while heap:
        f, path, s = pop(heap)
        if s < 0:  # a stand-in of a closed state's deviating moves
            s = ~s
            late = s & 1
            s >>= 1
            m, i = divmod(s, n1)
            g = dist[s] + DEVIATION
            visible = (rows.get(m) or row(m))[2]
            if late:
                labels = ahead[i]
                out = [(m2 * n1 + i, r) for m2, r, b in visible if b in labels]
            else:
                if ahead is not None and m not in lift_exceptions:
                    labels = ahead[i]
                    out = [(m2 * n1 + i, r) for m2, r, b in visible if b not in labels]
                    if len(out) < len(visible):
                        push(heap, (closed[s] + DEVIATION, path, ~(2 * s + 1)))
                else:
                    out = [(m2 * n1 + i, r) for m2, r, _ in visible]
                if i < n:
                    out.append((s + 1, log_key))
        else:
            if s in closed or path is not path_of[s]:
                continue  # an entry superseded by a shorter or preferred path
            closed[s] = f
            if len(dist) > max_states:
                raise _limit(trace, f"kept more than {max_states:,} states")
            if len(closed) & 1023 == 0 and time.monotonic() > deadline:
                raise _limit(trace, f"ran longer than {limits.max_seconds:g} s")
            m, i = divmod(s, n1)
            if i == n and (prefix or m == final):
                goal = s
                break
            g = dist[s]
            taus, by_label, visible = rows.get(m) or row(m)
            if i < n or visible:
                push(heap, (f if f > g + DEVIATION else g + DEVIATION, path, ~(2 * s)))
            if i < n:
                # synchronous moves (cost 0); the silent ones below
                s1 = i + 1
                for m2, r in by_label.get(trace[i], ()):
                    s2 = m2 * n1 + s1
                    d = dist.get(s2)
                    if d is None or g < d or (g == d and s2 not in closed and path + (r,) < path_of[s2]):
                        h2 = h(s2)
                        if h2 < DEAD:
                            dist[s2] = g
                            p2 = path_of[s2] = path + (r,)
                            push(heap, (g + h2, p2, s2))
            out = [(m2 * n1 + i, r) for m2, r in taus]
            g += TAU_COST
        for s2, r in out:
            d = dist.get(s2)
            if d is None or g < d or (g == d and s2 not in closed and path + (r,) < path_of[s2]):
                h2 = h(s2)
                if h2 < DEAD:
                    dist[s2] = g
                    p2 = path_of[s2] = path + (r,)
                    push(heap, (g + h2, p2, s2))
    if goal is None:
        raise SopAuditError("the reference model cannot reach its final marking; check the model's final marking")
    # Replay the ranks into moves.
    moves, s = [], start
    for r in path_of[goal]:
        m, i = divmod(s, n1)
        kind = r // width
        if kind == _LOG:
            moves.append(Move(trace[i], None, None))
            s += 1
            continue
        name, label = table.transition[r % width]
        taus, by_label, visible = row(m)
        m2 = next(e[0] for e in (taus if kind == _TAU else by_label[label] if kind == _SYNC else visible)
                  if e[1] == r)
        if kind == _SYNC:
            moves.append(Move(label, label, name))
            s = m2 * n1 + i + 1
        else:
            moves.append(Move(None, label, name))  # a silent move when label is None
            s = m2 * n1 + i
    return tuple(moves), dist[goal], goal // n1
