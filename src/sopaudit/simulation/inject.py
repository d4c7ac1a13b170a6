"""Choose cases and places for deviations, so that each is exactly what an alignment will see.

Rules that keep an injected control-flow deviation the single cheapest explanation of the trace
(docs/simulation.md, "Which deviations are injected where", explains each):

- only steps that stand at one place of the flow, in cases that do no step standing at several
  places (e.g. a rejection step shared by several decisions), and no step a declarative rule
  names;
- nothing inside a loop that ran more than once; no repetition inside a loop body at all;
- inside a decision or optional block, only when explaining the trace through the other branch
  costs more than the deviation (`slack`);
- moves only between consecutive steps of one sequence, outside parallel blocks, and never with
  the case's last event; a skip is never the case's last event;
- at most one deviation per outermost decision or loop of a case, and at least one untouched
  event between two deviations of a case (`Claims`).

Each deviation kind has a per-case rate; a chosen case where no place qualifies hands its
deviation to another qualifying case, so the count matches the rate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sopaudit.simulation.structure import Plan

logger = logging.getLogger(__name__)


@dataclass
class Tokens:
    """Events of all cases, flat in case order; `code` indexes Setup.labels."""

    lengths: np.ndarray
    code: np.ndarray  # int32
    ref: np.ndarray  # int32 StepRef node (-1 for activities outside the SOP)

    @property
    def offsets(self) -> np.ndarray:
        out = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(self.lengths, out=out[1:])
        return out

    @property
    def case(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.lengths)), self.lengths)


@dataclass
class TruthRows:
    """Truth records collected along the way; `token` indexes the current token arrays."""

    case: list[np.ndarray] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    mechanism: list[str] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    step: list[np.ndarray] = field(default_factory=list)  # object arrays of text
    related: list[np.ndarray] = field(default_factory=list)
    token: list[np.ndarray] = field(default_factory=list)  # int64, -1 = no event
    extra: list[dict] = field(default_factory=list)  # optional arrays: resource, measured, limit, unit

    def add(self, case, kind, mechanism, step, related=None, token=None, origin="injected", **extra):
        n = len(case)
        if n == 0:
            return
        self.case.append(np.asarray(case, np.int64))
        self.kind.append(kind)
        self.mechanism.append(mechanism)
        self.origin.append(origin)
        self.step.append(np.asarray(step, object))
        self.related.append(np.full(n, "", object) if related is None else np.asarray(related, object))
        self.token.append(np.full(n, -1, np.int64) if token is None else np.asarray(token, np.int64))
        self.extra.append(extra)

    def remap_tokens(self, new_index: np.ndarray) -> None:
        """Follow a permutation/filter of the tokens: new_index[old] = new position or -1."""
        for i, t in enumerate(self.token):
            self.token[i] = np.where(t >= 0, new_index[np.maximum(t, 0)], -1)


class Claims:
    """Which slots (events and the gaps around them) and which regions a case has used.

    Slot 2p+1 of a case is its event p, slot 2p the gap before it; a deviation claims the slots
    of its events and of the gaps around them, so two deviations of a case always have an
    untouched event between them.
    """

    def __init__(self, tokens: Tokens, n_regions: int):
        n = len(tokens.lengths)
        self.base = 2 * tokens.offsets[:-1] + np.arange(n)
        self.slots = np.zeros(2 * len(tokens.code) + n, bool)
        self.regions = np.zeros((n, max(n_regions, 1)), bool)

    def free(self, case, lo, hi, region) -> np.ndarray:
        ok = np.ones(len(case), bool)
        start = self.base[case] + lo
        for k in range(int((hi - lo).max(initial=-1)) + 1):
            inside = lo + k <= hi
            ok &= ~(inside & self.slots[np.where(inside, start + k, start)])
        if region is not None:
            ok &= ~((region >= 0) & self.regions[case, np.maximum(region, 0)])
        return ok

    def take(self, case, lo, hi, region) -> None:
        start = self.base[case] + lo
        for k in range(int((hi - lo).max(initial=-1)) + 1):
            at = lo + k <= hi
            self.slots[start[at] + k] = True
        if region is not None:
            m = region >= 0
            self.regions[case[m], region[m]] = True


def pick_cases(p: np.ndarray, has: np.ndarray, rng: np.random.Generator, what: str) -> np.ndarray:
    """Cases that get a deviation: Bernoulli(p) per case; chosen cases without a place are
    replaced by other qualifying cases, weighted by p, so the count stays at its expectation."""
    chosen = rng.random(len(p)) < p
    short = int((chosen & ~has).sum())
    chosen &= has
    if short:
        pool = np.flatnonzero(has & ~chosen & (p > 0))
        take = min(short, len(pool))
        if take:
            w = p[pool] / p[pool].sum()
            chosen[rng.choice(pool, size=take, replace=False, p=w)] = True
        if take < short:
            logger.warning("%s: %d case(s) could not get the deviation (no qualifying place left)",
                           what, short - take)
    return np.flatnonzero(chosen)


def pick_one(cand_case: np.ndarray, pref: np.ndarray, wanted: np.ndarray, n_cases: int,
             rng: np.random.Generator) -> np.ndarray:
    """Index of one candidate per wanted case, uniformly, preferring candidates with `pref`.
    `cand_case` must be sorted."""
    want = np.zeros(n_cases, bool)
    want[wanted] = True
    idx = np.flatnonzero(want[cand_case])
    score = pref[idx] * 2.0 + rng.random(len(idx))
    order = np.lexsort((-score, cand_case[idx]))
    idx = idx[order]
    first = np.ones(len(idx), bool)
    first[1:] = cand_case[idx][1:] != cand_case[idx][:-1]
    return idx[first]


@dataclass
class CFContext:
    plan: Plan
    tokens: Tokens
    step_of_ref: np.ndarray
    in_loop_of_ref: np.ndarray
    in_parallel_of_ref: np.ndarray
    seq_parent_of_ref: np.ndarray
    seq_index_of_ref: np.ndarray
    region_of_ref: np.ndarray  # region index (-1 none)
    slack: np.ndarray
    multi: np.ndarray
    cf_ok_case: np.ndarray  # bool per case: control-flow deviations may go here
    open_case: np.ndarray  # bool per case: left open (no deviation at all)
    pref_role_token: np.ndarray  # bool per token: done by the officer a concentration names
    rule_step: np.ndarray  # bool per step code: named by a declarative rule of the SOP
    first_gap_ok: bool  # an activity outside the SOP may come first (no `init` rule)
    last_gap_ok: bool  # ... or last (no `end` rule)


class _Chooser:
    """Picks one place per case for a deviation kind, checking claims only where needed."""

    def __init__(self, claims: Claims, probs, rngs, n_cases: int):
        self.claims, self.probs, self.rngs, self.n = claims, probs, rngs, n_cases

    def __call__(self, mech, cand_case, lohi, region, pref) -> np.ndarray:
        """Indices of the chosen candidates (one per chosen case, sorted). `lohi(sel)` and
        `region(sel)` give the claimed slot range and region of candidates `sel`."""
        n, p, rng = self.n, self.probs[mech], self.rngs[mech]
        has = np.zeros(n, bool)
        has[cand_case] = True
        wanted = pick_cases(p, has, rng, mech)
        tried = np.zeros(n, bool)
        tried[wanted] = True
        picks = []
        for _ in range(6):
            want = np.zeros(n, bool)
            want[wanted] = True
            sub = np.flatnonzero(want[cand_case])
            lo, hi = lohi(sub)
            reg = region(sub)
            free = self.claims.free(cand_case[sub], lo, hi, reg)
            sub, lo, hi, reg = sub[free], lo[free], hi[free], reg[free]
            k = pick_one(cand_case[sub], pref(sub), wanted, n, rng)
            self.claims.take(cand_case[sub[k]], lo[k], hi[k], reg[k])
            picks.append(sub[k])
            got = np.zeros(n, bool)
            got[cand_case[sub[k]]] = True
            missing = int((~got[wanted]).sum())
            if not missing:
                break
            # Chosen cases whose places were all taken by earlier deviations: choose others.
            pool = np.flatnonzero(has & ~tried & (p > 0))
            take = min(missing, len(pool))
            if not take:
                logger.warning("%s: %d case(s) could not get the deviation (no free place left)", mech, missing)
                break
            wanted = np.sort(rng.choice(pool, size=take, replace=False, p=p[pool] / p[pool].sum()))
            tried[wanted] = True
        return np.sort(np.concatenate(picks)) if picks else np.empty(0, np.int64)


def inject_control_flow(ctx: CFContext, claims: Claims, probs: dict[str, np.ndarray],
                        rngs: dict[str, np.random.Generator], unexpected_codes: np.ndarray,
                        labels: np.ndarray, truth: TruthRows) -> Tokens:
    """Skip, swap, move, repeat and insert per the rates; returns the edited tokens."""
    tk = ctx.tokens
    plan = ctx.plan
    n_cases = len(tk.lengths)
    case = tk.case
    off = tk.offsets
    pos = (np.arange(len(tk.code)) - np.repeat(off[:-1], tk.lengths)).astype(np.int32)
    n = tk.lengths[case].astype(np.int32)
    ref = tk.ref
    step = ctx.step_of_ref[ref]
    names = np.array(plan.step_ids, object)
    base_ok = ctx.cf_ok_case[case] & plan.unique[step] & ~ctx.multi & ~ctx.rule_step[step]
    reg = ctx.region_of_ref[ref]
    mec = plan.min_end_cost
    pref = ctx.pref_role_token
    choose = _Chooser(claims, probs, rngs, n_cases)
    edits: dict[str, np.ndarray] = {}

    def token_kind(mech, ok, width):
        cand = np.flatnonzero(ok)
        sel = choose(mech, case[cand], lambda s: (2 * pos[cand[s]], 2 * pos[cand[s]] + width),
                     lambda s: reg[cand[s]], lambda s: pref[cand[s]])
        return cand[sel]

    # skipped: the step is absent; never the case's last event
    ok = base_ok & (ctx.slack >= 3) & (pos < n - 1)
    if mec is not None:
        ok &= mec + (n - pos - 1) > 1
    pick = token_kind("skipped", ok, 2)
    edits["skip"] = pick
    truth.add(case[pick], "skipped", "skipped", names[step[pick]], token=pick)

    # swap of two consecutive steps of one sequence: the later step is done too early.
    # Not inside a parallel block: which steps a move "jumped over" would depend on how the
    # other branches happened to interleave.
    nxt = np.minimum(np.arange(1, len(pos) + 1), len(pos) - 1)
    consecutive = (pos < n - 1) & (ctx.seq_parent_of_ref[ref] >= 0) & ~ctx.in_parallel_of_ref[ref]
    consecutive &= ctx.seq_parent_of_ref[ref] == ctx.seq_parent_of_ref[ref[nxt]]
    consecutive &= ctx.seq_index_of_ref[ref[nxt]] == ctx.seq_index_of_ref[ref] + 1
    run_ok = base_ok & (ctx.slack >= 3)
    # Never with the case's last event: in a case near the end of the log, the audit may read
    # "the last step done early" as a case still open that did a step out of order.
    ok = run_ok & run_ok[nxt] & consecutive & (pos + 1 < n - 1)
    if mec is not None:
        ok &= mec + (n - pos) > 2
    pick = token_kind("swap", ok, 4)
    edits["swap"] = pick
    truth.add(case[pick], "out_of_order", "swap", names[step[pick + 1]], names[step[pick]], token=pick + 1)

    # move of a step over 2-4 steps before it in the same sequence
    cand_idx, cand_m = [], []
    chain = run_ok.copy()
    for m in range(1, 5):
        j = np.minimum(np.arange(m, len(pos) + m), len(pos) - 1)
        chain &= (pos + m < n - 1) & run_ok[j] & consecutive[np.minimum(j - 1, len(pos) - 1)]
        if m >= 2:
            cand_idx.append(np.flatnonzero(chain))
            cand_m.append(np.full(len(cand_idx[-1]), m, np.int32))
    del chain, consecutive, run_ok, nxt
    cand_idx = np.concatenate(cand_idx)
    cand_m = np.concatenate(cand_m)
    order = np.argsort(cand_idx, kind="stable")
    cand_idx, cand_m = cand_idx[order], cand_m[order]
    moved_x = cand_idx + cand_m
    sel = choose("move", case[cand_idx],
                 lambda s: (2 * pos[cand_idx[s]], 2 * (pos[cand_idx[s]] + cand_m[s]) + 2),
                 lambda s: reg[cand_idx[s]], lambda s: pref[moved_x[s]])
    edits["move_at"], edits["move_m"] = cand_idx[sel], cand_m[sel]
    jumped = ["; ".join(names[step[i:i + m]]) for i, m in zip(cand_idx[sel], cand_m[sel], strict=True)]
    truth.add(case[cand_idx[sel]], "out_of_order", "move", names[step[moved_x[sel]]], jumped, token=moved_x[sel])

    # repeated: done again right after itself; never inside a loop body
    ok = ctx.cf_ok_case[case] & plan.unique[step] & ~ctx.in_loop_of_ref[ref] & ~ctx.rule_step[step]
    pick = token_kind("repeated", ok, 2)
    edits["repeat"] = pick
    truth.add(case[pick], "repeated", "repeated", names[step[pick]], token=pick)

    # unexpected: an activity outside the SOP in a random gap (several tries per case)
    edits["unexp_case"], edits["unexp_gap"], edits["unexp_code"] = _unexpected(
        ctx, claims, probs["unexpected"], rngs["unexpected"], unexpected_codes)
    return _apply(tk, case, pos, edits, truth, labels)


def _unexpected(ctx, claims, p, rng, codes):
    # An activity outside the SOP is a log move in every alignment, so it cannot change how the
    # rest of the trace is explained: it needs no region, only untouched events around it.
    tk = ctx.tokens
    allowed = ~ctx.open_case & (tk.lengths > 0)
    wanted = pick_cases(p, allowed, rng, "unexpected")
    got_case, got_gap = [], []
    todo = wanted
    for _ in range(12):
        if not len(todo):
            break
        n = tk.lengths[todo]
        lo_gap = 0 if ctx.first_gap_ok else 1
        hi_gap = n + 1 if ctx.last_gap_ok else n
        gap = lo_gap + (rng.random(len(todo)) * np.maximum(hi_gap - lo_gap, 1)).astype(np.int64)
        lo = np.maximum(2 * gap - 1, 0)
        hi = np.minimum(2 * gap + 1, 2 * n)
        ok = claims.free(todo, lo, hi, None)
        done = todo[ok]
        claims.take(done, lo[ok], hi[ok], None)
        got_case.append(done)
        got_gap.append(gap[ok])
        todo = todo[~ok]
    if len(todo):
        logger.warning("unexpected: %d case(s) had no free place for an activity outside the SOP", len(todo))
    cases = np.concatenate(got_case) if got_case else np.empty(0, np.int64)
    gaps = np.concatenate(got_gap) if got_gap else np.empty(0, np.int64)
    order = np.argsort(cases, kind="stable")
    cases, gaps = cases[order], gaps[order]
    label = codes[rng.integers(0, len(codes), len(cases))] if len(codes) else np.empty(0, np.int32)
    return cases, gaps, label


def _apply(tk: Tokens, case: np.ndarray, pos: np.ndarray, edits: dict, truth: TruthRows,
           labels: np.ndarray) -> Tokens:
    """The edited token arrays. Only edited cases are re-sorted (by case and a position key);
    the others are copied. Truth rows follow their event."""
    n_cases = len(tk.lengths)
    skip, sw, rep = edits["skip"], edits["swap"], edits["repeat"]
    at, m = edits["move_at"], edits["move_m"]
    uc, ug, ucode = edits["unexp_case"], edits["unexp_gap"], edits["unexp_code"]
    edited = np.zeros(n_cases, bool)
    for t in (skip, sw, at, rep):
        edited[case[t]] = True
    edited[uc] = True
    lengths = tk.lengths - np.bincount(case[skip], minlength=n_cases) + np.bincount(case[rep], minlength=n_cases) \
        + np.bincount(uc, minlength=n_cases)
    new_off = np.zeros(n_cases + 1, np.int64)
    np.cumsum(lengths, out=new_off[1:])
    total = int(new_off[-1])
    code = np.empty(total, np.int32)
    ref = np.empty(total, np.int32)
    new_index = np.full(len(tk.code), -1, np.int64)

    same = np.flatnonzero(~edited[case])
    dest = new_off[case[same]] + pos[same]
    code[dest] = tk.code[same]
    ref[dest] = tk.ref[same]
    new_index[same] = dest
    del same, dest

    mine = np.flatnonzero(edited[case])  # events of edited cases, then copies and insertions
    key = 8 * pos[mine].astype(np.int64) + 4
    slot = np.full(len(tk.code), -1, np.int64)
    slot[mine] = np.arange(len(mine))
    key[slot[sw]] = 8 * (pos[sw].astype(np.int64) + 1) + 4
    key[slot[sw + 1]] = 8 * pos[sw].astype(np.int64) + 4
    key[slot[at + m]] = 8 * pos[at].astype(np.int64) + 1
    keep = np.ones(len(mine), bool)
    keep[slot[skip]] = False
    src = np.concatenate([mine[keep], rep, np.full(len(uc), -1)])
    all_case = np.concatenate([case[mine[keep]], case[rep], uc])
    all_key = np.concatenate([key[keep], 8 * pos[rep].astype(np.int64) + 6, 8 * ug + 2])
    all_code = np.concatenate([tk.code[mine[keep]], tk.code[rep], ucode.astype(np.int32)])
    all_ref = np.concatenate([tk.ref[mine[keep]], tk.ref[rep], np.full(len(uc), -1, np.int32)])
    order = np.lexsort((all_key, all_case))
    sc = all_case[order]
    rank = np.arange(len(order)) - np.searchsorted(sc, sc)  # position within the case
    dest = new_off[sc] + rank
    code[dest] = all_code[order]
    ref[dest] = all_ref[order]
    placed = np.empty(len(order), np.int64)
    placed[order] = dest
    n_keep = int(keep.sum())
    new_index[mine[keep]] = placed[:n_keep]
    copy_pos = placed[n_keep:n_keep + len(rep)]
    unexp_pos = placed[n_keep + len(rep):]
    del src
    for i, t in enumerate(truth.token):
        mech = truth.mechanism[i]
        if mech == "skipped":
            truth.token[i] = np.full(len(t), -1, np.int64)
        elif mech == "repeated":
            truth.token[i] = copy_pos  # the copy is the event of the finding
        else:
            truth.token[i] = np.where(t >= 0, new_index[np.maximum(t, 0)], -1)
    truth.add(uc, "unexpected", "unexpected", labels[ucode], token=unexp_pos)
    return Tokens(lengths.astype(np.int64), code, ref)
