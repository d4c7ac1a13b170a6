"""The reachability graph of a compiled net: markings as count vectors, explored lazily.

Shared by everything that walks the SOP's states: the aligner (conform/align.py), the
SOP-versus-log comparison (compare.py) and the reachability check of imported nets
(netcheck.py). Transitions are kept sorted by name, so every walk is deterministic.
"""

from __future__ import annotations

from sopaudit.core.errors import SopAuditError
from sopaudit.sop.compile import CompiledNet

MAX_MARKINGS = 200_000


class MarkingGraph:
    """The reachability graph of a safe/bounded net, built lazily as the searches need it.

    Markings get ids in the order they are first met; more than `max_markings` of them raise
    SopAuditError (the model is probably unbounded)."""

    def __init__(self, net: CompiledNet, max_markings: int | None = MAX_MARKINGS):
        # None: no limit here, because the caller bounds its own search (see netcheck).
        self.max_markings = max_markings
        places = sorted(net.net.places, key=lambda p: p.name)
        self.places = tuple(p.name for p in places)
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
        # Sparse form for firing: the places a transition needs and the net change it makes.
        self._sparse = [(name, label, tuple((p, w) for p, w in enumerate(pre) if w),
                         tuple((p, b - a) for p, (a, b) in enumerate(zip(pre, post, strict=True)) if b != a))
                        for name, label, pre, post in self.transitions]
        self._ids: dict[tuple, int] = {}
        self._markings: list[tuple] = []
        self._succ: list[list | None] = []
        self.initial = self._id(self._vector(net.initial, index, len(places)))
        self.final = self._id(self._vector(net.final, index, len(places)))
        self.labels = frozenset(lbl for _, lbl, _, _ in self.transitions if lbl is not None)
        self.label_bit = {lbl: 1 << k for k, lbl in enumerate(sorted(self.labels))}
        self._future: list[int] | None = None

    @staticmethod
    def _vector(marking, index, n) -> tuple:
        v = [0] * n
        for p, k in marking.items():
            v[index[p]] = k
        return tuple(v)

    def _id(self, m: tuple) -> int:
        mid = self._ids.get(m)
        if mid is None:
            if self.max_markings is not None and len(self._markings) >= self.max_markings:
                raise SopAuditError(
                    f"the reference model has more than {self.max_markings:,} reachable states (is it "
                    "unbounded?); simplify the model or check its silent loops"
                )
            mid = len(self._markings)
            self._ids[m] = mid
            self._markings.append(m)
            self._succ.append(None)
        return mid

    def successors(self, mid: int) -> list[tuple[str, str | None, int]]:
        """(transition name, label, next marking id) of each enabled transition, by name."""
        succ = self._succ[mid]
        if succ is None:
            m = self._markings[mid]
            succ = []
            for name, label, need, delta in self._sparse:
                for p, w in need:
                    if m[p] < w:
                        break
                else:
                    nxt = list(m)
                    for p, d in delta:
                        nxt[p] += d
                    succ.append((name, label, self._id(tuple(nxt))))
            self._succ[mid] = succ
        return succ

    def marking(self, mid: int) -> tuple:
        """The token count of each place (in the order of `places`) of a marking id."""
        return self._markings[mid]

    def __len__(self) -> int:
        return len(self._markings)

    def explore(self, limit: int | None = None) -> bool:
        """Build the graph from the initial marking; True once every reachable marking has an
        id, False as soon as more than `limit` markings are reachable (the graph's own
        `max_markings` still applies)."""
        stack, seen = [self.initial], {self.initial}
        while stack:
            for _, _, m2 in self.successors(stack.pop()):
                if m2 not in seen:
                    if limit is not None and len(seen) >= limit:
                        return False
                    seen.add(m2)
                    stack.append(m2)
        return True

    def future(self) -> list[int]:
        """Per marking id, the bitmask of labels that can still fire from it (whole graph built).

        Used as an A* heuristic: an event whose label can no longer fire must be a log move."""
        if self._future is None:
            self.explore()
            fut = [0] * len(self._markings)
            changed = True
            while changed:  # fixpoint over the (possibly cyclic) reachability graph
                changed = False
                for mid in range(len(self._markings)):
                    acc = fut[mid]
                    for _, label, m2 in self.successors(mid):
                        acc |= fut[m2] | (self.label_bit[label] if label is not None else 0)
                    if acc != fut[mid]:
                        fut[mid] = acc
                        changed = True
            self._future = fut
        return self._future
