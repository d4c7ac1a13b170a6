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

With the whole marking graph built (the graph gear) the bound is tighter, from two exact
per-marking facts (conform/graphbound.py): how often each label can still fire (an event beyond
that is a log move: "never" generalised to counts), plus the cheapest run to the final marking
given the labels still ahead in the trace (its silent moves, and model moves for the labels the
trace no longer has). The forced-firing count above is added only where a label must fire twice
or more, the one case the cheapest run may count lower. Each part is consistent, so their sum and
the maximum are too. On Sepsis the searches pop 32,000 states instead of 147,000.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sopaudit.conform.graphbound import TailCost, label_caps
from sopaudit.conform.moves import DEAD, LOG_COST, TAU_COST, labels_ahead

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
        self._tail = self._kind = self._limits = self._infos = self._twice = None
        if exact:  # the graph gear: the whole marking graph is built
            self._tail = TailCost(graph)
            # Per kind of marking, the labels each layer of events may not hold (beyond the
            # label's limit), then the labels no layer past those may hold.
            kinds: dict[tuple, int] = {}
            self._kind = [kinds.setdefault((tuple(~(inf | layer) for layer in fin), ~inf), len(kinds))
                          for inf, fin in label_caps(graph)]
            self._limits = list(kinds)
            self._infos = [self.info(m) for m in range(len(graph))]
            # markings where a label must fire twice or more: the count of forced firings can
            # beat the cheapest run there (which counts a label ahead in the trace as free)
            self._twice = frozenset(m for m, (_, need, _) in enumerate(self._infos) if len(need) > 1)

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
        if self._kind is not None:
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

    def prepare(self, traces) -> None:
        """Ready the bound for many traces at once (the graph gear's tables of the label sets
        they hold, computed together)."""
        if self._tail is not None:
            self._tail.prepare(s for t in traces for s in labels_ahead(t))

    def lift_exceptions(self, prefix: bool) -> frozenset[int] | None:
        """The markings where the bound of a full alignment may grow by less than MODEL_COST
        along a model move of a label still ahead in the trace (None: not known anywhere).

        In the graph gear such a move costs nothing to the cheapest run (the label is ahead), and
        no label can fire more often after it, so the bound grows by a whole deviation, except
        where the count of forced firings decides it."""
        return self._twice if self._kind is not None and not prefix else None

    def _graph_h(self, trace: tuple[str, ...], prefix: bool, left: list[tuple[int, ...]]) -> Callable[[int], int]:
        """The graph gear's bound: events beyond what their label can still fire (log moves) plus
        the cheapest run to the end given the labels still ahead (conform/graphbound.py). The
        count of forced firings only adds where a label is forced more than once."""
        n1 = len(trace) + 1
        kind, limits, infos = self._kind, self._limits, self._infos
        twice = self._twice
        tails = [self._tail.table(s) for s in labels_ahead(trace)] if not prefix else None
        # The log moves beyond the labels' limits, per kind of marking (markings with the same
        # limits) and position: a few kinds, so most states find it here.
        excess: list[int | None] = [None] * (len(limits) * n1)

        def h(state: int) -> int:
            m, i = divmod(state, n1)
            c = kind[m]
            k = c * n1 + i
            v = excess[k]
            if v is None:
                ban, rest = limits[c]
                v = 0
                for j, layer in enumerate(left[i]):
                    v += (layer & (ban[j] if j < len(ban) else rest)).bit_count()
                v = excess[k] = v * LOG_COST
            if tails is None:
                return v
            t = tails[i][m] + v  # DEAD or more if the end cannot be reached
            if m in twice:
                mask, need, silent = infos[m]
                ev = left[i]
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
