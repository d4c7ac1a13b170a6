"""CSV: a stray quote never swallows rows, rows in = rows used + rows rejected, no event points at
a wrong row, and a file that is mostly UTF-8 is decoded line by line (issue 13, defects 2 and 7)."""

from __future__ import annotations

import pytest

import sopaudit as sa
from sopaudit.core.columns import ROW, log_info
from sopaudit.core.errors import InputFileError

COLS = {"case": "case", "activity": "activity", "time": "time"}


def _write(path, rows: list[str], header="case,activity,time,n", encoding="utf-8") -> None:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding) if isinstance(rows[0], str) else b"")


def _rows(n: int, broken: dict[int, str] | None = None) -> list[str]:
    """Row i (1-based) names itself in column n, so its event can be checked against its row number."""
    broken = broken or {}
    return [broken.get(i, f"c{i // 4},{'AB'[i % 2]},2024-03-0{1 + i % 5} 10:{i % 60:02d},{i}") for i in range(1, n + 1)]


def _check_rows(log) -> None:
    assert (log["n"].astype(int) == log[ROW]).all()  # every event names its own source row


def test_one_stray_quote_rejects_one_line_and_reads_on(tmp_path):
    path = tmp_path / "stray.csv"
    _write(path, _rows(10_000, {100: 'c25,"A,2024-03-01 10:00,100'}))
    log = sa.read_log(path, **COLS)
    info = log_info(log)
    assert info.rows_read == 10_000 and len(log) == 9_999
    assert [r for r, _ in info.rejected] == [100]
    assert "line 101: a quote opened in this line is not closed" in info.rejected[0][1]
    assert "reading goes on at line 102" in info.rejected[0][1]
    _check_rows(log)


def test_two_stray_quotes_do_not_merge_the_rows_between(tmp_path):
    path = tmp_path / "two.csv"
    _write(path, _rows(400, {100: 'c25,"A,2024-03-01 10:00,100', 150: 'c37,"B,2024-03-01 10:00,150'}))
    log = sa.read_log(path, **COLS)
    info = log_info(log)
    assert info.rows_read == 400 and len(log) == 398
    assert [r for r, _ in info.rejected] == [100, 150]
    assert "closes on line 151 but does not end the value there" in info.rejected[0][1]
    _check_rows(log)


def test_quote_closing_at_a_value_end_still_cannot_swallow_rows(tmp_path):
    path = tmp_path / "close.csv"
    _write(path, _rows(60, {10: 'c2,"A,2024-03-01 10:00,10', 20: 'c5,B",2024-03-01 10:00,20'}))
    log = sa.read_log(path, **COLS)
    info = log_info(log)
    assert "would take in lines 12-21, which are rows of the file themselves" in info.rejected[0][1]
    assert info.rows_read == 60 and len(log) + len(info.rejected) == 60
    assert [r for r, _ in info.rejected] == [10]
    assert log.loc[log["n"] == "20", "concept:name"].item() == 'B"'  # a quote inside a value is text
    _check_rows(log)


def test_a_real_value_over_several_lines_is_one_record_and_noted(tmp_path):
    path = tmp_path / "note.csv"
    rows = _rows(30)
    rows[4] = 'c1,A,2024-03-01 10:00,5,"berkas kurang:\nKTP dan KK\nbelum ada"'
    _write(path, [r if i == 4 else r + "," for i, r in enumerate(rows)], header="case,activity,time,n,note")
    log = sa.read_log(path, **COLS)
    info = log_info(log)
    assert info.rows_read == 30 and len(log) == 30 and not info.rejected
    assert log.loc[log["n"] == "5", "note"].item() == "berkas kurang:\nKTP dan KK\nbelum ada"
    assert any("row 5: lines 6-8" in note for note in info.quality["source"]["notes"])
    _check_rows(log)


def test_strict_stops_at_the_stray_quote(tmp_path):
    path = tmp_path / "stray.csv"
    _write(path, _rows(300, {100: 'c25,"A,2024-03-01 10:00,100'}))
    with pytest.raises(InputFileError, match=r"row 100: line 101: a quote opened"):
        sa.read_log(path, strict=True, **COLS)


@pytest.mark.parametrize("where", [3, 29_999])  # inside the sniffed head, and far after it
def test_mixed_encodings_are_decoded_line_by_line(tmp_path, where):
    rows = [r.encode() for r in _rows(30_000)]
    rows = [r.replace(b",A,", ",Pengambilan Paspor \u2013 selesai,".encode()) for r in rows]
    rows[where - 1] = rows[where - 1].replace(b",B,", ",Jos\xe9,".encode("latin-1"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"case,activity,time,n\n" + b"\n".join(rows) + b"\n")
    log = sa.read_log(path, **COLS)
    info = log_info(log)
    acts = set(log["concept:name"].astype(str))
    assert "Pengambilan Paspor \u2013 selesai" in acts  # UTF-8 stays UTF-8, no mojibake
    assert "Jos\xe9" in acts  # the one latin-1 line read as cp1252
    assert info.quality["source"]["lines_not_utf8"] == {"count": 1, "lines": [where + 1]}
    assert any(f"line {where + 1}" in n and "not UTF-8" in n for n in info.quality["source"]["notes"])
    assert len(log) == 30_000
    _check_rows(log)


def test_a_cp1252_file_is_still_read_whole(tmp_path):
    path = tmp_path / "cp.csv"
    _write(path, [r.replace(",A,", ",Verifikasi \u2013 Jos\xe9,") for r in _rows(50)], encoding="cp1252")
    log = sa.read_log(path, **COLS)
    assert "Verifikasi \u2013 Jos\xe9" in set(log["concept:name"].astype(str))
    assert log_info(log).quality["source"]["encoding"] == "cp1252"
