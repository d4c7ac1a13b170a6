"""The command line: the demo audit, `sopaudit audit`, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sopaudit.cli import main

from conftest import DEMO_LOG, PASSPORT_SOP


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # The terminal speaks the report's language (Bahasa Indonesia by default).
    assert f"laporan    {out / 'report.html'}" in res.output
    assert "sesuai SOP 36 dari 63 permohonan selesai (57,1%)" in res.output
    assert ("temuan     31 dalam 27 permohonan (jenis penyimpangan, tidak termasuk yang diterima; dari semua "
            "63 permohonan):   Langkah dilewati 9   Urutan tidak sesuai 7") in res.output
    return out


def test_demo_summary_numbers(demo_dir):
    s = json.loads((demo_dir / "summary.json").read_text(encoding="utf-8"))
    # event_logs/make_demo_sample.py builds 63 cases: 36 conforming (incl. loops and 6 rejections),
    # 7 skips, 5 swaps, 5 repeats, 3 activities outside the SOP, 2 four-eyes conflicts, 2 late
    # adjudications (late step and late case), 1 interview by the wrong role, and 2 cases that
    # stop after the payment check on 20 March. The log ends on 27 March; 95% of the cases had
    # their adjudication within 3.1 days of the payment check, so these 2 stopped (they are not
    # still open): judged on their whole run, the cheapest is a rejection, with the payment check
    # out of order and the rejection skipped (2 more of each).
    assert (s["cases"], s["events"], s["conforming_cases"]) == (63, 908, 36)
    assert {k: v for k, v in s["deviations_by_kind"].items() if v} == {
        "skipped": 9, "out_of_order": 7, "repeated": 5, "unexpected": 3, "late_step": 2, "late_case": 2,
        "wrong_role": 1, "duty_conflict": 2}
    assert s["case_conformance_rate"] == pytest.approx(36 / 63)
    assert (s["finished_cases"], s["incomplete_cases"], s["deviations"]) == (63, 0, 31)
    assert s["open_cases"]["cases_by_rule"]["overdue"] == 2
    adj = next(x for x in s["open_cases"]["steps"] if x["step"] == "adjudikasi")
    assert (adj["waits_observed"], round(adj["limit_days"], 2)) == (57, 3.09)
    assert s["tool_version"] == "0.1.0"
    roles = {i["role"]: i for i in s["inputs"]}
    assert len(roles["log"]["sha256"]) == 64 and roles["sop"]["path"].endswith("paspor_baru_mpaspor.yaml")


def test_demo_tables_agree_with_summary(demo_dir):
    s = json.loads((demo_dir / "summary.json").read_text(encoding="utf-8"))
    dev = pd.read_csv(demo_dir / "deviations.csv")
    cases = pd.read_csv(demo_dir / "cases.csv")
    assert len(cases) == s["cases"] and int(cases["conforming"].sum()) == s["conforming_cases"]
    assert cases["status"].value_counts().to_dict() == {"conforming": 36, "deviating": 27}
    assert dev["kind"].value_counts().to_dict() == {k: v for k, v in s["deviations_by_kind"].items() if v}
    # the columns docs/report-schema.md lists, in its order (no internal column such as the
    # evidence events' positions)
    assert list(dev.columns) == [
        "case_id", "kind", "step", "step_name", "detail", "related", "expected_after", "event_row", "event_time",
        "resource", "event_pos", "variant_id", "detail_code", "evidence_rows", "measured", "limit", "unit", "accepted",
        "accepted_reason", "evidence_incomplete"]
    # Every finding on an executed event points at a row of the source file.
    src = pd.read_csv(DEMO_LOG)
    with_row = dev.dropna(subset=["event_row"])
    for r in with_row.itertuples():
        assert src.loc[int(r.event_row) - 1, "no_permohonan"] == r.case_id


def test_demo_report_html_in_indonesian(demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "Laporan kepatuhan terhadap SOP" in html
    assert "36 dari 63 permohonan (57,1%) mengikuti SOP" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_audit_with_column_flags(tmp_path):
    res = CliRunner().invoke(main, [
        "audit", "--log", str(DEMO_LOG), "--sop", str(PASSPORT_SOP), "--out", str(tmp_path),
        "--case", "no_permohonan", "--activity", "tahapan", "--time", "waktu", "--resource", "petugas",
        "--lang", "en",
    ])
    assert res.exit_code == 0, res.output
    # Without the roles file, the wrong role is not checked; without calendar flags, defaults.
    assert "conforming 37 of 63 finished cases (58.7%)" in res.output
    assert "Wrong role" not in res.output and "Four-eyes conflict 2" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--log", "missing.csv"], "missing.csv: the log file does not exist"),
        (["--case", "nomor"], "the case column 'nomor' does not exist. The file has the columns: no_permohonan, tahapan"),
        (["--sop", "missing.yaml"], "missing.yaml: the file does not exist"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, message):
    base = {"--log": str(DEMO_LOG), "--sop": str(PASSPORT_SOP), "--out": str(tmp_path / "out"),
            "--case": "no_permohonan", "--activity": "tahapan", "--time": "waktu"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    res = CliRunner().invoke(main, ["audit", *[x for kv in base.items() for x in kv]])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_empty_log_is_an_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("no_permohonan,tahapan,waktu\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["audit", "--log", str(empty), "--sop", str(PASSPORT_SOP), "--out",
                                    str(tmp_path / "o"), "--case", "no_permohonan", "--activity", "tahapan",
                                    "--time", "waktu"])
    assert res.exit_code == 2 and "the log has no rows" in res.output


def test_unreadable_sop_is_an_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sop: [unclosed\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["audit", "--log", str(DEMO_LOG), "--sop", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and f"{bad}:" in res.output and "YAML syntax" in res.output


def test_rejected_rows_are_listed(tmp_path):
    src = pd.read_csv(DEMO_LOG, dtype=str)
    src.loc[4, "waktu"] = "kemarin"
    src.loc[9, "tahapan"] = ""
    path = tmp_path / "log.csv"
    src.to_csv(path, index=False)
    res = CliRunner().invoke(main, ["audit", "--log", str(path), "--sop", str(PASSPORT_SOP), "--out",
                                    str(tmp_path / "o"), "--case", "no_permohonan", "--activity", "tahapan",
                                    "--time", "waktu"])
    assert res.exit_code == 0, res.output
    assert "ditolak    2 baris masukan (daftarnya di rejected_rows.csv)" in res.output
    rej = pd.read_csv(tmp_path / "o" / "rejected_rows.csv")
    assert rej.values.tolist() == [[5, "missing or unreadable time in column 'waktu'"],
                                   [10, "no activity in column 'tahapan'"]]


def test_demo_from_another_directory_finds_the_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "reports" / "demo" / "report.html").is_file()
    shutil.rmtree(tmp_path / "reports")


SCRIPT = Path(sys.executable).with_name("sopaudit")  # the console script a user runs


def test_console_script_writes_everything_before_its_quick_exit(tmp_path):
    # `run` ends a successful command with os._exit: its output, the -v log lines and the
    # report files must all be complete by then
    res = subprocess.run([SCRIPT, "-v", "audit", "--log", DEMO_LOG, "--sop", PASSPORT_SOP, "--out", tmp_path,
                          "--case", "no_permohonan", "--activity", "tahapan", "--time", "waktu", "--resource", "petugas",
                          "--lang", "en"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "conforming 37 of 63 finished cases (58.7%)" in res.stdout
    assert f"report     {tmp_path / 'report.html'}" in res.stdout.splitlines()[-1]
    assert "report written to" in res.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert (summary["cases"], summary["conforming_cases"]) == (63, 37)


def test_console_script_failure_exits_2(tmp_path):
    res = subprocess.run([SCRIPT, "audit", "--log", tmp_path / "missing.csv", "--sop", PASSPORT_SOP,
                          "--out", tmp_path / "o"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "missing.csv: the log file does not exist" in res.stderr + res.stdout


def test_console_script_into_a_closed_pipe_keeps_its_failure_status():
    # click turns the broken pipe into exit status 1; the quick exit must not make it 0
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run([SCRIPT, "--version"], stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert res.returncode == 1 and b"Traceback" not in res.stderr
