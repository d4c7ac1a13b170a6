"""The numbers of a reform comparison are counts of the two audits' rows, on drawn simulated
logs of the Ketapang office before (2023) and after (2024) its reform: every rate's count and
base in comparison.json is a count of the cases.csv and steps.csv of the audit it comes from,
and the corrected p-values keep their order and the significance level."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from simulated import ROLES, SCENARIO_AFTER, SLOW, ketapang_log  # noqa: E402

import sopaudit as sa  # noqa: E402


@SLOW
@given(st.integers(0, 10**6), st.integers(40, 160), st.integers(40, 160))
def test_every_rate_of_a_comparison_is_counted_from_its_audit(seed, n_before, n_after):
    sop, before_log = ketapang_log(seed, n_before)
    _, after_log = ketapang_log(seed + 1, n_after, SCENARIO_AFTER)
    audits = {period: sa.audit(log, sop, processes=1, roles=str(ROLES))
              for period, log in (("before", before_log), ("after", after_log))}
    comparison = sa.compare(audits["before"], audits["after"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        comparison.write(tmp / "reform", lang="en")
        changes = pd.DataFrame(json.loads((tmp / "reform" / "comparison.json").read_text(encoding="utf-8"))["changes"])
        tables = {}
        for period, result in audits.items():
            result.write(tmp / period, formats="csv,json", lang="en")
            tables[period] = (pd.read_csv(tmp / period / "cases.csv", dtype={"case_id": str}),
                              pd.read_csv(tmp / period / "steps.csv"),
                              json.loads((tmp / period / "summary.json").read_text(encoding="utf-8")))
    assert len(changes) > 0
    for period in ("before", "after"):
        cases, steps, summary = tables[period]
        finished = cases[~cases["incomplete"] & (cases["status"] != "unaligned")]
        assert len(finished) == summary["finished_cases"]
        for row in changes.itertuples():
            count, n = getattr(row, f"count_{period}"), getattr(row, f"n_{period}")
            if row.metric == "case_conformance_rate":
                assert (count, n) == (summary["conforming_cases"], summary["finished_cases"])
            elif row.metric == "deviation_rate":
                assert (count, n) == (int((finished[f"n_{row.kind}"] > 0).sum()), len(finished)), row
            elif row.metric == "step_conformance":
                step = steps.set_index("step").loc[row.step]
                assert (count, n) == (step["cases_in_order"], step["cases_required"]), row
            if row.metric != "median_service_days" and n:
                assert getattr(row, period) == pytest.approx(count / n), row
    untested = changes[changes["p_value"].isna() & (changes["metric"] != "median_service_days")]
    assert ((untested["n_before"] == 0) | (untested["n_after"] == 0)).all()
    assert (untested["test"] == "not tested: no case in one of the periods").all()
    tested = changes[changes["p_value"].notna()]  # a measure no test applies to (an empty period) is never significant
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-12).all()
    assert (changes["significant"] == (changes["p_adjusted"] < 0.05)).all()
