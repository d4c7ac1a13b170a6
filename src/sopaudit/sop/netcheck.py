"""Checks that an imported Petri net can serve as a reference model: its final marking must be
reachable from its initial marking, or no case could ever conform."""

from __future__ import annotations

from collections import deque

from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.marking import MarkingGraph
from sopaudit.sop.petri import Marking, PetriNet

# Larger state spaces are not explored here; the aligner has its own limit and message.
MAX_STATES = 50_000


def final_reachable(net: PetriNet, initial: Marking, final: Marking, max_states: int = MAX_STATES) -> bool | None:
    """True if `final` is reachable from `initial`, False if not, None if the state space has
    more than `max_states` markings (not decided)."""
    # The graph's own limit is off: this breadth-first search stops at `max_states` itself and
    # answers None instead of raising.
    graph = MarkingGraph(CompiledNet(net, initial, final), max_markings=None)
    seen = {graph.initial}
    queue = deque([graph.initial])
    while queue:
        m = queue.popleft()
        if m == graph.final:
            return True
        for _, _, nxt in graph.successors(m):
            if nxt not in seen:
                if len(seen) >= max_states:
                    return None
                seen.add(nxt)
                queue.append(nxt)
    return False
