"""The cheapest run from each marking to the final marking, given the labels the trace still has.

A lower bound for the aligner's graph gear (the whole marking graph built): from marking m, with
the labels S still ahead in the trace, every completion fires a run of the net to the final
marking; each silent transition of that run costs TAU_COST, and each visible transition whose
label is not in S can only be a model move (MODEL_COST). The cheapest such run, over all runs,
is a shortest path in the marking graph with those edge costs, computed backwards from the final
marking once per label set and shared by every trace and position with the same set (Sepsis: 613
sets for 846 variants).

It is consistent: a silent or model move costs at least the edge's cost here, a synchronous
move fires a label of S (cost 0 here), and a log move only shrinks S (costs can only grow). It
counts model-side costs only, so the log moves of events that can no longer fire add to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sopaudit.conform.moves import DEAD, MODEL_COST, TAU_COST

if TYPE_CHECKING:
    from sopaudit.sop.marking import MarkingGraph

# Table entries kept across traces (about 40 bytes each as Python ints in lists; Sepsis needs
# 185,000).
MAX_CACHED = 1_000_000
# From this many label sets on, `prepare` computes them in one numpy sweep (about 15 microseconds
# a set on Sepsis' 301 markings, against 70 for one scipy Dijkstra a set).
BATCH_FROM = 8


class TailCost:
    """Per label set, the cheapest model-side cost from every marking to the final marking."""

    def __init__(self, graph: MarkingGraph):
        n = len(graph)
        self.graph = graph
        # Edges reversed (to marking -> from marking), self-loops dropped (never on a shortest
        # path), grouped by pair: two transitions between the same markings keep the cheaper.
        pairs: dict[tuple[int, int], list[int]] = {}
        labels = sorted(graph.labels)
        self._label_index = {lbl: k for k, lbl in enumerate(labels)}
        silent = len(labels)
        for m in range(n):
            for _, label, m2 in graph.successors(m):
                if m2 != m:
                    pairs.setdefault((m2, m), []).append(silent if label is None else self._label_index[label])
        keys = sorted(pairs)
        self._edge_label = np.array([k for key in keys for k in pairs[key]], dtype=np.int64)
        sizes = np.array([len(pairs[key]) for key in keys], dtype=np.int64)
        self._starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        rows = np.array([r for r, _ in keys], dtype=np.int64)
        self._indices = np.array([c for _, c in keys], dtype=np.int32)
        self._indptr = np.searchsorted(rows, np.arange(n + 1)).astype(np.int32)
        # Costs scaled by n and one added per edge: a shortest path minimises the cost first and
        # the edge count (< n) second, so no edge weighs zero (zeros mean "no edge" to scipy) and
        # the cost is the distance divided by n, rounded down. Exact in float64 for n <= 2,000.
        self._scale = n
        self._silent = silent
        self._tables: dict[frozenset[str], list[int]] = {}
        self._sweep: list[tuple[list[int], list[list[tuple[int, int]]]]] | None = None

    def prepare(self, sets) -> None:
        """Compute the tables of many label sets at once (before aligning many traces): one sweep
        over the markings, successors first, each step a numpy operation over all the sets."""
        todo = sorted({s for s in sets if s not in self._tables}, key=sorted)
        if len(todo) * self._scale > MAX_CACHED:
            return  # too many to keep: computed one at a time as the traces need them
        if len(todo) < BATCH_FROM:
            for s in todo:
                self.table(s)
            return
        if self._sweep is None:
            self._sweep = _sweep_order(self.graph, self._label_index, self._silent)
        index = self._label_index
        free = np.zeros((self._silent + 1, len(todo)), dtype=bool)
        for k, s in enumerate(todo):
            free[[index[a] for a in s if a in index], k] = True
        cost = np.where(free, 0, MODEL_COST)
        cost[self._silent] = TAU_COST
        dist = np.full((self._scale, len(todo)), DEAD, dtype=np.int64)
        dist[self.graph.final] = 0
        step = np.empty(len(todo), dtype=np.int64)
        for members, edges in self._sweep:
            changed = True
            while changed:  # one pass unless the markings form a cycle (a loop of the model)
                changed = False
                for m, out in zip(members, edges, strict=True):
                    best = dist[m]
                    before = best.copy() if len(members) > 1 else None
                    for label, m2 in out:
                        np.add(cost[label], dist[m2], out=step)
                        np.minimum(best, step, out=best)
                    if before is not None and not np.array_equal(before, best):
                        changed = True
        np.minimum(dist, DEAD, out=dist)
        for k, s in enumerate(todo):
            self._tables[s] = dist[:, k].tolist()

    def table(self, labels: frozenset[str]) -> list[int]:
        """Per marking id, the cheapest model-side cost to the final marking (DEAD: unreachable)
        when the trace still holds `labels`."""
        got = self._tables.get(labels)
        if got is None:
            if len(self._tables) * self._scale > MAX_CACHED:
                self._tables.clear()
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import dijkstra

            free = np.zeros(self._silent + 1, dtype=bool)
            free[[self._label_index[a] for a in labels if a in self._label_index]] = True
            cost = np.where(free, 0, MODEL_COST)
            cost[self._silent] = TAU_COST
            n = self._scale
            weight = np.minimum.reduceat(cost[self._edge_label], self._starts) * n + 1 if len(self._starts) else cost[:0]
            dist = dijkstra(csr_matrix((weight.astype(float), self._indices, self._indptr), shape=(n, n)),
                            indices=self.graph.final)
            out = np.full(n, DEAD, dtype=np.int64)
            ok = np.isfinite(dist)
            out[ok] = dist[ok].astype(np.int64) // n
            got = self._tables[labels] = out.tolist()
        return got


def _sweep_order(graph: MarkingGraph, index: dict[str, int], silent: int):
    """The markings by strongly connected component, successors' components first, each with
    its moves to other markings as (label index or `silent`, next marking)."""
    n = len(graph)
    succ = [[(silent if label is None else index[label], m2) for _, label, m2 in graph.successors(m) if m2 != m]
            for m in range(n)]
    return [(members, [succ[m] for m in members]) for members in _members(_components(succ))]


def label_caps(graph: MarkingGraph) -> list[tuple[int, tuple[int, ...]]]:
    """Per marking id, how often each label can still fire on any run from it, as
    (labels without limit: those on a cycle the run can reach, layers of the others: layer j
    holds the labels that can fire more than j times), labels as bits of `graph.label_bit`.

    An event beyond its label's limit can only be a log move. The limit never grows along a
    move (the runs from the next marking are tails of runs from this one) and a synchronous move
    uses one of it, so the count of such events is a consistent bound."""
    n = len(graph)
    bit = graph.label_bit
    succ = [[(0 if label is None else bit[label], m2) for _, label, m2 in graph.successors(m)] for m in range(n)]
    comp = _components(succ)
    # Components come out of Tarjan's algorithm successors first: fill them in that order.
    members = _members(comp)
    size = len(members)
    unlimited = [0] * size
    caps: list[dict[int, int]] = [{} for _ in range(size)]
    for c in range(size):
        inf, cap = 0, {}
        for m in members[c]:
            for b, m2 in succ[m]:
                c2 = comp[m2]
                if c2 == c:
                    inf |= b  # on a cycle: as often as wanted
                    continue
                inf |= unlimited[c2]
                for b2, k in caps[c2].items():
                    if k > cap.get(b2, 0):
                        cap[b2] = k
                if b and caps[c2].get(b, 0) + 1 > cap.get(b, 0):
                    cap[b] = caps[c2].get(b, 0) + 1
        unlimited[c] = inf
        caps[c] = {b: k for b, k in cap.items() if not b & inf}
    out = []
    for m in range(n):
        c = comp[m]
        layers = [0] * max(caps[c].values(), default=0)
        for b, k in caps[c].items():
            for j in range(k):
                layers[j] |= b
        out.append((unlimited[c], tuple(layers)))
    return out


def _members(comp: list[int]) -> list[list[int]]:
    """The markings of each component, by component number."""
    members: list[list[int]] = [[] for _ in range(max(comp) + 1 if comp else 0)]
    for m, c in enumerate(comp):
        members[c].append(m)
    return members


def _components(succ: list[list[tuple[int, int]]]) -> list[int]:
    """Strongly connected components (Tarjan, iterative), numbered so that every edge leads to
    the same or a lower-numbered component."""
    n = len(succ)
    index, low, comp = [-1] * n, [0] * n, [-1] * n
    stack: list[int] = []
    on_stack = [False] * n
    counter = count = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            for j in range(k, len(succ[v])):
                w = succ[v][j][1]
                if index[w] < 0:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            else:
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp[w] = count
                        if w == v:
                            break
                    count += 1
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
    return comp
