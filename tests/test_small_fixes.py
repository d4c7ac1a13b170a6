"""The smaller hardening fixes of issue 13 (defect 9): read-only SQL cannot ATTACH, an XLSX formula
without a value is reported, audit and discover take --time-format, messages name only options
the command has, help texts are complete."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.core.columns import log_info
from sopaudit.core.errors import InputFileError

from conftest import FIXTURES

MINI = str(FIXTURES / "mini_sop.yaml")
AMBIGUOUS = "case,activity,time\n" + "\n".join(
    f"1,{a},0{i + 1}/03/2024 10:00" for i, a in enumerate(["a", "c", "d", "e", "f", "g"])) + "\n"


def test_read_only_sql_cannot_attach_a_new_file(tmp_path):
    db = tmp_path / "log.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (case_id TEXT, activity TEXT, timestamp TEXT)")
        conn.execute("INSERT INTO t VALUES ('1', 'a', '2024-03-04 10:00')")
    created = tmp_path / "created.db"
    with pytest.raises(InputFileError, match="the query failed"):
        sa.read_log(f"sqlite:///{db}", query=f"ATTACH DATABASE '{created}' AS x")
    assert not created.exists()
    log = sa.read_log(f"sqlite:///{db}", query="SELECT * FROM t")  # reading still works
    assert len(log) == 1


def test_xlsx_formula_without_a_value_is_reported(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["case_id", "activity", "timestamp"])
    ws.append(["1", "a", "2024-03-04 10:00"])
    ws.append(["1", "=CONCAT(\"c\",\"\")", "2024-03-04 11:00"])  # openpyxl stores no computed value
    path = tmp_path / "log.xlsx"
    wb.save(path)
    log = sa.read_log(path)
    info = log_info(log)
    notes = info.quality["source"]["notes"]
    assert any("1 cell(s) hold a formula without a computed value (row 2 column 'activity')" in n for n in notes)
    assert info.rejected == ((2, "no activity in column 'activity'"),)


def test_audit_and_discover_take_time_format(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(AMBIGUOUS, encoding="utf-8")
    base = ["--log", str(path), "--case", "case", "--activity", "activity", "--time", "time"]
    res = CliRunner().invoke(main, ["audit", *base, "--sop", MINI, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--time-format dayfirst" in res.output
    res = CliRunner().invoke(main, ["audit", *base, "--sop", MINI, "--out", str(tmp_path / "o"),
                                    "--time-format", "dayfirst", "--formats", "json"])
    assert res.exit_code == 0, res.output
    # 01/03 .. 06/03 read day first: 1 to 6 March (month first would give January to June)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == {"first_event": "2024-03-01T10:00:00+07:00", "last_event": "2024-03-06T10:00:00+07:00"}
    res = CliRunner().invoke(main, ["discover", *base, "-o", str(tmp_path / "d"), "--time-format", "dayfirst"])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "d" / "dfg.csv", encoding="utf-8", newline="") as f:
        waits = {(r["source"], r["target"]): r["median_wait_s"] for r in csv.DictReader(f)}
    assert float(waits["a", "c"]) == 86400.0  # one day; month first: 1 Jan -> 1 Feb, 2678400 s


def test_a_folder_as_log_does_not_mention_query(tmp_path):
    res = CliRunner().invoke(main, ["audit", "--log", str(tmp_path), "--sop", MINI, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "is a folder, not a log file" in res.output and "--query" not in res.output


def test_help_texts():
    audit = CliRunner().invoke(main, ["audit", "--help"]).output
    assert "XLSX, Parquet or XES" in audit and "--time-format" in audit
    demo = CliRunner().invoke(main, ["demo", "--help"]).output
    assert "Folder for the report files" in demo
