"""`sopaudit ingest` (summary, -o, --suggest, --strict) and `sopaudit audit --mapping/--strict`."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from sopaudit.cli import main

from conftest import DEMO_LOG, FIXTURES, PASSPORT_SOP

F = FIXTURES / "ingest"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_ingest_prints_the_quality_summary_and_writes_the_log(tmp_path):
    out = tmp_path / "log.parquet"
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--case", "no_permohonan", "--activity", "tahapan",
              "--time", "waktu", "--resource", "petugas", "-o", out, "--quality-json", tmp_path / "q.json")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"read       9 rows from {F / 'semicolon_bom_dayfirst.csv'} (csv, utf-8-sig, separator ';')"
    assert lines[1] == "events     6 in 3 cases   times: day-first (31/12/2024 14:05) 8"
    assert lines[2:6] == [
        "rejected   3 rows",
        "           1 missing or unreadable time in column 'waktu' (rows 5)",
        "           1 no activity in column 'tahapan' (rows 8)",
        "           1 no case id in column 'no_permohonan' (rows 7)",
    ]
    assert lines[6] == "duplicates 1 exact duplicate rows (keep: kept as events): rows 3 = 2"
    assert f"written    {out}  (6 events)" in lines
    assert len(pd.read_parquet(out)) == 6
    q = json.loads((tmp_path / "q.json").read_text(encoding="utf-8"))
    assert q["rows_rejected"] == 3 and q["duplicates"]["pairs"] == [[3, 2]]


def test_suggest_proposes_a_mapping_and_applies_nothing(tmp_path):
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--suggest")
    assert res.exit_code == 0, res.output
    body = [ln.split("    #")[0] for ln in res.output.splitlines() if not ln.startswith("#")]
    assert body == [
        "timestamp: waktu",
        "case: no_permohonan",
        "activity: tahapan",
        "resource: petugas",
        "time_format: dayfirst",
        "tz: Asia/Jakarta",
        "case_attributes: [jenis_layanan]",
        "event_attributes: [loket]",
        "duplicates: keep",
    ]
    assert "# Mapping proposed by `sopaudit ingest" in res.output and "Nothing was applied" in res.output
    # the proposal, saved, reads the file
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(res.output, encoding="utf-8")
    again = run("ingest", F / "semicolon_bom_dayfirst.csv", "--mapping", mapping)
    assert again.exit_code == 0 and "events     6 in 3 cases" in again.output
    # nothing is applied with --suggest, and it takes no mapping
    refused = run("ingest", F / "semicolon_bom_dayfirst.csv", "--suggest", "--case", "x")
    assert refused.exit_code == 2 and "--suggest only proposes a mapping; drop --case" in refused.output


def test_suggest_flags_ambiguous_dates_and_lifecycle_columns():
    res = run("ingest", F / "ambiguous_dates.csv", "--suggest")
    assert res.exit_code == 0, res.output
    assert "# NOTE: the dates in 'timestamp' (e.g. '01/02/2024 10:00') have no number above 12" in res.output
    assert "time_format: dayfirst    # REQUIRED: confirm dayfirst or change it to monthfirst" in res.output
    life = run("ingest", F / "lifecycle_pairs.csv", "--suggest")
    assert "lifecycle: transition    # its values are lifecycle words" in life.output
    assert "activity: activity" in life.output and "resource: resource" in life.output


def test_suggest_indonesian_month_names():
    res = run("ingest", F / "bulan_indonesia.csv", "--suggest")
    assert "case: nomor_permohonan" in res.output and "activity: status" in res.output
    assert "timestamp: tanggal" in res.output and "resource: petugas" in res.output


def test_ingest_strict_exits_2_with_the_first_problem():
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--mapping", F / "mapping_semicolon.yaml", "--strict")
    assert res.exit_code == 2
    assert "semicolon_bom_dayfirst.csv, row 3: exact duplicate of row 2. --strict stops at the first problem" in res.output
    assert "Traceback" not in res.output


def test_mapping_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("case: no_permohonan\nactivty: tahapan\n", encoding="utf-8")
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--mapping", bad)
    assert res.exit_code == 2 and f"{bad}, line 2: unknown key 'activty'" in res.output
    bad.write_text("case: no_permohonan\ntime_format: tomorrow\n", encoding="utf-8")
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--mapping", bad)
    assert res.exit_code == 2 and f"{bad}, line 2: time format 'tomorrow' is not understood" in res.output
    bad.write_text("case: no_permohonan\ntz: Mars/Olympus\n", encoding="utf-8")
    res = run("ingest", F / "semicolon_bom_dayfirst.csv", "--mapping", bad)
    assert res.exit_code == 2 and f"{bad}, line 2: unknown time zone 'Mars/Olympus'" in res.output


def test_audit_with_mapping_file_writes_quality_json(tmp_path):
    mapping = tmp_path / "demo.yaml"
    mapping.write_text("case: no_permohonan\nactivity: tahapan\ntimestamp: waktu\nresource: petugas\n"
                       "tz: Asia/Pontianak\n", encoding="utf-8")
    res = run("audit", "--log", DEMO_LOG, "--sop", PASSPORT_SOP, "--out", tmp_path / "o", "--mapping", mapping,
              "--lang", "en", "--formats", "json")
    assert res.exit_code == 0, res.output
    src = pd.read_csv(DEMO_LOG, dtype=str)
    rows, cases = len(src), src["no_permohonan"].nunique()
    assert f"cases      {cases}   events {rows}" in res.output
    q = json.loads((tmp_path / "o" / "quality.json").read_text(encoding="utf-8"))
    assert (q["rows_read"], q["events"], q["cases"], q["mapping"]["tz"]) == (rows, rows, cases, "Asia/Pontianak")


def test_audit_strict_stops_on_a_bad_row(tmp_path):
    src = pd.read_csv(DEMO_LOG, dtype=str)
    src.loc[4, "waktu"] = "kemarin"
    path = tmp_path / "log.csv"
    src.to_csv(path, index=False)
    res = run("audit", "--log", path, "--sop", PASSPORT_SOP, "--out", tmp_path / "o", "--case", "no_permohonan",
              "--activity", "tahapan", "--time", "waktu", "--strict")
    assert res.exit_code == 2
    assert f"{path}, row 5: missing or unreadable time in column 'waktu'. --strict stops" in res.output
