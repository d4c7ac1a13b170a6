"""Lower bounds on the alignment cost still to pay from a search state (marking, trace position).

Two counts of deviations that cannot be avoided, added up:

- never: an event whose label can no longer fire from the marking must be a log move. With the
  whole marking graph built this is exact per marking (`MarkingGraph.future`); during a search
  on the fly it is read from the net's structure: the labels downstream of the marked places.
- must: a place holding more tokens than the final marking wants, whose every consuming
  transition carries the same label a, forces a to fire again; each firing beyond the remaining
  events labelled a is a model move. (Not for prefix alignments: they need not reach the end.)

Both counts are consistent (h(s) <= cost(s, s') + h(s') for every move): firing a transition
only moves tokens downstream and never consumes from a place reserved to another label. So the
first time A* closes a state its distance is exact, and every cost stays optimal, as pm4py's.
"""

from __future__ import annotations

from collections.abc import Callable

from sopaudit.conform.moves import LOG_COST
from sopaudit.sop.marking import MarkingGraph

DEAD = 1 << 60  # the marking cannot reach the final marking: no path through it


class Bound:
    """Per-marking ingredients of the bound for one net, cached across the traces aligned."""

    def __init__(self, graph: MarkingGraph, exact: bool):
        self.graph = graph
        self._future = graph.future() if exact else None
        bit = graph.label_bit
        n = len(graph.places)
        consumers: list[list[tuple[str | None, int]]] = [[] for _ in range(n)]
        for _, label, pre, _post in graph.transitions:
            for p, w in enumerate(pre):
                if w:
                    consumers[p].append((label, w))
        down = [0] * n  # labels that can fire downstream of each place (net structure only)
        changed = True
        while changed:
            changed = False
            for _, label, pre, post in graph.transitions:
                acc = bit.get(label, 0)
                for q, w in enumerate(post):
                    if w:
                        acc |= down[q]
                for p, w in enumerate(pre):
                    if w and down[p] | acc != down[p]:
                        down[p] |= acc
                        changed = True
        self._down = down
        self._always = 0  # transitions without input places can always fire, and what follows them
        for _, label, pre, post in graph.transitions:
            if not any(pre):
                self._always |= bit.get(label, 0)
                for q, w in enumerate(post):
                    if w:
                        self._always |= down[q]
        # A place all of whose consumers carry one visible label: (label, largest weight consumed).
        self._reserved = [
            (c[0][0], max(w for _, w in c)) if c and c[0][0] is not None and all(lbl == c[0][0] for lbl, _ in c)
            else None
            for c in consumers
        ]
        self._final = graph.marking(graph.final)
        self._info: dict[int, tuple[int, tuple[tuple[str, int], ...]]] = {}

    def info(self, mid: int) -> tuple[int, tuple[tuple[str, int], ...]]:
        """(bitmask of labels that can still fire, labels that must fire with their counts)."""
        got = self._info.get(mid)
        if got is None:
            m = self.graph.marking(mid)
            need: dict[str, int] = {}
            mask = self._always
            for p, k in enumerate(m):
                if k:
                    mask |= self._down[p]
                    surplus = k - self._final[p]
                    reserved = self._reserved[p]
                    if surplus > 0 and reserved is not None:
                        label, w = reserved
                        need[label] = max(need.get(label, 0), -(-surplus // w))
            if self._future is not None:
                mask = self._future[mid]
            got = (mask, tuple(sorted(need.items())))
            self._info[mid] = got
        return got

    def for_trace(self, trace: tuple[str, ...], prefix: bool) -> Callable[[int], int]:
        """h(state) for states numbered marking * (len(trace) + 1) + position."""
        n1 = len(trace) + 1
        bit = self.graph.label_bit
        remaining: dict[str, list[int]] = {}  # label -> events with it from each position on
        for a in set(trace):
            counts = [0] * n1
            for j in range(n1 - 2, -1, -1):
                counts[j] = counts[j + 1] + (trace[j] == a)
            remaining[a] = counts
        items = [(bit.get(a, 0), counts) for a, counts in sorted(remaining.items())]
        info = self.info

        def count(m: int, i: int) -> int:
            """Deviations that cannot be avoided from marking m at position i (in moves)."""
            mask, need = info(m)
            v = 0
            for b, counts in items:
                if not b & mask:
                    v += counts[i]
            if not prefix:
                for a, k in need:
                    if not bit[a] & mask:
                        return DEAD // LOG_COST  # a label that must fire can no longer fire
                    counts = remaining.get(a)
                    left = counts[i] if counts else 0
                    if k > left:
                        v += k - left
            return v

        if self._future is not None:
            # Few markings, each met at many positions: one table per marking.
            tables: dict[int, list[int]] = {}
            bits = [bit.get(a, 0) for a in trace]

            def h(state: int) -> int:
                m, i = divmod(state, n1)
                t = tables.get(m)
                if t is None:
                    mask, need = info(m)
                    t = [0] * n1
                    for j in range(n1 - 2, -1, -1):
                        t[j] = t[j + 1] + (0 if bits[j] & mask else LOG_COST)
                    if not prefix:
                        for a, k in need:
                            if not bit[a] & mask:
                                t = [DEAD] * n1
                                break
                            counts = remaining.get(a)
                            if counts is None:
                                t = [v + k * LOG_COST for v in t]
                            else:
                                t = [v + LOG_COST * (k - c) if k > c else v for v, c in zip(t, counts, strict=True)]
                    tables[m] = t
                return t[i]
        else:
            cache: dict[int, int] = {}

            def h(state: int) -> int:
                v = cache.get(state)
                if v is None:
                    m, i = divmod(state, n1)
                    v = cache[state] = count(m, i) * LOG_COST
                return v

        return h
