"""Lower bounds on the alignment cost still to pay from a search state (marking, trace position).

Two counts of deviations that cannot be avoided, added up:

- never: an event whose label can no longer fire from the marking must be a log move. With the
  whole marking graph built this is exact per marking (`MarkingGraph.future`); during a search
  on the fly it is read from the net's structure: the labels downstream of the marked places.
- must: a token the final marking does not want forces the transitions it must go through to
  fire: its place's only consumer, then the only consumers of the places that one fills, and so
  on. A label needs at least as many firings as it has such transitions; each firing beyond the
  remaining events with that label is a model move, and each forced silent transition is a
  silent move. (Not for prefix alignments: they need not reach the end.)

Both counts are consistent (h(s) <= cost(s, s') + h(s') for every move): firing a transition
only moves tokens downstream, and only the fired transition can leave the forced set (the
tokens it produces continue its chains). So the first time A* closes a state its distance is
exact, and every cost stays optimal, as pm4py's. Labels are bits of an int: a few popcounts
per state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sopaudit.conform.graphbound import TailCost, label_caps
from sopaudit.conform.moves import DEAD, LOG_COST, TAU_COST

if TYPE_CHECKING:  # the graph is only passed in: no pm4py import here
    from sopaudit.sop.marking import MarkingGraph


class Bound:
    """Per-marking ingredients of the bound for one net, cached across the traces aligned."""

    def __init__(self, graph: MarkingGraph, exact: bool):
        self.graph = graph
        self._future = graph.future() if exact else None
        bit = graph.label_bit
        n = len(graph.places)
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
        self._final = final = graph.marking(graph.final)
        # Transitions a token in a place forces to fire: the place's only consumer, then the only
        # consumers of the places it fills (that the final marking leaves empty), and so on.
        only: list[int | None] = [None] * n
        for k, (_, _, pre, _) in enumerate(graph.transitions):
            for p, w in enumerate(pre):
                if w:
                    only[p] = k if only[p] is None else -1
        forced = [0] * n
        for p0 in range(n):
            stack, seen, acc = [p0], {p0}, 0
            while stack:
                k = only[stack.pop()]
                if k is None or k < 0 or acc >> k & 1:
                    continue
                acc |= 1 << k
                for q, w in enumerate(graph.transitions[k][3]):
                    if w and not final[q] and q not in seen:
                        seen.add(q)
                        stack.append(q)
            forced[p0] = acc
        self._forced = forced
        self._label_of = [bit.get(label, 0) for _, label, _, _ in graph.transitions]
        self._silent = sum(1 << k for k, (_, label, _, _) in enumerate(graph.transitions) if label is None)
        self._info: dict[int, tuple[int, tuple[int, ...], int]] = {}
        self._tail = self._caps = self._infos = None
        if exact:
            self._tail = TailCost(graph)
            # per marking: the labels each layer of events may not hold (beyond the label's
            # limit), then the labels no layer past those may hold
            self._caps = [(tuple(~(inf | layer) for layer in fin), ~inf) for inf, fin in label_caps(graph)]
            self._infos = [self.info(m) for m in range(len(graph))]

    def info(self, mid: int) -> tuple[int, tuple[int, ...], int]:
        """(bitmask of labels that can still fire, labels that must fire as layers: layer j
        holds the labels that must fire more than j times, silent transitions that must fire)."""
        got = self._info.get(mid)
        if got is None:
            m = self.graph.marking(mid)
            final, down, fp = self._final, self._down, self._forced
            mask = self._always
            forced = 0
            for p, k in enumerate(m):
                if k:
                    mask |= down[p]
                    if k > final[p]:
                        forced |= fp[p]
            silent = (forced & self._silent).bit_count()
            layers: list[int] = []
            count: dict[int, int] = {}
            label_of = self._label_of
            while forced:
                low = forced & -forced
                forced ^= low
                b = label_of[low.bit_length() - 1]
                if b:
                    c = count.get(b, 0)
                    count[b] = c + 1
                    if c == len(layers):
                        layers.append(0)
                    layers[c] |= b
            if self._future is not None:
                mask = self._future[mid]
            got = (mask, tuple(layers), silent)
            self._info[mid] = got
        return got

    def for_trace(self, trace: tuple[str, ...], prefix: bool) -> Callable[[int], int]:
        """h(state) for states numbered marking * (len(trace) + 1) + position."""
        n1 = len(trace) + 1
        bits = dict(self.graph.label_bit)
        for a in sorted(set(trace) - bits.keys()):  # labels the net lacks: never in any mask
            bits[a] = 1 << len(bits)
        # left[i]: the events from position i on as layers (layer j: labels seen more than j times).
        left: list[tuple[int, ...]] = [()] * n1
        count: dict[str, int] = {}
        layers: list[int] = []
        for i in range(n1 - 2, -1, -1):
            a = trace[i]
            c = count.get(a, 0)
            count[a] = c + 1
            if c == len(layers):
                layers.append(0)
            layers[c] |= bits[a]
            left[i] = tuple(layers)
        if self._caps is not None:
            return self._graph_h(trace, prefix, left)
        info = self.info

        def h(state: int) -> int:
            m, i = divmod(state, n1)
            mask, need, silent = info(m)
            ev = left[i]
            v = 0
            for layer in ev:
                v += (layer & ~mask).bit_count()  # events that can no longer be synchronous
            if prefix:
                return v * LOG_COST
            if need:
                if need[0] & ~mask:
                    return DEAD  # a label that must fire can no longer fire
                for j, layer in enumerate(need):
                    v += (layer & ~ev[j]).bit_count() if j < len(ev) else layer.bit_count()
            return v * LOG_COST + silent * TAU_COST

        return h

    def _graph_h(self, trace: tuple[str, ...], prefix: bool, left: list[tuple[int, ...]]) -> Callable[[int], int]:
        """The graph gear's bound: events beyond what their label can still fire (log moves) plus
        the cheapest run to the end given the labels still ahead (conform/graphbound.py). The
        count of forced firings only adds where a label is forced more than once."""
        n1 = len(trace) + 1
        caps = self._caps
        infos = self._infos
        tails = None if prefix else [self._tail.table(s) for s in _suffix_sets(trace)]

        def h(state: int) -> int:
            m, i = divmod(state, n1)
            ban, rest = caps[m]
            k = len(ban)
            ev = left[i]
            v = 0
            for j, layer in enumerate(ev):
                v += (layer & (ban[j] if j < k else rest)).bit_count()
            if tails is None:
                return v * LOG_COST
            t = tails[i][m]
            if t >= DEAD:
                return DEAD
            t += v * LOG_COST
            mask, need, silent = infos[m]
            if len(need) > 1:
                v = 0
                for layer in ev:
                    v += (layer & ~mask).bit_count()
                for j, layer in enumerate(need):
                    v += (layer & ~ev[j]).bit_count() if j < len(ev) else layer.bit_count()
                v = v * LOG_COST + silent * TAU_COST
                if v > t:
                    return v
            return t

        return h


def _suffix_sets(trace: tuple[str, ...]) -> list[frozenset[str]]:
    """The set of labels of trace[i:] for each position i (the same object while it is equal)."""
    out: list[frozenset[str]] = [frozenset()] * (len(trace) + 1)
    current: frozenset[str] = frozenset()
    for i in range(len(trace) - 1, -1, -1):
        if trace[i] not in current:
            current = current | {trace[i]}
        out[i] = current
    return out
