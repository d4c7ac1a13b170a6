"""Refuse unbounded reference models quickly, naming a place that can grow without limit.

An alignment needs the model's markings to be finite. Two cheap steps decide most nets:

1. A certificate of structural boundedness (a linear program): weights y >= 1 on the places such
   that no transition increases the weighted token count. Then every place is bounded whatever
   the initial marking; block-structured SOP nets always have one.
2. Otherwise a depth-first walk of the reachable markings looks for the Karp-Miller witness: a
   marking that covers one of its ancestors and has more tokens somewhere. Repeating the firings
   between the two pumps those places without limit, so the model is refused with their names.
   The walk is bounded in markings; if it finds no witness the search's own limits apply.
"""

from __future__ import annotations

import numpy as np

from sopaudit.core.errors import SopAuditError
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.marking import MarkingGraph

MAX_WALK = 100_000
FEW_MARKINGS = 2_000


def structurally_bounded(graph: MarkingGraph) -> bool:
    """True if some place weights y >= 1 make every transition's weighted token change <= 0."""
    from scipy.optimize import linprog

    if not graph.transitions:
        return True
    change = np.array([[b - a for a, b in zip(pre, post, strict=True)]
                       for _, _, pre, post in graph.transitions], dtype=float)
    res = linprog(np.ones(len(graph.places)), A_ub=change, b_ub=np.zeros(len(change)),
                  bounds=[(1, None)] * len(graph.places), method="highs")
    return res.status == 0


def few_markings(graph: MarkingGraph, limit: int = FEW_MARKINGS) -> bool:
    """True if the net has at most `limit` reachable markings: all of them seen, so it is
    bounded. Decides most SOP nets without the linear program, whose scipy import alone costs
    more than half a second of every audit."""
    return graph.explore(limit)


def pumped_places(graph: MarkingGraph, max_markings: int = MAX_WALK) -> tuple[str, ...] | None:
    """The places a reachable marking pumps above an ancestor's tokens (sorted), or None if the
    walk finds no such pair within `max_markings` markings."""
    seen = {graph.initial}
    path = [graph.initial]  # markings of the current depth-first branch
    iters = [iter(graph.successors(graph.initial))]
    while iters:
        step = next(iters[-1], None)
        if step is None:
            iters.pop()
            path.pop()
            continue
        m2 = step[2]
        if m2 in seen:
            continue
        v = graph.marking(m2)
        for anc in path:
            u = graph.marking(anc)
            if all(b >= a for a, b in zip(u, v, strict=True)):
                return tuple(sorted(graph.places[p] for p, (a, b) in enumerate(zip(u, v, strict=True)) if b > a))
        if len(seen) >= max_markings:
            return None
        seen.add(m2)
        path.append(m2)
        iters.append(iter(graph.successors(m2)))
    return None


def check_bounded(net: CompiledNet) -> None:
    """Raise SopAuditError if the net is found unbounded, naming the places that grow."""
    graph = MarkingGraph(net, max_markings=None)
    if few_markings(graph) or structurally_bounded(graph):
        return
    places = pumped_places(graph)
    if places:
        raise SopAuditError(
            f"the reference model is unbounded: place {', '.join(places)} can collect tokens without "
            "limit (a run can repeat a part of the model that adds a token there and never removes "
            "it), so its states cannot be enumerated for alignments; fix the arcs around that place")
