"""Inputs the fuzzer found that escaped as other exceptions; each is now a located SopAuditError."""

from __future__ import annotations

import io
import zipfile

import pytest
from harness import readers

from sopaudit.core.errors import InputFileError

READERS = {r.name: r for r in readers()}


@pytest.mark.parametrize("name", ["xes", "bpmn", "pnml"])
def test_unknown_xml_encoding(tmp_path, name):
    reader = READERS[name]
    data = reader.seed.replace(b'encoding="UTF-8"', b'encoding="TF-8"', 1)
    if b"TF-8" not in data:
        data = b'<?xml version="1.0" encoding="TF-8"?>\n' + reader.seed.split(b"?>", 1)[-1]
    assert reader.check(tmp_path / f"x{reader.suffix}", data) == "error"


@pytest.mark.parametrize("name", ["accepted", "sop_yaml", "mapping", "roles_yaml"])
def test_yaml_that_is_not_utf8(tmp_path, name):
    reader = READERS[name]
    assert reader.check(tmp_path / f"x{reader.suffix}", b"\x80" + reader.seed) == "error"


def test_zip_with_a_bad_offset(tmp_path):
    reader = READERS["xlsx"]
    # the first byte of the archive cut: every local header offset points one byte too far
    assert reader.check(tmp_path / "x.xlsx", reader.seed[1:]) == "error"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert reader.check(tmp_path / "y.xlsx", buf.getvalue()[:-30]) == "error"
    # the message says what is wrong with the file, and the file is left as it was
    for name, data in (("x.xlsx", reader.seed[1:]), ("y.xlsx", buf.getvalue()[:-30])):
        with pytest.raises(InputFileError, match=rf"{name}: not a readable XLSX file \(not a ZIP archive, or truncated"):
            reader.call(tmp_path / name)
        assert (tmp_path / name).read_bytes() == data
