"""Optimal alignments of each distinct variant against the SOP net, computed once per variant.

Our own search over (reachable marking, trace position) with pm4py's standard integer costs
(log move and visible model move 10000, silent move 1, synchronous move 0), so every optimal
cost, trace fitness and the log fitness equal pm4py's. Unlike pm4py, the alignment returned
among equally optimal ones is fixed by a stated preference, not by hash order:

  at each point, among the moves that stay on an optimal path, take a model move first, then a
  synchronous move, then a silent move, then a log move; ties by transition name.

So a step the case left out is placed where the SOP first wants it, and a repeated step is
matched at its first execution (the later one is the repeat).
"""

from __future__ import annotations

import heapq
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ..errors import SopAuditError
from ..sop.compile import CompiledNet

LOG_COST = 10000
MODEL_COST = 10000
TAU_COST = 1
MAX_MARKINGS = 200_000

# Preference among optimal moves (lower first).
_MODEL, _SYNC, _TAU, _LOG = 0, 1, 2, 3


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


@dataclass(frozen=True)
class VariantAlignment:
    variant: tuple[str, ...]
    moves: tuple[Move, ...]
    cost: int  # pm4py-scale cost: 10000 per deviating move plus 1 per silent move
    bwc: int  # best-worst cost as pm4py defines it for this trace
    fitness: float

    @property
    def deviations(self) -> int:
        return sum(1 for m in self.moves if m.kind in ("log", "model"))


class MarkingGraph:
    """The reachability graph of a safe/bounded net, built lazily as the searches need it."""

    def __init__(self, net: CompiledNet):
        places = sorted(net.net.places, key=lambda p: p.name)
        index = {p: i for i, p in enumerate(places)}
        self.transitions = []  # (name, label, pre, post) sorted by name for stable tie-breaking
        for t in sorted(net.net.transitions, key=lambda t: (t.name, t.label or "")):
            pre = [0] * len(places)
            post = [0] * len(places)
            for a in t.in_arcs:
                pre[index[a.source]] += a.weight
            for a in t.out_arcs:
                post[index[a.target]] += a.weight
            self.transitions.append((t.name, t.label, tuple(pre), tuple(post)))
        self._ids: dict[tuple, int] = {}
        self._markings: list[tuple] = []
        self._succ: list[list | None] = []
        self.initial = self._id(self._vector(net.initial, index, len(places)))
        self.final = self._id(self._vector(net.final, index, len(places)))
        self.labels = frozenset(lbl for _, lbl, _, _ in self.transitions if lbl is not None)

    @staticmethod
    def _vector(marking, index, n) -> tuple:
        v = [0] * n
        for p, k in marking.items():
            v[index[p]] = k
        return tuple(v)

    def _id(self, m: tuple) -> int:
        mid = self._ids.get(m)
        if mid is None:
            if len(self._markings) >= MAX_MARKINGS:
                raise SopAuditError(
                    f"the reference model has more than {MAX_MARKINGS:,} reachable states (is it "
                    "unbounded?); simplify the model or check its silent loops"
                )
            mid = len(self._markings)
            self._ids[m] = mid
            self._markings.append(m)
            self._succ.append(None)
        return mid

    def successors(self, mid: int) -> list[tuple[int, str, str | None, int]]:
        """(transition index, name, label, next marking id) of each enabled transition."""
        succ = self._succ[mid]
        if succ is None:
            m = self._markings[mid]
            succ = []
            for ti, (name, label, pre, post) in enumerate(self.transitions):
                if all(a >= b for a, b in zip(m, pre, strict=True)):
                    nxt = tuple(a - b + c for a, b, c in zip(m, pre, post, strict=True))
                    succ.append((ti, name, label, self._id(nxt)))
            self._succ[mid] = succ
        return succ


def _edges(graph: MarkingGraph, trace: tuple[str, ...], state: int):
    """Moves out of a state: (preference, cost, next state, move)."""
    n1 = len(trace) + 1
    m, i = divmod(state, n1)
    out = []
    if i < len(trace):
        out.append((_LOG, "", LOG_COST, state + 1, Move(trace[i], None, None)))
    for _, name, label, m2 in graph.successors(m):
        if label is None:
            out.append((_TAU, name, TAU_COST, m2 * n1 + i, Move(None, None, name)))
        else:
            if i < len(trace) and label == trace[i]:
                out.append((_SYNC, name, 0, m2 * n1 + i + 1, Move(label, label, name)))
            out.append((_MODEL, name, MODEL_COST, m2 * n1 + i, Move(None, label, name)))
    return out


def align_trace(graph: MarkingGraph, trace: tuple[str, ...], prefix: bool = False
                ) -> tuple[tuple[Move, ...], int, int]:
    """The preferred optimal alignment of one trace, its cost and the marking it ends in.

    With `prefix`, the trace is aligned as the beginning of a run (a case still under way): the
    alignment may stop in any marking once all events are explained."""
    n1 = len(trace) + 1
    start = graph.initial * n1
    goal = graph.final * n1 + len(trace)
    dist = {start: 0}
    heap = [(0, start)]
    best = None
    while heap:
        g, s = heapq.heappop(heap)
        if g > dist[s]:
            continue
        if best is not None and g > best:
            break
        if s == goal or (prefix and best is None and s % n1 == len(trace)):
            if prefix and best is None:
                goal = s  # the first (cheapest) state that has explained every event
            best = g
        for _, _, c, s2, _ in _edges(graph, trace, s):
            g2 = g + c
            if g2 < dist.get(s2, g2 + 1):
                dist[s2] = g2
                heapq.heappush(heap, (g2, s2))
    if best is None:
        raise SopAuditError("the reference model cannot reach its final marking; check the model's final marking")
    # States from which the goal is reached along tight edges (edges on some optimal path).
    settled = [s for s, g in dist.items() if g <= best]
    preds: dict[int, list[int]] = {}
    for s in settled:
        g = dist[s]
        for _, _, c, s2, _ in _edges(graph, trace, s):
            if dist.get(s2) == g + c and g + c <= best:
                preds.setdefault(s2, []).append(s)
    on_path = {goal}
    stack = [goal]
    while stack:
        for p in preds.get(stack.pop(), ()):
            if p not in on_path:
                on_path.add(p)
                stack.append(p)
    moves = []
    s = start
    while s != goal:
        g = dist[s]
        choice = min(
            (e for e in _edges(graph, trace, s) if e[3] in on_path and dist.get(e[3]) == g + e[2]),
            key=lambda e: (e[0], e[1]),
        )
        moves.append(choice[4])
        s = choice[3]
    return tuple(moves), best, goal // n1


def next_steps(graph: MarkingGraph, marking: int) -> tuple[tuple[str, ...], bool]:
    """The visible steps enabled in a marking looking through silent transitions (sorted), and
    whether the final marking is reachable through silent transitions alone (nothing required)."""
    seen, stack, out = {marking}, [marking], set()
    while stack:
        for _, _, label, m2 in graph.successors(stack.pop()):
            if label is not None:
                out.add(label)
            elif m2 not in seen:
                seen.add(m2)
                stack.append(m2)
    return tuple(sorted(out)), graph.final in seen


def _fitness(cost: int, bwc: int) -> float:
    den = bwc // LOG_COST
    return 1 - (cost // LOG_COST) / den if den > 0 else 0.0


def _align_chunk(args) -> list[VariantAlignment]:
    variants, net = args
    graph = MarkingGraph(net)
    _, empty_cost, _ = align_trace(graph, ())
    out = []
    for v in variants:
        moves, cost, _ = align_trace(graph, v)
        bwc = empty_cost + LOG_COST * len(v)
        out.append(VariantAlignment(v, moves, cost, bwc, _fitness(cost, bwc)))
    return out


@dataclass(frozen=True)
class PrefixAlignment:
    """A trace aligned as the beginning of a run, and the steps the SOP expects next."""

    moves: tuple[Move, ...]
    cost: int
    next_steps: tuple[str, ...]
    finished: bool  # the SOP could end right here: nothing more is required


def align_prefixes(variants: list[tuple[str, ...]], net: CompiledNet) -> dict[tuple[str, ...], PrefixAlignment]:
    """Prefix alignments of the variants of cases that may still be open (few: no pool)."""
    graph = MarkingGraph(net)
    out = {}
    for v in sorted(set(variants)):
        moves, cost, marking = align_trace(graph, v, prefix=True)
        steps, can_end = next_steps(graph, marking)
        out[v] = PrefixAlignment(moves, cost, steps, can_end)
    return out


def align_variants(
    variants: list[tuple[str, ...]], net: CompiledNet, processes: int = 1
) -> dict[tuple[str, ...], VariantAlignment]:
    """Align each variant once; with processes > 1 the variants are split over a process pool
    and merged back by variant, so the result does not depend on scheduling."""
    variants = sorted(set(variants))
    if processes <= 1 or len(variants) < 200:
        results = _align_chunk((variants, net))
    else:
        # Round-robin chunks balance long and short variants across workers.
        n = min(processes * 4, len(variants))
        chunks = [variants[i::n] for i in range(n)]
        with ProcessPoolExecutor(max_workers=processes) as pool:
            parts = list(pool.map(_align_chunk, [(c, net) for c in chunks]))
        results = [a for part in parts for a in part]
    return {a.variant: a for a in results}
