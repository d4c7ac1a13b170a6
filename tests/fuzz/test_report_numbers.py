"""The numbers of a report agree with each other and with the findings behind them, on drawn
simulated logs of the 2023 Ketapang scenario (every deviation kind, officers with roles, open
cases): summary.json's counts are counts of deviations.csv and cases.csv rows, each case's
counts are its findings, each step's counts are its findings' cases."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
openpyxl = pytest.importorskip("openpyxl")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from simulated import ROLES, SLOW, ketapang_log  # noqa: E402

import sopaudit as sa  # noqa: E402
from sopaudit.core.kinds import ALL_KINDS, DEVIATING  # noqa: E402


@SLOW
@given(st.integers(0, 10**6), st.integers(20, 200), st.sampled_from([None, 15]))
def test_the_reports_numbers_are_counts_of_its_rows(seed, cases, open_days):
    sop, log = ketapang_log(seed, cases)
    result = sa.audit(log, sop, processes=1, roles=str(ROLES), open_days=open_days)
    with tempfile.TemporaryDirectory() as tmp:
        result.write(tmp, formats="csv,json,xlsx", lang="en")
        s = json.loads((Path(tmp) / "summary.json").read_text(encoding="utf-8"))
        book = openpyxl.load_workbook(Path(tmp) / "findings.xlsx", read_only=True)
        sheet = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
        book.close()
        dev = pd.read_csv(Path(tmp) / "deviations.csv", dtype={"case_id": str})
        cs = pd.read_csv(Path(tmp) / "cases.csv", dtype={"case_id": str})
        steps = pd.read_csv(Path(tmp) / "steps.csv")
    counted = dev[~dev["accepted"]]
    # the cases: one row each, their statuses and events
    assert len(cs) == s["cases"] == cases and cs["n_events"].sum() == s["events"] == len(log)
    assert int(cs["conforming"].sum()) == s["conforming_cases"]
    assert int(cs["incomplete"].sum()) == s["incomplete_cases"] == s["cases"] - s["finished_cases"] - s["unaligned_cases"]
    assert s["case_conformance_rate"] == pytest.approx(s["conforming_cases"] / s["finished_cases"])
    # the findings by kind: rows of deviations.csv, and their cases
    for kind in ALL_KINDS:
        rows = counted[counted["kind"] == kind]
        assert s["deviations_by_kind"][kind] == len(rows), kind
        assert s["cases_with_kind"][kind] == rows["case_id"].nunique(), kind
        assert int(cs[f"n_{kind}"].sum()) == len(rows), kind
    assert s["deviations"] == int(counted["kind"].isin(DEVIATING).sum())
    assert s["cases_with_findings"] == counted.loc[counted["kind"].isin(DEVIATING), "case_id"].nunique()
    # each case's counts are its own findings
    per_case = counted.groupby(["case_id", "kind"]).size().unstack(fill_value=0).reindex(cs["case_id"], fill_value=0)
    for kind in per_case.columns:
        assert (per_case[kind].to_numpy() == cs[f"n_{kind}"].to_numpy()).all(), kind
    assert (cs["n_deviations"] == cs[[f"n_{k}" for k in DEVIATING]].sum(axis=1)).all()
    assert (cs["conforming"] == ((cs["n_deviations"] == 0) & ~cs["incomplete"] & (cs["status"] != "unaligned"))).all()
    # each step's control-flow counts are the cases with such a finding at that step
    for kind in ("skipped", "out_of_order", "repeated"):
        cases_at = counted[counted["kind"] == kind].groupby("step")["case_id"].nunique()
        assert (steps.set_index("step")[f"cases_{kind}"] == cases_at.reindex(steps["step"], fill_value=0).to_numpy()).all(), kind
    # the workbook's summary says the same
    assert (sheet["Cases"], sheet["Events"], sheet["Finished cases"], sheet["Conforming cases"], sheet["Findings"]) == (
        s["cases"], s["events"], s["finished_cases"], s["conforming_cases"], s["deviations"])
    assert sheet["Findings: Skipped step"] == s["deviations_by_kind"]["skipped"]
    assert sheet["Findings: Wrong role"] == s["deviations_by_kind"]["wrong_role"]
    # the most frequent deviations: their findings and cases
    for top in s["top_deviations"]:
        rows = counted[(counted["kind"] == top["kind"]) & (counted["step"] == top["step"])]
        assert (top["findings"], top["cases"]) == (len(rows), rows["case_id"].nunique()), top
