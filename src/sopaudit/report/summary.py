"""summary.json: the machine-readable summary of an audit (schema in docs/report-schema.md)."""

from __future__ import annotations

import math

SCHEMA_VERSION = "1.0"


def _clean(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def build_summary(result) -> dict:
    m = result.metrics
    p = result.provenance
    steps = result.steps.to_dict(orient="records")
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
        "steps": steps,
        "rows_rejected": len(result.rejected),
        "tool_version": p["tool_version"],
        "run_at": p["run_at"],
        "inputs": p["inputs"],
        "parameters": p["parameters"],
    })
