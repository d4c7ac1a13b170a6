"""Which cases are still open when the log ends: decided from the data, one decision for the
audit and for `sopaudit discover`.

A case that has not reached an end of the SOP either stopped (its missing steps are `skipped`)
or is still under way (it is `incomplete` and judged on what it did so far). It is still under
way when the time since its last event is within how long the step the SOP expects next is
normally waited for:

- `standard`: the SOP states a wait for that step (`time: {wait: ...}`, not inferred) and the
  case has waited no longer than it;
- `observed`: the case has waited no longer than the 95th percentile of the waits observed for
  that step (previous event -> the step, calendar days) among the cases that took it, when at
  least `MIN_WAITS` were observed;
- `observed_log`: fewer were observed, and the case has waited no longer than the 95th
  percentile of every wait between two events of the log;
- `open_days`: an explicit override (`open_days=`), the case's last event is within that many
  days of the log's last event.

When the SOP allows several next steps, one of them within its limit is enough. A case that did
every step the SOP wants (only out of order or with extra steps) is never still open
(`all_steps_done`). Every other case is judged on its whole run: `overdue` when it stopped
short of an SOP end and waited longer than the limit of every step the SOP expects next (its
missing steps are `skipped`), else `finished`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sopaudit.calendar.measure import measure
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.conform.align import LOG_COST, PrefixAlignment, VariantAlignment, align_prefixes
from sopaudit.core.columns import ACTIVITY, POS, TIME
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.model import SOP

PERCENTILE = 95  # of the observed waits for a step
MIN_WAITS = 5  # observed waits a step needs before its own percentile is used
FALLBACK_DAYS = 14.0  # only when the log has no wait at all (every case has one event)

# How each case was classified, in the order the method section lists them.
RULES = ("finished", "all_steps_done", "standard", "observed", "observed_log", "open_days", "overdue")
OPEN_RULES = ("standard", "observed", "observed_log", "open_days")

_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class OpenCases:
    """The decision for every case of an audit (`open` in the order of `case_ids`)."""

    case_ids: pd.Index
    open: np.ndarray  # bool per case: judged on its prefix alignment plus an `incomplete` finding
    rule: np.ndarray  # one of RULES per case
    prefixes: dict[int, PrefixAlignment]  # variant id -> prefix alignment, for open variants
    limits: pd.DataFrame  # per SOP step: observed waits, their percentile, the stated standard
    open_days: float | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def ids(self) -> set[str]:
        """Ids of the cases still open."""
        return set(self.case_ids[self.open].astype(str))

    def method(self) -> dict:
        """How it was decided and how many cases each rule classified (for provenance/report)."""
        lim = self.limits
        return {
            "rule": "open_days" if self.open_days is not None else "data",
            "open_days": self.open_days,
            "percentile": PERCENTILE, "min_waits": MIN_WAITS,
            "cases_by_rule": dict(self.counts),
            "steps": [] if lim.empty else [
                {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                for r in lim.to_dict(orient="records")],
        }


def did_every_step(alignment: VariantAlignment) -> bool:
    """Whether every step the SOP wants was done somewhere in the case: each step the optimal
    alignment skips is also done elsewhere (out of order)."""
    missing = Counter(m.model for m in alignment.moves if m.kind == "model")
    if not missing:
        return True
    done_elsewhere = Counter(m.log for m in alignment.moves if m.kind == "log")
    return not (missing - done_elsewhere)


def step_limits(events: pd.DataFrame, sop: SOP) -> tuple[pd.DataFrame, float]:
    """Per SOP step: waits observed before it (calendar days), their percentile when there are
    enough, and the SOP's stated wait; plus the log-wide percentile of all waits. `events`: the
    audit's log, in case order with positions."""
    t = events[TIME].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    same = events[POS].to_numpy() != 0  # the event follows one of its own case
    wait = np.where(same, (t - np.r_[t[:1], t[:-1]]) / _DAY_NS, np.nan)
    # grouped by the step's code: the step ids are not copied per event
    step, step_ids = pd.factorize(events[ACTIVITY])
    kept = ~np.isnan(wait) & (step >= 0)
    waits = pd.Series(np.clip(wait[kept], 0.0, None))
    overall = float(np.percentile(waits, PERCENTILE)) if len(waits) else FALLBACK_DAYS
    by_step = waits.groupby(step[kept])
    names = np.asarray(step_ids, dtype=object)
    size = by_step.size()
    n = dict(zip(names[size.index], size, strict=True))
    pct = by_step.quantile(PERCENTILE / 100)
    pct = dict(zip(names[pct.index], pct, strict=True))
    rows = []
    for s in sop.steps:
        k = int(n.get(s.id, 0))
        own = float(pct[s.id]) if k >= MIN_WAITS else np.nan
        w = s.time.wait
        stated = w is not None and not s.time.inferred
        rows.append({"step": s.id, "waits_observed": k, "observed_limit_days": own,
                     "limit_days": own if k >= MIN_WAITS else overall,
                     "limit_rule": "observed" if k >= MIN_WAITS else "observed_log",
                     "standard": float(w.value) if stated else np.nan,
                     "standard_unit": w.unit if stated else ""})
    return pd.DataFrame(rows), overall


def decide(
    events: pd.DataFrame,
    sop: SOP,
    net: CompiledNet,
    case_ids: pd.Index,
    case_vid: np.ndarray,
    variant_list: list[tuple[str, ...]],
    aligned: dict[tuple[str, ...], VariantAlignment],
    calendar: WorkingCalendar,
    open_days: float | None = None,
    log_end: pd.Timestamp | None = None,
    align_limits=None,
    unaligned: list[int] | tuple = (),
) -> OpenCases:
    """Decide which cases are still open (see the module doc). `events` is the mapped log sorted
    by case and time, with positions; `case_ids` in that order, `case_vid` their variant ids (1-based into
    `variant_list`), `aligned` the full alignments; `log_end` the end of the extract (default:
    its last event; a part of a larger log passes the whole log's); `unaligned` the variant ids the
    aligner gave up on (never open, never prefix-aligned); `align_limits` bound the prefix search."""
    if log_end is None:
        log_end = events[TIME].max()
    case_no = np.cumsum(events[POS].to_numpy() == 0) - 1  # each event's case, in case order
    case_end = pd.Series(events[TIME].groupby(case_no, sort=False).max().array, index=case_ids)
    elapsed = ((log_end - case_end) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    limits, _ = step_limits(events, sop)
    n = len(case_ids)
    done_all = np.array([False] + [did_every_step(aligned[v]) for v in variant_list])[case_vid]

    # Cases that could be open under some step's limit: only their variants get prefix-aligned.
    if open_days is not None:
        maybe = elapsed <= open_days
    else:
        maybe = elapsed <= limits["limit_days"].max() if len(limits) else np.zeros(n, bool)
        for unit, g in limits[limits["standard_unit"] != ""].groupby("standard_unit"):
            maybe |= _waited(case_end, log_end, unit, calendar) <= g["standard"].max()
    maybe &= ~done_all & ~np.isin(case_vid, list(unaligned))
    vids = np.unique(case_vid[maybe])
    # a prefix alignment over the limits leaves its cases judged on their full alignment
    prefixes = align_prefixes([variant_list[i - 1] for i in vids], net, align_limits, failed={})
    unfinished = {}
    for vid in vids:
        v = variant_list[vid - 1]
        p = prefixes.get(v)
        if p is not None and not p.finished and p.cost // LOG_COST < aligned[v].cost // LOG_COST:
            unfinished[int(vid)] = p
    # Cases whose prefix is cheaper than a finished run: open or overdue, by their next steps.
    question = np.isin(case_vid, list(unfinished)) & maybe
    # counted apart only where it matters: a step done out of order (a missing step done elsewhere)
    moved = np.array([False] + [any(m.kind == "model" for m in aligned[v].moves) for v in variant_list])[case_vid]
    # each case's rule as its index in RULES: counted and compared as small integers
    code = {r: i for i, r in enumerate(RULES)}
    rule = np.where(done_all & moved, code["all_steps_done"], code["finished"]).astype(np.int8)
    if open_days is not None:
        rule[question] = code["open_days"]
    else:
        judged = _judge(np.flatnonzero(question), case_vid, unfinished, elapsed, case_end, log_end, limits,
                        calendar)
        rule[question] = [code[r] for r in judged]
    # Older than any limit and stopped short of an end (steps missing after the last event): overdue.
    stopped = np.array([False] + [_stops_short(aligned[v]) for v in variant_list])[case_vid]
    rule[~question & ~done_all & stopped & ~maybe] = code["overdue"]
    is_open = np.isin(rule, [code[r] for r in OPEN_RULES])
    counts = dict(zip(RULES, np.bincount(rule, minlength=len(RULES)).tolist(), strict=True))
    used = {vid: p for vid, p in unfinished.items() if is_open[case_vid == vid].any()}
    return OpenCases(case_ids, is_open, np.asarray(RULES, dtype=object)[rule], used, limits, open_days, counts)


def _stops_short(alignment: VariantAlignment) -> bool:
    """Whether the run misses steps after the last step the case did where the SOP wants it
    (a model move after the last synchronous move): it stopped short of an end."""
    for m in reversed(alignment.moves):
        if m.kind == "sync":
            return False
        if m.kind == "model":
            return True
    return False


def _waited(case_end: pd.Series, log_end, unit: str, calendar: WorkingCalendar) -> np.ndarray:
    start = case_end.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    end = np.full(start.shape, pd.Timestamp(log_end).value, dtype=np.int64)
    return measure(start, end, unit, calendar)


def _judge(rows, case_vid, unfinished, elapsed, case_end, log_end, limits, calendar) -> np.ndarray:
    """The rule that keeps each case open (the first of standard, observed, observed_log that
    holds for one of its next steps), or `overdue`."""
    if not len(rows):
        return np.array([], dtype=object)
    pairs = pd.DataFrame([(i, s) for i in rows for s in unfinished[int(case_vid[i])].next_steps],
                         columns=["i", "step"]).merge(limits, on="step", how="left")
    pairs["elapsed"] = elapsed[pairs["i"].to_numpy()]
    pairs["by_standard"] = False
    for unit, g in pairs[pairs["standard_unit"].fillna("") != ""].groupby("standard_unit"):
        waited = _waited(case_end.iloc[g["i"].to_numpy()], log_end, unit, calendar)
        pairs.loc[g.index, "by_standard"] = waited <= g["standard"].to_numpy()
    by_data = pairs["elapsed"] <= pairs["limit_days"]
    pairs["rule"] = np.select([pairs["by_standard"], by_data], ["standard", pairs["limit_rule"]], "overdue")
    order = {r: k for k, r in enumerate(("standard", "observed", "observed_log", "overdue"))}
    best = pairs.assign(o=pairs["rule"].map(order)).sort_values(["i", "o"]).drop_duplicates("i")
    return best.set_index("i")["rule"].reindex(rows).to_numpy(dtype=object)
