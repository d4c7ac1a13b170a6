"""Optimal alignments of each distinct variant against the SOP net, computed once per variant.

Our own A* over (reachable marking, trace position) with pm4py's standard integer costs
(log move and visible model move 10000, silent move 1, synchronous move 0), so every optimal
cost, trace fitness and the log fitness equal pm4py's. Unlike pm4py, the alignment returned
among equally optimal ones is fixed by a stated preference, not by hash order:

  at each point, among the moves that stay on an optimal path, take a model move first, then a
  synchronous move, then a silent move, then a log move; ties by transition name.

So a step the case left out is placed where the SOP first wants it, and a repeated step is
matched at its first execution (the later one is the repeat).

Two gears, chosen per net by a cheap bound: when the model has few reachable markings (up to
GRAPH_MARKINGS) they are all built first and the heuristic knows exactly which steps can still
happen from each; otherwise the markings are explored on the fly during each search (as pm4py's
synchronous product does) with a bound read from the net's structure (conform/heuristic.py).
Both gears give the same costs and, by the preference above, the same moves.
"""

from __future__ import annotations

import contextlib
import gc
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sopaudit.conform.bounded import check_bounded
from sopaudit.conform.heuristic import Bound
from sopaudit.conform.limits import AlignLimits
from sopaudit.conform.moves import LOG_COST, MODEL_COST, TAU_COST, Move
from sopaudit.conform.search import AlignmentLimitError, MoveTable, search
from sopaudit.core.cores import workers
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.marking import MAX_MARKINGS, MarkingGraph

__all__ = ["LOG_COST", "MODEL_COST", "TAU_COST", "AlignLimits", "AlignmentLimitError", "Aligner", "Move",
           "PrefixAlignment", "VariantAlignment", "align_prefixes", "align_variants", "next_steps"]
# Starting a pool's workers and moving the net and results between processes: about 0.5 s
# measured on 2 cores (Python 3.11, fork).
POOL_START_S = 0.5

# Up to this many reachable markings the whole marking graph is built (the "graph" gear).
GRAPH_MARKINGS = 2_000


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


def choose_gear(graph: MarkingGraph, max_markings: int = GRAPH_MARKINGS) -> str:
    """"graph" if the net has at most `max_markings` reachable markings (explored breadth-first
    into `graph`, so nothing is lost), else "fly"."""
    seen = {graph.initial}
    frontier = [graph.initial]
    while frontier:
        nxt = []
        for m in frontier:
            for _, _, m2 in graph.successors(m):
                if m2 not in seen:
                    if len(seen) >= max_markings:
                        return "fly"
                    seen.add(m2)
                    nxt.append(m2)
        frontier = nxt
    return "graph"


class Aligner:
    """A net ready to align traces in one gear ("graph", "fly", or "auto" to choose)."""

    def __init__(self, net: CompiledNet, gear: str = "auto", limits: AlignLimits | None = None):
        self.net = net
        self.limits = limits or AlignLimits()
        self.graph = MarkingGraph(net, max_markings=None)
        self.gear = choose_gear(self.graph) if gear == "auto" else gear
        if self.gear not in ("graph", "fly"):
            raise ValueError(f"unknown alignment gear {gear!r}")
        self.bound = Bound(self.graph, exact=self.gear == "graph")
        self.table = MoveTable(self.graph)

    def align(self, trace: tuple[str, ...], prefix: bool = False) -> tuple[tuple[Move, ...], int, int]:
        """The preferred optimal alignment of `trace`, its cost and the marking id it ends in."""
        if self.gear == "fly" and len(self.graph) > MAX_MARKINGS:
            # Markings cached by earlier variants are dropped to keep memory bounded.
            self.graph = MarkingGraph(self.net, max_markings=None)
            self.bound = Bound(self.graph, exact=False)
            self.table = MoveTable(self.graph)
        h = self.bound.for_trace(trace, prefix)
        return search(self.graph, trace, h, prefix, self.limits, self.table, self.bound.lift_exceptions(prefix))


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


def _align_all(aligner: Aligner, variants, out: list | None = None, failed: dict | None = None
               ) -> tuple[list[VariantAlignment], dict[tuple[str, ...], str]]:
    """The variants aligned, added to `out` and `failed` when given (a sample aligned before)."""
    out, failed = ([] if out is None else out), ({} if failed is None else failed)
    aligner.bound.prepare(variants)
    _, empty_cost, _ = aligner.align(())
    for v in variants:
        try:
            moves, cost, _ = aligner.align(v)
        except AlignmentLimitError as e:
            failed[v] = str(e)
            continue
        bwc = empty_cost + LOG_COST * len(v)
        out.append(VariantAlignment(v, moves, cost, bwc, _fitness(cost, bwc)))
    return out, failed


def _align_chunk(args) -> tuple[list[VariantAlignment], dict[tuple[str, ...], str]]:
    variants, net, gear, limits = args
    return _align_all(Aligner(net, gear, limits), variants)


@dataclass(frozen=True)
class PrefixAlignment:
    """A trace aligned as the beginning of a run, and the steps the SOP expects next."""

    moves: tuple[Move, ...]
    cost: int
    next_steps: tuple[str, ...]
    finished: bool  # the SOP could end right here: nothing more is required


def align_prefixes(variants: list[tuple[str, ...]], net: CompiledNet, limits: AlignLimits | None = None,
                   failed: dict[tuple[str, ...], str] | None = None) -> dict[tuple[str, ...], PrefixAlignment]:
    """Prefix alignments of the variants of cases that may still be open (few: no pool).
    Variants over the limits are recorded in `failed` if given (else the error is raised)."""
    aligner = Aligner(net, "auto", limits)
    out = {}
    for v in sorted(set(variants)):
        try:
            moves, cost, marking = aligner.align(v, prefix=True)
        except AlignmentLimitError as e:
            if failed is None:
                raise
            failed[v] = str(e)
            continue
        steps, can_end = next_steps(aligner.graph, marking)
        out[v] = PrefixAlignment(moves, cost, steps, can_end)
    return out


def _pool_size(variants: list[tuple[str, ...]], net: CompiledNet, processes: int, gear: str = "auto",
               limits: AlignLimits | None = None) -> tuple[int, Aligner | None, tuple[list, dict]]:
    """How many processes align the variants fastest: 1 unless a pool pays, measured on a sample;
    with the sample's aligner and alignments, which one process then goes on from.

    Only idle cores help (on a busy machine a second process waits for a core: Sepsis took 3.4 s
    with 1 process and 4.2 to 7.9 s with 2 on 2 cores at load 10). Each pool chunk explores the
    marking graph anew (the warm-up), so a pool saves (1 - 1/p) of the work per variant but costs
    the warm-up (chunks/p - 1) more times plus POOL_START_S."""
    processes = workers(processes)
    if processes <= 1:
        return 1, None, ([], {})
    sample = variants[:: max(1, len(variants) // 40)]
    half = len(sample) // 2
    t0 = time.perf_counter()
    aligner = Aligner(net, gear, limits)
    done = _align_all(aligner, sample[:half])  # a variant over the limits is timed too
    t1 = time.perf_counter()
    _align_all(aligner, sample[half:], *done)  # on the warm aligner: the cost of one more variant
    per_variant = (time.perf_counter() - t1) / max(len(sample) - half, 1)
    warm_up = max(0.0, (t1 - t0) - half * per_variant)
    chunks = min(processes * 4, len(variants))
    pays = len(variants) * per_variant * (1 - 1 / processes) > (chunks / processes - 1) * warm_up + POOL_START_S
    return (processes, None, ([], {})) if pays else (1, aligner, done)


@contextlib.contextmanager
def _no_cyclic_gc():
    """The searches allocate many small tuples and make no reference cycles; a full collection
    in between would walk every object of the process (a large log's frames) for nothing: about
    5% of Sepsis' alignment time, 0.1 s at times."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def align_variants(
    variants: list[tuple[str, ...]], net: CompiledNet, processes: int = 1, *, gear: str = "auto",
    limits: AlignLimits | None = None, failed: dict[tuple[str, ...], str] | None = None,
) -> dict[tuple[str, ...], VariantAlignment]:
    """Align each variant once; with processes > 1 the variants are split over a process pool
    and merged back by variant, so the result does not depend on scheduling.

    An unbounded model is refused (SopAuditError naming the place). A variant whose search goes
    over `limits` is left out and its message recorded in `failed` if given, else raised."""
    variants = sorted(set(variants))
    check_bounded(net)
    aligner, done = None, ([], {})
    if processes > 1 and len(variants) >= 200:
        processes, aligner, done = _pool_size(variants, net, processes, gear, limits)
    if processes <= 1 or len(variants) < 200:
        sampled = {a.variant for a in done[0]} | set(done[1])
        with _no_cyclic_gc():
            parts = [_align_all(aligner or Aligner(net, gear, limits), [v for v in variants if v not in sampled], *done)]
    else:
        gear = Aligner(net, gear, limits).gear  # decided once, not in every worker
        # Round-robin chunks balance long and short variants across workers.
        n = min(processes * 4, len(variants))
        chunks = [variants[i::n] for i in range(n)]
        with ProcessPoolExecutor(max_workers=processes) as pool:
            parts = list(pool.map(_align_chunk, [(c, net, gear, limits) for c in chunks]))
    lost = {v: msg for _, f in parts for v, msg in f.items()}
    if lost and failed is None:
        raise AlignmentLimitError(lost[min(lost)])
    if failed is not None:
        failed.update(lost)
    by_variant = {a.variant: a for part, _ in parts for a in part}
    return {v: by_variant[v] for v in variants if v in by_variant}  # in variant order, however aligned
