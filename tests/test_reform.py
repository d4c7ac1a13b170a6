"""Reform evaluation: the statistics against hand-computed values, a significant change exactly
where one was injected (and none where none was), segments that name the injected officer and
period, and the comparison files from the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.analysis import stats
from sopaudit.analysis.segments import segment_table
from sopaudit.cli import main
from sopaudit.simulation.scenario import Concentration
from test_browser import browser  # noqa: F401 (the Chromium fixture)

from conftest import ROOT

SOP_FILE = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
KETAPANG = ROOT / "scenarios" / "ketapang_2023_sebelum_reformasi.yaml"
Z = 1.959963984540054  # the 97.5% normal quantile


def _wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Exact two-sided p of [[a, b], [c, d]]: the tables with the margins fixed that are no more
    likely than the observed one."""
    row1, col1, n = a + b, a + c, a + b + c + d

    def prob(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    observed = prob(a)
    return sum(prob(x) for x in range(max(0, row1 + col1 - n), min(row1, col1) + 1)
               if prob(x) <= observed * (1 + 1e-7))


def test_wilson_interval_by_hand() -> None:
    assert stats.wilson(5, 20) == pytest.approx(_wilson(5, 20), abs=1e-12)
    assert stats.wilson(5, 20) == pytest.approx((0.111862, 0.468701), abs=1e-6)
    assert all(math.isnan(v) for v in stats.wilson(0, 0))


def test_rate_change_by_hand() -> None:
    res = stats.rate_change(40, 100, 25, 100)
    assert res["change"] == pytest.approx(-0.15)
    assert res["p_value"] == pytest.approx(_fisher_two_sided(25, 75, 40, 60), rel=1e-9)
    # Newcombe's hybrid score interval: the Wilson limits of each share, combined
    l1, u1 = _wilson(25, 100)
    l2, u2 = _wilson(40, 100)
    low = -0.15 - math.sqrt((0.25 - l1) ** 2 + (u2 - 0.40) ** 2)
    high = -0.15 + math.sqrt((u1 - 0.25) ** 2 + (0.40 - l2) ** 2)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((low, high), abs=1e-9)


def test_holm_correction_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04); NaN is no comparison
    adjusted, significant = stats.adjust([0.01, 0.04, 0.03, float("nan")], alpha=0.05)
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])
    assert significant == [True, False, False, False]


def test_mann_whitney_exact_by_hand() -> None:
    # every 'after' time is below every 'before' time: U = 0, and 2 of the C(6,3) = 20 orderings
    # are as extreme (two-sided): p = 0.1
    res = stats.median_change([5.0, 6.0, 7.0], [1.0, 2.0, 3.0])
    assert res["p_value"] == pytest.approx(0.1)
    assert (res["before"], res["after"], res["change"]) == (6.0, 2.0, -4.0)


def _audits(rates_before: dict, rates_after: dict, cases: int = 700):
    from sopaudit.simulation import default_scenario

    sop = sa.load_sop(SOP_FILE)
    scenario = default_scenario(sop)
    results = []
    for seed, rates in ((101, rates_before), (202, rates_after)):
        log, _ = sa.simulate(sop, cases=cases, seed=seed, scenario=scenario.with_rates(**rates))
        results.append(sa.audit(log, sop, processes=1))
    return results


def test_significant_change_exactly_where_injected() -> None:
    before, after = _audits({"skipped": 0.15, "repeated": 0.05, "unexpected": 0.04},
                            {"skipped": 0.02, "repeated": 0.05, "unexpected": 0.04})
    c = sa.compare(before, after, labels=("2023", "2024"))
    rows = c.changes.set_index(["metric", "kind"])
    assert bool(rows.loc[("deviation_rate", "skipped"), "significant"])
    assert rows.loc[("deviation_rate", "skipped"), "change"] < 0
    assert bool(rows.loc[("case_conformance_rate", ""), "significant"])
    assert not bool(rows.loc[("deviation_rate", "repeated"), "significant"])
    assert not bool(rows.loc[("deviation_rate", "unexpected"), "significant"])
    # kinds absent from both periods are no comparison at all
    assert ("deviation_rate", "wrong_branch") not in rows.index
    # every rate is its counts, re-countable from the cases table
    fin = before.cases[~before.cases["incomplete"]]
    row = rows.loc[("deviation_rate", "skipped")]
    assert (row["count_before"], row["n_before"]) == (int((fin["n_skipped"] > 0).sum()), len(fin))


def test_no_significant_change_without_a_change() -> None:
    before, after = _audits({"skipped": 0.05, "repeated": 0.05}, {"skipped": 0.05, "repeated": 0.05})
    c = sa.compare(before, after)
    assert c.significant()["metric"].tolist() == []


def test_segments_name_the_injected_officer_and_period() -> None:
    sop = sa.load_sop(SOP_FILE)
    from sopaudit.simulation import load_scenario

    scenario = load_scenario(KETAPANG, sop)
    scenario = dataclasses.replace(scenario, concentrations=(
        Concentration(kinds=("skipped",), factor=6, officer="Budi Santoso"),
        Concentration(kinds=("late_case",), factor=8, period=(dt.date(2023, 5, 1), dt.date(2023, 5, 31))),
    ))
    log, _ = sa.simulate(sop, cases=2500, seed=5, scenario=scenario)
    result = sa.audit(log, sop, processes=1)
    seg = segment_table(result, ("officer", "month"))
    notable = seg[seg["notable"]]
    skipped = notable[notable["kind"] == "skipped"]
    assert skipped["value"].tolist() == ["Budi Santoso"]
    assert skipped["attribute"].tolist() == ["org:resource"]
    late = notable[notable["kind"] == "late_case"]
    assert "2023-05" in late["value"].tolist()
    assert set(late["attribute"]) == {"month"}
    row = skipped.iloc[0]
    assert row["share_of_findings"] > 2 * row["share_of_cases"]
    assert row["ci_low"] <= row["rate"] <= row["ci_high"]


def test_compare_cli_writes_the_three_files(tmp_path) -> None:
    sop = sa.load_sop(SOP_FILE)
    from click.testing import CliRunner

    from sopaudit.simulation import default_scenario, write_log

    scenario = default_scenario(sop)
    for name, seed, rate in (("a.csv", 1, 0.2), ("b.csv", 2, 0.02)):
        log, _ = sa.simulate(sop, cases=300, seed=seed, scenario=scenario.with_rates(skipped=rate))
        write_log(log, tmp_path / name)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", "--before", str(tmp_path / "a.csv"), "--after", str(tmp_path / "b.csv"),
                                    "--sop", str(SOP_FILE), "-o", str(out), "--lang", "en", "--labels", "2023,2024"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    skipped = next(c for c in data["changes"] if c["metric"] == "deviation_rate" and c["kind"] == "skipped")
    assert skipped["significant"] is True
    # cases with a skipped step: 68 of 300 before (rate 0.2), 2 of 300 after (rate 0.02)
    assert (skipped["count_before"], skipped["n_before"], skipped["count_after"], skipped["n_after"]) == (68, 300, 2, 300)
    assert (skipped["before"], skipped["after"]) == pytest.approx((68 / 300, 2 / 300))
    assert data["labels"] == ["2023", "2024"]
    assert set(data["parameters"]) >= {"alpha", "correction", "rate_test", "time_test"}
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert "Cases with skipped step" in html and "<script" not in html
    import openpyxl

    wb = openpyxl.load_workbook(out / "comparison.xlsx", read_only=True)
    assert wb.sheetnames == ["changes", "segments", "trend", "indicators", "method"]
    header, *rows = wb["changes"].iter_rows(values_only=True)
    rows = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(r["metric"], r["kind"] or "", r["step"] or "") for r in rows] == [
        (c["metric"], c["kind"], c["step"]) for c in data["changes"]]  # one row per change, in order
    row = next(r for r in rows if (r["metric"], r["kind"]) == ("deviation_rate", "skipped"))
    assert (row["count_before"], row["n_before"], row["count_after"], row["n_after"]) == (68, 300, 2, 300)
    assert (row["before"], row["after"], row["significant"]) == (pytest.approx(68 / 300), pytest.approx(2 / 300), True)


def test_compare_cli_needs_two_periods(tmp_path) -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(main, ["compare", "--log", str(tmp_path / "x.csv"), "--sop", str(SOP_FILE),
                                    "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "--split-at" in res.output


def test_comparison_page_in_the_browser(browser, tmp_path) -> None:  # noqa: F811 (the fixture)
    """No script, no console error, no request but the file, values from exports as text."""
    from test_browser import Page
    from test_report_support import demo_result

    hostile = "<img src=x onerror=alert(1)>"
    result = demo_result()
    c = sa.compare(result, result, labels=(hostile, "</td><script>alert(2)</script>"), segments_by=("org:resource",))
    row = {col: 0 for col in c.segments.columns} | {
        "attribute": "org:resource", "value": hostile, "kind": "skipped", "cases": 3, "rate": 0.5,
        "rest_rate": 0.1, "impact": 2.0, "p_adjusted": 0.01, "notable": True, "period": hostile,
        "share_of_findings": 0.6, "share_of_cases": 0.1}
    c.segments = pd.DataFrame([row])
    paths = c.write(tmp_path, lang="id")
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    pg = Page(browser, paths["html"])
    page = pg.page
    assert hostile in page.locator("#segments").inner_text()
    assert page.locator("h1").inner_text() == "Evaluasi reformasi: kepatuhan sebelum dan sesudah"
    assert page.evaluate("document.querySelectorAll('script, img').length") == 0
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    pg.check_clean()


def test_audit_segments_in_the_report(tmp_path) -> None:
    """`sopaudit audit --segments`: segments.csv holds every segment, the report names the notable
    ones in words."""
    import pandas as pd
    from click.testing import CliRunner

    from sopaudit.simulation import load_scenario, write_log

    sop = sa.load_sop(SOP_FILE)
    scenario = dataclasses.replace(load_scenario(KETAPANG, sop), concentrations=(
        Concentration(kinds=("skipped",), factor=8, officer="Budi Santoso"),))
    log, _ = sa.simulate(sop, cases=1200, seed=9, scenario=scenario)
    write_log(log, tmp_path / "log.csv")
    out = tmp_path / "report"
    res = CliRunner().invoke(main, ["audit", "--log", str(tmp_path / "log.csv"), "--sop", str(SOP_FILE),
                                    "--out", str(out), "--segments", "officer,kanal", "--lang", "en",
                                    "--formats", "html,csv"])
    assert res.exit_code == 0, res.output
    seg = pd.read_csv(out / "segments.csv")
    notable = seg[seg["notable"] & (seg["kind"] == "skipped")]
    assert notable["value"].tolist() == ["Budi Santoso"]
    assert set(seg["attribute"]) == {"org:resource", "kanal"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="segments-table"' in html
    assert "of the findings &#39;Skipped step&#39; belong to officer Budi Santoso" in html or \
        "of the findings 'Skipped step' belong to officer Budi Santoso" in html
