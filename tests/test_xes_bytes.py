"""An XES file's bytes: gunzip (bounded, every member, checked), by the system's zlib into a
memory map (inflate.py) and by the zlib module where that cannot run, and the read ahead that
`sopaudit audit` starts while it imports."""

from __future__ import annotations

import gzip
import json
import mmap
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopaudit.ingest import ahead, inflate, xes_bytes
from sopaudit.ingest.xes_bytes import gunzip, read_bytes

from conftest import ROOT

TEXT = os.urandom(2000) + b"<event/>" * 400_000  # 3.2 MB, most of it very compressible


@pytest.fixture(params=["system zlib", "zlib module"])
def way(request, monkeypatch):
    """Each test runs with inflate.py and with the zlib module it falls back to."""
    if request.param == "system zlib":
        if inflate._ZLIB is None:
            pytest.skip("no libz.so.1 on this machine: the zlib module is used")
    else:
        monkeypatch.setattr(inflate, "_ZLIB", None)
    return request.param


def _gunzip(packed: bytes, limit: int) -> bytes | None:
    out = gunzip(packed, limit)
    if out is not None:
        assert isinstance(out, mmap.mmap if inflate._ZLIB is not None and out else bytes)
        return out[:]
    return None


@pytest.mark.parametrize("system", [True, False])
@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4), st.integers(0, 3))
def test_gunzip_is_gzip_decompress_for_any_members(system, members, zeros):
    packed = b"".join(gzip.compress(m) for m in members) + b"\0" * zeros
    if system:
        assert _gunzip(packed, 1 << 20) == gzip.decompress(packed)
    else:
        assert xes_bytes._gunzip_module(packed, 1 << 20) == gzip.decompress(packed)


def test_gunzip_bounds_its_output_and_refuses_a_cut_file(way):
    packed = gzip.compress(TEXT) + gzip.compress(b"second member")
    whole = TEXT + b"second member"
    assert _gunzip(packed, len(whole)) == whole
    assert _gunzip(packed, len(whole) - 1) is None  # never more than the limit, even by a byte
    assert _gunzip(gzip.compress(TEXT), 1000) is None
    assert _gunzip(packed[:-3], 1 << 30) is None  # the last trailer cut short
    assert _gunzip(gzip.compress(TEXT)[:1500], 1 << 30) is None  # cut inside the data
    assert _gunzip(gzip.compress(b""), 10) == b""


def test_gunzip_grows_past_a_trailer_that_understates_the_text(way):
    # the first buffer is sized by the last member's trailer: here 5 bytes for 3.2 MB before it
    packed = gzip.compress(TEXT) + gzip.compress(b"small")
    assert _gunzip(packed, 1 << 30) == TEXT + b"small"
    lying = bytearray(gzip.compress(TEXT))
    lying[-4:] = (100).to_bytes(4, "little")  # a wrong length: zlib refuses the member
    assert _gunzip(bytes(lying), 1 << 30) is None


def test_gunzip_checks_every_member(way):
    bad = bytearray(gzip.compress(TEXT))
    bad[-6] ^= 1  # the CRC of the data
    assert _gunzip(bytes(bad), 1 << 30) is None
    assert _gunzip(gzip.compress(TEXT) + b"not gzip", 1 << 30) is None  # gzip.decompress refuses it too
    with pytest.raises(OSError):
        gzip.decompress(gzip.compress(TEXT) + b"not gzip")


def test_read_bytes_declines_what_expat_must_read(tmp_path, monkeypatch, way):
    damaged = tmp_path / "log.xes.gz"
    damaged.write_bytes(gzip.compress(TEXT)[:-8])
    assert read_bytes(damaged) is None  # the expat reader then says what is wrong
    big = tmp_path / "big.xes.gz"
    big.write_bytes(gzip.compress(TEXT))
    assert read_bytes(big)[:] == TEXT
    monkeypatch.setattr("sopaudit.ingest.xes_bytes.MAX_BYTES", len(TEXT) - 1)
    assert read_bytes(big) is None  # too large to hold: read in a stream instead


def test_read_ahead_gives_the_bytes_once(tmp_path):
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(TEXT))
    ahead.start(path)
    assert ahead.take(tmp_path / "." / "log.xes.gz")[:] == TEXT  # the same file, however named
    assert ahead.take(path) is ahead.MISSING  # taken: a second read reads the file again


def test_read_ahead_of_a_file_changed_since_is_not_used(tmp_path):
    path = tmp_path / "log.xes"
    path.write_bytes(b"<log/>")
    ahead.start(path)
    ahead._AHEAD[path.absolute()][1].join()
    path.write_bytes(b"<log></log>")  # another size
    assert ahead.take(path) is ahead.MISSING


def test_read_ahead_leaves_other_files_alone(tmp_path):
    csv = tmp_path / "log.csv"
    csv.write_text("case,activity,time\n")
    ahead.start(csv)
    ahead.start(tmp_path / "absent.xes")
    assert ahead.take(csv) is ahead.MISSING
    assert ahead.take(tmp_path / "absent.xes") is ahead.MISSING  # read_bytes meets the error itself


def test_audit_of_an_xes_log_reads_it_once_ahead(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import sopaudit as sa
    from sopaudit.cli import main
    from sopaudit.cli.audit import DEMO_LOG, DEMO_MAPPING, DEMO_SOP
    from sopaudit.simulation.write import write_log

    events = sa.read_log(ROOT / DEMO_LOG, tz="Asia/Pontianak", **DEMO_MAPPING)
    log = write_log(events, tmp_path / "demo.xes.gz")
    calls = []
    real = ahead.read_bytes
    monkeypatch.setattr(ahead, "read_bytes", lambda p: calls.append(p) or real(p))
    monkeypatch.setattr("sopaudit.ingest.xes_fast.read_bytes", lambda p: pytest.fail("read a second time"))
    r = CliRunner().invoke(main, ["audit", "--log", str(log), "--sop", str(ROOT / DEMO_SOP), "--out",
                                  str(tmp_path / "out"), "--formats", "json", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert calls == [log.absolute()]
    assert ahead._AHEAD == {}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["cases"], summary["events"]) == (events["case:concept:name"].nunique(), len(events))
