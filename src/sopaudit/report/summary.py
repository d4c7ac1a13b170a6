"""summary.json: the machine-readable summary of an audit (schema in docs/report-schema.md).

Keys are only ever added (with a minor version bump); a key is renamed or removed only with a
major version bump, so scripts that read summary.json keep working.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from sopaudit.core.kinds import DEVIATING
from sopaudit.report import figures
from sopaudit.report.i18n import translator

SCHEMA_VERSION = "1.2"


def _clean(value):
    """JSON-ready: NaN/inf/NA -> null, numpy scalars -> Python, times -> ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in (sorted(value, key=str) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def records(df: pd.DataFrame) -> list[dict]:
    """Rows of a table as JSON-ready dicts (column order kept)."""
    if df is None or df.empty:
        return []
    return [_clean(r) for r in df.astype(object).to_dict(orient="records")]


def build_summary(result) -> dict:
    """The summary of an audit as plain JSON-ready data (see docs/report-schema.md)."""
    m = result.metrics
    p = result.provenance
    span = figures.period(result.cases)
    rejected_by_reason: dict[str, int] = {}
    for _, reason in result.rejected:
        rejected_by_reason[str(reason)] = rejected_by_reason.get(str(reason), 0) + 1
    return _clean({
        "schema_version": SCHEMA_VERSION,
        "cases": m["cases"],
        "events": m["events"],
        "variants": m["variants"],
        "conforming_cases": m["conforming_cases"],
        "case_conformance_rate": m["case_conformance_rate"],
        "fitness": m["fitness"],
        "deviations": m["deviations"],
        "deviations_by_kind": m["deviations_by_kind"],
        "cases_with_kind": m["cases_with_kind"],
        "sop": p["sop"],
        "steps": records(result.steps),
        "rows_rejected": len(result.rejected),
        "tool_version": p["tool_version"],
        "run_at": p["run_at"],
        "inputs": p["inputs"],
        "parameters": p["parameters"],
        # schema 1.1
        "finished_cases": m.get("finished_cases"),
        "incomplete_cases": m.get("incomplete_cases"),
        "accepted_deviations": m.get("accepted_deviations", 0),
        "case_rate_by_kind": m.get("case_rate_by_kind"),
        "period": {"first_event": span[0], "last_event": span[1]} if span else None,
        "service_standard": figures.service_standard(result.cases),
        "top_deviations": records(figures.top_deviations(result, n=10)),
        "conformance_by_month": records(figures.conformance_by_month(result.cases)),
        "timing": records(result.timing),
        "quality": result.quality or {},
        "rows_rejected_by_reason": dict(sorted(rejected_by_reason.items())),
        "accepted": records(result.accepted),
        "log_rows_read": p.get("log_rows_read"),
        "seconds": p.get("seconds"),
        "precision": m.get("precision"),
        # schema 1.2: one definition per number, the same sentences as the report (English)
        "findings_by_kind": {k: m["deviations_by_kind"].get(k, 0) for k in DEVIATING},
        "cases_with_findings": m.get("cases_with_findings"),
        "fitness_shown": figures.fitness_shown(result),
        "definitions": figures.definitions(result, translator("en")),
        "open_cases": p["parameters"].get("open_cases"),
        # label warnings of the audit, then the mapping warnings of the ingest
        "warnings": [*(getattr(result, "warnings", []) or []), *(result.quality or {}).get("warnings", [])],
        "unaligned_variants": m.get("unaligned_variants", []),
        "unaligned_cases": m.get("unaligned_cases", 0),
    })
