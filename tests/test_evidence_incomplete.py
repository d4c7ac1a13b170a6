"""Findings of a case whose rows could not all be read carry evidence_incomplete, and the report
says why (issue 13, defect 10)."""

from __future__ import annotations

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.core.columns import log_info

from conftest import FIXTURES

ROWS = [
    # case 1: its 'c' row has an unreadable time, so 'c' looks skipped
    ("1", "a", "2024-03-04 08:00"), ("1", "c", "kemarin"), ("1", "d", "2024-03-04 08:20"),
    ("1", "e", "2024-03-04 08:30"), ("1", "f", "2024-03-04 08:40"), ("1", "g", "2024-03-04 08:50"),
    # case 2: really skipped 'c', every row read
    ("2", "a", "2024-03-04 09:00"), ("2", "d", "2024-03-04 09:20"), ("2", "e", "2024-03-04 09:30"),
    ("2", "f", "2024-03-04 09:40"), ("2", "g", "2024-03-04 09:50"),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("ev") / "log.csv"
    path.write_text("case,activity,time\n" + "\n".join(",".join(r) for r in ROWS) + "\n", encoding="utf-8")
    log = sa.read_log(path, case="case", activity="activity", time="time")
    return sa.audit(log, sa.load_sop(FIXTURES / "mini_sop.yaml"))


def test_findings_of_a_case_with_rejected_rows_are_flagged(result):
    dev = result.deviations
    assert result.rejected == [(2, "missing or unreadable time in column 'time'")]
    flags = dev.groupby("case_id")["evidence_incomplete"].agg(set).to_dict()
    assert flags == {"1": {True}, "2": {False}}
    assert set(dev.loc[dev["case_id"] == "1", "kind"]) == {"skipped"}


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "1 case(s) with findings also had rows that could not be read"),
    ("id", "1 permohonan dengan temuan juga memiliki baris yang tidak dapat dibaca"),
])
def test_the_report_says_findings_may_come_from_the_export(result, tmp_path, lang, text):
    written = result.write(tmp_path, lang=lang)
    html = written["report"].read_text(encoding="utf-8")
    assert 'id="evidence-incomplete"' in html and text in html
    devs = pd.read_csv(written["deviations"], dtype={"case_id": str})
    assert devs.set_index("case_id")["evidence_incomplete"].to_dict() == {"1": True, "2": False}
    sheet, case, header = {"en": ("Findings", "Case", "Evidence incomplete"),
                           "id": ("Temuan", "Permohonan", "Bukti tidak lengkap")}[lang]
    findings = pd.read_excel(written["xlsx"], sheet_name=sheet, dtype={case: str})
    assert findings[[case, header]].values.tolist() == [["1", True], ["2", False]]


def test_no_remark_without_rejected_rows(mini_sop, tmp_path):
    from conftest import make_log

    res = sa.audit(make_log({"2": ["a", "d", "e", "f", "g"]}), mini_sop)
    assert not res.deviations["evidence_incomplete"].any()
    html = res.write(tmp_path, formats="html", lang="en")["report"].read_text(encoding="utf-8")
    assert 'id="evidence-incomplete"' not in html


@pytest.mark.parametrize("broken", ['1,c,2024-03-04 08:10,extra', '1,"c,2024-03-04 08:10'])
def test_a_row_that_cannot_be_split_still_names_its_case(tmp_path, broken):
    rows = [",".join(r) for r in ROWS]
    rows[1] = broken  # a stray separator, or a stray quote
    path = tmp_path / "log.csv"
    path.write_text("case,activity,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    log = sa.read_log(path, case="case", activity="activity", time="time")
    assert [r for r, _ in log_info(log).rejected] == [2]
    assert log_info(log).rejected_cases == ("1",)
    dev = sa.audit(log, sa.load_sop(FIXTURES / "mini_sop.yaml")).deviations
    assert dev.groupby("case_id")["evidence_incomplete"].agg(set).to_dict() == {"1": {True}, "2": {False}}
