"""The measures a reform evaluation compares, read from one audit's tables.

Every measure is a count over a stated population, so it can be traced to the cases behind it:
rates over the finished cases (open cases are neither conforming nor deviating yet), step
conformance over the cases the SOP required the step of, service-standard compliance over the
cases whose service time could be measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.core.kinds import DEVIATING


def finished_cases(result) -> pd.DataFrame:
    """The cases that reached an end of the SOP or were judged no longer open, as the audit's
    `finished_cases` counts them (a variant the aligner gave up on is not judged)."""
    cases = result.cases
    return cases[~cases["incomplete"].astype(bool) & (cases["status"] != "unaligned")]


def rate_counts(result) -> list[dict]:
    """(metric, kind, step, count, n) of every rate measure of one audit."""
    fin = finished_cases(result)
    n = len(fin)
    out = [{"metric": "case_conformance_rate", "kind": "", "step": "",
            "count": int(fin["conforming"].astype(bool).sum()), "n": n}]
    for kind in DEVIATING:
        col = f"n_{kind}"
        if col in fin.columns:
            out.append({"metric": "deviation_rate", "kind": kind, "step": "",
                        "count": int((fin[col] > 0).sum()), "n": n})
    for row in result.steps.itertuples(index=False):
        out.append({"metric": "step_conformance", "kind": "", "step": row.step,
                    "count": int(row.cases_in_order), "n": int(row.cases_required)})
    within = _service_within(result)
    if within is not None:
        out.append({"metric": "service_standard_compliance", "kind": "", "step": "",
                    "count": int(within.sum()), "n": int(within.size)})
    return out


def _service_within(result) -> np.ndarray | None:
    """Within the service standard, per finished case whose service time was measured."""
    fin = finished_cases(result)
    if "within_service_standard" not in fin.columns:
        return None
    values = fin["within_service_standard"]
    measured = values.notna()
    return values[measured].astype(bool).to_numpy() if measured.any() else None


def service_days(result) -> np.ndarray:
    """Service time in working days of every finished case where it was measured."""
    fin = finished_cases(result)
    if "service_days" not in fin.columns:
        return np.array([], dtype=float)
    return pd.to_numeric(fin["service_days"], errors="coerce").dropna().to_numpy(dtype=float)
