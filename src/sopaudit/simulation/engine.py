"""`simulate(sop, cases, seed, scenario)`: a synthetic event log and the truth of its deviations.

The stages run in a fixed order, each over whole arrays: cases (office, attributes, arrival
day), officers, the flow play-out (with wrong branches), control-flow deviations, resources
(with duty conflicts and wrong roles), times (with late steps and late cases), open cases at
the end of the log. Every stage draws from its own random stream derived from the seed, so
changing one deviation rate does not reshuffle the arrivals or the paths of the cases.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE, START, TIME
from sopaudit.core.errors import SopAuditError
from sopaudit.simulation.inject import CFContext, Claims, Tokens, TruthRows, inject_control_flow
from sopaudit.simulation.playout import Decisions, Player
from sopaudit.simulation.resolve import Setup, period_dates, resolve
from sopaudit.simulation.scenario import MECHANISMS, Scenario, default_scenario
from sopaudit.simulation.scenario_file import load_scenario
from sopaudit.simulation.staff import assign_officers, inject_staff_deviations, token_resources
from sopaudit.simulation.structure import STEP, build_plan
from sopaudit.simulation.timing import Clock, Events, plan_times, record_truth
from sopaudit.sop.model import SOP

logger = logging.getLogger(__name__)

TRUTH_COLUMNS = ["case_id", "kind", "step", "related", "mechanism", "origin", "event_pos", "resource",
                 "measured", "limit", "unit", "detail"]
OFFICE_ATTRIBUTE = "kantor"
_STREAMS = ("office", "attributes", "arrival", "officers", "open", "wrong_branch", "flow", "times", "resources",
            "skipped", "swap", "move", "repeated", "unexpected", "wrong_role", "duty_conflict", "late_step",
            "late_case")


def simulate(sop: SOP, cases: int | None = None, seed: int | None = None,
             scenario: Scenario | str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Play `cases` cases of the SOP under `scenario` (the default scenario when None).

    Returns the event log (pm4py columns, tz-aware times, `start_timestamp`, case attributes;
    categorical text columns) and the truth table: one row per deviation in the log, in the
    vocabulary of the audit findings (docs/simulation.md). The same inputs give the same output.
    """
    started = time.time()
    plan = build_plan(sop)
    if scenario is None:
        scenario = default_scenario(sop)
    elif not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, sop)
    if not scenario.offices:  # a scenario without offices works in the default one
        scenario = replace(scenario, offices=default_scenario(sop).offices)
    n = cases if cases is not None else scenario.cases
    if n is None:
        n = 1000
    seed = seed if seed is not None else scenario.seed
    if seed is None:
        raise SopAuditError("simulate needs a seed (--seed N, or seed: in the scenario) so the log can be made again")
    if int(n) < 1:
        raise SopAuditError(f"the number of cases must be at least 1, not {n}")
    setup = resolve(scenario, plan)
    log, truth = _run(setup, int(n), int(seed))
    logger.info("simulated %d cases, %d events in %.1f s", n, len(log), time.time() - started)
    return log, truth


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS.index(name)])


@dataclass
class _Cases:
    office: np.ndarray  # office index per case
    attr_codes: dict[str, tuple[np.ndarray, tuple[str, ...]]]  # attribute -> (codes, values)
    attr_values: dict[str, np.ndarray]  # attribute -> value per case (object)
    day_seconds: np.ndarray  # length of the office day per case
    arrival: np.ndarray  # clock of the first event
    arrival_date: np.ndarray  # datetime64[D]


def _run(setup: Setup, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    cases = _draw_cases(setup, n, seed)
    staff = assign_officers(setup, cases.office, _rng(seed, "officers"))
    probs, pref_officer = _probabilities(setup, n, cases.office, cases.attr_values, cases.arrival_date,
                                         staff.case_officer)
    open_case = _rng(seed, "open").random(n) < probs["incomplete"]
    rngs = {k: _rng(seed, k) for k in _STREAMS}
    truth = TruthRows()
    tokens = _flow(setup, cases, staff, probs, pref_officer, open_case, seed, rngs, truth)

    case_of = tokens.case
    res = token_resources(setup, staff, case_of, tokens.code, cases.office, rngs["resources"])
    if any(m_ == "unexpected" for m_ in truth.mechanism):
        _unexpected_by_officer(truth, res, pref_officer["unexpected"])
    inject_staff_deviations(setup, staff, case_of, tokens.code, res, n, cases.office, open_case, probs,
                            pref_officer, rngs, truth)
    del case_of
    code, res, lengths, start, end, wall = _times(setup, cases, tokens, res, probs, pref_officer, open_case,
                                                  seed, rngs, truth)
    del tokens

    case_of = np.repeat(np.arange(n), lengths)
    utc_start, utc_end, tz = wall.utc(start, case_of), wall.utc(end, case_of), wall.tz
    del start, end, case_of
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    # Application numbers follow the order in which the cases began (events are in time order).
    first_time = np.where(lengths > 0, utc_start[np.minimum(off[:-1], max(len(utc_start) - 1, 0))],
                          np.iinfo(np.int64).max)
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), first_time))] = np.arange(n)
    width = max(6, len(str(n)))
    ids = [f"{setup.scenario.case_prefix}{i + 1:0{width}d}" for i in range(n)]
    truth_df = _truth_frame(setup, truth, rank, ids, lengths, code, res, staff)
    log = _log_frame(setup, rank, ids, lengths, code, res, utc_start, utc_end, tz, cases.attr_codes)
    return log, truth_df


def _draw_cases(setup: Setup, n: int, seed: int) -> _Cases:
    """Office, case attributes and arrival (working day and time) of every case."""
    sc = setup.scenario
    shares = np.array([o.share for o in setup.offices], float)
    office = _rng(seed, "office").choice(len(setup.offices), n, p=shares / shares.sum()).astype(np.int64)
    rng = _rng(seed, "attributes")
    attr_values: dict[str, np.ndarray] = {}
    attr_codes: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for name, values, probs in setup.attributes:
        codes = rng.choice(len(values), n, p=probs)
        attr_codes[name] = (codes, values)
        attr_values[name] = np.array(values, object)[codes]
    office_names = tuple(o.name for o in setup.offices)
    attr_codes[OFFICE_ATTRIBUTE] = (office, office_names)
    attr_values[OFFICE_ATTRIBUTE] = np.array(office_names, object)[office]
    # Arrival: a working day of the period (weighted by weekday and month) and a time of day;
    # on the office clock: day index * day length + offset after opening.
    rng = _rng(seed, "arrival")
    day_seconds = np.zeros(n, np.int64)
    arrival = np.zeros(n, np.int64)
    arrival_date = np.zeros(n, "datetime64[D]")
    for o in setup.offices:
        at = np.flatnonzero(office == o.index)
        days = o.days[o.first_day: o.first_day + o.period_days]
        weekday, month = period_dates(days)
        w = np.array(sc.weekday_weights)[weekday] * np.array(sc.month_weights)[month - 1]
        pick = rng.choice(len(days), len(at), p=w / w.sum()) if len(at) else np.empty(0, np.int64)
        a0, a1 = (_seconds(x) - o.opening for x in sc.arrival_hours)
        a0, a1 = max(a0, 0), min(max(a1, a0 + 60), o.day_seconds - 60)
        offset = rng.integers(a0, a1, len(at)) if len(at) else np.empty(0, np.int64)
        arrival[at] = (o.first_day + pick) * o.day_seconds + offset
        day_seconds[at] = o.day_seconds
        arrival_date[at] = days[pick]
    return _Cases(office, attr_codes, attr_values, day_seconds, arrival, arrival_date)


def _flow(setup, cases, staff, probs, pref_officer, open_case, seed, rngs, truth) -> Tokens:
    """Play the flow (with wrong branches) and inject the other control-flow deviations."""
    plan = setup.plan
    n = len(cases.office)
    flip = (_rng(seed, "wrong_branch").random(n) < probs["wrong_branch"]) & ~open_case
    conditions = {}
    for nid, (attr, values, negate) in setup.conditions.items():
        codes, names = cases.attr_codes[attr]
        inside = np.isin(np.array(names, object), np.array(values, object))
        conditions[nid] = inside[codes] ^ negate
    player = Player(plan, Decisions(setup.p_yes, conditions, setup.loop_runs, flip, _flippable(setup)),
                    _rng(seed, "flow"))
    part, _ = player.play(plan.root, np.arange(n, dtype=np.int64))
    if player.pending.any():
        logger.info("wrong_branch: %d case(s) reached no decision that follows a case attribute",
                    int(player.pending.sum()))
    step_of_ref = np.array([pn.step for pn in plan.nodes], np.int32)
    tokens = Tokens(part.lengths, step_of_ref[part.ref], part.ref)

    rule_kinds = {r.kind for r in plan.sop.rules if r.kind != "separation_of_duties"}
    rule_step = np.zeros(len(setup.labels), bool)
    code_of = {s: i for i, s in enumerate(plan.step_ids)}
    for r in plan.sop.rules:
        if r.kind != "separation_of_duties":
            rule_step[[code_of[s] for s in r.steps if s in code_of]] = True
    regions = sorted({pn.outer for pn in plan.nodes if pn.outer >= 0})
    region_index = {r: i for i, r in enumerate(regions)}
    region_of_ref = np.array([region_index.get(pn.outer, -1) for pn in plan.nodes], np.int32)
    case_of = tokens.case
    has_shared = np.bincount(case_of[~plan.unique[tokens.code]], minlength=n) > 0
    claims = Claims(tokens, len(regions))
    names = np.array(setup.labels, object)
    _wrong_branch_truth(setup, player, region_of_ref, claims, tokens, truth, cases.attr_values)

    # With an officer concentration, the deviation goes on a step that officer did in the case.
    ridx = {r: i for i, r in enumerate(staff.roles)}
    step_ridx = np.array([ridx.get(r, -1) for r in setup.step_role] + [-1] * (len(setup.labels) - setup.n_steps),
                         np.int64)
    r_tok = step_ridx[tokens.code]
    pref_tok = np.zeros(len(tokens.code), bool)
    cf_pref = pref_officer["skipped"]  # one officer preference for all control-flow kinds of a case
    m = (r_tok >= 0) & (cf_pref[case_of] >= 0)
    pref_tok[m] = staff.case_officer[case_of[m], r_tok[m]] == cf_pref[case_of[m]]
    del r_tok, m, case_of
    ctx = CFContext(plan, tokens, step_of_ref, np.array([pn.in_loop for pn in plan.nodes]),
                    np.array([pn.in_parallel for pn in plan.nodes]),
                    np.array([pn.seq_parent for pn in plan.nodes], np.int64),
                    np.array([pn.seq_index for pn in plan.nodes], np.int64), region_of_ref, part.slack, part.multi,
                    ~open_case & ~has_shared, open_case, pref_tok, rule_step,
                    "init" not in rule_kinds, "end" not in rule_kinds)
    mech_probs = {m_: probs[MECHANISMS[m_]] * (setup.rates.get(m_, 0) / max(_kind_rate(setup, MECHANISMS[m_]), 1e-300))
                  for m_ in ("skipped", "swap", "move", "repeated", "unexpected")}
    unexpected_codes = np.arange(setup.n_steps, len(setup.labels), dtype=np.int32)
    return inject_control_flow(ctx, claims, mech_probs, rngs, unexpected_codes, names, truth)


def _times(setup, cases, tokens, res, probs, pref_officer, open_case, seed, rngs, truth):
    """Times of every event, late steps and cases, and the open cases at the end of the log.
    Returns the final (after cutting open cases) codes, resources, lengths, start and end."""
    n = len(cases.office)
    plan = setup.plan
    case_of = tokens.case
    pos = np.arange(len(tokens.code)) - np.repeat(tokens.offsets[:-1], tokens.lengths)
    ev = Events(tokens.lengths, tokens.code, case_of, pos, cases.office, cases.day_seconds, cases.arrival)
    wait_factor = np.ones(n)
    for attr, factors in setup.wait_factors:
        values = cases.attr_values.get(attr)
        if values is not None:
            for value, f in factors.items():
                wait_factor[values == value] *= f
    lp = pref_officer["late_step"]
    pref_late = (lp[case_of] >= 0) & (res == lp[case_of])
    wall = _WallClock(setup, cases.office)
    clk, standards, injected = plan_times(setup, ev, wait_factor, cases.attr_values, open_case, probs, pref_late,
                                          rngs, wall)
    del pref_late, wait_factor

    # Open cases at the end of the log, and ordinary cases moved back inside it.
    busy = np.zeros(n, bool)  # cases with a deviation: never used to replace an open case
    for c in truth.case:
        busy[c] = True
    busy[case_of[injected.late_tok]] = True
    for c in injected.late_case.values():
        busy[c] = True
    keep, shift, open_info = _close_log(setup, ev, clk, open_case, busy, probs["incomplete"], cases.office,
                                        _cut_safe(plan)[tokens.ref], _rng(seed, "open"))
    del ev, pos
    moved = np.repeat(shift * cases.day_seconds, tokens.lengths)
    start = (clk.start + moved)[keep]
    end = (clk.end + moved)[keep]
    del clk, moved
    new_index = np.full(len(keep), -1, np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    truth.remap_tokens(new_index)
    injected.late_tok = new_index[injected.late_tok]
    del new_index
    lengths = np.bincount(case_of[keep], minlength=n).astype(np.int64)
    code = tokens.code[keep]
    res = res[keep]
    del case_of, keep
    case_of = np.repeat(np.arange(n), lengths)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    pos = np.arange(len(code)) - np.repeat(off[:-1], lengths)
    ev = Events(lengths, code, case_of, pos, cases.office, cases.day_seconds, cases.arrival)
    record_truth(setup, ev, Clock(start, end), standards, injected, wall, truth)
    oc, kept_n, total_n, next_code = open_info
    names = np.array(setup.labels, object)
    truth.add(oc, "incomplete", "incomplete", names[next_code],
              detail=np.array([f"{k} of {t} events recorded before the log ends"
                               for k, t in zip(kept_n, total_n, strict=True)], object))
    return code, res, lengths, start, end, wall


def _flippable(setup: Setup) -> set[int]:
    """Conditional decisions where a wrong branch is injected: not inside a loop (the answer is
    the same each time round), and no step of theirs named by a declarative rule (the rule
    would report the wrong branch a second time)."""
    plan = setup.plan
    rule_steps = {s for r in plan.sop.rules if r.kind != "separation_of_duties" for s in r.steps}
    out = set()
    for nid in setup.conditions:
        pn = plan.nodes[nid]
        inside = {plan.step_ids[n.step] for n in plan.nodes if n.kind == STEP and plan._inside(n.id, nid)}
        if not pn.in_loop and not inside & rule_steps:
            out.add(nid)
    return out


def _cut_safe(plan) -> np.ndarray:
    """StepRefs after which an open case may be cut: from right after the step, no end of the
    SOP is reachable without a visible step, so the events kept can never read as a finished
    case (and the step stands at one place of the flow, so the kept events parse one way)."""
    safe = np.zeros(len(plan.nodes), bool)
    for pn in plan.nodes:
        if pn.kind == STEP:
            safe[pn.id] = bool(plan.unique[pn.step]) and not plan.silent_end_after(pn.id)
    return safe


def _kind_rate(setup: Setup, kind: str) -> float:
    return sum(r for m, r in setup.rates.items() if MECHANISMS[m] == kind)


def _probabilities(setup, n, office, attr_values, arrival_date, case_officer):
    """Per mechanism-kind and case: the rate times the factors of the concentrations that apply."""
    probs = {}
    pref = {}
    kinds = sorted(set(MECHANISMS.values()))
    factors = {k: np.ones(n) for k in kinds}
    for k in kinds:
        pref[k] = np.full(n, -1, np.int32)
    for c in setup.concentrations:
        match = np.ones(n, bool)
        if c["officer"] >= 0:
            match &= (case_officer == c["officer"]).any(axis=1)
        if c["office"] >= 0:
            match &= office == c["office"]
        if c["period"]:
            a, b = c["period"]
            match &= (arrival_date >= np.datetime64(a, "D")) & (arrival_date <= np.datetime64(b, "D"))
        for attr, values in c["attributes"].items():
            match &= np.isin(attr_values[attr], np.array(sorted(values), object))
        for k in c["kinds"]:
            if k in factors:
                factors[k][match] *= c["factor"]
                if c["officer"] >= 0:
                    pref[k][match & (pref[k] < 0)] = c["officer"]
    for k in kinds:
        probs[k] = np.minimum(_kind_rate(setup, k) * factors[k], 1.0)
    pref["skipped"] = np.maximum.reduce([pref[k] for k in ("skipped", "out_of_order", "repeated")])
    return probs, pref


def _wrong_branch_truth(setup, player, region_of_ref, claims, tokens, truth, attr_values):
    f = player.flipped
    plan = setup.plan
    for cases, nid, taken_yes, first_ref in zip(f.cases, f.choice, f.taken_yes, f.first_ref, strict=True):
        pn = plan.nodes[nid]
        required = np.where(taken_yes, pn.children[1], pn.children[0])
        # The step done against the condition (the first step of the branch taken), or for an
        # empty branch the first step of the branch the condition required.
        taken = np.where(taken_yes, pn.children[0], pn.children[1])
        step = np.array([plan.first_step(int(t)) or plan.first_step(int(q))
                         for t, q in zip(taken, required, strict=True)], object)
        # The event of the finding: the first step of the branch taken, when it has one.
        want = np.full(len(tokens.lengths), -2, np.int32)
        want[cases] = np.where(first_ref >= 0, first_ref, -2)
        idx = np.flatnonzero(tokens.ref == want[tokens.case])
        first_of = np.full(len(tokens.lengths), -1, np.int64)
        first_of[tokens.case[idx[::-1]]] = idx[::-1]
        tok = first_of[cases]
        cond = pn.node.condition
        detail = [f"decision '{pn.node.id or pn.key}' ({pn.node.question}) took '{'yes' if y else 'no'}' although "
                  f"{cond.attribute} = {v}" for y, v in zip(taken_yes, attr_values[cond.attribute][cases], strict=True)]
        truth.add(cases, "wrong_branch", "wrong_branch", step, token=tok, detail=np.array(detail, object))
        reg = region_of_ref[nid] if pn.outer >= 0 else -1
        if reg >= 0:
            claims.regions[cases, reg] = True


def _unexpected_by_officer(truth, res, pref):
    """With an officer concentration on `unexpected`, the inserted activity is that officer's."""
    for i, mech in enumerate(truth.mechanism):
        if mech == "unexpected":
            t = truth.token[i]
            c = truth.case[i]
            m = pref[c] >= 0
            res[t[m]] = pref[c[m]]


def _close_log(setup, ev, clk, open_case, busy, weight, office, cut_safe, rng):
    """Cut open cases at a day boundary so their last event falls in the last days of the log;
    move ordinary cases that would end after the log end back by whole working days.

    An open case needs a safe cut point (see _cut_safe) between two working days; one without
    is replaced by a case without deviations that has one, so the count stays on target."""
    n = len(ev.lengths)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(ev.lengths, out=off[1:])
    day = ev.day_seconds[ev.case]
    last_day = np.array([o.first_day + o.period_days - 1 for o in setup.offices], np.int64)[office]
    shift = np.zeros(n, np.int64)
    keep = np.ones(len(ev.code), bool)
    # Candidate cut points: event k starts on a later day than event k-1 ends.
    gap = np.zeros(len(ev.code), np.int64)
    later = ev.pos > 0
    gap[later] = clk.start[later] // day[later] - clk.end[np.flatnonzero(later) - 1] // day[later]
    prev_safe = np.zeros(len(ev.code), bool)
    prev_safe[1:] = cut_safe[:-1]  # the event before the cut is the last one kept
    can_cut = later & (gap >= 1) & prev_safe
    has = np.zeros(n, bool)
    has[ev.case[np.flatnonzero(can_cut)]] = True
    chosen = open_case & has
    short = int((open_case & ~has).sum())
    if short:
        pool = np.flatnonzero(has & ~busy & ~open_case & (weight > 0))
        take = min(short, len(pool))
        if take:
            chosen[rng.choice(pool, size=take, replace=False, p=weight[pool] / weight[pool].sum())] = True
        if take < short:
            logger.warning("incomplete: %d case(s) could not be left open (no cut point between two "
                           "working days after a step that cannot end the case)", short - take)
    idx = np.flatnonzero(can_cut & chosen[ev.case])
    score = rng.random(len(idx))
    order = np.lexsort((-score, ev.case[idx]))
    idx = idx[order]
    first = np.ones(len(idx), bool)
    first[1:] = ev.case[idx][1:] != ev.case[idx][:-1]
    cut = idx[first]  # first dropped event of each open case
    oc = ev.case[cut]
    j = (rng.random(len(cut)) * np.minimum(gap[cut], 5)).astype(np.int64)  # 0 .. min(gap, 5) - 1
    end_day = clk.end[cut - 1] // day[cut]
    shift[oc] = last_day[oc] - j - end_day
    drop_from = np.full(n, np.iinfo(np.int64).max)
    drop_from[oc] = cut
    keep = np.arange(len(ev.code)) < drop_from[ev.case]
    kept_n = cut - off[oc]
    total_n = ev.lengths[oc]
    # Ordinary cases: their last event must be on or before the last working day of the period.
    last_end_day = clk.end[off[1:] - 1] // ev.day_seconds
    late = ~np.isin(np.arange(n), oc) & (ev.lengths > 0) & (last_end_day > last_day)
    shift[late] = last_day[late] - last_end_day[late]
    # Never before the first day of the office's day table (a case longer than its margin).
    first_start_day = clk.start[off[:-1][ev.lengths > 0]] // ev.day_seconds[ev.lengths > 0]
    floor = -first_start_day
    s = shift[ev.lengths > 0]
    if (s < floor).any():
        logger.warning("%d case(s) are too long to fit before the log end", int((s < floor).sum()))
        shift[ev.lengths > 0] = np.maximum(s, floor)
    return keep, shift, (oc, kept_n, total_n, ev.code[cut])


class _WallClock:
    """Maps office clock seconds to real time (per case office) and to calendar days."""

    def __init__(self, setup: Setup, office: np.ndarray):
        self.office = office
        self.days = [o.days.astype(np.int64) for o in setup.offices]
        self.opening = np.array([o.opening for o in setup.offices], np.int64)
        self.day = np.array([o.day_seconds for o in setup.offices], np.int64)
        tzs = [o.calendar.tz for o in setup.offices]
        self.tz = tzs[0] if len(set(tzs)) == 1 else "UTC"
        self.tzs = tzs
        self.fixed = []
        for o in setup.offices:
            zone = zoneinfo.ZoneInfo(o.calendar.tz)
            first = dt.datetime.combine(o.days[0].astype(dt.date), dt.time(12))
            last = dt.datetime.combine(o.days[-1].astype(dt.date), dt.time(12))
            a, b = zone.utcoffset(first), zone.utcoffset(last)
            self.fixed.append(int(a.total_seconds()) if a == b else None)

    def _local_seconds(self, t, case):
        if len(self.days) == 1:
            return self.days[0][t // self.day[0]] * 86400 + self.opening[0] + t % self.day[0]
        o = self.office[case]
        out = np.empty(len(t), np.int64)
        for i, days in enumerate(self.days):
            m = o == i
            d = t[m] // self.day[i]
            out[m] = days[d] * 86400 + self.opening[i] + t[m] % self.day[i]
        return out

    def __call__(self, t, case):
        """Calendar days (float, local) of clock times t of the given cases."""
        return self._local_seconds(t, case) / 86400.0

    def utc(self, t, case) -> np.ndarray:
        """UTC nanoseconds of clock times."""
        local = self._local_seconds(t, case)
        if len(self.fixed) == 1 and self.fixed[0] is not None:
            local -= self.fixed[0]
            local *= 1_000_000_000
            return local
        o = self.office[case]
        out = np.empty(len(t), np.int64)
        for i, fixed in enumerate(self.fixed):
            m = o == i
            if fixed is not None:
                out[m] = (local[m] - fixed) * 1_000_000_000
            else:
                stamps = pd.DatetimeIndex(local[m].astype("datetime64[s]")).tz_localize(
                    self.tzs[i], ambiguous="NaT", nonexistent="shift_forward")
                out[m] = stamps.tz_convert("UTC").asi8
        return out


def _seconds(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """A categorical whose categories are sorted, so sorting by it is sorting by the text."""
    cats = np.array(categories, object)
    order = np.argsort(cats, kind="stable")
    remap = np.empty(len(cats), np.int64)
    remap[order] = np.arange(len(cats))
    return pd.Categorical.from_codes(remap[codes], cats[order].tolist(), validate=False)


def _log_frame(setup, rank, ids, lengths, code, res, utc_start, utc_end, tz, attr_codes) -> pd.DataFrame:
    n = len(lengths)
    order_cases = np.argsort(rank, kind="stable")
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    new_len = lengths[order_cases]
    new_off = np.zeros(n + 1, np.int64)
    np.cumsum(new_len, out=new_off[1:])
    gather = np.repeat(off[:-1][order_cases] - new_off[:-1], new_len) + np.arange(int(new_off[-1]))
    case_rank = np.repeat(np.arange(n), new_len)  # cases are numbered in order of their first event
    frame = {
        CASE: pd.Categorical.from_codes(case_rank, ids, validate=False),
        ACTIVITY: _categorical(code[gather], setup.labels),
        TIME: pd.DatetimeIndex(utc_end[gather], tz="UTC").tz_convert(tz),
        START: pd.DatetimeIndex(utc_start[gather], tz="UTC").tz_convert(tz),
        RESOURCE: _categorical(res[gather], setup.officers),
    }
    case_of = order_cases[case_rank]
    for name, (codes, values) in attr_codes.items():
        frame[name] = _categorical(codes[case_of], list(values))
    return pd.DataFrame(frame)


def _truth_frame(setup, truth: TruthRows, rank, ids, lengths, code, res, staff) -> pd.DataFrame:
    off = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    cols = {c: [] for c in TRUTH_COLUMNS}
    role_index = {r: i for i, r in enumerate(staff.roles)}
    for i in range(len(truth.case)):
        c = truth.case[i]
        k = len(c)
        tok = truth.token[i]
        ex = truth.extra[i]
        cols["case_id"].append(np.array(ids, object)[rank[c]])
        cols["kind"].append(np.full(k, truth.kind[i], object))
        cols["step"].append(truth.step[i])
        cols["related"].append(truth.related[i])
        cols["mechanism"].append(np.full(k, truth.mechanism[i], object))
        cols["origin"].append(np.full(k, truth.origin[i], object))
        cols["event_pos"].append(np.where(tok >= 0, tok - off[c], -1))
        resource = np.where(tok >= 0, res[np.maximum(tok, 0)], -1)
        if truth.kind[i] == "skipped":
            # The officer who should have done the skipped step in this case.
            step_code = {s: j for j, s in enumerate(setup.plan.step_ids)}
            r = np.array([role_index.get(setup.step_role[step_code[s]], -1) for s in truth.step[i]], np.int64)
            resource = np.where(r >= 0, staff.case_officer[c, np.maximum(r, 0)], -1) \
                if staff.case_officer.shape[1] else np.full(k, -1)
        if truth.kind[i] == "incomplete":
            resource = np.full(k, -1)
        names = np.array(setup.officers + [""], object)
        cols["resource"].append(names[np.where(resource >= 0, resource, len(setup.officers))])
        cols["measured"].append(np.asarray(ex.get("measured", np.full(k, np.nan)), float))
        cols["limit"].append(np.asarray(ex.get("limit", np.full(k, np.nan)), float))
        cols["unit"].append(np.asarray(ex.get("unit", np.full(k, "", object)), object))
        cols["detail"].append(np.asarray(ex.get("detail", np.full(k, "", object)), object))
    if not truth.case:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TRUTH_COLUMNS}).astype(
            {"event_pos": "Int64", "measured": float, "limit": float})
    df = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    df["event_pos"] = df["event_pos"].astype("Int64")
    df.loc[df["event_pos"] < 0, "event_pos"] = pd.NA
    df["measured"] = df["measured"].round(4)
    df = df.sort_values(["case_id", "event_pos", "kind", "step", "related"], kind="mergesort",
                        na_position="first").reset_index(drop=True)
    return df[TRUTH_COLUMNS]
