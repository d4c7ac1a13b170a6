"""Segments and root causes: conformance and each finding kind broken down by a case or event
attribute (officer, counter, service type, channel, weekday, month).

A segment is the finished cases that have the value: for a case attribute (the same on every
event of a case: service type, channel) each case is in one segment; for an event attribute
(the officer, `org:resource`) a case is in the segment of every value on its events ("cases the
officer handled"). A finding belongs to the value on its own event. A finding with no event of
its own (a skipped step) belongs, for the officer, to whoever did the case's other steps of the
skipped step's role (the counter officer who passed a case on without its check), else to the
event after the gap. `impact` is how many findings would disappear if the segment had the
findings-per-case of the rest of the cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.analysis import stats
from sopaudit.analysis.measures import finished_cases
from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE, ROW, TIME
from sopaudit.core.kinds import DEVIATING

SEGMENT_COLUMNS = ["attribute", "value", "kind", "cases", "share_of_cases", "findings", "share_of_findings",
                   "cases_with_kind", "rate", "ci_low", "ci_high", "rest_rate", "impact", "p_value",
                   "p_adjusted", "notable"]
ALIASES = {"officer": RESOURCE, "resource": RESOURCE, "petugas": RESOURCE}
DERIVED = ("month", "weekday")
ANY = "any"  # the kind of the rows that count every deviating finding
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def segment_table(result, by, alpha: float = 0.05) -> pd.DataFrame:
    """One row per attribute, value and finding kind (plus `any`), with the Wilson interval of
    the segment's rate, Fisher's test against the rest and Holm-adjusted p-values per attribute."""
    frames = [_one_attribute(result, ALIASES.get(a, a), alpha) for a in by]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[SEGMENT_COLUMNS]


def attribute_columns(result) -> list[str]:
    """The attributes a segment breakdown can use on this audit."""
    skip = {CASE, ACTIVITY, TIME, ROW, "sopaudit:label", "start_timestamp", "sopaudit:start_row"}
    return [*DERIVED, *[c for c in result.log.columns if isinstance(c, str) and c not in skip]]


def _one_attribute(result, attribute: str, alpha: float) -> pd.DataFrame:
    fin = finished_cases(result)
    case_ids = fin["case_id"].astype(str)
    membership, finding_value = _membership(result, attribute, set(case_ids))
    dev = result.deviations
    dev = dev[dev["kind"].isin(DEVIATING) & dev["case_id"].astype(str).isin(set(case_ids))].copy()
    dev["value"] = finding_value(dev)
    exposure = membership.groupby("value")["case_id"].nunique()
    total_cases = len(case_ids)
    rows = []
    kinds = [ANY] + [k for k in DEVIATING if (dev["kind"] == k).any()]
    for kind in kinds:
        d = dev if kind == ANY else dev[dev["kind"] == kind]
        total = len(d)
        counts = d.groupby("value").size()
        with_kind = d.groupby("value")["case_id"].nunique()
        # cases outside the segment that have such a finding, whoever it belongs to
        kind_cases = set(d["case_id"].astype(str))
        inside_with_kind = membership[membership["case_id"].isin(kind_cases)].groupby("value")["case_id"].nunique()
        for value, cases in exposure.items():
            f = int(counts.get(value, 0))
            c_kind = int(with_kind.get(value, 0))
            rest_cases = total_cases - cases
            rest_with_kind = len(kind_cases) - int(inside_with_kind.get(value, 0))
            rest_rate = rest_with_kind / rest_cases if rest_cases > 0 else np.nan
            per_case_rest = (total - f) / rest_cases if rest_cases > 0 else np.nan
            low, high = stats.wilson(c_kind, int(cases), alpha)
            rows.append({
                "attribute": attribute, "value": str(value), "kind": kind, "cases": int(cases),
                "share_of_cases": cases / total_cases if total_cases else np.nan,
                "findings": f, "share_of_findings": f / total if total else np.nan,
                "cases_with_kind": c_kind, "rate": c_kind / cases if cases else np.nan,
                "ci_low": low, "ci_high": high, "rest_rate": rest_rate,
                "impact": float(max(0.0, f - cases * per_case_rest)) if rest_cases > 0 else 0.0,
                "p_value": stats.fisher_p(c_kind, int(cases), rest_with_kind, rest_cases),
            })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_adjusted"], out["notable"] = stats.adjust(out["p_value"].tolist(), alpha)
    # notable: more than chance after the correction, and over-represented (not merely different)
    out["notable"] = out["notable"] & (out["rate"] > out["rest_rate"])
    return out.sort_values(["kind", "impact", "value"], ascending=[True, False, True], kind="stable")


def _membership(result, attribute: str, finished: set[str]):
    """(case_id, value) pairs of the segments, and a function giving each finding's value."""
    log = result.log
    cases = log[CASE].astype(str)
    if attribute in DERIVED:
        start = pd.to_datetime(result.cases.set_index(result.cases["case_id"].astype(str))["start"], utc=True)
        tz = result.provenance.get("parameters", {}).get("timezone") or "UTC"
        local = start.dt.tz_convert(tz)
        values = local.dt.strftime("%Y-%m") if attribute == "month" else local.dt.weekday.map(dict(enumerate(WEEKDAYS)))
        pairs = pd.DataFrame({"case_id": values.index, "value": values.to_numpy()})
        pairs = pairs[pairs["case_id"].isin(finished)]
        by_case = dict(zip(pairs["case_id"], pairs["value"], strict=True))
        return pairs, lambda dev: dev["case_id"].astype(str).map(by_case)
    if attribute not in log.columns:
        from sopaudit.core.errors import SopAuditError

        raise SopAuditError(f"no attribute '{attribute}' in the log to break the findings down by; "
                            f"attributes: {', '.join(attribute_columns(result))}")
    values = log[attribute].astype("string").fillna("")
    pairs = pd.DataFrame({"case_id": cases, "value": values}).drop_duplicates()
    pairs = pairs[pairs["case_id"].isin(finished) & (pairs["value"] != "")]
    by_row = pd.Series(values.to_numpy(), index=log[ROW].to_numpy())
    if pairs.groupby("case_id")["value"].nunique().max() <= 1:  # a case attribute
        by_case = dict(zip(pairs["case_id"], pairs["value"], strict=True))
        return pairs, lambda dev: dev["case_id"].astype(str).map(by_case)
    return pairs, lambda dev: _event_values(dev, by_row, log, result.sop, attribute)


def _event_values(dev: pd.DataFrame, by_row: pd.Series, log: pd.DataFrame, sop, attribute: str) -> pd.Series:
    rows = pd.to_numeric(dev["event_row"], errors="coerce")
    out = pd.Series(rows.map(by_row).to_numpy(), index=dev.index, dtype=object)
    missing = dev[out.isna()]
    if len(missing):
        # plain arrays: slicing the log itself would copy its metadata (attrs) on every step
        events = pd.DataFrame({"case": log[CASE].astype(str).to_numpy(), "step": log[ACTIVITY].to_numpy(),
                               "value": log[attribute].astype("string").to_numpy()})
        if attribute == RESOURCE:
            for step, group in missing.groupby("step", sort=False):
                if step not in sop.step_ids:
                    continue
                out[group.index] = group["case_id"].astype(str).map(_role_owner(events, sop, step)).to_numpy()
        still = out.isna() & dev.index.isin(missing.index)
        last = dev.loc[still, "evidence_rows"].astype("string").fillna("").str.split(";").str[-1].str.strip()
        out[still] = pd.to_numeric(last, errors="coerce").map(by_row).to_numpy()
    return out.fillna("")


def _role_owner(events: pd.DataFrame, sop, step: str) -> pd.Series:
    """Per case: the officer who did most of the case's steps sharing a role with `step` (the first
    such officer in the log on a tie)."""
    roles = set(sop.step(step).roles)
    same_role = [s.id for s in sop.steps if roles & set(s.roles)]
    cand = events[events["step"].isin(same_role) & events["value"].notna()]
    counts = cand.groupby(["case", "value"], sort=False).size().reset_index(name="n")
    best = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("case")
    return best.set_index("case")["value"]
