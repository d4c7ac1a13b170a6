"""One definition per number, identical in the CLI line, summary.json, report.html and
findings.xlsx (issue 14, item 3): the findings count, its breakdown by kind, the share of cases
per kind and the conformance rate, with two cases still open (`--open-days 14`)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sopaudit.cli import main
from sopaudit.core.kinds import DEVIATING
from sopaudit.report.i18n import catalog
from test_report_support import element_text, html_tables

from conftest import DEMO_LOG, PASSPORT_SOP

EN = catalog("en")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("agree")
    res = CliRunner().invoke(main, [
        "audit", "--log", str(DEMO_LOG), "--sop", str(PASSPORT_SOP), "--out", str(out), "--case", "no_permohonan",
        "--activity", "tahapan", "--time", "waktu", "--resource", "petugas", "--tz", "Asia/Pontianak",
        "--lang", "en", "--open-days", "14"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    ws = load_workbook(out / "findings.xlsx", read_only=True).worksheets[0]
    xlsx = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    return res.output, summary, html, xlsx


def test_the_demo_numbers_with_two_open_cases(outputs):
    _, s, _, _ = outputs
    # 63 cases; the 2 whose last event (20 March) is within 14 days of the log's end are open; no
    # roles file, so the interview by the wrong role is not checked (37 conforming, not 36).
    assert (s["cases"], s["finished_cases"], s["incomplete_cases"], s["conforming_cases"]) == (63, 61, 2, 37)
    assert s["findings_by_kind"] == {"skipped": 7, "out_of_order": 5, "repeated": 5, "unexpected": 3,
                                     "wrong_branch": 0, "late_step": 2, "late_case": 2, "wrong_role": 0,
                                     "duty_conflict": 2, "rule": 0}
    assert s["deviations"] == 26 == sum(s["findings_by_kind"].values())
    assert s["deviations_by_kind"]["incomplete"] == 2  # listed, not counted


def test_numbers_are_identical_in_the_cli_json_html_and_xlsx(outputs):
    cli, s, html, xlsx = outputs
    n, finished, conf, rate = s["deviations"], s["finished_cases"], s["conforming_cases"], s["case_conformance_rate"]
    assert rate == conf / finished
    # CLI
    assert f"conforming {conf} of {finished} finished cases ({100 * rate:.1f}%)" in cli
    m = re.search(r"findings\s+(\d+) in (\d+) cases \(deviating kinds, not accepted; of all (\d+) cases\):(.*)", cli)
    assert m and (int(m[1]), int(m[2]), int(m[3])) == (n, s["cases_with_findings"], s["cases"])
    code = {EN[f"kind.{k}"]: k for k in DEVIATING}  # the terminal names kinds as the report does
    cli_kinds = {code[label]: int(v) for label, v in re.findall(r"(\S.*?) (\d+)(?=   |$)", m[4].strip())}
    assert cli_kinds == {k: v for k, v in s["findings_by_kind"].items() if v}
    assert f"fitness {s['fitness_shown']:.3f}" in cli
    # HTML: cards, the kinds table (rows sum to the total row) and the definitions beside them
    assert element_text(html, "card-findings") == str(n)
    assert element_text(html, "card-rate") == f"{100 * rate:.1f}%"
    assert element_text(html, "card-fitness") == f"{s['fitness_shown']:.3f}"
    rows = html_tables(html)["kinds-table"][1:]
    by_label = {r[0]: r[1:4] for r in rows}
    for k in DEVIATING:
        share = s["case_rate_by_kind"][k]
        assert by_label[EN[f"kind.{k}"]] == [str(s["findings_by_kind"][k]), str(s["cases_with_kind"][k]),
                                             f"{100 * share:.1f}%"]
        assert share == s["cases_with_kind"][k] / s["cases"]
    assert by_label[EN["kinds_total"]][:2] == [str(n), str(s["cases_with_findings"])]
    assert EN["kind.incomplete"] not in by_label
    for key in ("deviations", "case_conformance_rate", "case_rate_by_kind", "fitness"):
        assert s["definitions"][key] in " ".join(unescape(html).split())
    assert s["definitions"]["deviations"].startswith(f"{n} findings:")
    assert f"{conf} of {finished} finished cases" in s["definitions"]["case_conformance_rate"]
    # the list says what its rows are: findings + not-finished notes + accepted
    assert element_text(html, "list-note") == (
        f"The list has {n + 2} rows: {n} findings, 2 not-finished notes and 0 accepted deviations.")
    # XLSX summary sheet
    assert xlsx[EN["deviations"]] == n and xlsx[EN["conforming_cases"]] == conf
    assert xlsx[EN["conformance_rate"]] == pytest.approx(rate, rel=1e-12) and xlsx[EN["xlsx.finished_cases"]] == finished
    assert xlsx[EN["fitness"]] == round(s["fitness_shown"], 3)
    for k in DEVIATING:
        assert xlsx[f"{EN['deviations']}: {EN[f'kind.{k}']}"] == s["findings_by_kind"][k]
        assert xlsx[f"{EN['share_cases']}: {EN[f'kind.{k}']}"] == pytest.approx(s["case_rate_by_kind"][k], rel=1e-12)
    assert sum(xlsx[f"{EN['deviations']}: {EN[f'kind.{k}']}"] for k in DEVIATING) == n
    assert xlsx[f"{EN['deviations']}: {EN['xlsx.definition']}"] == s["definitions"]["deviations"]
    assert xlsx[f"{EN['conformance_rate']}: {EN['xlsx.definition']}"] == s["definitions"]["case_conformance_rate"]


def test_a_perfectly_fitting_log_reads_fitness_1_000():
    import dataclasses

    import sopaudit as sa
    from sopaudit.report.figures import fitness_shown
    from sopaudit.report.html import render_html

    log = sa.read_log(DEMO_LOG, case="no_permohonan", activity="tahapan", time="waktu", tz="Asia/Pontianak")
    sop = sa.load_sop(PASSPORT_SOP)
    first = sa.audit(log, sop, processes=1)
    fitting = set(first.cases.loc[first.cases["fitness"] == 1.0, "case_id"])
    r = sa.audit(log[log["case:concept:name"].astype(str).isin(fitting)], sop, processes=1)
    assert 0.9999 < r.metrics["fitness"] < 1.0  # pm4py's figure: silent moves cost a little
    assert fitness_shown(r) == 1.0 and r.summary()["fitness_shown"] == 1.0
    html = render_html(r, "en")
    assert re.search(r'id="card-fitness">1\.000<', html)
    assert f"{len(fitting)} of {len(fitting)} cases fit the SOP exactly" in unescape(html)
    # one case that does not fit: never 1.000, even when the figure rounds to it
    almost = dataclasses.replace(first, metrics={**first.metrics, "fitness": 0.99951})
    assert fitness_shown(almost) == 0.999
