"""Readers other than CSV (XLSX, Parquet, SQL, XES), the writers, and the timestamp parser."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sopaudit as sa
from sopaudit.core.errors import InputFileError, MappingError
from sopaudit.ingest.timestamps import parse_text
from sopaudit.ingest.write import write_log

NOW = pd.Timestamp("2025-06-01", tz="UTC")


def times(log, col="time:timestamp") -> list[str]:
    return [t.isoformat() for t in log[col]]


# ----------------------------------------------------------------------------- XLSX


@pytest.fixture()
def workbook(tmp_path):
    """A workbook as offices send it: a notes sheet first, the export on a named second sheet
    with Excel date cells, Excel serial numbers, text dates and a blank row."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Catatan"
    wb.active.append(["ekspor dari SIMKIM, jangan diubah"])
    ws = wb.create_sheet("Ekspor")
    ws.append(["No Permohonan ", "Tahapan", "Waktu", "Petugas", "Urutan"])
    ws.append([2024001, "PERIKSA_BERKAS", dt.datetime(2024, 3, 4, 8, 15), "Rina", 1])
    ws.append([2024001, "FOTO", 45355.36458333333, "Budi", 2])        # Excel serial: 08:45
    ws.append([None, None, None, None, None])                          # a blank sheet row
    ws.append([2024002, "PERIKSA_BERKAS", "05/03/2024 13:00", "Rina", 1])
    ws.append([2024002, "FOTO", "kemarin", "Budi", 2])
    path = tmp_path / "ekspor.xlsx"
    wb.save(path)
    return path


def test_xlsx_named_sheet_with_mixed_date_cells(workbook):
    log = sa.read_log(workbook, sheet="Ekspor", case="No Permohonan", activity="Tahapan", time="Waktu",
                      resource="Petugas", time_format="dayfirst", now=NOW)
    assert list(log["case:concept:name"].astype(str)) == ["2024001", "2024001", "2024002"]
    assert times(log) == ["2024-03-04T08:15:00+07:00", "2024-03-04T08:45:00+07:00", "2024-03-05T13:00:00+07:00"]
    assert list(log["sopaudit:row"]) == [1, 2, 4]  # sheet row minus the header row; the blank row counts
    info = log.attrs["sopaudit"]
    assert info.rejected == ((5, "missing or unreadable time in column 'Waktu'"),)
    notes = info.quality["source"]["notes"]
    assert "column 1 name 'No Permohonan ' has surrounding spaces; called it 'No Permohonan'" in notes
    assert "column 'Waktu' mixes value types (dates, numbers, text); read as text" in notes
    assert info.quality["source"]["sheet"] == "Ekspor"


def test_xlsx_first_sheet_and_unknown_sheet(workbook):
    with pytest.raises(MappingError, match=r"cannot tell which column holds the case, activity, time\. The file "
                                           r"has the columns: ekspor dari SIMKIM, jangan diubah"):
        sa.read_log(workbook)
    with pytest.raises(MappingError, match=r"there is no sheet 'Data'; the workbook has: Catatan, Ekspor"):
        sa.read_log(workbook, sheet="Data")


# ----------------------------------------------------------------------------- Parquet and writers


def test_parquet_with_typed_columns(tmp_path):
    frame = pd.DataFrame({
        "case_id": ["A", "A", "B"],
        "activity": ["x", "y", "x"],
        "timestamp": pd.to_datetime(["2024-03-04 08:00", "2024-03-04 09:30", None]),
        "epoch": [1709514000, 1709519400, 1709600400],
        "amount": [1.5, 2.0, np.nan],
    })
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    log = sa.read_log(path, now=NOW)
    assert times(log) == ["2024-03-04T08:00:00+07:00", "2024-03-04T09:30:00+07:00"]
    assert log.attrs["sopaudit"].rejected == ((3, "missing or unreadable time in column 'timestamp'"),)
    assert log["amount"].tolist() == [1.5, 2.0]
    by_epoch = sa.read_log(path, time="epoch", now=NOW)  # epoch seconds are UTC instants
    assert times(by_epoch) == ["2024-03-04T08:00:00+07:00", "2024-03-04T09:30:00+07:00",
                               "2024-03-05T08:00:00+07:00"]
    assert by_epoch.attrs["sopaudit"].quality["time_formats"] == {"epoch seconds (1735628700)": 3}


def test_parquet_and_xes_round_trip(tmp_path):
    from conftest import FIXTURES

    log = sa.read_log(FIXTURES / "ingest" / "lifecycle_pairs.csv", lifecycle="transition", now=NOW)
    pq_path = write_log(log, tmp_path / "out" / "log.parquet")
    back = pd.read_parquet(pq_path)
    pd.testing.assert_frame_equal(back, pd.DataFrame(log), check_categorical=False)
    import pyarrow.parquet as pq

    meta = pq.read_schema(pq_path).metadata[b"sopaudit"]
    assert b'"rejected": [[11, "lifecycle value' in meta
    xes_path = write_log(log, tmp_path / "log.xes.gz")
    again = sa.read_log(xes_path, now=NOW)
    assert times(again) == times(log)
    assert times(again, "start_timestamp") == times(log, "start_timestamp")
    assert list(again["concept:name"].astype(str)) == list(log["concept:name"].astype(str))
    with pytest.raises(InputFileError, match="write the log as .parquet, .xes or .xes.gz"):
        write_log(log, tmp_path / "log.csv")


# ----------------------------------------------------------------------------- SQL


@pytest.fixture()
def database(tmp_path):
    path = tmp_path / "simkim.db"
    con = sqlite3.connect(path)
    con.execute("create table riwayat (no_permohonan text, tahapan text, waktu text, petugas text)")
    con.executemany("insert into riwayat values (?, ?, ?, ?)", [
        ("P1", "PERIKSA_BERKAS", "2024-03-04 08:00:00", "Rina"),
        ("P1", "FOTO", "2024-03-04 08:30:00", "Budi"),
        ("P2", "PERIKSA_BERKAS", None, "Rina"),
    ])
    con.commit()
    con.close()
    return path


def test_sql_query_through_sqlalchemy(database):
    url = f"sqlite:///{database}"
    log = sa.read_log(url, query="select * from riwayat order by rowid", case="no_permohonan",
                      activity="tahapan", time="waktu", resource="petugas", now=NOW)
    assert times(log) == ["2024-03-04T08:00:00+07:00", "2024-03-04T08:30:00+07:00"]
    info = log.attrs["sopaudit"]
    assert info.rejected == ((3, "missing or unreadable time in column 'waktu'"),)
    assert info.quality["source"]["format"] == "sql" and len(info.sha256) == 64


def test_sql_connection_is_read_only_and_never_creates_a_file(database, tmp_path):
    url = f"sqlite:///{database}"
    with pytest.raises(InputFileError, match=r"the query failed \(attempt to write a readonly database\)"):
        sa.read_log(url, query="delete from riwayat")
    con = sqlite3.connect(database)
    assert con.execute("select count(*) from riwayat").fetchone() == (3,)
    con.close()
    missing = tmp_path / "nope.db"
    with pytest.raises(InputFileError, match=r"the SQLite database file .*nope.db' does not exist"):
        sa.read_log(f"sqlite:///{missing}", query="select 1")
    assert not missing.exists()
    with pytest.raises(MappingError, match="a database URL needs a query"):
        sa.read_log(url)


# ----------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize("text, order, expected", [
    ("2024-03-04 08:15", None, "2024-03-04T08:15:00"),
    ("2024-03-04T08:15:30.250", None, "2024-03-04T08:15:30.250000"),
    ("2024/03/04", None, "2024-03-04T00:00:00"),
    ("31/12/2024 14:05", "dayfirst", "2024-12-31T14:05:00"),
    ("31-12-2024 14.05.09", "dayfirst", "2024-12-31T14:05:09"),
    ("12/31/2024 2:05 PM", "monthfirst", "2024-12-31T14:05:00"),
    ("31.12.24", "dayfirst", "2024-12-31T00:00:00"),
    ("31 Des 2024 14:05", None, "2024-12-31T14:05:00"),
    ("2 Agustus 2024", None, "2024-08-02T00:00:00"),
    ("7 Mei 2024, 07.30", None, "2024-05-07T07:30:00"),
    ("12-Okt-2024 12:00 AM", None, "2024-10-12T00:00:00"),
    ("1 Nopember 2024", None, "2024-11-01T00:00:00"),
    ("Sabtu, 9 Maret 2024", None, "2024-03-09T00:00:00"),
    ("March 9th, 2024", None, "2024-03-09T00:00:00"),
    ("45657.5", None, "2024-12-31T12:00:00"),
])
def test_parse_naive_times(text, order, expected):
    got = parse_text(pa.array([text]), "auto", order)
    assert got.ok[0] and not got.aware[0]
    assert pd.Timestamp(int(got.us[0]), unit="us").isoformat() == expected


@pytest.mark.parametrize("text, utc", [
    ("2024-03-04T08:15:00Z", "2024-03-04T08:15:00"),
    ("2024-03-04 08:15:00+07:00", "2024-03-04T01:15:00"),
    ("2024-03-04 08:15 +0800", "2024-03-04T00:15:00"),
    ("04/03/2024 08:15 WIT", "2024-03-03T23:15:00"),
    ("1735628700", "2024-12-31T07:05:00"),
    ("1735628700000", "2024-12-31T07:05:00"),
])
def test_parse_times_with_a_zone_are_utc(text, utc):
    got = parse_text(pa.array([text]), "auto", "dayfirst")
    assert got.ok[0] and got.aware[0]
    assert pd.Timestamp(int(got.us[0]), unit="us").isoformat() == utc


@pytest.mark.parametrize("text", ["", "kemarin", "32/01/2024", "2024-02-30", "25:00", "31 Foo 2024",
                                  "2024-03-04 24:10", "13/13/2024", "12"])
def test_unreadable_times(text):
    assert not parse_text(pa.array([text]), "auto", "dayfirst").ok[0]


def test_explicit_strptime_format_with_indonesian_month():
    got = parse_text(pa.array(["04-Des-2024 08:15", "x"]), "%d-%b-%Y %H:%M")
    assert got.ok.tolist() == [True, False]
    assert pd.Timestamp(int(got.us[0]), unit="us").isoformat() == "2024-12-04T08:15:00"


def test_numbers_of_several_kinds_need_a_format():
    with pytest.raises(MappingError, match="numbers of several kinds"):
        parse_text(pa.array(["45657.5", "1735628700"]), "auto")

