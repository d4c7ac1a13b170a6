"""When each event happened: a working-time clock mapped onto the office calendar.

Time runs on a clock of office seconds: day d of the clock is the office's d-th working day
(weekends, Indonesian holidays, cuti bersama unless the office works then, and closures are not
on it) and each day is as long as the office hours. A wait or duration drawn in office time
therefore never lands on a Sunday or at night, and the measures the audit uses
(docs/time-and-roles.md) reduce to clock arithmetic:

- a span in working days (calendar.working_days_between) is the difference of clock days;
- a span in minutes or hours within one date is clock time, across dates office time; both
  are the clock difference here, because steps shorter than a day never run over closing time
  (a step that would is started the next morning);
- a span in calendar days is the difference of the local dates.

Ordinary waits and durations are capped below the SOP's time standards and injected ones drawn
clearly above; a repair pass then shortens ordinary waits wherever a case would break its
service standard by accident. The truth is the final measurement itself, so it cannot disagree
with the timestamps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from sopaudit.simulation.inject import TruthRows, pick_cases, pick_one
from sopaudit.simulation.resolve import Setup
from sopaudit.simulation.scenario import Span

logger = logging.getLogger(__name__)
MIN_DURATION = 30  # seconds
UNITS = ("", "seconds", "minutes", "hours", "working_days", "days")
_PER = {"seconds": 1, "minutes": 60, "hours": 3600}


@dataclass
class Clock:
    start: np.ndarray  # int64 office seconds since day 0 of the office's day table
    end: np.ndarray


@dataclass
class Events:
    """Flat events in case order and what the timing needs to know about their cases."""

    lengths: np.ndarray
    code: np.ndarray
    case: np.ndarray  # per event: local case index
    pos: np.ndarray
    office: np.ndarray  # per case
    day_seconds: np.ndarray  # per case
    arrival: np.ndarray  # per case: clock of the first event
    ids: np.ndarray | None = None  # per case: index in the whole simulation (None: 0..n-1)

    def gid(self, local: np.ndarray) -> np.ndarray:
        return local if self.ids is None else self.ids[local]


def subset(ev: Events, cases: np.ndarray) -> tuple[Events, np.ndarray]:
    """The events of some cases (sorted local indices), and their token indices in `ev`."""
    off = np.zeros(len(ev.lengths) + 1, np.int64)
    np.cumsum(ev.lengths, out=off[1:])
    lengths = ev.lengths[cases]
    tok = np.repeat(off[:-1][cases], lengths) + (np.arange(int(lengths.sum())) -
                                                  np.repeat(np.cumsum(lengths) - lengths, lengths))
    sub = Events(lengths, ev.code[tok], np.repeat(np.arange(len(cases)), lengths), ev.pos[tok],
                 ev.office[cases], ev.day_seconds[cases], ev.arrival[cases], ev.gid(cases))
    return sub, tok


def measure(unit: str, t1: np.ndarray, t2: np.ndarray, day: np.ndarray, wall=None, case=None) -> np.ndarray:
    """t2 - t1 in the unit of a standard (clock arithmetic, see the module docstring); `wall`
    maps clock times of (global) cases to local calendar days, for standards in calendar days."""
    if unit == "working_days":
        return (t2 // day - t1 // day).astype(float)
    if unit == "days":
        return np.floor(wall(t2, case)) - np.floor(wall(t1, case))
    return (t2 - t1) / _PER[unit]


def compute_clock(ev: Events, wait: np.ndarray, dur: np.ndarray) -> Clock:
    """Start and end of every event: one pass per event position, vectorised over cases."""
    off = np.zeros(len(ev.lengths) + 1, np.int64)
    np.cumsum(ev.lengths, out=off[1:])
    order = np.argsort(-ev.lengths, kind="stable")  # cases with more than p events form a prefix
    first = off[:-1][order]
    counts = np.bincount(ev.lengths, minlength=int(ev.lengths.max(initial=0)) + 1)
    alive = len(order) - np.cumsum(counts)  # alive[p] = cases with more than p events
    start = np.empty(len(ev.code), np.int64)
    end = np.empty(len(ev.code), np.int64)
    day_of_case = ev.day_seconds[order]
    for p in range(int(ev.lengths.max(initial=0))):
        idx = first[: alive[p]] + p
        s = ev.arrival[order[: alive[p]]] if p == 0 else end[idx - 1] + wait[idx]
        d = dur[idx]
        dl = day_of_case[: alive[p]]
        # A step that would run over closing time starts the next morning instead.
        over = (s % dl + d >= dl) & (d < dl)
        s = np.where(over, (s // dl + 1) * dl, s)
        start[idx] = s
        end[idx] = s + d
    return Clock(start, end)


def _caps(stds: list[Span | None], n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per code: a standard as fixed seconds (minutes/hours) and as a multiple of the office
    day (working days; calendar days as 5/7 of them); inf where the step has no such standard."""
    fixed = np.full(n_codes, np.inf)
    per_day = np.full(n_codes, np.inf)
    for code, std in enumerate(stds):
        if std is None:
            continue
        if std.unit == "working_days":
            per_day[code] = std.value
        elif std.unit == "days":
            per_day[code] = std.value * 5 / 7
        else:
            fixed[code] = std.seconds(1)
    return fixed, per_day


def draw(setup: Setup, ev: Events, wait_factor: np.ndarray, rng: np.random.Generator, chunk: int = 1 << 21):
    """Ordinary waits and durations: lognormal around the scenario's medians, under the SOP caps
    (in chunks of events, so the float temporaries stay small)."""
    t = setup.timing
    n_codes = len(setup.labels)
    d_fixed, d_day = _caps(setup.std_duration, n_codes)
    w_fixed, w_day = _caps(setup.std_wait, n_codes)
    wait = np.empty(len(ev.code), np.int64)
    dur = np.empty(len(ev.code), np.int64)
    for a in range(0, len(ev.code), chunk):
        sl = slice(a, a + chunk)
        code, case = ev.code[sl], ev.case[sl]
        o = ev.office[case]
        day = ev.day_seconds[case].astype(float)
        d = t["dur"][o, code] * np.exp(t["dur_sigma"][o, code] * rng.standard_normal(len(code)))
        cap = np.minimum(np.minimum(0.95 * day, d_fixed[code]), d_day[code] * day)
        d = np.clip(d, MIN_DURATION, np.maximum(cap, MIN_DURATION))
        w = t["wait"][o, code] * wait_factor[case] * np.exp(t["wait_sigma"][o, code] * rng.standard_normal(len(code)))
        # Minus the step's own duration: then the wait ends on a day within the limit whether
        # the audit measures it to the step's start or to its end.
        cap = np.maximum(np.minimum(w_fixed[code], w_day[code] * day) - d - 1, 0)
        w = np.clip(w, 0, cap)
        w[ev.pos[sl] == 0] = 0
        wait[sl] = np.round(w)
        dur[sl] = np.round(d)
    return wait, dur


@dataclass
class Standard:
    """A service standard resolved for the simulation."""

    index: int
    from_code: int
    to_code: int
    start_at: str
    unit: str
    limit: np.ndarray  # per (global) case
    pauses: list[tuple[int, int]]


def case_standards(setup: Setup, attr_values: dict[str, np.ndarray], n: int) -> list[Standard]:
    code = {s: i for i, s in enumerate(setup.plan.step_ids)}
    out = []
    for i, ss in enumerate(setup.plan.sop.service_standards):
        if ss.from_step not in code or ss.to_step not in code:
            continue
        limit = np.full(n, float(ss.limit.value))
        values = attr_values.get(ss.attribute) if ss.attribute else None
        if values is not None:
            for value, lim in ss.per_value:
                if lim.unit != ss.limit.unit:
                    logger.warning("service standard %d: the limit for %s is in %s, not %s; simulated as %s",
                                   i + 1, value, lim.unit, ss.limit.unit, ss.limit.unit)
                limit[values == value] = float(lim.value)
        out.append(Standard(i, code[ss.from_step], code[ss.to_step], ss.start_at, ss.limit.unit, limit,
                            [(code[a], code[b]) for a, b in ss.pauses if a in code and b in code]))
    return out


def first_last(ev: Events, code: int, last: bool = False) -> np.ndarray:
    """Per case: token index of the first (or last) event of `code`, -1 if none."""
    out = np.full(len(ev.lengths), -1, np.int64)
    idx = np.flatnonzero(ev.code == code)
    if last:
        out[ev.case[idx]] = idx  # later writes win
    else:
        out[ev.case[idx[::-1]]] = idx[::-1]
    return out


def _case_cummax(case: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row: the largest `value` of the earlier rows of the same case (-1 for the first)."""
    out = np.full(len(value), -1, np.int64)
    if len(value) > 1:
        big = np.int64(1) << 40
        acc = np.maximum.accumulate(case[:-1] * big + value[:-1])  # case-major: no leaks across cases
        out[1:] = np.where((case[1:] == case[:-1]) & (acc // big == case[1:]), acc - case[1:] * big, -1)
    return out


def pause_state(ev: Events, pa: int, pb: int) -> np.ndarray:
    """Per event: a pause of (pa, pb) is open right before it (its wait is paused)."""
    idx = np.arange(len(ev.code))
    start = np.repeat(np.cumsum(np.r_[0, ev.lengths[:-1]]), ev.lengths)
    last_from = np.maximum.accumulate(np.where(ev.code == pa, idx, -1))
    last_to = np.maximum.accumulate(np.where(ev.code == pb, idx, -1))
    open_after = (last_from >= start) & (last_from > last_to)
    out = np.zeros(len(ev.code), bool)
    out[1:] = open_after[:-1] & (ev.pos[1:] > 0)
    return out


def _pause_spans(ev: Events, clk: Clock, pa: int, pb: int):
    """(case, start, end) of every closed pause of one pause definition: each `from` opens a
    pause (at its end) that the next `to` closes (at its start)."""
    paused = pause_state(ev, pa, pb)
    opens = np.flatnonzero((ev.code == pa) & ~paused)
    closes = np.flatnonzero((ev.code == pb) & paused)
    j = np.searchsorted(closes, opens)
    ok = j < len(closes)
    ok[ok] &= ev.case[closes[j[ok]]] == ev.case[opens[ok]]
    o, c = opens[ok], closes[j[ok]]
    return ev.case[o], clk.end[o], clk.start[c]


def span_of(ev: Events, clk: Clock, std: Standard, wall) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measured service-standard span per case (NaN where it does not apply), from and to tokens:
    from the first `from` event to the last `to` event, minus the pauses."""
    tf = first_last(ev, std.from_code)
    tt = first_last(ev, std.to_code, last=True)
    ok = (tf >= 0) & (tt >= 0) & (tt > tf)
    day = ev.day_seconds
    t1 = (clk.start if std.start_at == "start" else clk.end)[np.maximum(tf, 0)]
    t2 = clk.end[np.maximum(tt, 0)]
    cases = ev.gid(np.arange(len(ev.lengths)))
    value = measure(std.unit, t1, t2, day, wall, cases)
    spans = [_pause_spans(ev, clk, pa, pb) for pa, pb in std.pauses]
    if spans:
        pc = np.concatenate([s[0] for s in spans])
        ps = np.concatenate([s[1] for s in spans])
        pe = np.concatenate([s[2] for s in spans])
        order = np.lexsort((ps, pc))
        pc, ps, pe = pc[order], ps[order], pe[order]
        ps, pe = np.clip(ps, t1[pc], t2[pc]), np.clip(pe, t1[pc], t2[pc])
        ps = np.maximum(ps, _case_cummax(pc, pe))  # overlapping pauses count once
        length = np.where(pe > ps, measure(std.unit, ps, np.maximum(ps, pe), day[pc], wall, cases[pc]), 0.0)
        value = value - np.bincount(pc, weights=length, minlength=len(ev.lengths))
    return np.where(ok, value, np.nan), tf, tt


@dataclass
class StepMeasures:
    """Measured durations and waits of the events whose step has a standard for them, in the
    unit of the standard; `unit` indexes UNITS."""

    tok: np.ndarray
    wait: np.ndarray  # bool: a wait (else a duration)
    value: np.ndarray
    limit: np.ndarray
    unit: np.ndarray

    def late(self) -> np.ndarray:
        # Rounded like the audit does, so a value equal to the limit is within it.
        return np.round(self.value, 6) > self.limit


def step_measures(setup: Setup, ev: Events, clk: Clock, wall) -> StepMeasures:
    parts = []
    n_codes = len(setup.labels)
    for is_wait, stds in ((False, setup.std_duration), (True, setup.std_wait)):
        unit = np.zeros(n_codes, np.int8)
        limit = np.full(n_codes, np.nan)
        for code, std in enumerate(stds):
            if std is not None:
                unit[code], limit[code] = UNITS.index(std.unit), std.value
        has = unit[ev.code] > 0
        if is_wait:
            has &= ev.pos > 0
        tok = np.flatnonzero(has)
        u = unit[ev.code[tok]]
        value = np.empty(len(tok))
        for k in np.unique(u):
            m = u == k
            t = tok[m]
            t1 = clk.end[t - 1] if is_wait else clk.start[t]
            t2 = clk.start[t] if is_wait else clk.end[t]
            value[m] = measure(UNITS[k], t1, t2, ev.day_seconds[ev.case[t]], wall, ev.gid(ev.case[t]))
        parts.append(StepMeasures(tok, np.full(len(tok), is_wait), value, limit[ev.code[tok]], u))
    return StepMeasures(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in ("tok", "wait", "value", "limit", "unit")))


@dataclass
class Injected:
    late_tok: np.ndarray  # events made late
    late_wait: np.ndarray  # bool per entry: the wait (else the duration) is late
    late_case: dict[int, np.ndarray]  # standard index -> cases made late


def plan_times(setup: Setup, ev: Events, wait_factor: np.ndarray, attr_values: dict[str, np.ndarray],
               open_case: np.ndarray, probs: dict[str, np.ndarray], pref_token: np.ndarray,
               rngs: dict[str, np.random.Generator], wall) -> tuple[Clock, list[Standard], Injected]:
    """Draw times, inject late steps and late cases, and repair accidental lateness."""
    wait, dur = draw(setup, ev, wait_factor, rngs["times"])
    n_cases = len(ev.lengths)
    day = ev.day_seconds[ev.case]
    locked = np.zeros(len(ev.code), bool)

    # --- late_step: one event per chosen case takes clearly longer than its standard
    has_d = np.zeros(len(setup.labels), bool)
    has_w = np.zeros(len(setup.labels), bool)
    shortest_day = float(ev.day_seconds.min(initial=28800))
    for code, std in enumerate(setup.std_duration):
        has_d[code] = std is not None and (std.unit in ("working_days", "days") or
                                           std.seconds(1) * 1.25 < 0.95 * shortest_day)
    for code, std in enumerate(setup.std_wait):
        has_w[code] = std is not None
    ok_d = has_d[ev.code] & ~open_case[ev.case]
    ok_w = has_w[ev.code] & (ev.pos > 0) & ~open_case[ev.case]
    idx = np.flatnonzero(ok_d | ok_w)
    has = np.zeros(n_cases, bool)
    has[ev.case[idx]] = True
    rng = rngs["late_step"]
    wanted = pick_cases(probs["late_step"], has, rng, "late_step")
    sel = idx[pick_one(ev.case[idx], pref_token[idx], wanted, n_cases, rng)]
    both = ok_d[sel] & ok_w[sel]
    use_wait = np.where(both, rng.random(len(sel)) < 0.5, ok_w[sel])
    u = rng.random(len(sel))
    for code in np.unique(ev.code[sel]):
        m = ev.code[sel] == code
        tw, td = sel[m & use_wait], sel[m & ~use_wait]
        if len(tw):
            wait[tw] = _late(setup.std_wait[code], day[tw], u[m & use_wait])
        if len(td):
            dur[td] = _late(setup.std_duration[code], day[td], u[m & ~use_wait], duration=True)
    locked[sel] = True
    injected = Injected(sel, use_wait, {})

    # --- late_case: a long wait somewhere between the two steps of a service standard
    standards = case_standards(setup, attr_values, n_cases)
    rng = rngs["late_case"]
    if standards:
        choice = rng.integers(0, len(standards), n_cases)
        cand_tok, cand_std = [], []
        tokens = np.arange(len(ev.code))
        for k, std in enumerate(standards):
            tf = first_last(ev, std.from_code)
            tt = first_last(ev, std.to_code, last=True)
            inside = (tf[ev.case] >= 0) & (tokens > tf[ev.case]) & (tokens <= tt[ev.case]) & \
                ~open_case[ev.case] & (choice[ev.case] == k)
            for pa, pb in std.pauses:  # a delay inside a pause does not count against the standard
                inside &= ~pause_state(ev, pa, pb)
            cand_tok.append(np.flatnonzero(inside))
            cand_std.append(np.full(int(inside.sum()), k))
        ct = np.concatenate(cand_tok)
        cs = np.concatenate(cand_std)
        order = np.argsort(ct, kind="stable")
        ct, cs = ct[order], cs[order]
        has = np.zeros(n_cases, bool)
        has[ev.case[ct]] = True
        wanted = pick_cases(probs["late_case"], has, rng, "late_case")
        # Prefer a step without a wait standard, so the case is late without a late step.
        pref = ~has_w[ev.code[ct]] & ~locked[ct]
        pick = pick_one(ev.case[ct], pref, wanted, n_cases, rng)
        tok, which = ct[pick], cs[pick]
        for k, std in enumerate(standards):
            m = which == k
            c = ev.case[tok[m]]
            extra = _extra(std.unit, std.limit[c], ev.day_seconds[c].astype(float), rng.random(int(m.sum())))
            wait[tok[m]] += extra.astype(np.int64)
            locked[tok[m]] = True
            injected.late_case[k] = c
    return _repair(setup, ev, wait, dur, locked, standards, injected, wall), standards, injected


def _late(std: Span, day: np.ndarray, u: np.ndarray, duration: bool = False) -> np.ndarray:
    if std.unit == "working_days":
        return np.round((std.value + 1 + 0.05 + 0.8 * u) * day).astype(np.int64)
    if std.unit == "days":
        return np.round((std.value + 3 + 0.5 * u) * day).astype(np.int64)
    s = std.seconds(1)
    hi = np.full(len(day), 2.5 * s)
    if duration:
        hi = np.minimum(hi, 0.95 * day)
    return np.round(1.25 * s + (hi - 1.25 * s) * u + 60).astype(np.int64)


def _extra(unit: str, limit: np.ndarray, day: np.ndarray, u: np.ndarray) -> np.ndarray:
    if unit == "working_days":
        return np.round((limit + 1 + 0.2 + 1.3 * u) * day)
    if unit == "days":
        return np.round((limit + 3 + u) * day)
    return np.round(limit * _PER.get(unit, 60) * (1.5 + u) + 600)


def _repair(setup: Setup, ev: Events, wait, dur, locked, standards, injected: Injected, wall) -> Clock:
    """Shorten ordinary waits where a case breaks a standard that was not injected (and lengthen
    injected ones an unlucky draw left within it). The first round measures every case, later
    rounds only the cases changed. Cases whose injected late step alone breaks the service
    standard (same-day service) cannot be repaired: their late case is a consequence."""
    late_wait = np.zeros(len(ev.code), bool)
    late_dur = np.zeros(len(ev.code), bool)
    late_wait[injected.late_tok[injected.late_wait]] = True
    late_dur[injected.late_tok[~injected.late_wait]] = True
    arrival = ev.arrival.copy()
    ev = replace(ev, arrival=arrival)  # the caller's events keep their arrivals
    start = np.empty(len(ev.code), np.int64)
    end = np.empty(len(ev.code), np.int64)
    todo = np.arange(len(ev.lengths))
    target = {k: np.isin(np.arange(len(ev.lengths)), c) for k, c in injected.late_case.items()}
    for it in range(10):
        sub, tok = subset(ev, todo)
        clk = compute_clock(sub, wait[tok], dur[tok])
        start[tok], end[tok] = clk.start, clk.end
        sm = step_measures(setup, sub, clk, wall)
        late = sm.late()
        g = tok[sm.tok]  # events measured, as indices of all events
        bad_w = g[late & sm.wait & ~late_wait[g]]
        bad_d = g[late & ~sm.wait & ~late_dur[g]]
        miss_w = g[~late & sm.wait & late_wait[g]]
        miss_d = g[~late & ~sm.wait & late_dur[g]]
        wait[bad_w] //= 2
        dur[bad_d] = np.maximum(dur[bad_d] // 2, MIN_DURATION)
        wait[miss_w] *= 2
        dur[miss_d] = np.minimum(dur[miss_d] * 2, (0.95 * ev.day_seconds[ev.case[miss_d]]).astype(np.int64))
        changed = [ev.case[t] for t in (bad_w, bad_d, miss_w, miss_d)]
        for k, std in enumerate(standards):
            sub_std = Standard(std.index, std.from_code, std.to_code, std.start_at, std.unit, std.limit[todo],
                               std.pauses)
            value, tf, tt = span_of(sub, clk, sub_std, wall)
            tgt = target.get(k, np.zeros(len(ev.lengths), bool))[todo]
            over = np.round(value, 6) > sub_std.limit
            bad = np.flatnonzero(over & ~tgt)
            miss = np.flatnonzero(tgt & ~over)
            in_span = (np.arange(len(sub.code)) > tf[sub.case]) & (np.arange(len(sub.code)) <= tt[sub.case])
            if len(bad):
                hit = np.zeros(len(todo), bool)
                hit[bad] = True
                span_tok = hit[sub.case] & in_span
                hopeless = np.bincount(sub.case[span_tok & locked[tok]], minlength=len(todo)) > 0
                if it >= 2:  # only a late step of its own keeps it late: leave it (consequence)
                    bad = bad[~hopeless[bad]]
                    hit[:] = False
                    hit[bad] = True
                    span_tok = hit[sub.case] & in_span
                fix = tok[span_tok & ~locked[tok]]
                wait[fix] = 0 if it >= 5 else wait[fix] // 2
                g = todo[bad]
                if it >= 1:  # start those cases at opening time: more of the day left
                    arrival[g] = arrival[g] // ev.day_seconds[g] * ev.day_seconds[g]
                changed.append(g)
            if len(miss):
                hit = np.zeros(len(todo), bool)
                hit[miss] = True
                fix = tok[hit[sub.case] & in_span & locked[tok]]
                wait[fix] += ev.day_seconds[ev.case[fix]]
                changed.append(todo[miss])
        todo = np.unique(np.concatenate(changed)) if changed else np.empty(0, np.int64)
        if not len(todo):
            break
    if len(todo):
        # The last changes are not yet measured: place those cases once more.
        sub, tok = subset(ev, todo)
        clk = compute_clock(sub, wait[tok], dur[tok])
        start[tok], end[tok] = clk.start, clk.end
    return Clock(start, end)


def record_truth(setup: Setup, ev: Events, clk: Clock, standards: list[Standard], injected: Injected,
                 wall, truth: TruthRows) -> None:
    """late_step and late_case rows from the final measurement. `origin` is "injected", or
    "consequence" for a case pushed over its service standard by an injected late step, or
    "natural" (the scenario's own times; rare, and logged)."""
    names = np.array(setup.plan.step_ids + tuple(setup.labels[setup.n_steps:]), object)
    units = np.array(UNITS, object)
    sm = step_measures(setup, ev, clk, wall)
    inj = np.zeros(len(ev.code), bool)
    inj[injected.late_tok[injected.late_tok >= 0]] = True
    late = sm.late()
    for name, which in (("duration", ~sm.wait), ("wait", sm.wait)):
        rows = np.flatnonzero(late & which)
        t = sm.tok[rows]
        natural = ~inj[t]
        if natural.any():
            logger.warning("late_step: %d %s(s) over the standard without injection", int(natural.sum()), name)
        for o, m in (("injected", ~natural), ("natural", natural)):
            r = rows[m]
            truth.add(ev.case[sm.tok[r]], "late_step", name, names[ev.code[sm.tok[r]]], token=sm.tok[r], origin=o,
                      measured=sm.value[r], limit=sm.limit[r], unit=units[sm.unit[r]])
    pushed = np.zeros(len(ev.lengths), bool)
    pushed[ev.case[injected.late_tok[injected.late_tok >= 0]]] = True
    for k, std in enumerate(standards):
        value, tf, tt = span_of(ev, clk, std, wall)
        late = np.flatnonzero(np.round(value, 6) > std.limit)
        target = np.zeros(len(ev.lengths), bool)
        target[injected.late_case.get(k, np.empty(0, np.int64))] = True
        natural = ~target[late] & ~pushed[late]
        if natural.any():
            logger.warning("late_case: %d case(s) over their service standard without injection", int(natural.sum()))
        for o, m in (("injected", target[late]), ("consequence", ~target[late] & pushed[late]), ("natural", natural)):
            c = late[m]
            truth.add(c, "late_case", "late_case", names[ev.code[tt[c]]], names[ev.code[tf[c]]], token=tt[c],
                      origin=o, measured=value[c], limit=std.limit[c], unit=np.full(len(c), std.unit, object))
