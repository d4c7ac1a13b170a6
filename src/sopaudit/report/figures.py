"""The figures every report format shows, computed once from the AuditResult tables.

Plain functions over the result's DataFrames; each returns an empty table or None when the
result does not hold what it needs (a column another stage has not filled), never a made-up
number.
"""

from __future__ import annotations

import math

import pandas as pd

from sopaudit.conform.labels import counts_by_text
from sopaudit.core.kinds import ALL_KINDS, DEVIATING

KIND_ORDER = {k: i for i, k in enumerate(ALL_KINDS)}


def open_findings(deviations: pd.DataFrame) -> pd.DataFrame:
    """Findings that count against conformance: deviating kinds, not accepted."""
    accepted = deviations["accepted"].fillna(False).astype(bool) if "accepted" in deviations else False
    return deviations[deviations["kind"].isin(DEVIATING) & ~accepted]


def service_standard(cases: pd.DataFrame) -> dict | None:
    """Cases measured against the service standard and how many met it; None when no case
    column `within_service_standard` exists (the time checks did not run)."""
    if "within_service_standard" not in cases:
        return None
    col = cases["within_service_standard"].astype("boolean")
    measured = int(col.notna().sum())
    within = int(col.fillna(False).sum())
    return {"cases_measured": measured, "cases_within": within,
            "share_within": (within / measured) if measured else None}


def top_deviations(result, n: int | None = 10) -> pd.DataFrame:
    """The most frequent (kind, step) findings: findings, cases affected and their share of all
    cases; ordered by findings, then kind order, then step."""
    cols = ["kind", "step", "step_name", "findings", "cases", "share_cases"]
    dev = open_findings(result.deviations)
    if dev.empty:
        return pd.DataFrame(columns=cols)
    g = dev.groupby(["kind", "step"], sort=False)
    out = pd.DataFrame({"findings": g.size(), "cases": g["case_id"].nunique(),
                        "step_name": g["step_name"].first()}).reset_index()
    total = len(result.cases)
    out["share_cases"] = out["cases"] / total if total else 0.0
    out["kind_order"] = out["kind"].map(KIND_ORDER)
    out = out.sort_values(["findings", "kind_order", "step"], ascending=[False, True, True], kind="mergesort")
    out = out[cols].reset_index(drop=True)
    return out if n is None else out.head(n)


def findings_by_step(result) -> pd.DataFrame:
    """Open findings per step (rows, in descending total) and kind (columns, taxonomy order)."""
    dev = open_findings(result.deviations)
    if dev.empty:
        return pd.DataFrame()
    table = dev.groupby(["step_name", "kind"]).size().unstack(fill_value=0)
    table = table[[k for k in ALL_KINDS if k in table.columns]]
    total = table.sum(axis=1)
    order = sorted(table.index, key=lambda s: (-int(total[s]), str(s)))
    return table.loc[order]


def conformance_by_month(cases: pd.DataFrame) -> pd.DataFrame:
    """Finished cases by the month they started (local time of the log), with how many conform."""
    cols = ["month", "finished_cases", "conforming_cases", "rate"]
    done = cases[~cases["incomplete"].astype(bool)] if "incomplete" in cases else cases
    done = done[done["start"].notna()]
    if done.empty:
        return pd.DataFrame(columns=cols)
    start = done["start"]
    if isinstance(start.dtype, pd.DatetimeTZDtype):
        start = start.dt.tz_localize(None)  # keep the local wall-clock month
    key = (start.dt.year * 100 + start.dt.month).to_numpy()  # yyyymm, cheaper than strftime
    g = done["conforming"].astype(bool).groupby(key)
    out = pd.DataFrame({"finished_cases": g.size(), "conforming_cases": g.sum()})
    out["rate"] = out["conforming_cases"] / out["finished_cases"]
    out.index = [f"{k // 100:04d}-{k % 100:02d}" for k in out.index]
    out.index.name = "month"
    return out.reset_index()[cols]


def period(cases: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First event and last event of the audited log (None for an empty table)."""
    if cases.empty or cases["start"].isna().all():
        return None
    return cases["start"].min(), cases["end"].max()


def officers(result, n: int | None = 30) -> pd.DataFrame:
    """Per officer: events recorded, open findings on their events (by kind group), ordered by
    findings; empty when the log has no resource column."""
    from sopaudit.core.columns import RESOURCE

    log = result.log
    if RESOURCE not in log:
        return pd.DataFrame()
    events = counts_by_text(log[RESOURCE])
    dev = open_findings(result.deviations)
    dev = dev[dev["resource"].notna()]
    by_kind = dev.groupby(["resource", "kind"]).size().unstack(fill_value=0) if len(dev) else pd.DataFrame()
    out = pd.DataFrame({"resource": events.index.astype(str), "events": events.to_numpy()})
    for k in ALL_KINDS:
        col = by_kind[k] if k in by_kind else pd.Series(dtype=int)
        out[k] = out["resource"].map(col).fillna(0).astype(int)
    out["findings"] = out[list(ALL_KINDS)].sum(axis=1)
    out = out.sort_values(["findings", "events", "resource"], ascending=[False, False, True], kind="mergesort")
    out = out.reset_index(drop=True)
    return out if n is None else out.head(n)


def kinds_present(counts: dict) -> list[str]:
    """Kinds with at least one finding, in taxonomy order."""
    return [k for k in ALL_KINDS if counts.get(k, 0)]


def fitness_shown(result) -> float:
    """Fitness as every report format shows it (three decimals): 1.000 exactly when every case
    fits the SOP; otherwise pm4py's figure cut (not rounded) to three decimals, so a log with
    one deviation never reads 1.000. pm4py's figure charges each silent move a tiny cost, so a
    perfectly fitting log has 0.9999... there (kept unrounded in `metrics['fitness']`)."""
    cases = result.cases
    if len(cases) and "fitness" in cases and bool((cases["fitness"] >= 1.0).all()):
        return 1.0
    return math.floor(float(result.metrics["fitness"]) * 1000) / 1000


def fitting_cases(result) -> int:
    """Cases whose alignment has no deviating move (case fitness 1)."""
    cases = result.cases
    return int((cases["fitness"] >= 1.0).sum()) if "fitness" in cases else 0


def definitions(result, t, num=str, dec=lambda v, digits=3: f"{v:.{digits}f}") -> dict[str, str]:
    """The definition of each headline number, with the numbers in it, as every format states it
    beside the number (`t` the report catalog, `num` and `dec` the number formatters)."""
    m = result.metrics
    incomplete = m.get("incomplete_cases", 0)
    return {
        "deviations": t("def.deviations", n=num(m["deviations"]), incomplete=num(incomplete),
                        accepted=num(m.get("accepted_deviations", 0))),
        "case_conformance_rate": t("def.case_conformance_rate", conf=num(m["conforming_cases"]),
                                   finished=num(m.get("finished_cases", m["cases"])), incomplete=num(incomplete)),
        "case_rate_by_kind": t("def.case_rate_by_kind", cases=num(m["cases"])),
        "fitness": t("def.fitness", fitness=dec(fitness_shown(result)), fitting=num(fitting_cases(result)),
                     cases=num(m["cases"]), raw=dec(m["fitness"], 6)),
    }
