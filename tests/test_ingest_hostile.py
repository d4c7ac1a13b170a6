"""Hostile and broken input: clear errors naming the file and the row or line, never a hang,
never a traceback, nothing read outside the given file."""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.core.errors import InputFileError

from conftest import FIXTURES

XES_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
XES_BODY = """<log xes.version="1.0">
<trace><string key="concept:name" value="c1"/>
<event><string key="concept:name" value="&{entity};"/><date key="time:timestamp" value="2024-03-04T08:00:00.000+07:00"/></event>
</trace></log>
"""


def _xes(tmp_path, doctype: str, entity: str, name: str):
    path = tmp_path / name
    path.write_text(XES_HEAD + doctype + XES_BODY.replace("{entity}", entity), encoding="utf-8")
    return path


def test_billion_laughs_xes_is_refused(tmp_path):
    # lol9 expands to 10**9 "lol"s: refused before any expansion
    entities = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10))
    doctype = f'<!DOCTYPE log [\n<!ENTITY lol0 "lol">\n{entities}]>\n'
    path = _xes(tmp_path, doctype, "lol9", "laughs.xes")
    with pytest.raises(InputFileError) as err:
        sa.read_log(path)
    assert str(err.value).startswith(f"{path}: refused to read this XML because it declares a DTD or entities")


def test_external_entity_xes_is_refused_without_reading_the_target(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    doctype = f'<!DOCTYPE log [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    path = _xes(tmp_path, doctype, "xxe", "xxe.xes")
    with pytest.raises(InputFileError) as err:
        sa.read_log(path)
    assert "refused to read this XML" in str(err.value) and "TOP-SECRET" not in str(err.value)
    # the CLI: exit 2, one paragraph, no traceback
    res = CliRunner().invoke(main, ["ingest", str(path)])
    assert res.exit_code == 2 and "refused to read this XML" in res.output and "Traceback" not in res.output


def test_truncated_xes_gz(tmp_path):
    src = XES_HEAD + XES_BODY.replace("&{entity};", "A")
    data = gzip.compress((src * 1).encode())
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match=rf"{path.name}: cannot read the file|{path.name}: not well-formed XML"):
        sa.read_log(path)


def test_binary_file_named_csv(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"case_id,activity,timestamp\n\x00\x01\x02\xff\xfe" * 10)
    with pytest.raises(InputFileError, match=r"log.csv, line 2: a NUL byte; this is a binary file, not a CSV"):
        sa.read_log(path)


def test_xlsx_named_csv_is_recognised(tmp_path):
    path = tmp_path / "log.csv"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    path.write_bytes(buf.getvalue())
    with pytest.raises(InputFileError, match=r"this is a ZIP archive \(an XLSX workbook\?\), not a CSV"):
        sa.read_log(path)


@pytest.mark.parametrize("size, message", [
    (2 << 20, r"huge.csv, row 2: the value in column 'activity' is 2,097,152 bytes long; an export cell is "
              r"never longer than 1 MiB"),
    (17 << 20, r"huge.csv, line 3: a single record is longer than 4 MiB"),
])
def test_huge_cell_names_the_row_or_line(tmp_path, size, message):
    path = tmp_path / "huge.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("case_id,activity,timestamp\nA,x,2024-03-04 08:00\nA,")
        fh.write("y" * size)
        fh.write(",2024-03-04 09:00\n")
    with pytest.raises(InputFileError, match=message):
        sa.read_log(path)


def test_truncated_csv_lists_the_cut_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("case_id,activity,timestamp,resource\nA,x,2024-03-04 08:00,Rina\nA,y,2024-03-04 09:00,Ri\n"
                    "A,z,2024-03-", encoding="utf-8")
    log = sa.read_log(path)
    assert len(log) == 2
    info = log.attrs["sopaudit"]
    assert info.rejected == ((3, "the row has 3 field(s) but the header has 4; a ',' inside an unquoted value, "
                                 "or a cut line"),)
    assert "the file does not end with a line break; its last row may be cut" in info.quality["source"]["notes"]


def test_rows_with_too_many_fields_are_listed_and_numbering_stays_right(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("case_id;activity;timestamp\nA;x;2024-03-04 08:00\nA;y;z;2024-03-04 09:00\n"
                    "A;\"multi\nline\";2024-03-04 10:00\nB;x;2024-03-04 11:00\n", encoding="utf-8")
    log = sa.read_log(path)
    assert list(log["sopaudit:row"]) == [1, 3, 4]
    assert list(log["concept:name"].astype(str)) == ["x", "multi\nline", "x"]
    assert log.attrs["sopaudit"].rejected == (
        (2, "the row has 4 field(s) but the header has 3; a ';' inside an unquoted value, or a cut line"),)


def test_xlsx_with_a_dtd_in_a_part_is_refused(tmp_path):
    import openpyxl

    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["case_id", "activity", "timestamp"])
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + data
            dst.writestr(info, data)
    with pytest.raises(InputFileError, match=r"refused to read this XLSX because its part xl/workbook.xml declares a DTD"):
        sa.read_log(bad)


def test_xlsx_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 << 20))
    with pytest.raises(InputFileError, match=r"refused to open this XLSX: its parts inflate to 41,943,040 bytes"):
        sa.read_log(path)


def test_truncated_parquet_and_damaged_xlsx(tmp_path):
    frame = pd.DataFrame({"case_id": ["A"] * 1000, "activity": ["x"] * 1000,
                          "timestamp": pd.date_range("2024-03-04", periods=1000, freq="min")})
    full = tmp_path / "full.parquet"
    frame.to_parquet(full)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(full.read_bytes()[:-100])
    with pytest.raises(InputFileError, match=r"cut.parquet: not a readable Parquet file"):
        sa.read_log(cut)
    xlsx = tmp_path / "damaged.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(InputFileError, match=r"damaged.xlsx: not a readable XLSX file"):
        sa.read_log(xlsx)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="unknown log file type"):
        sa.read_log(tmp_path / "log.json")
    with pytest.raises(InputFileError, match="the log file does not exist"):
        sa.read_log(tmp_path / "missing.csv")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputFileError, match=r"old Excel \(.xls\) files are not read"):
        sa.read_log(old)


def test_only_the_given_file_is_read(tmp_path, monkeypatch):
    import builtins

    opened = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    path = FIXTURES / "ingest" / "semicolon_bom_dayfirst.csv"
    sa.read_log(path, case="no_permohonan", activity="tahapan", time="waktu")
    assert set(opened) <= {str(path)}


def test_a_non_utf8_byte_after_the_sample_restarts_in_cp1252(tmp_path):
    path = tmp_path / "late.csv"
    body = "".join(f"K{i % 500:04d},Periksa,2024-03-04 08:{i % 60:02d}:00,Rina\n" for i in range(40_000))
    path.write_bytes(("case_id,activity,timestamp,resource\n" + body).encode() + "K9999,Periksa,2024-03-05 08:00:00,Jos\u00e9\n".encode("cp1252"))
    assert path.stat().st_size > 1 << 20
    log = sa.read_log(path)
    assert len(log) == 40_001 and log.attrs["sopaudit"].quality["source"]["encoding"] == "cp1252"
    assert log.loc[log["sopaudit:row"] == 40_001, "org:resource"].astype(str).tolist() == ["José"]


def test_xes_nested_list_and_orphan_events(tmp_path):
    path = tmp_path / "odd.xes"
    path.write_text(XES_HEAD + """<log xes.version="1.0">
<global scope="event"><string key="concept:name" value="DEFAULT"/></global>
<event><string key="concept:name" value="orphan"/></event>
<trace><string key="concept:name" value="c1"/><int key="umur" value="41"/>
<event><string key="concept:name" value="A"><string key="note" value="child"/></string>
<date key="time:timestamp" value="2024-03-04T08:00:00.000+07:00"/>
<list key="items"><values><string key="x" value="1"/></values></list>
<boolean key="ok" value="true"/><float key="cost" value="2.5"/></event>
<event><string key="concept:name" value="B"/><date key="time:timestamp" value="2024-03-04T09:00:00+07:00"/></event>
</trace></log>
""", encoding="utf-8")
    log = sa.read_log(path)
    assert list(log["concept:name"].astype(str)) == ["A", "B"]
    assert [t.isoformat() for t in log["time:timestamp"]] == ["2024-03-04T08:00:00+07:00", "2024-03-04T09:00:00+07:00"]
    assert log["case:umur"].tolist() == [41, 41] and log["ok"].tolist()[0] is True and log["cost"].tolist()[0] == 2.5
    assert "note" not in log.columns and "items" not in log.columns and "x" not in log.columns
    assert log.attrs["sopaudit"].quality["source"]["notes"] == [
        "1 event(s) outside any trace have no case and were not read",
        "list or container attributes are not columns: items"]


def test_a_record_longer_than_the_first_blocks_is_read_whole(tmp_path):
    # the first read uses 1 MiB blocks; a 2 MiB record of cells under the cell limit is read
    # again with blocks that hold it, not rejected
    path = tmp_path / "long.csv"
    note = "n" * (700 << 10)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("case_id,activity,timestamp,a,b,c\nA,x,2024-03-04 08:00,,,\n")
        fh.write(f"A,y,2024-03-04 09:00,{note},{note},{note}\nA,z,2024-03-04 10:00,,,\n")
    log = sa.read_log(path)
    assert list(log["concept:name"]) == ["x", "y", "z"]
    assert log["a"].iloc[1] == note and log.attrs["sopaudit"].rejected == ()
