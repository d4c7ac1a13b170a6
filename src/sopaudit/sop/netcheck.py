"""Checks that an imported Petri net can serve as a reference model: its final marking must be
reachable from its initial marking, or no case could ever conform."""

from __future__ import annotations

from collections import deque

from pm4py.objects.petri_net.obj import Marking, PetriNet

# Larger state spaces are not explored here; the aligner has its own limit and message.
MAX_STATES = 50_000


def _vector(marking: Marking, index: dict) -> tuple[int, ...]:
    v = [0] * len(index)
    for p, k in marking.items():
        v[index[p]] += k
    return tuple(v)


def final_reachable(net: PetriNet, initial: Marking, final: Marking, max_states: int = MAX_STATES) -> bool | None:
    """True if `final` is reachable from `initial`, False if not, None if the state space has
    more than `max_states` markings (not decided)."""
    places = sorted(net.places, key=lambda p: str(p.name))
    index = {p: i for i, p in enumerate(places)}
    moves = []
    for t in sorted(net.transitions, key=lambda t: str(t.name)):
        pre = [0] * len(places)
        post = [0] * len(places)
        for a in t.in_arcs:
            pre[index[a.source]] += a.weight
        for a in t.out_arcs:
            post[index[a.target]] += a.weight
        moves.append((tuple(pre), tuple(post)))
    start, goal = _vector(initial, index), _vector(final, index)
    seen = {start}
    queue = deque([start])
    while queue:
        m = queue.popleft()
        if m == goal:
            return True
        for pre, post in moves:
            if all(a >= b for a, b in zip(m, pre, strict=True)):
                nxt = tuple(a - b + c for a, b, c in zip(m, pre, post, strict=True))
                if nxt not in seen:
                    if len(seen) >= max_states:
                        return None
                    seen.add(nxt)
                    queue.append(nxt)
    return False
