"""Rekap workbooks: one row per application with a date per step, title blocks, a sheet per month.

The workbooks are made here with openpyxl as a report screen exports them: a title block with
merged cells above the header, one sheet per month, the time of day beside the date, blank
milestones, same-day milestones without a time, typed Excel date cells next to text dates.
"""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.core.errors import MappingError
from sopaudit.ingest.header import find_header
from sopaudit.ingest.suggest import suggest_mapping

from conftest import FIXTURES

HEADER = ["No", "No Permohonan", "Jenis Layanan", "Tgl Register", "Jam Register", "Tgl Check",
          "Petugas Check", "Tgl Pay", "Tgl Photo", "Tgl Print", "Tgl Hand over", "Petugas Hand over"]
D = dt.datetime

# (sheet, title rows, rows). Tgl Register mixes typed date cells and text dates; Tgl Print holds
# typed date cells only; Jam Register mixes text, a time cell and a blank.
MONTHS = [
    ("Januari", ["REKAP PERMOHONAN PASPOR BULAN JANUARI 2025", "KANTOR CONTOH"], [
        [1, "K001", "reguler", D(2025, 1, 6), "08:15", "06/01/2025", "Rina", "07/01/2025", "07/01/2025",
         D(2025, 1, 8), "13/01/2025", "Sari"],
        [2, "K002", "reguler", "07/01/2025", dt.time(9, 0), "07/01/2025", "Budi", None, "08/01/2025",
         D(2025, 1, 9), "14/01/2025", "Sari"],
        [3, "K003", "percepatan", "08/01/2025", None, "08/01/2025", "Rina", "09/01/2025", "09/01/2025",
         None, None, None],
    ]),
    ("Februari", ["REKAP PERMOHONAN PASPOR BULAN FEBRUARI 2025"], [
        [1, "K004", "reguler", "03/02/2025", "8.30", "03/02/2025", "Rina", "04/02/2025", "04/02/2025",
         None, "05/02/2025", "Sari"],
        [2, "K005", "reguler", "04/02/2025", "10:00", "31/02/2025", "Budi", "05/02/2025", "05/02/2025",
         D(2025, 2, 6), "10/02/2025", "Sari"],
        [3, "K006", "reguler", None, None, None, None, None, None, None, None, None],
    ]),
    ("Maret", ["REKAP PERMOHONAN PASPOR BULAN MARET 2025"], [
        [1, "K007", "reguler", "03/03/2025", "13:45", "03/03/2025", "Budi", "03/03/2025", "04/03/2025",
         D(2025, 3, 5), "10/03/2025", "Sari"],
    ]),
]

MAPPING = {
    "layout": "wide",
    "case": "No Permohonan",
    "milestones": [
        {"step": "a", "date": "Tgl Register", "time": "Jam Register"},
        {"step": "c", "date": "Tgl Check", "resource": "Petugas Check"},
        {"step": "d", "date": "Tgl Pay"},
        {"step": "e", "date": "Tgl Photo"},
        {"step": "f", "date": "Tgl Print"},
        {"step": "g", "date": "Tgl Hand over", "resource": "Petugas Hand over"},
    ],
    "case_attributes": ["Jenis Layanan"],
    "time_format": "dayfirst",
    "tz": "Asia/Jakarta",
}


def make_rekap(path, months=MONTHS, header=HEADER):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, titles, rows in months:
        ws = wb.create_sheet(name)
        for i, title in enumerate(titles, start=1):
            ws.cell(row=i, column=1, value=title)
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=len(header))
        ws.append([])  # the empty row under the title block
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cell in ws["D"] + ws["J"]:
            if isinstance(cell.value, D):
                cell.number_format = "DD/MM/YYYY"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def rekap(tmp_path_factory):
    return make_rekap(tmp_path_factory.mktemp("rekap") / "rekap.xlsx")


@pytest.fixture(scope="module")
def log(rekap):
    return sa.read_log(rekap, mapping=MAPPING)


def events(log):
    return [(r[0], r[1], r[2].strftime("%Y-%m-%d %H:%M"), r[3] if isinstance(r[3], str) else None, r[4], r[5])
            for r in log[["case:concept:name", "concept:name", "time:timestamp", "org:resource",
                          "sopaudit:sheet", "sopaudit:sheet_row"]].astype(object).itertuples(index=False)]


def test_each_filled_milestone_is_one_event(log):
    assert events(log) == [
        ("K001", "a", "2025-01-06 08:15", None, "Januari", 5),
        ("K001", "c", "2025-01-06 08:15", "Rina", "Januari", 5),  # same day, no time: after a
        ("K001", "d", "2025-01-07 00:00", None, "Januari", 5),
        ("K001", "e", "2025-01-07 00:00", None, "Januari", 5),  # same day as d: column order
        ("K001", "f", "2025-01-08 00:00", None, "Januari", 5),
        ("K001", "g", "2025-01-13 00:00", "Sari", "Januari", 5),
        ("K002", "a", "2025-01-07 09:00", None, "Januari", 6),
        ("K002", "c", "2025-01-07 09:00", "Budi", "Januari", 6),
        ("K002", "e", "2025-01-08 00:00", None, "Januari", 6),
        ("K002", "f", "2025-01-09 00:00", None, "Januari", 6),
        ("K002", "g", "2025-01-14 00:00", "Sari", "Januari", 6),
        ("K003", "a", "2025-01-08 00:00", None, "Januari", 7),
        ("K003", "c", "2025-01-08 00:00", "Rina", "Januari", 7),
        ("K003", "d", "2025-01-09 00:00", None, "Januari", 7),
        ("K003", "e", "2025-01-09 00:00", None, "Januari", 7),
        ("K004", "a", "2025-02-03 08:30", None, "Februari", 4),
        ("K004", "c", "2025-02-03 08:30", "Rina", "Februari", 4),
        ("K004", "d", "2025-02-04 00:00", None, "Februari", 4),
        ("K004", "e", "2025-02-04 00:00", None, "Februari", 4),
        ("K004", "g", "2025-02-05 00:00", "Sari", "Februari", 4),
        ("K005", "a", "2025-02-04 10:00", None, "Februari", 5),
        ("K005", "d", "2025-02-05 00:00", None, "Februari", 5),
        ("K005", "e", "2025-02-05 00:00", None, "Februari", 5),
        ("K005", "f", "2025-02-06 00:00", None, "Februari", 5),
        ("K005", "g", "2025-02-10 00:00", "Sari", "Februari", 5),
        ("K007", "a", "2025-03-03 13:45", None, "Maret", 4),
        ("K007", "c", "2025-03-03 13:45", "Budi", "Maret", 4),
        ("K007", "d", "2025-03-03 13:45", None, "Maret", 4),
        ("K007", "e", "2025-03-04 00:00", None, "Maret", 4),
        ("K007", "f", "2025-03-05 00:00", None, "Maret", 4),
        ("K007", "g", "2025-03-10 00:00", "Sari", "Maret", 4),
    ]
    assert str(log["time:timestamp"].dt.tz) == "Asia/Jakarta"
    # rows counted through the sheets: Januari 1-3, Februari 4-6, Maret 7
    assert log.groupby("case:concept:name", observed=True)["sopaudit:row"].first().to_dict() == {
        "K001": 1, "K002": 2, "K003": 3, "K004": 4, "K005": 5, "K007": 7}
    assert set(log["Jenis Layanan"].astype(str)) == {"reguler", "percepatan"}
    assert log.loc[log["case:concept:name"] == "K003", "Jenis Layanan"].astype(str).unique().tolist() == ["percepatan"]


def test_quality_report_of_the_rekap(log):
    q = log.attrs["sopaudit"].quality
    assert q["rows_read"] == 7 and q["events"] == 31 and q["cases"] == 6
    assert q["rows_rejected"] == 1
    assert q["rejected_by_reason"] == [
        {"reason": "unreadable date in column 'Tgl Check'", "count": 1, "rows": ["Februari!R5"]}]
    assert log.attrs["sopaudit"].rejected == (("Februari!R5", "unreadable date in column 'Tgl Check'"),)
    assert q["source"]["sheets"] == ["Januari", "Februari", "Maret"]
    assert q["source"]["header_row"] == {"Januari": 4, "Februari": 3, "Maret": 3}
    assert q["source"]["title"] == {
        "Januari": ["REKAP PERMOHONAN PASPOR BULAN JANUARI 2025", "KANTOR CONTOH"],
        "Februari": ["REKAP PERMOHONAN PASPOR BULAN FEBRUARI 2025"],
        "Maret": ["REKAP PERMOHONAN PASPOR BULAN MARET 2025"]}
    wide = q["wide"]
    assert wide["rows"] == 7
    per_step = {m["step"]: (m["events"], m["blank"], m["rejected"], m["date_only"]) for m in wide["milestones"]}
    assert per_step == {"a": (6, 1, 0, 1), "c": (5, 1, 1, 5), "d": (5, 2, 0, 5), "e": (6, 1, 0, 6),
                        "f": (4, 3, 0, 4), "g": (5, 2, 0, 5)}
    assert wide["blank_milestones"] == 10 and wide["date_only"] == 26
    # date-only events sharing their day with another milestone of the row, ordered by column:
    # K001 c, d, e; K002 c; K003 a, c, d, e; K004 c, d, e; K005 d, e; K007 c, d
    assert wide["ordered_by_column"]["events"] == 15
    assert wide["rows_without_milestones"] == {"count": 1, "rows": [6]}
    assert q["mapping"]["layout"] == "wide" and q["mapping"]["date_order"] == "dayfirst"
    assert q["mapping"]["milestones"][0] == {"step": "a", "date": "Tgl Register", "time": "Jam Register"}
    assert q["time_formats"] == {"day-first (31/12/2024 14:05)": 26, "typed timestamps of the source": 4,
                                 "year-first (2024-12-31 14:05)": 1}
    # midnight of a date-only event is not "outside office hours"; K007's 13:45 is inside
    assert q["outside_office_hours"]["count"] == 0
    assert q["warnings"] == []


def test_audit_verdicts_of_the_rekap(log, mini_sop):
    result = sa.audit(log, mini_sop, processes=1)
    found = {c: sorted((r.kind, r.step) for r in d.itertuples())
             for c, d in result.deviations.groupby("case_id")}
    # K003 stops after the photo in January, two months before the export ends: not open but
    # missing its print and hand-over; K005's check date is unreadable (rejected), so it is skipped
    assert found == {"K002": [("skipped", "d")], "K003": [("skipped", "f"), ("skipped", "g")],
                     "K004": [("skipped", "f")], "K005": [("skipped", "c")]}
    cases = result.cases.set_index("case_id")
    assert bool(cases.loc["K001", "conforming"]) and bool(cases.loc["K007", "conforming"])
    assert result.metrics["cases"] == 6


def test_long_layout_with_date_and_time_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("no,tahapan,tanggal,jam\n"
                    "P1,a,13/01/2025,08:15\n"
                    "P1,c,13/01/2025,\n"
                    "P1,d,14/01/2025,9.05\n"
                    "P2,a,14/01/2025,25:00\n"
                    "P2,c,,10:00\n", encoding="utf-8")
    log = sa.read_log(path, mapping={"case": "no", "activity": "tahapan", "time": ["tanggal", "jam"]})
    got = [(c, a, t.strftime("%Y-%m-%d %H:%M")) for c, a, t in
           log[["case:concept:name", "concept:name", "time:timestamp"]].astype(object).itertuples(index=False)]
    assert got == [("P1", "c", "2025-01-13 00:00"), ("P1", "a", "2025-01-13 08:15"), ("P1", "d", "2025-01-14 09:05")]
    info = log.attrs["sopaudit"]
    assert info.rejected == ((4, "unreadable time in column 'jam'"), (5, "missing or unreadable time in column 'tanggal'"))
    assert info.quality["date_and_time"] == {"date": "tanggal", "time": "jam", "date_only": {"count": 1, "rows": [2]}}
    assert info.quality["mapping"]["time"] == ["tanggal", "jam"]


def test_header_found_under_a_title_block_or_given():
    head = [("REKAP PERMOHONAN", None, None, None), (None, None, None, None),
            ("Kantor:", "Kanim Contoh", None, None), ("No", "No Permohonan", "Tgl Register", "Tgl Check"),
            (1, "K1", "06/01/2025", "07/01/2025")]
    assert find_header(head, "x") == 3
    assert find_header(head, "x", header_row=3) == 2
    with pytest.raises(MappingError, match="header_row 2 is an empty row"):
        find_header(head, "x", header_row=2)
    # a sheet without a title block keeps its first row as the header
    assert find_header([("case", "activity", "time"), ("1", "a", "2025-01-06")], "x") == 0


def test_sheets_with_another_header_are_not_read_unless_listed(tmp_path):
    other = [("Januari", [], MONTHS[0][2]), ("Catatan", [], [["a", "b"]])]
    wb = make_rekap(tmp_path / "r.xlsx", other)
    ws = openpyxl.load_workbook(wb)
    ws["Catatan"]["A2"] = "Keterangan"  # another header on the second sheet
    ws["Catatan"]["B2"] = "Isi"
    ws.save(wb)
    log = sa.read_log(wb, mapping=MAPPING)
    info = log.attrs["sopaudit"]
    assert info.quality["source"]["sheet"] == "Januari" and "sopaudit:sheet" not in log
    assert any("another header" in n for n in info.quality["source"]["notes"])
    assert info.quality["events"] == 15
    with pytest.raises(MappingError, match="the sheet 'Catatan' has another header than 'Januari'"):
        sa.read_log(wb, mapping={**MAPPING, "sheets": "all"})
    one = sa.read_log(wb, mapping={**MAPPING, "sheets": ["Januari"]})
    assert len(one) == 15


def test_a_case_column_that_reads_everything_as_two_cases_is_a_warning(tmp_path):
    rows = [[i, f"K{i:03d}", "reguler" if i % 2 else "percepatan", f"{6 + i % 20:02d}/01/2025", "08:00",
             f"{6 + i % 20:02d}/01/2025", "Rina", "20/01/2025" if i % 4 == 0 else None, None, None, None, None]
            for i in range(1, 41)]
    path = make_rekap(tmp_path / "r.xlsx", [("Januari", ["REKAP"], rows)])
    wrong = {k: v for k, v in MAPPING.items() if k != "case_attributes"} | {"case": "Jenis Layanan"}
    log = sa.read_log(path, mapping=wrong)
    w = log.attrs["sopaudit"].quality["warnings"]
    assert [(x["kind"], x["events"], x["cases"], x["column"]) for x in w] == [("few_cases", 90, 2, "Jenis Layanan")]
    out = tmp_path / "wrong.yaml"
    out.write_text(yaml.safe_dump(wrong), encoding="utf-8")
    res = CliRunner().invoke(main, ["ingest", str(path), "--mapping", str(out)])
    assert res.exit_code == 0, res.output
    assert "WARNING    90 events were read as only 2 case(s): the case column 'Jenis Layanan'" in res.output
    # the audit says it too: on the terminal, at the top of the report, in summary.json
    report = tmp_path / "report"
    res = CliRunner().invoke(main, ["audit", "--log", str(path), "--mapping", str(out), "--sop",
                                    str(FIXTURES / "mini_sop.yaml"), "--out", str(report), "--processes", "1",
                                    "--formats", "html,json"])
    assert res.exit_code == 0, res.output
    assert "WARNING    90 events were read as only 2 case(s)" in res.output
    html = (report / "report.html").read_text(encoding="utf-8")
    assert 'id="mapping-warnings"' in html
    assert ("90 kejadian terbaca sebagai hanya 2 permohonan: kolom nomor permohonan &#39;Jenis Layanan&#39;"
            in html)
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert [(w["kind"], w["events"], w["cases"]) for w in summary["warnings"]] == [("few_cases", 90, 2)]
    # most rows without a readable time: a long mapping whose time column is mostly blank
    log = sa.read_log(path, case="No Permohonan", activity="Jenis Layanan", time="Tgl Pay", time_format="dayfirst")
    w = log.attrs["sopaudit"].quality["warnings"]
    assert [(x["kind"], x["rows"], x["rows_read"]) for x in w] == [("rows_without_time", 30, 40)]
    assert w[0]["message"] == ("30 of 40 rows have no readable time (or date): the time column(s) of the "
                               "mapping or the time format are probably wrong")


def test_suggestion_used_as_it_is_reads_the_same_as_the_hand_written_mapping(rekap, log, tmp_path, mini_sop):
    steps = [(s.id, [s.name, *s.aliases]) for s in mini_sop.steps]
    proposal = suggest_mapping(rekap, steps=steps)
    text = proposal.to_yaml()
    assert "layout: wide" in text and "GUESS: step 'c' from the name 'Tgl Check' ~ 'Check'" in text
    assert "GUESS: officer in 'Petugas Hand over' (named after the step)" in text
    path = tmp_path / "suggested.yaml"
    path.write_text(text, encoding="utf-8")
    suggested = sa.read_log(rekap, mapping=path)
    cols = ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "sopaudit:row", "sopaudit:sheet"]
    pd.testing.assert_frame_equal(suggested[cols], log[cols])
    assert suggested.attrs["sopaudit"].rejected == log.attrs["sopaudit"].rejected
    assert yaml.safe_load(text)["milestones"] == MAPPING["milestones"]
    # through the CLI, with --sop
    res = CliRunner().invoke(main, ["ingest", str(rekap), "--suggest", "--sop", str(FIXTURES / "mini_sop.yaml")])
    assert res.exit_code == 0 and res.output == text


def test_suggestion_without_an_sop_names_steps_after_the_columns(rekap):
    m = yaml.safe_load(suggest_mapping(rekap).to_yaml())
    assert [x["step"] for x in m["milestones"]] == ["Register", "Check", "Pay", "Photo", "Print", "Hand over"]
    assert m["case"] == "No Permohonan" and m["case_attributes"] == ["Jenis Layanan"]
    assert m["time_format"] == "dayfirst"


def test_quality_json_of_a_rekap_through_the_cli(rekap, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    out = tmp_path / "q.json"
    res = CliRunner().invoke(main, ["ingest", str(rekap), "--mapping", str(mapping), "--quality-json", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 unreadable date in column 'Tgl Check' (rows Februari!R5)" in res.output
    assert "title      Januari: REKAP PERMOHONAN PASPOR BULAN JANUARI 2025 / KANTOR CONTOH" in res.output
    assert json.loads(out.read_text())["wide"]["blank_milestones"] == 10


def test_bundled_rekap_sample_is_reproducible_and_audits(tmp_path, passport_sop):
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("make_rekap_sample", ROOT / "event_logs" / "make_rekap_sample.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.OUT = tmp_path / "again.xlsx"
    script.main()
    bundled = ROOT / "event_logs" / "paspor_demo_rekap_synthetic.xlsx"

    def cells(path):
        wb = openpyxl.load_workbook(path, read_only=True)
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}

    assert cells(script.OUT) == cells(bundled)
    log = sa.read_log(bundled, mapping=ROOT / "event_logs" / "paspor_demo_rekap_mapping.yaml")
    q = log.attrs["sopaudit"].quality
    assert (q["rows_read"], q["events"], q["cases"], q["rows_rejected"]) == (63, 888, 63, 0)
    assert q["source"]["sheets"] == ["1-15 Maret", "16-31 Maret"] and q["warnings"] == []
    roles = ROOT / "event_logs" / "paspor_demo_petugas.csv"
    result = sa.audit(log, passport_sop, roles=roles, processes=1)
    by_kind = {k: v for k, v in result.metrics["deviations_by_kind"].items() if v}
    # what the rekap can show of the demo log (docs/mapping.md, event_logs/README.md); the two
    # applications that stop after the payment check are overdue (the open-case rule judges them
    # from the log's own waits), so each adds a misplaced step and a skipped rejection
    assert by_kind == {"skipped": 9, "out_of_order": 4, "late_step": 3, "late_case": 2, "wrong_role": 1,
                       "duty_conflict": 2}


def test_an_application_on_two_sheets_gives_exact_duplicates(tmp_path):
    months = [MONTHS[0], ("Februari", ["REKAP FEBRUARI"], [MONTHS[0][2][0]])]  # K001 again in February
    path = make_rekap(tmp_path / "r.xlsx", months)
    kept = sa.read_log(path, mapping=MAPPING)
    assert len(kept) == 15 + 6
    assert kept.attrs["sopaudit"].quality["duplicates"]["pairs"] == [[4, 1]] * 6
    dropped = sa.read_log(path, mapping={**MAPPING, "duplicates": "drop"})
    assert len(dropped) == 15
    assert dropped.attrs["sopaudit"].rejected == (("Februari!R4", "exact duplicate of an earlier row (dropped)"),) * 6


def test_strict_names_the_sheet_and_row_and_header_row_or_sheet_can_be_given(rekap):
    from sopaudit.core.errors import InputFileError

    with pytest.raises(InputFileError, match=r"row Februari!R5: unreadable date in column 'Tgl Check'\. --strict"):
        sa.read_log(rekap, mapping=MAPPING, strict=True)
    march = sa.read_log(rekap, mapping={**MAPPING, "sheet": "Maret", "header_row": 3})
    q = march.attrs["sopaudit"].quality
    assert q["source"]["sheet"] == "Maret" and q["events"] == 6 and "sopaudit:sheet" not in march
    assert march["sopaudit:row"].unique().tolist() == [1]  # sheet row 4 under the header on row 3
    with pytest.raises(MappingError, match="header_row 2 is an empty row"):
        sa.read_log(rekap, mapping={**MAPPING, "sheet": "Maret", "header_row": 2})
    with pytest.raises(MappingError, match=r"the milestone 'a' date column 'Tgl Registrasi' does not exist\. "
                                           r"The file has the columns: No, No Permohonan, Jenis Layanan, Tgl Register"):
        sa.read_log(rekap, mapping={**MAPPING, "milestones": [{"step": "a", "date": "Tgl Registrasi"}]})
