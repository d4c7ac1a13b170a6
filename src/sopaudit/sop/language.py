"""The traces an SOP flow allows, enumerated straight from the flow tree (not from a net).

Used to prove that compiled nets and trees, and exported and re-imported models, accept exactly
the flow: enumerate the flow's traces under a bound, then check a model against them and
against edited traces that the flow does not allow. The enumeration is exact under its bound:
with `max_len=n` it yields every allowed trace of at most n steps, so a trace of length <= n is
allowed if and only if it is in the result.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from sopaudit.sop.compile import COMPLETE_END
from sopaudit.sop.model import Choice, End, Loop, Node, Optional_, Parallel, Sequence, StepRef

Trace = tuple[str, ...]
# (steps done, end id or None while the flow goes on)
_Run = tuple[Trace, str | None]


class LanguageTooLarge(ValueError):
    """The bounded language has more traces than the caller allowed."""


class _Enumerator:
    def __init__(self, max_repeats: int | None, max_len: int | None, limit: int):
        self.max_repeats = max_repeats
        self.max_len = max_len
        self.limit = limit

    def _fits(self, t: Trace) -> bool:
        return self.max_len is None or len(t) <= self.max_len

    def _check(self, runs: set[_Run]) -> set[_Run]:
        if len(runs) > self.limit:
            raise LanguageTooLarge(f"more than {self.limit:,} traces under this bound; lower the bound")
        return runs

    def runs(self, node: Node) -> set[_Run]:
        if isinstance(node, StepRef):
            return {((node.step,), None)} if self._fits((node.step,)) else set()
        if isinstance(node, End):
            return {((), node.id)}
        if isinstance(node, Sequence):
            return self.concat([self.runs(n) for n in node.items])
        if isinstance(node, Optional_):
            return self.runs(node.body) | {((), None)}
        if isinstance(node, Choice):
            return self.runs(node.yes) | self.runs(node.no)
        if isinstance(node, Parallel):
            out: set[_Run] = {((), None)}
            for branch in node.branches:
                mine = {t for t, _ in self.runs(branch)}
                out = self._check({(s, None) for t, _ in out for b in mine for s in self._shuffles(t, b)})
            return out
        if isinstance(node, Loop):
            return self._loop(node)
        raise TypeError(node)

    def concat(self, parts: list[set[_Run]]) -> set[_Run]:
        out: set[_Run] = {((), None)}
        for part in parts:
            nxt: set[_Run] = set()
            for t, e in out:
                if e is not None:
                    nxt.add((t, e))
                    continue
                for t2, e2 in part:
                    if self._fits(t + t2):
                        nxt.add((t + t2, e2))
            out = self._check(nxt)
        return out

    def _loop(self, node: Loop) -> set[_Run]:
        body = self.runs(node.body)
        redo = self.runs(node.redo) if node.redo is not None else {((), None)}
        again = self.concat([redo, body])
        out = set(body)
        current = {r for r in body if r[1] is None}
        rounds = 0
        while current and (self.max_repeats is None or rounds < self.max_repeats):
            current = {r for r in self.concat([current, again]) if r not in out}
            # Without a repeat bound the length bound ends the loop: the loader forbids rounds
            # that do no step, so every new round is longer.
            out |= current
            current = {r for r in current if r[1] is None}
            rounds += 1
            self._check(out)
        return out

    def _shuffles(self, a: Trace, b: Trace) -> Iterable[Trace]:
        if not self._fits(a + b):
            return
        if not a or not b:
            yield a + b
            return
        for rest in self._shuffles(a[1:], b):
            yield (a[0], *rest)
        for rest in self._shuffles(a, b[1:]):
            yield (b[0], *rest)


def flow_language(flow: Node, max_repeats: int | None = 2, max_len: int | None = None,
                  limit: int = 200_000) -> dict[Trace, frozenset[str]]:
    """Every trace the flow allows, with the ends it can reach ('complete' for the normal end).

    `max_repeats` bounds how often each loop goes back (None: unbounded), `max_len` the number
    of steps (None: unbounded); at least one must be set when the flow has a loop. Raises
    LanguageTooLarge beyond `limit` traces.
    """
    if max_repeats is None and max_len is None:
        raise ValueError("set max_repeats or max_len: a loop makes the language infinite")
    runs = _Enumerator(max_repeats, max_len, limit).runs(flow)
    out: dict[Trace, set[str]] = {}
    for t, e in runs:
        out.setdefault(t, set()).add(e or COMPLETE_END)
    return {t: frozenset(ends) for t, ends in sorted(out.items())}


MUTATIONS = ("delete", "insert", "swap", "duplicate", "replace")


def mutate(trace: Trace, alphabet: Iterable[str], rng: random.Random, kind: str | None = None) -> Trace:
    """One random edit of `trace`: delete, insert, swap two neighbours, duplicate or replace a step
    (`alphabet` supplies inserted and replacing labels)."""
    letters = sorted(set(alphabet))
    kind = kind or rng.choice(MUTATIONS)
    t = list(trace)
    if not t and kind != "insert":
        kind = "insert"
    if kind == "delete":
        del t[rng.randrange(len(t))]
    elif kind == "insert":
        t.insert(rng.randrange(len(t) + 1), rng.choice(letters))
    elif kind == "swap" and len(t) > 1:
        i = rng.randrange(len(t) - 1)
        t[i], t[i + 1] = t[i + 1], t[i]
    elif kind == "duplicate" or kind == "swap":
        i = rng.randrange(len(t))
        t.insert(i, t[i])
    elif kind == "replace":
        i = rng.randrange(len(t))
        t[i] = rng.choice(letters)
    else:
        raise ValueError(f"unknown mutation {kind!r}; use one of {MUTATIONS}")
    return tuple(t)


def net_language(net, max_len: int, limit: int = 200_000) -> set[Trace]:
    """Every trace of at most `max_len` visible steps that takes a Petri net (a CompiledNet) from
    its initial to exactly its final marking, found by a search over (marking, trace) states;
    silent cycles are cut by never revisiting a state."""
    places = sorted(net.net.places, key=lambda p: str(p.name))
    index = {p: i for i, p in enumerate(places)}
    moves = []
    for t in sorted(net.net.transitions, key=lambda t: str(t.name)):
        pre, post = [0] * len(places), [0] * len(places)
        for a in t.in_arcs:
            pre[index[a.source]] += a.weight
        for a in t.out_arcs:
            post[index[a.target]] += a.weight
        moves.append((t.label, tuple(pre), tuple(post)))

    def vector(marking) -> tuple[int, ...]:
        v = [0] * len(places)
        for p, k in marking.items():
            v[index[p]] += k
        return tuple(v)

    start, goal = (vector(net.initial), ()), vector(net.final)
    seen = {start}
    stack = [start]
    out: set[Trace] = set()
    while stack:
        m, trace = stack.pop()
        if m == goal:
            out.add(trace)
        for label, pre, post in moves:
            if all(a >= b for a, b in zip(m, pre, strict=True)):
                t2 = trace if label is None else trace + (label,)
                if len(t2) > max_len:
                    continue
                state = (tuple(a - b + c for a, b, c in zip(m, pre, post, strict=True)), t2)
                if state not in seen:
                    if len(seen) >= limit:
                        raise LanguageTooLarge(f"more than {limit:,} states under this bound; lower max_len")
                    seen.add(state)
                    stack.append(state)
    return out
