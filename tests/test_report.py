"""The report files: the numbers of report.html, findings.xlsx and summary.json agree with the
AuditResult; every section renders from what the result holds (and says so when it holds
nothing); the page stays small at a million cases."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from sopaudit.core.kinds import ALL_KINDS, DEVIATING
from sopaudit.report import ReportOptionError, parse_formats, write_report
from sopaudit.report.html import render_html
from sopaudit.report.i18n import (
    catalog,
    format_date,
    format_month,
    format_number,
    format_percent,
    format_time,
    time_texts,
)
from test_report_support import (
    big_result,
    demo_result,
    element_text,
    finding_rows,
    html_tables,
    page_data,
)

from conftest import PASSPORT_SOP, ROOT, make_log

KIND_LABELS_EN = {k: catalog("en")[f"kind.{k}"] for k in ALL_KINDS}
ID_MONTHS = ("", "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember")


def _pct(share: float, lang: str = "en") -> str:
    text = f"{100 * share:.1f}%"
    return text.replace(".", ",") if lang == "id" else text


def _open(dev: pd.DataFrame) -> pd.DataFrame:
    """Findings that count against conformance, selected here independently of the report code."""
    return dev[~dev["kind"].isin(["incomplete"]) & ~dev["accepted"].astype(bool)]


@pytest.fixture(scope="module")
def demo():
    return demo_result()


@pytest.fixture(scope="module")
def written(demo, tmp_path_factory):
    out = {}
    for lang in ("id", "en"):
        d = tmp_path_factory.mktemp(f"report-{lang}")
        out[lang] = demo.write(d, formats=("html", "xlsx", "csv", "json"), lang=lang)
    return out


def _html(written, lang):
    return written[lang]["report"].read_text(encoding="utf-8")


# --- numbers agree -----------------------------------------------------------------------------


def test_html_numbers_agree_with_the_result(demo, written):
    html = _html(written, "en")
    m = demo.metrics
    # No demo case is still open (see test_cli); the rate is over the finished ones (all 63).
    conf, finished = m["conforming_cases"], m["finished_cases"]
    assert m["incomplete_cases"] == 0 and finished == m["cases"] and conf == int(demo.cases["conforming"].sum())
    assert element_text(html, "card-cases") == str(m["cases"])
    assert element_text(html, "card-rate") == _pct(conf / finished)
    assert element_text(html, "card-findings") == str(len(_open(demo.deviations)))
    assert element_text(html, "card-incomplete") == "0"
    assert element_text(html, "card-fitness") == f"{m['fitness']:.3f}" == "0.977"
    tables = html_tables(html)
    kinds = {r[0]: r[1:4] for r in tables["kinds-table"][1:]}
    for kind in DEVIATING:  # the rows sum to the total; unfinished cases are not findings
        n, cases = m["deviations_by_kind"][kind], m["cases_with_kind"][kind]
        assert kinds[KIND_LABELS_EN[kind]] == [str(n), str(cases), _pct(cases / m["cases"])]
    assert kinds["All findings"][:2] == [str(m["deviations"]), str(m["cases_with_findings"])]
    assert KIND_LABELS_EN["incomplete"] not in kinds
    # Top deviations, recomputed here from the findings: (kind, step) by findings, then kind order.
    dev = demo.deviations
    # (ties by step id, as figures.top_deviations orders them)
    top = (_open(dev).groupby(["kind", "step", "step_name"]).agg(n=("case_id", "size"), cases=("case_id", "nunique"))
           .reset_index().assign(o=lambda d: d["kind"].map(ALL_KINDS.index))
           .sort_values(["n", "o", "step"], ascending=[False, True, True]))
    expected = [[KIND_LABELS_EN[r.kind], r.step_name, str(r.n), str(r.cases), _pct(r.cases / m["cases"])]
                for r in top.itertuples()]
    assert tables["top-table"][1:] == expected[: len(tables["top-table"]) - 1]
    assert tables["top-table"][1] == ["Skipped step", "Verifikasi keabsahan oleh penyelia", "3", "3",
                                      _pct(3 / m["cases"])]
    # Per-step table: every SOP step with the counts of result.steps.
    rows = tables["steps-table"][1:]
    assert len(rows) == len(demo.steps)
    for row, s in zip(rows, demo.steps.itertuples(), strict=True):
        assert row[0] == f"{s.step_name} {s.step}"
        assert row[3:9] == [str(s.cases_required), str(s.cases_in_order), str(s.cases_skipped),
                            str(s.cases_out_of_order), str(s.cases_repeated), str(s.cases_waiting)]
    # The findings list holds every finding, in the result's order, with its source row.
    found = finding_rows(html)
    assert [r[0] for r in found] == dev["case_id"].tolist()
    assert [r[4] for r in found] == [str(v) if pd.notna(v) else "" for v in dev["event_row"]]
    assert (f"{conf} of {finished} cases ({_pct(conf / finished)}) followed the SOP; {finished - conf} cases "
            "deviated.") in html
    assert "cases had not finished when the log ends" not in html  # none is still open
    within = demo.cases["within_service_standard"]
    measured, ok = int(within.notna().sum()), int(within.fillna(False).sum())
    assert element_text(html, "card-service") == f"{100 * ok / measured:.1f}%"
    assert (f"{ok} of the {measured} cases measured ({100 * ok / measured:.1f}%) were served within the service "
            "standard.") in html


def test_indonesian_report_formats_numbers_and_dates_for_the_locale(demo, written):
    html = _html(written, "id")
    conf, finished = demo.metrics["conforming_cases"], demo.metrics["finished_cases"]
    assert element_text(html, "card-rate") == _pct(conf / finished, "id")
    assert (f"{conf} dari {finished} permohonan ({_pct(conf / finished, 'id')}) mengikuti SOP; {finished - conf} "
            "permohonan menyimpang.") in html
    last = demo.log["time:timestamp"].max()
    assert f"Periode log: 1 Maret 2024 s.d. {last.day} {ID_MONTHS[last.month]} {last.year}" in html
    assert "berlaku sejak 2 Januari 2024" in html
    # Event times in the log's own zone (WIB, Asia/Pontianak), Indonesian style.
    row = next(r for r in finding_rows(html, "baris bukti {rows}") if r[4] == "619")
    assert row[:3] == ["2024PAS00044", "Urutan tidak sesuai", "Wawancara"]
    assert row[5:] == ["15 Mar 2024 09.26", "Dewi"]
    assert row[3] == ("dilakukan sebelum 'Pengambilan foto dan sidik jari'; SOP menempatkannya sesudahnya "
                      "(baris bukti 620)")
    assert 'lang="id"' in html and "Ringkasan eksekutif" in html and "Daftar istilah" in html


def test_summary_json_agrees_with_the_result(demo, written):
    s = json.loads(written["en"]["summary"].read_text(encoding="utf-8"))
    m = demo.metrics
    assert s["schema_version"] == "1.2"
    assert s["warnings"] == []  # the demo's labels and mapping read its steps, cases and times
    for key in ("cases", "events", "variants", "conforming_cases", "finished_cases", "incomplete_cases",
                "deviations", "deviations_by_kind", "cases_with_kind", "accepted_deviations"):
        assert s[key] == m[key], key
    assert s["case_conformance_rate"] == pytest.approx(m["conforming_cases"] / m["finished_cases"])
    assert s["top_deviations"][0] == {"kind": "skipped", "step": "verifikasi_penyelia",
                                      "step_name": "Verifikasi keabsahan oleh penyelia", "findings": 3,
                                      "cases": 3, "share_cases": pytest.approx(3 / m["cases"])}
    done = demo.cases[~demo.cases["incomplete"]]
    month = done["start"].dt.strftime("%Y-%m")
    expected = [{"month": k, "finished_cases": len(g), "conforming_cases": int(g["conforming"].sum()),
                 "rate": pytest.approx(g["conforming"].mean())} for k, g in done.groupby(month)]
    assert s["conformance_by_month"] == expected
    times = demo.log["time:timestamp"]
    assert s["period"] == {"first_event": "2024-03-01T19:52:00+07:00", "last_event": times.max().isoformat()}
    assert s["steps"] == json.loads(demo.steps.to_json(orient="records"))
    # The service standard, recounted here from the case column of the time checks.
    within = demo.cases["within_service_standard"]
    assert s["service_standard"] == {"cases_measured": int(within.notna().sum()),
                                     "cases_within": int(within.fillna(False).sum()),
                                     "share_within": pytest.approx(within.fillna(False).sum() / within.notna().sum())}
    assert [(r["step"], r["measure"], r["n"]) for r in s["timing"]] == list(
        zip(demo.timing["step"], demo.timing["measure"], demo.timing["n"], strict=True))
    assert s["accepted"] == []
    # The ingest's data-quality report, as given.
    assert s["quality"] == json.loads(json.dumps(demo.quality, default=str))
    assert s["quality"]["rows_read"] == m["events"] and s["quality"]["cases"] == m["cases"]


def test_every_summary_key_is_documented():
    doc = (ROOT / "docs" / "report-schema.md").read_text(encoding="utf-8")
    section = doc[doc.index("## summary.json"):]
    documented = set(re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)?(?:, `([a-z_]+)`)?", section, re.M))
    keys = {k for group in documented for k in group if k}
    s = demo_result().summary()
    assert set(s) == keys
    assert 'schema_version "1.2"' in doc


def test_workbook_agrees_with_the_result(demo, written):
    wb = load_workbook(written["en"]["xlsx"])
    assert wb.sheetnames == ["Summary", "Findings", "Cases", "Steps", "Times", "Variants", "Data quality",
                             "Accepted deviations"]
    times = list(wb["Times"].iter_rows(values_only=True))
    assert [r[0] for r in times[1:]] == demo.timing["step"].tolist()
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    m = demo.metrics
    assert summary["Cases"] == m["cases"] and summary["Events"] == m["events"]
    assert summary["Conforming cases"] == m["conforming_cases"]
    assert summary["Case conformance rate"] == pytest.approx(m["conforming_cases"] / m["finished_cases"])
    assert summary["Findings"] == m["deviations"] == len(_open(demo.deviations))
    for kind in DEVIATING:
        assert summary[f"Findings: {KIND_LABELS_EN[kind]}"] == m["deviations_by_kind"][kind]
    assert f"Findings: {KIND_LABELS_EN['incomplete']}" not in summary
    assert summary["First event"] == dt.datetime(2024, 3, 1, 19, 52)
    ws = wb["Findings"]
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert head[:10] == ("Case", "Kind", "Kind code", "Step code", "Step", "Detail", "Source row", "Time (local)",
                         "Officer", "Evidence rows")
    dev = demo.deviations
    assert len(rows) - 1 == len(dev)
    assert [r[0] for r in rows[1:]] == dev["case_id"].tolist()
    assert [r[2] for r in rows[1:]] == dev["kind"].tolist()
    assert [r[6] for r in rows[1:]] == [None if pd.isna(v) else int(v) for v in dev["event_row"]]
    ooo = next(r for r in rows[1:] if r[6] == 619)
    assert ooo[7] == dt.datetime(2024, 3, 15, 9, 26) and ooo[8] == "Dewi" and ooo[9] == "620"
    assert ooo[5] == "done before 'Pengambilan foto dan sidik jari'; the SOP places it after them"
    cases = list(wb["Cases"].iter_rows(values_only=True))
    assert len(cases) - 1 == m["cases"]
    conforming_col = cases[0].index("Conforming")
    assert sum(bool(r[conforming_col]) for r in cases[1:]) == m["conforming_cases"]
    steps = list(wb["Steps"].iter_rows(values_only=True))
    assert [r[0] for r in steps[1:]] == demo.steps["step"].tolist()
    assert [r[3] for r in steps[1:]] == demo.steps["cases_required"].tolist()
    # Layout: frozen styled header, autofilter over the whole table, widths fitted to the content.
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{len(dev) + 1}"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("2B6CB0")
    # 12-character case ids + 2, stored as Excel stores widths (plus its 0.71-character cell padding).
    assert ws.column_dimensions["A"].width == 14.7109375
    assert wb["Accepted deviations"]["A2"].value == "No allow-list of accepted deviations was used in this audit."


def test_workbook_cases_sheet_beyond_its_row_limit_holds_the_cases_not_conforming(demo, tmp_path, monkeypatch):
    import sopaudit.report.xlsx as xlsx

    monkeypatch.setattr(xlsx, "CASE_ROWS", 5)
    path = write_report(demo, tmp_path, formats="xlsx", lang="en")["xlsx"]
    wb = load_workbook(path)
    cases = list(wb["Cases"].iter_rows(values_only=True))
    not_conforming = demo.cases.loc[~demo.cases["conforming"], "case_id"].tolist()
    assert [r[0] for r in cases[1:]] == not_conforming[:5]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Sheet Cases cut"] == (
        f"holds the first 5 of the {len(not_conforming)} cases that are not conforming, out of "
        f"{len(demo.cases)} cases; cases.csv has every case")
    assert len(list(wb["Findings"].iter_rows())) - 1 == len(demo.deviations)  # findings are not cut


def test_csv_tables_are_the_result_tables(demo, written):
    dev = pd.read_csv(written["en"]["deviations"])
    assert dev["case_id"].tolist() == demo.deviations["case_id"].tolist()
    assert len(pd.read_csv(written["en"]["cases"])) == demo.metrics["cases"]


# --- every section renders from what the result holds -------------------------------------------


def _with_time_quality_accepted(demo):
    """The demo result with the tables the time, ingest and allow-list stages add."""
    timing = pd.DataFrame([
        {"step": "pemeriksaan_berkas", "step_name": "x", "measure": "duration", "limit": 15.0, "unit": "minutes",
         "inferred": True, "events": 59, "n": 56, "n_invalid": 0, "n_late": 6, "share_within": 50 / 56,
         "median": 12.0, "p90": 14.5},
        {"step": "adjudikasi", "step_name": "x", "measure": "wait", "limit": 1.0, "unit": "working_days",
         "inferred": False, "events": 52, "n": 52, "n_invalid": 0, "n_late": 13, "share_within": 0.75,
         "median": 0.5, "p90": 1.5},
    ])
    cases = demo.cases.copy()
    days = pd.Series(np.arange(len(cases)) % 6, dtype="float64")
    days[:6] = np.nan  # not measured (e.g. rejected before the interview)
    cases["service_days"] = days
    cases["service_limit_days"] = 4.0
    cases["within_service_standard"] = pd.array([None if pd.isna(d) else d <= 4 for d in days], dtype="boolean")
    dev = demo.deviations.copy()
    unexpected = dev["kind"] == "unexpected"
    dev.loc[unexpected, "accepted"] = True
    dev.loc[unexpected, "accepted_reason"] = "Titip berkas diizinkan memo 7/2024 (approved by Kepala Kantor)"
    accepted = pd.DataFrame([{"line": 3, "kind": "unexpected", "step": "*", "condition": "", "valid_from": None,
                              "valid_to": dt.date(2024, 6, 30), "reason": "Titip berkas diizinkan memo 7/2024",
                              "approved_by": "Kepala Kantor", "findings_matched": 3}])
    quality = {"schema_version": "1.0", "rows_read": 815,
               "duplicates": {"count": 2, "policy": "keep", "pairs": [[3, 4], [7, 8]]},
               "cases_with_one_event": {"count": 0, "cases": []},
               "outside_office_hours": {"count": 12, "rows": list(range(1, 13)), "office_hours": "08:00-16:00"},
               "unmapped_labels": {"TITIP_BERKAS": 3},
               "late_rows": [{"row": 1, "time": "2024-03-01 19:52"}, {"row": 2, "time": "2024-03-01 20:12"}]}
    metrics = {**demo.metrics, "accepted_deviations": 3}
    return dataclasses.replace(demo, timing=timing, cases=cases, deviations=dev, accepted=accepted,
                               quality=quality, metrics=metrics, rejected=[(5, "no time"), (9, "no time"), (12, "no case id")])


def test_time_quality_and_accepted_sections_show_the_result_tables(demo, tmp_path):
    r = _with_time_quality_accepted(demo)
    html = render_html(r, "en")
    tables = html_tables(html)
    assert tables["timing-table"][1:] == [
        ["Pemeriksaan kelengkapan berkas, pemindaian dan perekaman data", "duration", "56", "12 minutes",
         "14.5 minutes", "15 minutes (estimated, not from the SOP text)", "89.3%"],
        ["Verifikasi dan adjudikasi", "wait before", "52", "0.5 working days", "1.5 working days",
         "1 working day", "75.0%"],
    ]
    # All but the first 6 cases measured: days 0..5 cycling; within when <= 4.
    days = r.cases["service_days"].dropna()
    n, within = len(days), int((days <= 4).sum())
    assert (n, within) == (len(r.cases) - 6, sum(i % 6 <= 4 for i in range(6, len(r.cases))))
    assert element_text(html, "service-result") == (
        f"{within} of the {n} cases measured ({_pct(within / n)}) were within the service standard.")
    assert element_text(html, "card-service") == _pct(within / n)
    assert f"{within} of the {n} cases measured ({_pct(within / n)}) were served within the service standard." in html
    assert 'id="chart-service"' in html and 'id="chart-step-times"' in html
    assert "The service is to be completed within 4 working days, from &#39;Wawancara&#39; to &#39;Laminasi" in html
    quality = {row[0]: row[1:] for row in tables["quality-table"]}
    assert "Rows read" not in quality and "schema_version" not in quality  # shown above / of no use
    assert quality["Exact duplicate rows"] == ["2 policy: keep pairs: [3, 4], [7, 8]"]
    assert quality["Cases with one event"] == ["0"]
    assert quality["Events outside office hours"] == ["12 rows: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 … (+2) office hours: 08:00-16:00"]
    assert quality["late rows"] == ["row time 1 2024-03-01 19:52 2 2024-03-01 20:12"]  # a key without a label
    assert tables["rejected-table"][1:] == [["no time", "2", "5, 9"], ["no case id", "1", "12"]]
    assert element_text(html, "rows-rejected") == "3"
    assert tables["accepted-table"][1:] == [["3", "Activity outside the SOP", "any step", "–", "… – June 30, 2024",
                                             "Titip berkas diizinkan memo 7/2024", "Kepala Kantor", "3"]]
    assert [row[0] for row in tables["accepted-findings"][1:]] == ["2024PAS00054", "2024PAS00055", "2024PAS00056"]
    # The three accepted findings carry their reason into the list (the script shows it as a badge).
    f = page_data(html)["findings"]
    reasons = sorted(f["texts"][x[8]] for x in f["rows"] if x[8] >= 0)
    assert reasons == ["Titip berkas diizinkan memo 7/2024 (approved by Kepala Kantor)"] * 3
    f = page_data(render_html(r, "id"))["findings"]
    reasons = sorted(f["texts"][x[8]] for x in f["rows"] if x[8] >= 0)
    assert reasons == ["Titip berkas diizinkan memo 7/2024 (disetujui oleh Kepala Kantor)"] * 3
    s = r.summary()
    assert s["service_standard"] == {"cases_measured": n, "cases_within": within, "share_within": within / n}
    assert s["timing"][1]["share_within"] == 0.75 and s["quality"]["unmapped_labels"] == {"TITIP_BERKAS": 3}
    assert s["accepted"][0]["valid_to"] == "2024-06-30" and s["rows_rejected_by_reason"] == {"no case id": 1, "no time": 2}
    path = write_report(r, tmp_path, formats="xlsx", lang="id")["xlsx"]
    wb = load_workbook(path)
    assert wb.sheetnames == ["Ringkasan", "Temuan", "Permohonan", "Langkah", "Waktu", "Varian", "Kualitas data",
                             "Baris ditolak", "Penyimpangan diterima"]
    q = list(wb["Kualitas data"].iter_rows(min_row=2, values_only=True))
    # Keys in the workbook's language; values and row numbers as recorded.
    assert ("Baris duplikat persis", "jumlah", 2) in q and ("Baris duplikat persis", "pasangan", "[3, 4]; [7, 8]") in q
    assert ("Label yang tidak dipetakan ke langkah SOP", "TITIP_BERKAS", 3) in q
    assert ("Peristiwa di luar jam kerja", "baris", "; ".join(str(i) for i in range(1, 13))) in q
    assert ("late_rows", "1", "row=1; time=2024-03-01 19:52") in q
    assert list(wb["Baris ditolak"].iter_rows(values_only=True)) == [("Baris sumber", "Alasan"), (5, "no time"),
                                                                   (9, "no time"), (12, "no case id")]
    share = [c for c in wb["Waktu"][2] if c.value == 50 / 56][0]
    assert share.number_format == "0.0%"


def test_sections_say_in_words_what_the_result_does_not_hold(demo, mini_sop):
    # The demo audit without the tables and columns of the time checks.
    bare = dataclasses.replace(demo, timing=pd.DataFrame(), cases=demo.cases.drop(
        columns=["service_days", "service_limit_days", "within_service_standard"], errors="ignore"))
    html = render_html(bare, "en")
    assert element_text(html, "no-timing") == "No step times were measured in this audit."
    assert "The service standard was not measured in this audit" in html
    assert element_text(html, "card-service") == "–"
    html_no_quality = render_html(dataclasses.replace(demo, quality={}), "en")
    assert element_text(html_no_quality, "no-quality").startswith("No data-quality report came with this log")
    assert element_text(html, "no-accepted") == "No allow-list of accepted deviations was used in this audit."
    # An SOP without time standards, and a log without officers.
    import sopaudit as sa

    log = make_log({"c1": ["a", "c", "d", "e", "f", "g"], "c2": ["a", "d", "e", "f", "g"]}).drop(columns="org:resource")
    r = sa.audit(log, mini_sop, processes=1)
    html = render_html(r, "id")
    assert element_text(html, "no-time-standards").startswith("Tidak ada standar waktu dalam SOP ini")
    assert "Log tidak mencatat petugas untuk peristiwa" in html
    assert "SOP ini tidak menetapkan pemisahan tugas." in html


def _nodes(svg: str) -> dict[str, str]:
    """Text of every node of a drawing (its lines joined by spaces) -> its fill colour."""
    out = {}
    for body in re.findall(r'<g class="node">(.*?)</g>', svg, re.S):
        text = " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", body))
        fill = re.search(r'<(?:rect|polygon|ellipse)[^>]*fill="([^"]+)"', body)
        out[text] = fill.group(1) if fill else ""
    return out


def _sides(html: str) -> tuple[str, str]:
    side = html[html.index('id="process"'):html.index('id="steps"')]
    sop_side, actual_side = side.split('id="actual-side"')
    assert "<svg" in sop_side and "<svg" in actual_side
    return sop_side, actual_side


def _wawancara(demo) -> tuple[int, int, int, int]:
    """Cases that required the interview, did it in order, its events and open findings."""
    row = demo.steps.set_index("step").loc["wawancara"]
    events = int((demo.log["concept:name"] == "wawancara").sum())
    findings = int((_open(demo.deviations)["step"] == "wawancara").sum())
    return int(row["cases_required"]), int(row["cases_in_order"]), events, findings


def _check_sides(html: str, demo) -> None:
    sop_side, actual_side = _sides(html)
    sop_nodes, actual_nodes = _nodes(sop_side), _nodes(actual_side)
    # The SOP flowchart, each step box filled by the share of its cases done in order:
    # the interview between 80% and 95% (skips, swaps and repeats), the first step all.
    required, in_order, events, _ = _wawancara(demo)
    assert 0.80 <= in_order / required < 0.95
    wawancara = next(k for k in sop_nodes if k.startswith("8. Wawancara"))
    assert sop_nodes[wawancara] == "#fefcbf"
    assert sop_nodes[next(k for k in sop_nodes if k.startswith("1. Pra-permohonan"))] == "#c6f6d5"
    # The actual process from the log: the activity outside the SOP in red, with its count.
    assert actual_nodes["TITIP_BERKAS 3"] == "#c53030"
    assert any(k.startswith("Wawancara") and k.endswith(f" {events}") for k in actual_nodes)


def test_the_sop_beside_the_actual_process(demo, written):
    html = _html(written, "en")
    _check_sides(html, demo)
    # The comparison drawing counts every flow the SOP does not allow (tests/test_compare.py
    # derives the same 13 flows, 35 times, 22 cases of the demo log with pandas).
    _, actual_side = _sides(html)
    assert "Flows the SOP does not allow: 13 flows, 35 times, in 22 cases" in actual_side


def test_without_the_comparison_drawings_the_report_draws_its_own(demo, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sopaudit.discovery.overlay", None)  # as if the discovery stage were absent
    html = render_html(demo, "en")
    _check_sides(html, demo)
    sop_side, actual_side = _sides(html)
    m = demo.metrics
    assert f"Actual process: {m['cases']} cases, {m['events']} events" in actual_side
    required, in_order, events, findings = _wawancara(demo)
    assert re.search(rf'<title>Wawancara \(wawancara\)\n{events} events\n{findings} findings</title>\s*'
                     r'<rect[^>]*stroke="#c53030"', actual_side)
    assert f"{_pct(in_order / required)} in order, of {required}" in sop_side
    assert 'class="legend"' in actual_side


def test_an_sop_without_a_flow_is_shown_as_its_list_of_steps(demo, monkeypatch):
    import sys

    # Without the discovery stage's SOP map, an imported SOP (no written flow) is a list of steps.
    monkeypatch.setitem(sys.modules, "sopaudit.discovery.overlay", None)
    r = dataclasses.replace(demo, sop=dataclasses.replace(demo.sop, flow=None))
    html = render_html(r, "en")
    side = html[html.index('id="sop-side"'):html.index('id="actual-side"')]
    assert "<svg" not in side
    required, in_order, _, _ = _wawancara(demo)
    assert f"required in {required} cases; {_pct(in_order / required)} in order" in side


# --- safety ---------------------------------------------------------------------------------


HOSTILE_CASE = '=HYPERLINK("http://evil.example/x","click")'
HOSTILE_ACT = "<script>alert(1)</script>"


def _hostile_result(mini_sop):
    import sopaudit as sa

    log = make_log({
        HOSTILE_CASE: ["a", HOSTILE_ACT, "c", "d", "e", "f", "g"],
        "@SUM(1+1)": ["a", "</script><script>alert(2)</script>", "c", "d", "e", "f", "g"],
        "c3": ["a", "$\\alpha$ & <b>", "c", "d", "e", "f", "g"],
    }, resource="-cmd|' /C calc'!A0")
    return sa.audit(log, mini_sop, processes=1)


def test_values_from_exports_are_text_in_the_page(mini_sop, tmp_path):
    r = _hostile_result(mini_sop)
    paths = write_report(r, tmp_path, lang="en")
    html = paths["report"].read_text(encoding="utf-8")
    assert html.count("<script") == 2  # the data block and the report's own script
    assert re.search(r"<script[^>]*>\s*alert", html, re.I) is None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    data_block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data_block and ">" not in data_block
    data = page_data(html)  # the exact values come back out of the escaped JSON
    labels = [e[2] for e in data["cases"][HOSTILE_CASE]["e"]]
    assert labels == ["a", HOSTILE_ACT, "c", "d", "e", "f", "g"]
    assert data["cases"]["@SUM(1+1)"]["e"][1][2] == "</script><script>alert(2)</script>"
    # The only script allowed to run is the report's own, by its hash.
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html and "unsafe-inline'; img-src" not in html.split("script-src")[1][:80]
    assert "$\\alpha$ &amp; &lt;b&gt;" in html  # drawn as written, not as math or markup
    assert not re.search(r"(src|href)=\"(https?:)?//", html)


def test_formulas_are_neutralised_in_csv_and_xlsx(mini_sop, tmp_path):
    r = _hostile_result(mini_sop)
    paths = write_report(r, tmp_path, formats="csv,xlsx", lang="en")
    dev = pd.read_csv(paths["deviations"], dtype=str)
    assert set(dev["case_id"]) == {"'" + HOSTILE_CASE, "'@SUM(1+1)", "c3"}
    assert (dev["resource"] == "'-cmd|' /C calc'!A0").all()
    cases = pd.read_csv(paths["cases"], dtype=str)
    assert "'" + HOSTILE_CASE in set(cases["case_id"])
    wb = load_workbook(paths["xlsx"])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + HOSTILE_CASE in texts and "'@SUM(1+1)" in texts and "'-cmd|' /C calc'!A0" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)


# --- languages, determinism, options ------------------------------------------------------------


def test_fast_event_times_are_babels_text():
    rng = np.random.default_rng(1)
    instants = pd.to_datetime(rng.integers(-2_000_000_000, 4_000_000_000, 600), unit="s", utc=True)
    columns = [instants.tz_convert("Asia/Makassar"), instants.tz_convert("Europe/Amsterdam"),  # DST
               instants.tz_convert("Asia/Kathmandu"), instants.tz_localize(None),  # +05:45; naive
               pd.Series(instants.tz_convert("Asia/Jakarta")).dt.as_unit("s"),
               pd.Series(list(instants.tz_convert("Asia/Jayapura")[:50]) + [None, pd.NaT], dtype=object)]
    for lang in ("id", "en"):
        for times in columns:
            expected = [format_time(t, lang) for t in times]
            assert time_texts(times, lang) == expected
            with_gaps = pd.Series(times).where(np.arange(len(times)) % 7 != 3)  # NaT among them
            assert time_texts(with_gaps, lang) == [format_time(t, lang) for t in with_gaps]
    assert time_texts([pd.Timestamp("2024-08-04 09:06", tz="Asia/Jakarta")], "id") == ["4 Agu 2024 09.06"]
    assert time_texts(pd.Series([pd.NaT, pd.Timestamp("0099-01-05 07:08")], dtype="datetime64[s]"), "en") == [
        "", "5 Jan 0099 07:08"]  # a year before 1000, padded as Babel pads it
    assert time_texts([], "en") == [] and time_texts([None], "en") == [""]


def test_catalogs_have_the_same_keys_and_placeholders():
    en, idn = catalog("en"), catalog("id")
    assert set(en) == set(idn)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", idn[key])), key
    for kind in ALL_KINDS:
        assert f"kind.{kind}" in en and f"kind_help.{kind}" in en


def test_locale_formatting():
    assert format_number(1234567.891, "id", 1) == "1.234.567,9"
    assert format_number(1234567.891, "en", 1) == "1,234,567.9"
    assert format_percent(0.6428, "id") == "64,3%" and format_percent(None, "en") == "–"
    assert format_date(dt.date(2024, 8, 17), "id") == "17 Agustus 2024"
    assert format_date(dt.date(2024, 8, 17), "en") == "August 17, 2024"
    assert format_month("2024-08", "id") == "Agu 2024" and format_month("2024-05", "id") == "Mei 2024"


def test_same_result_same_bytes(demo):
    assert render_html(demo, "id") == render_html(demo, "id")


def test_report_options():
    assert parse_formats("html, XLSX") == ("html", "xlsx")
    assert parse_formats(None) == ("html", "xlsx", "csv", "json")
    with pytest.raises(ReportOptionError, match=r"unknown report format\(s\) 'pdf'; choose from html, xlsx, csv, json"):
        parse_formats("html,pdf")


def test_cli_formats_option(tmp_path):
    from click.testing import CliRunner

    from sopaudit.cli import main

    from conftest import DEMO_LOG

    res = CliRunner().invoke(main, ["audit", "--log", str(DEMO_LOG), "--sop", str(PASSPORT_SOP), "--out",
                                    str(tmp_path), "--case", "no_permohonan", "--activity", "tahapan", "--time",
                                    "waktu", "--formats", "json,xlsx", "--processes", "1"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in tmp_path.iterdir()} - {"quality.json"}  # the ingest's report, written apart
    assert names == {"findings.xlsx", "summary.json"}
    res = CliRunner().invoke(main, ["audit", "--log", str(DEMO_LOG), "--sop", str(PASSPORT_SOP), "--out",
                                    str(tmp_path / "x"), "--case", "no_permohonan", "--activity", "tahapan",
                                    "--time", "waktu", "--formats", "pdf", "--processes", "1"])
    assert res.exit_code == 2 and "unknown report format(s) 'pdf'" in res.output


# --- large audits ------------------------------------------------------------------------------


def test_a_million_cases_keep_the_page_under_10_mb(passport_sop, monkeypatch):
    import sys

    # The report's own process map (discover + draw) instead of the discovery stage's comparison
    # map, which takes ~18 s on these 3 million events; the page size does not depend on it
    # (both maps draw at most 30 activities).
    monkeypatch.setitem(sys.modules, "sopaudit.discovery.overlay", None)
    r = big_result(passport_sop)
    started = time.time()
    html = render_html(r, "en")
    seconds = time.time() - started
    size = len(html.encode("utf-8"))
    print(f"report.html for 1,000,000 cases: {size / 1e6:.2f} MB in {seconds:.1f} s")
    assert size < 10_000_000
    assert element_text(html, "card-cases") == "1,000,000"
    assert element_text(html, "findings-capped") == (
        "Showing 20,000 of 333,334 findings (the first ones of every kind, by case number); the full list is in "
        "deviations.csv and findings.xlsx.")
    rows = finding_rows(html)
    assert len(rows) == 20_000
    four = ("skipped", "out_of_order", "repeated", "unexpected")
    assert pd.Series([r[1] for r in rows]).value_counts().to_dict() == {KIND_LABELS_EN[k]: 5000 for k in four}
    data = page_data(html)
    assert len(data["cases"]) == 1000
    assert all(len(c["e"]) == 3 for c in data["cases"].values())
    assert sum(r[9] for r in data["findings"]["rows"]) == 1000  # the rows with a drill-down
    assert element_text(html, "card-rate") == format_percent(r.metrics["case_conformance_rate"], "en")


def test_docs_name_the_report_files():
    doc = Path(ROOT / "docs" / "report-schema.md").read_text(encoding="utf-8")
    for name in ("report.html", "findings.xlsx", "deviations.csv", "cases.csv", "steps.csv", "variants.csv",
                 "summary.json", "timing.csv"):
        assert f"`{name}`" in doc


@pytest.mark.parametrize("kind", ["category", "string"])
def test_officers_count_each_officers_events_by_name(kind):
    from types import SimpleNamespace

    from sopaudit.report.figures import officers

    names = ["ani", "budi", None, "ani", "citra", "ani", "budi", 1, "1"]
    resource = pd.Series(names, dtype=kind)
    if kind == "category":  # an officer without events, categories out of order, two that read "1"
        resource = pd.Series(pd.Categorical(names, categories=["citra", "dedi", "budi", "ani", 1, "1"]))
    log = pd.DataFrame({"org:resource": resource})
    deviations = pd.DataFrame({"resource": ["budi", "budi", "ani"], "kind": ["skipped", "repeated", "skipped"],
                               "accepted": [False, False, False]})
    table = officers(SimpleNamespace(log=log, deviations=deviations), n=None)
    assert table[["resource", "events", "skipped", "repeated", "findings"]].values.tolist() == [
        ["budi", 2, 1, 1, 2], ["ani", 3, 1, 0, 1], ["1", 2, 0, 0, 0], ["citra", 1, 0, 0, 0]]
