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
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sopaudit.core.errors import SopAuditError
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.marking import MarkingGraph

# Starting a pool's workers and moving the net and results between processes: about 0.5 s
# measured on 2 cores (Python 3.11, fork).
POOL_START_S = 0.5
LOG_COST = 10000
MODEL_COST = 10000
TAU_COST = 1

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


def align_trace(graph: MarkingGraph, trace: tuple[str, ...], prefix: bool = False
                ) -> tuple[tuple[Move, ...], int, int]:
    """The preferred optimal alignment of one trace, its cost and the marking it ends in.

    With `prefix`, the trace is aligned as the beginning of a run (a case still under way): the
    alignment may stop in any marking once all events are explained."""
    n = len(trace)
    n1 = n + 1
    start = graph.initial * n1
    goal = graph.final * n1 + n
    future = graph.future()
    bits = [graph.label_bit.get(a, 0) for a in trace]
    suffix: dict[int, list[int]] = {}

    def h(state: int) -> int:
        # Lower bound: every remaining event whose label can no longer fire is a log move.
        m, i = divmod(state, n1)
        counts = suffix.get(m)
        if counts is None:
            fut = future[m]
            counts = [0] * n1
            for j in range(n - 1, -1, -1):
                counts[j] = counts[j + 1] + (0 if bits[j] & fut else LOG_COST)
            suffix[m] = counts
        return counts[i]

    dist = {start: 0}
    closed: set[int] = set()
    heap = [(h(start), 0, start)]
    best = None
    succ = graph.successors
    push, pop = heapq.heappush, heapq.heappop

    def relax(s2: int, g2: int) -> None:
        if g2 < dist.get(s2, g2 + 1):
            dist[s2] = g2
            push(heap, (g2 + h(s2), g2, s2))

    # A* over (marking, position) with a consistent heuristic, so every expanded state's
    # distance is exact; it goes on until all states that can lie on an optimal path are done.
    while heap:
        f, g, s = pop(heap)
        if g > dist[s] or s in closed:
            continue
        if best is not None and f > best:
            break
        closed.add(s)
        m, i = divmod(s, n1)
        if s == goal or (prefix and best is None and i == n):
            if prefix and best is None:
                goal = s  # the first (cheapest) state that has explained every event
            best = g
        a = trace[i] if i < n else None
        if i < n:
            relax(s + 1, g + LOG_COST)
        for _, label, m2 in succ(m):
            s2 = m2 * n1 + i
            if label is None:
                relax(s2, g + TAU_COST)
            else:
                if label == a:
                    relax(s2 + 1, g)
                relax(s2, g + MODEL_COST)
    if best is None:
        raise SopAuditError("the reference model cannot reach its final marking; check the model's final marking")
    # States from which the goal is reached along tight edges (edges on some optimal path).
    preds: dict[int, list[int]] = {}
    for s in closed:
        g = dist[s]
        for e in _edges(graph, trace, s):
            g2 = g + e[2]
            if g2 <= best and e[3] in closed and dist[e[3]] == g2:
                preds.setdefault(e[3], []).append(s)
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
            (e for e in _edges(graph, trace, s) if e[3] in on_path and dist[e[3]] == g + e[2]),
            key=lambda e: (e[0], e[1]),
        )
        moves.append(_move(choice))
        s = choice[3]
    return tuple(moves), best, goal // n1


def next_steps(graph: MarkingGraph, marking: int) -> tuple[tuple[str, ...], bool]:
    """The visible steps enabled in a marking looking through silent transitions (sorted), and
    whether the final marking is reachable through silent transitions alone (nothing required)."""
    seen, stack, out = {marking}, [marking], set()
    while stack:
        for _, label, m2 in graph.successors(stack.pop()):
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


def _pool_size(variants: list[tuple[str, ...]], net: CompiledNet, processes: int) -> int:
    """How many processes align the variants fastest: 1 unless a pool pays, measured on a sample.

    Only idle cores help (on a busy machine a second process waits for a core: Sepsis took 3.4 s
    with 1 process and 4.2 to 7.9 s with 2 on 2 cores at load 10). Each pool chunk explores the
    marking graph anew (the warm-up), so a pool saves (1 - 1/p) of the work per variant but costs
    the warm-up (chunks/p - 1) more times plus POOL_START_S."""
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this system: trust the cores
        idle = float(processes)
    processes = min(processes, 1 + max(0, int(idle)))
    if processes <= 1:
        return 1
    sample = variants[:: max(1, len(variants) // 40)]
    graph, half = MarkingGraph(net), len(sample) // 2
    t0 = time.perf_counter()
    for v in sample[:half]:
        align_trace(graph, v)
    t1 = time.perf_counter()
    for v in sample[half:]:  # on the warm graph: the cost of one more variant
        align_trace(graph, v)
    per_variant = (time.perf_counter() - t1) / max(len(sample) - half, 1)
    warm_up = max(0.0, (t1 - t0) - half * per_variant)
    chunks = min(processes * 4, len(variants))
    pays = len(variants) * per_variant * (1 - 1 / processes) > (chunks / processes - 1) * warm_up + POOL_START_S
    return processes if pays else 1


def align_variants(
    variants: list[tuple[str, ...]], net: CompiledNet, processes: int = 1
) -> dict[tuple[str, ...], VariantAlignment]:
    """Align each variant once; with processes > 1 the variants are split over a process pool
    and merged back by variant, so the result does not depend on scheduling."""
    variants = sorted(set(variants))
    if processes > 1 and len(variants) >= 200:
        processes = _pool_size(variants, net, processes)
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
