"""Years the audit cannot compute with are rejected with their row, never read as another year
(issue 13, defect 8)."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.core.columns import ROW, TIME, log_info

from conftest import FIXTURES

REASON = "time in column 'time' is outside the years 1678-2261 (a year such as 0024 or 2300); check the year in the export"


def _csv(tmp_path, times: list[str]):
    path = tmp_path / "log.csv"
    steps = ["a", "c", "d", "e", "f", "g"]
    rows = [f"1,{steps[i % 6]},{t}" for i, t in enumerate(times)]
    path.write_text("case,activity,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_four_digit_year_0024_is_not_2024(tmp_path):
    path = _csv(tmp_path, ["0024-03-04 10:00", "2024-03-04 11:00", "2300-01-01 10:00", "1500-03-04 11:00",
                           "04/03/24 12:00"])
    log = sa.read_log(path, case="case", activity="activity", time="time", time_format="dayfirst")
    info = log_info(log)
    assert info.rejected == ((1, REASON), (3, REASON), (4, REASON))
    assert log[ROW].tolist() == [2, 5]
    # a two-digit year is still 20YY
    assert log[TIME].tolist() == [pd.Timestamp("2024-03-04 11:00", tz="Asia/Jakarta"),
                                  pd.Timestamp("2024-03-04 12:00", tz="Asia/Jakarta")]


def test_audit_with_a_year_after_2262_does_not_crash(tmp_path):
    times = [f"2024-03-04 1{i}:00" for i in range(6)]
    times[3] = "2300-03-04 13:00"
    path = _csv(tmp_path, times)
    res = CliRunner().invoke(main, ["audit", "--log", str(path), "--sop", str(FIXTURES / "mini_sop.yaml"),
                                    "--case", "case", "--activity", "activity", "--time", "time",
                                    "--out", str(tmp_path / "o"), "--formats", "csv,json", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "rejected   1 input rows" in res.output
    rejected = pd.read_csv(tmp_path / "o" / "rejected_rows.csv")
    assert rejected.to_dict("records") == [{"row": 4, "reason": REASON}]
