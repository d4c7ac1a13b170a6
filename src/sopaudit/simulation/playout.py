"""Play the SOP flow for many cases at once.

Each flow node is played for an array of cases and returns a ragged array of tokens (one per
step execution) in case order; composite nodes combine their children's ragged arrays with a
scatter, so the work grows with the number of events, not with cases times Python calls. Along
with its step, each token carries what the deviation injection must know: the StepRef it came
from, the cheapest alternative explanation through any decision around it (`slack`), and whether
a loop around it ran more than once for this case (`multi`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopaudit.simulation.structure import CHOICE, END, LOOP, OPTIONAL, PARALLEL, SEQ, STEP, Plan

BIG = 1 << 20


@dataclass
class Part:
    """Tokens of a set of cases: `lengths[i]` tokens of case `cases[i]`, flat in case order."""

    cases: np.ndarray  # int64, sorted global case indices
    lengths: np.ndarray  # int64
    ref: np.ndarray  # int32: the StepRef node of each token
    slack: np.ndarray  # int32: cost of the cheapest other explanation (see structure.Plan.branch_min)
    multi: np.ndarray  # bool: a loop around the token ran more than once

    @property
    def offsets(self) -> np.ndarray:
        out = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(self.lengths, out=out[1:])
        return out


def empty_part(cases: np.ndarray) -> Part:
    return Part(cases, np.zeros(len(cases), np.int64), np.empty(0, np.int32), np.empty(0, np.int32),
                np.empty(0, bool))


def concat(cases: np.ndarray, parts: list[Part]) -> Part:
    """Per case, the tokens of `parts` one after the other (parts hold subsets of `cases`)."""
    total = np.zeros(len(cases), np.int64)
    locs = []
    for p in parts:
        loc = np.searchsorted(cases, p.cases)
        locs.append(loc)
        total[loc] += p.lengths
    out_off = np.zeros(len(cases) + 1, np.int64)
    np.cumsum(total, out=out_off[1:])
    cursor = out_off[:-1].copy()
    size = int(out_off[-1])
    ref = np.empty(size, np.int32)
    slack = np.empty(size, np.int32)
    multi = np.empty(size, bool)
    for loc, p in zip(locs, parts, strict=True):
        if len(p.ref):
            dest = np.repeat(cursor[loc] - p.offsets[:-1], p.lengths) + np.arange(len(p.ref))
            ref[dest] = p.ref
            slack[dest] = p.slack
            multi[dest] = p.multi
        cursor[loc] += p.lengths
    return Part(cases, total, ref, slack, multi)


@dataclass
class Decisions:
    """Resolved flow settings, by node id."""

    p_yes: dict[int, float]  # choices without condition and optionals: P(yes / done)
    conditions: dict[int, np.ndarray]  # conditional choice -> per-case bool: the SOP wants "yes"
    loop_runs: dict[int, tuple[np.ndarray, np.ndarray]]  # loop -> (run counts, probabilities)
    flip: np.ndarray  # per case: take the next conditional choice against its condition
    flippable: set[int]  # conditional choices a wrong_branch may be injected at


@dataclass
class Flipped:
    """Cases that took a conditional choice against its condition (wrong_branch)."""

    cases: list[np.ndarray]
    choice: list[int]
    taken_yes: list[np.ndarray]
    first_ref: list[np.ndarray]  # first token of the branch taken (-1 when it was empty)


class Player:
    def __init__(self, plan: Plan, decisions: Decisions, rng: np.random.Generator):
        self.plan = plan
        self.d = decisions
        self.rng = rng
        self.flipped = Flipped([], [], [], [])
        self.pending = decisions.flip.copy()

    def play(self, nid: int, cases: np.ndarray) -> tuple[Part, np.ndarray]:
        """Tokens of node `nid` for `cases`, and per case the End reached inside it (-1: none)."""
        pn = self.plan.nodes[nid]
        no_end = np.full(len(cases), -1, np.int32)
        if pn.kind == STEP:
            n = len(cases)
            return Part(cases, np.ones(n, np.int64), np.full(n, nid, np.int32), np.full(n, BIG, np.int32),
                        np.zeros(n, bool)), no_end
        if pn.kind == END:
            return empty_part(cases), np.full(len(cases), pn.end, np.int32)
        if pn.kind == SEQ:
            return self._sequence(pn, cases)
        if pn.kind in (CHOICE, OPTIONAL):
            return self._choice(pn, cases)
        if pn.kind == PARALLEL:
            return self._parallel(pn, cases), no_end
        if pn.kind == LOOP:
            return self._loop(pn, cases)
        raise TypeError(pn.kind)

    def _sequence(self, pn, cases):
        ends = np.full(len(cases), -1, np.int32)
        alive = cases
        parts = []
        for child in pn.children:
            if len(alive) == 0:
                break
            part, end = self.play(child, alive)
            parts.append(part)
            stop = end >= 0
            if stop.any():
                ends[np.searchsorted(cases, alive[stop])] = end[stop]
                alive = alive[~stop]
        return (concat(cases, parts) if parts else empty_part(cases)), ends

    def _choice(self, pn, cases):
        yes_id, no_id = pn.children
        if pn.id in self.d.conditions:
            yes = self.d.conditions[pn.id][cases]
            if pn.id in self.d.flippable:
                flip = self.pending[cases]
                if flip.any():
                    yes = yes ^ flip
                    self.pending[cases[flip]] = False
            else:
                flip = np.zeros(len(cases), bool)
        else:
            yes = self.rng.random(len(cases)) < self.d.p_yes[pn.id]
            flip = None
        parts, ends = [], np.full(len(cases), -1, np.int32)
        for branch, other, mask in ((yes_id, no_id, yes), (no_id, yes_id, ~yes)):
            sub = cases[mask]
            part, end = self.play(branch, sub)
            # An alignment could explain this branch's tokens through the other branch instead:
            # at the price of the other branch's fewest steps plus a log move per token.
            alt = self.plan.branch_min(other) + np.repeat(part.lengths, part.lengths)
            np.minimum(part.slack, np.minimum(alt, BIG).astype(np.int32), out=part.slack)
            parts.append(part)
            ends[mask] = end
            if flip is not None and flip.any():
                f = flip[mask]
                if f.any():
                    fc = sub[f]
                    first = np.full(len(fc), -1, np.int32)
                    has = part.lengths[f] > 0
                    first[has] = part.ref[part.offsets[:-1][f][has]]
                    self.flipped.cases.append(fc)
                    self.flipped.choice.append(pn.id)
                    self.flipped.taken_yes.append(np.full(len(fc), branch == yes_id))
                    self.flipped.first_ref.append(first)
        return concat(cases, parts), ends

    def _parallel(self, pn, cases):
        parts = []
        keys = []
        for child in pn.children:
            part, _ = self.play(child, cases)
            parts.append(part)
            # Each branch advances at random (exponential) steps; merging by these clocks gives
            # an interleaving that keeps every branch's own order.
            gaps = self.rng.exponential(1.0, len(part.ref))
            cs = np.cumsum(gaps)
            starts = part.offsets[:-1][part.lengths > 0]
            base = np.zeros(len(cases))
            base[part.lengths > 0] = cs[starts] - gaps[starts]
            keys.append(cs - np.repeat(base, part.lengths))
        merged = concat(cases, parts)
        key = np.empty(len(merged.ref))
        cursor = merged.offsets[:-1].copy()
        for part, k in zip(parts, keys, strict=True):
            if len(k):
                dest = np.repeat(cursor - part.offsets[:-1], part.lengths) + np.arange(len(k))
                key[dest] = k
            cursor += part.lengths
        case_of = np.repeat(np.arange(len(cases)), merged.lengths)
        order = np.lexsort((key, case_of))
        merged.ref = merged.ref[order]
        merged.slack = merged.slack[order]
        merged.multi = merged.multi[order]
        return merged

    def _loop(self, pn, cases):
        counts, probs = self.d.loop_runs[pn.id]
        runs = counts[self.rng.choice(len(counts), size=len(cases), p=probs)] if len(counts) > 1 \
            else np.full(len(cases), counts[0])
        body = pn.children[0]
        redo = pn.children[1] if len(pn.children) > 1 else None
        parts = []
        ends = np.full(len(cases), -1, np.int32)
        for i in range(1, int(runs.max(initial=1)) + 1):
            sub = cases[(runs >= i) & (ends < 0)]
            for node in ((redo, body) if i > 1 else (body,)):
                if node is None or not len(sub):
                    continue
                part, end = self.play(node, sub)
                parts.append(part)
                stop = end >= 0  # an end inside the loop (e.g. documents incomplete: withdrawn)
                if stop.any():
                    ends[np.searchsorted(cases, sub[stop])] = end[stop]
                    sub = sub[~stop]
        out = concat(cases, parts) if parts else empty_part(cases)
        out.multi |= np.repeat(runs > 1, out.lengths)
        return out, ends


def loop_table(again: float, max_runs: int, runs: tuple[tuple[int, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Run counts and their probabilities: a given table, or geometric with P(again) capped."""
    if runs:
        counts = np.array([n for n, _ in runs], np.int64)
        probs = np.array([p for _, p in runs], float)
        return counts, probs / probs.sum()
    counts = np.arange(1, max_runs + 1)
    probs = again ** (counts - 1) * (1 - again)
    probs[-1] = again ** (max_runs - 1)  # the cap takes the remaining mass
    return counts, probs / probs.sum()
