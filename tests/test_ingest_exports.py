"""Messy service-system exports (tests/fixtures/ingest): exact cases, events, times and rejected rows."""

from __future__ import annotations

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.core.errors import InputFileError, MappingError

from conftest import FIXTURES

F = FIXTURES / "ingest"
NOW = pd.Timestamp("2025-06-01", tz="UTC")


def times(log, col="time:timestamp") -> list[str]:
    return [t.isoformat() for t in log[col]]


def events(log) -> list[tuple]:
    return list(zip(log["case:concept:name"].astype(str), log["concept:name"].astype(str),
                    times(log), log["sopaudit:row"].astype(int), strict=True))


def quality(log) -> dict:
    return log.attrs["sopaudit"].quality


SEMICOLON = dict(case="no_permohonan", activity="tahapan", time="waktu", resource="petugas")


def test_semicolon_csv_with_bom_dayfirst_dates_and_trailing_spaces():
    log = sa.read_log(F / "semicolon_bom_dayfirst.csv", now=NOW, **SEMICOLON)
    assert events(log) == [
        ("2024PAS001", "PERIKSA_BERKAS", "2024-03-04T08:15:00+07:00", 1),
        ("2024PAS001", "FOTO", "2024-03-04T08:40:00+07:00", 2),
        ("2024PAS001", "FOTO", "2024-03-04T08:40:00+07:00", 3),  # the duplicate is kept (default)
        ("2024PAS002", "PERIKSA_BERKAS", "2024-03-13T09:05:00+07:00", 4),
        ("2024PAS002", "WAWANCARA", "2024-03-13T10:30:00+07:00", 6),  # '10.30': Indonesian time
        ("2024PAS003", "PERIKSA_BERKAS", "2024-03-31T23:59:00+07:00", 9),
    ]
    info = log.attrs["sopaudit"]
    assert info.rejected == (
        (5, "missing or unreadable time in column 'waktu'"),
        (7, "no case id in column 'no_permohonan'"),
        (8, "no activity in column 'tahapan'"),
    )
    q = quality(log)
    assert q["source"]["encoding"] == "utf-8-sig" and q["source"]["delimiter"] == ";"
    assert (q["rows_read"], q["events"], q["cases"], q["rows_rejected"]) == (9, 6, 3, 3)
    assert q["time_formats"] == {"day-first (31/12/2024 14:05)": 8}
    assert q["mapping"]["date_order"] == "dayfirst"
    # trailing spaces are trimmed and counted per column
    assert q["trimmed_values"] == {"no_permohonan": 1, "tahapan": 1, "petugas": 1}
    assert list(log["org:resource"].astype(str)) == ["Rina", "Budi", "Budi", "Rina", "Sari", "Rina"]
    assert q["duplicates"] == {"count": 1, "policy": "keep", "pairs": [[3, 2]]}
    assert q["cases_with_one_event"] == {"count": 1, "cases": ["2024PAS003"]}
    assert q["ties"] == {"count": 2, "rows": [2, 3], "groups": 1}
    # 31 March 2024 is a Sunday (and 23:59 is after hours); the other times are on working hours
    assert q["outside_office_hours"]["count"] == 1 and q["outside_office_hours"]["rows"] == [9]
    assert q["future"]["count"] == 0 and q["before_plausible_start"]["count"] == 0
    assert q["rejected_by_reason"] == [
        {"reason": "missing or unreadable time in column 'waktu'", "count": 1, "rows": [5]},
        {"reason": "no activity in column 'tahapan'", "count": 1, "rows": [8]},
        {"reason": "no case id in column 'no_permohonan'", "count": 1, "rows": [7]},
    ]
    # every row is an event or a rejected row
    assert q["events"] + q["rows_rejected"] == q["rows_read"]


def test_mapping_file_with_label_table_drops_duplicates_and_sets_zone():
    log = sa.read_log(F / "semicolon_bom_dayfirst.csv", mapping=F / "mapping_semicolon.yaml", now=NOW)
    assert list(log.columns) == ["case:concept:name", "concept:name", "time:timestamp", "org:resource",
                                 "loket", "jenis_layanan", "sopaudit:row", "sopaudit:label"]
    assert list(log["concept:name"].astype(str)) == ["pemeriksaan_berkas", "foto_sidik_jari", "pemeriksaan_berkas",
                                                     "WAWANCARA", "pemeriksaan_berkas"]
    assert list(log["sopaudit:label"].astype(str)) == ["PERIKSA_BERKAS", "FOTO", "PERIKSA_BERKAS", "WAWANCARA",
                                                       "PERIKSA_BERKAS"]
    assert times(log)[0] == "2024-03-04T08:15:00+08:00"  # tz: WITA
    info = log.attrs["sopaudit"]
    assert info.rejected[0] == (3, "exact duplicate of an earlier row (dropped)")
    q = quality(log)
    assert q["labels"]["unmapped"] == [{"label": "WAWANCARA", "count": 1}]
    assert q["labels"]["mapped_rows"] == 4 and q["labels"]["table_labels_not_seen"] == ["SERAHKAN"]
    assert q["duplicates"]["policy"] == "drop" and q["events"] + q["rows_rejected"] == q["rows_read"] == 9
    assert q["mapping"]["tz"] == "Asia/Makassar" and q["mapping"]["case_attributes"] == {"jenis_layanan": "jenis_layanan"}


def test_flags_override_the_mapping_file():
    log = sa.read_log(F / "semicolon_bom_dayfirst.csv", mapping=F / "mapping_semicolon.yaml", tz="WIT",
                      duplicates="keep", now=NOW)
    assert times(log)[0] == "2024-03-04T08:15:00+09:00" and len(log) == 6


def test_indonesian_and_english_month_names():
    log = sa.read_log(F / "bulan_indonesia.csv", case="nomor_permohonan", activity="status", time="tanggal", now=NOW)
    assert events(log) == [
        ("A1", "PRA_PERMOHONAN", "2024-08-02T00:00:00+07:00", 1),   # 2 Agustus 2024 (date only)
        ("A1", "PERIKSA_BERKAS", "2024-08-03T13:00:00+07:00", 2),   # 3 Agu 2024 13:00
        ("A1", "WAWANCARA", "2024-08-05T09:15:00+07:00", 3),        # Senin, 5 Agt 2024 pukul 09.15
        ("A2", "PRA_PERMOHONAN", "2024-12-30T14:05:00+07:00", 4),   # 30 Des 2024 14:05
        ("A2", "PERIKSA_BERKAS", "2024-12-31T14:05:00+07:00", 5),   # 31 Des 2024 14:05 WIB
        ("A2", "WAWANCARA", "2024-12-31T14:05:00+07:00", 6),        # Dec 31, 2024 2:05 PM
        ("A3", "PRA_PERMOHONAN", "2024-10-01T08:00:00+07:00", 7),   # 1 Okt 2024 08:00
        ("A3", "PERIKSA_BERKAS", "2025-05-15T10:00:00+07:00", 8),   # 15 Mei 2025 10:00
    ]
    assert log.attrs["sopaudit"].rejected == (
        (9, "missing or unreadable time in column 'tanggal'"),   # 15 Foo 2025: no such month
        (10, "missing or unreadable time in column 'tanggal'"),  # 30 Februari: no such day
    )
    assert quality(log)["time_formats"] == {"month name (31 Des 2024 14:05)": 7,
                                            "month name, month first (Dec 31, 2024)": 1}


def test_zone_in_the_value_wins_over_the_configured_zone():
    log = sa.read_log(F / "bulan_indonesia.csv", case="nomor_permohonan", activity="status", time="tanggal",
                      tz="Asia/Jayapura", now=NOW)
    by_row = dict(zip(log["sopaudit:row"], times(log), strict=True))
    assert by_row[4] == "2024-12-30T14:05:00+09:00"      # naive: local time of the configured zone
    assert by_row[5] == "2024-12-31T16:05:00+09:00"      # '14:05 WIB' is 16:05 WIT


def test_cp1252_tab_separated_with_excel_serial_dates():
    log = sa.read_log(F / "tab_cp1252_excel_serial.csv", case="id", activity="aktivitas", time="waktu",
                      resource="petugas", now=NOW)
    assert events(log) == [
        ("K-01", "Pemeriksaan berkas", "2024-03-04T08:15:00+07:00", 1),
        ("K-01", "Wawancara", "2024-03-04T12:00:00+07:00", 2),
        ("K-02", "Pemeriksaan berkas", "2024-03-05T00:00:00+07:00", 3),
    ]
    assert list(log["org:resource"].astype(str)) == ["José", "José", "André"]
    assert log["catatan"].iloc[0] == "berkas lengkap – ok" and log["catatan"].isna().sum() == 2
    q = quality(log)
    assert q["source"]["encoding"] == "cp1252" and q["source"]["delimiter"] == "\t"
    assert q["time_formats"] == {"Excel serial date (45657.59)": 3}


def test_lifecycle_pairs_become_one_event_with_start_and_end():
    log = sa.read_log(F / "lifecycle_pairs.csv", lifecycle="transition", now=NOW)
    assert events(log) == [
        ("C1", "Periksa", "2024-03-04T08:12:00+07:00", 2),
        ("C1", "Foto", "2024-03-04T08:25:00+07:00", 4),
        ("C1", "Foto", "2024-03-04T08:33:00+07:00", 6),
        ("C2", "Periksa", "2024-03-04T09:10:00+07:00", 8),   # mulai/selesai are start/complete too
        ("C2", "Wawancara", "2024-03-04T09:30:00+07:00", 9),  # complete without a start
        ("C2", "Cetak", "2024-03-04T10:00:00+07:00", 10),     # start never completed
    ]
    assert times(log, "start_timestamp") == [
        "2024-03-04T08:00:00+07:00", "2024-03-04T08:20:00+07:00", "2024-03-04T08:30:00+07:00",
        "2024-03-04T09:00:00+07:00", "2024-03-04T09:30:00+07:00", "2024-03-04T10:00:00+07:00"]
    assert log["sopaudit:start_row"].tolist() == [1, 3, 5, 7, pd.NA, pd.NA]
    q = quality(log)
    assert q["lifecycle"] == {"column": "transition", "pairs": 4,
                              "unmatched_start": {"count": 1, "rows": [10]},
                              "unmatched_complete": {"count": 1, "rows": [9]}}
    assert log.attrs["sopaudit"].rejected == (
        (11, "lifecycle value 'suspend' in column 'transition' is neither a start nor a complete; "
             "list it under lifecycle_values"),)
    assert q["events"] == 6 and q["rows_read"] == 11


def test_start_and_end_columns():
    log = sa.read_log(F / "start_end.csv", case="no_permohonan", activity="tahapan", start="waktu_mulai",
                      time="waktu_selesai", now=NOW)
    assert times(log) == ["2024-03-04T08:12:00+07:00", "2024-03-04T08:25:00+07:00",
                          "2024-03-05T09:10:00+07:00", "2024-03-05T09:30:00+07:00"]
    assert times(log, "start_timestamp") == ["2024-03-04T08:00:00+07:00", "2024-03-04T08:20:00+07:00",
                                             "2024-03-05T09:10:00+07:00", "2024-03-05T09:40:00+07:00"]
    q = quality(log)
    assert q["start_missing"] == {"count": 1, "rows": [3]}
    assert q["start_after_end"] == {"count": 1, "rows": [4]}


def test_ties_keep_file_order_or_follow_the_sequence_column():
    plain = sa.read_log(F / "ties_sequence.csv", now=NOW)
    assert list(plain["concept:name"].astype(str)) == ["C", "A", "B", "D"]
    assert quality(plain)["ties"] == {"count": 3, "rows": [1, 2, 3], "groups": 1}
    ordered = sa.read_log(F / "ties_sequence.csv", sequence="urutan", now=NOW)
    assert list(ordered["concept:name"].astype(str)) == ["A", "B", "C", "D"]
    assert list(ordered["sopaudit:row"]) == [2, 3, 1, 4]


def test_ambiguous_day_month_order_is_an_error_asking_for_the_format():
    with pytest.raises(MappingError) as err:
        sa.read_log(F / "ambiguous_dates.csv")
    msg = str(err.value)
    assert "ambiguous_dates.csv: the dates in column 'timestamp' are ambiguous: in '01/02/2024 10:00' (row 1)" in msg
    assert "--time-format dayfirst or --time-format monthfirst" in msg
    dayfirst = sa.read_log(F / "ambiguous_dates.csv", time_format="dayfirst", now=NOW)
    monthfirst = sa.read_log(F / "ambiguous_dates.csv", time_format="monthfirst", now=NOW)
    assert times(dayfirst)[0] == "2024-02-01T10:00:00+07:00"
    assert times(monthfirst)[0] == "2024-01-02T10:00:00+07:00"


def test_contradicting_day_month_order_is_an_error(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_text("case_id,activity,timestamp\nA,x,31/01/2024 10:00\nA,y,01/31/2024 11:00\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"contradict each other: '31/01/2024 10:00' \(row 1\) can only be "
                                           r"day-first, '01/31/2024 11:00' \(row 2\) only month-first"):
        sa.read_log(p)
    log = sa.read_log(p, time_format="dayfirst", now=NOW)
    assert log.attrs["sopaudit"].rejected == (
        (2, "time in column 'timestamp' can only be read month-first, but the column is day-first"),)


def test_strict_stops_at_the_first_problem():
    with pytest.raises(InputFileError) as err:
        sa.read_log(F / "semicolon_bom_dayfirst.csv", strict=True, **SEMICOLON)
    assert str(err.value).startswith(
        f"{F / 'semicolon_bom_dayfirst.csv'}, row 3: exact duplicate of row 2. --strict stops at the first problem")
    # the first problem in row order: row 9 (a complete without start) before rows 10 and 11
    with pytest.raises(InputFileError, match=r"lifecycle_pairs.csv, row 9: a lifecycle complete without a start"):
        sa.read_log(F / "lifecycle_pairs.csv", strict=True, lifecycle="transition")
    clean = sa.read_log(F / "ties_sequence.csv", strict=True, now=NOW)
    assert len(clean) == 4


def test_unknown_column_lists_the_columns_and_names_the_flag():
    with pytest.raises(MappingError) as err:
        sa.read_log(F / "semicolon_bom_dayfirst.csv", case="nomor", activity="tahapan", time="waktu")
    assert str(err.value) == (
        f"{F / 'semicolon_bom_dayfirst.csv'}: the case column 'nomor' does not exist. The file has the columns: "
        "no_permohonan, tahapan, waktu, petugas, loket, jenis_layanan. Pass the right name with --case.")


def test_missing_mapping_points_at_suggest():
    with pytest.raises(MappingError, match=r"cannot tell which column holds the case, activity, time\. .*"
                                           r"`sopaudit ingest FILE --suggest` proposes one"):
        sa.read_log(F / "semicolon_bom_dayfirst.csv")


def test_case_attribute_that_changes_within_a_case_is_reported(tmp_path):
    p = tmp_path / "attrs.csv"
    p.write_text("case_id,activity,timestamp,jenis\nA,x,2024-03-04 08:00,baru\nA,y,2024-03-04 09:00,hilang\n"
                 "B,x,2024-03-04 08:00,baru\n", encoding="utf-8")
    log = sa.read_log(p, mapping={"case_attributes": ["jenis"]}, now=NOW)
    assert quality(log)["case_attribute_conflicts"] == [{"attribute": "jenis", "count": 1, "cases": ["A"]}]
    assert list(log["jenis"].astype(str)) == ["baru", "hilang", "baru"]  # values kept as recorded


def test_input_file_is_not_modified():
    path = F / "semicolon_bom_dayfirst.csv"
    before = path.read_bytes()
    sa.read_log(path, **SEMICOLON)
    assert path.read_bytes() == before


def test_label_table_feeds_the_audit(tmp_path, mini_sop):
    codes = ["S01", "S03", "S05", "S06", "S07", "S08"]  # system codes of steps a, c, d, e, f, g
    path = tmp_path / "codes.csv"
    path.write_text("case_id,activity,timestamp\n" + "".join(
        f"K1,{c},2024-03-04 08:{10 + i:02d}\n" for i, c in enumerate(codes)), encoding="utf-8")
    table = dict(zip(codes, ["a", "c", "d", "e", "f", "g"], strict=True))
    mapped = sa.audit(sa.read_log(path, labels=table, now=NOW), mini_sop, processes=1)
    assert mapped.metrics["conforming_cases"] == 1 and mapped.metrics["deviations"] == 0
    assert list(mapped.log["sopaudit:label"].astype(str)) == codes  # the record stays as exported
    raw = sa.audit(sa.read_log(path, now=NOW), mini_sop, processes=1)
    assert raw.metrics["conforming_cases"] == 0
    assert raw.metrics["deviations_by_kind"]["unexpected"] == 6


def test_categories_hold_only_values_of_events():
    log = sa.read_log(F / "bulan_indonesia.csv", case="nomor_permohonan", activity="status", time="tanggal",
                      resource="petugas", now=NOW)
    # rows 9 and 10 (Sari's and Budi's A3 steps) were rejected: their values are no categories
    assert list(log["concept:name"].cat.categories) == ["PERIKSA_BERKAS", "PRA_PERMOHONAN", "WAWANCARA"]
    assert list(log["org:resource"].cat.categories) == ["Rina", "Sari", "pemohon"]
