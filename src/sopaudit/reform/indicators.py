"""The indicator sheet of a reform worksheet (lembar kerja evaluasi reformasi birokrasi): each
number with the population and the audit table it comes from, so it can be re-counted."""

from __future__ import annotations

import pandas as pd

from sopaudit.analysis.measures import finished_cases

INDICATOR_COLUMNS = ["indicator", "period", "value", "numerator", "denominator", "evidence"]


def indicator_sheet(before, after, labels: tuple[str, str]) -> pd.DataFrame:
    rows = []
    for label, result in zip(labels, (before, after), strict=True):
        rows += _indicators(result, label)
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS)


def _indicators(result, label: str) -> list[dict]:
    steps = result.steps
    required = int(steps["cases_required"].sum())
    in_order = int(steps["cases_in_order"].sum())
    fin = finished_cases(result)
    conforming = int(fin["conforming"].astype(bool).sum())
    out = [
        {"indicator": "sop_steps_applied_as_written", "period": label,
         "value": in_order / required if required else float("nan"), "numerator": in_order,
         "denominator": required,
         "evidence": "steps.csv: sum of cases_in_order / sum of cases_required over the SOP steps"},
        {"indicator": "case_conformance_rate", "period": label,
         "value": conforming / len(fin) if len(fin) else float("nan"), "numerator": conforming,
         "denominator": len(fin), "evidence": "cases.csv: conforming among the cases not incomplete"},
    ]
    if "within_service_standard" in fin.columns:
        measured = fin["within_service_standard"].dropna().astype(bool)
        out.append({"indicator": "service_standard_compliance", "period": label,
                    "value": measured.mean() if len(measured) else float("nan"),
                    "numerator": int(measured.sum()), "denominator": int(len(measured)),
                    "evidence": "cases.csv: within_service_standard among the finished cases measured"})
    return out
