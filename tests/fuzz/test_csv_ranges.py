"""Large CSV files are parsed in ranges cut at line ends, two at a time (ingest/csvfile.py,
RANGE_SIZE): every file, broken or not, reads exactly as through pyarrow's streaming reader (the
same events, rejected rows with the same numbers, quality report, or the same error)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")

from harness import CSV_SEED, files  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

import sopaudit as sa  # noqa: E402
from sopaudit.core.errors import SopAuditError  # noqa: E402
from sopaudit.ingest import csvfile  # noqa: E402

NOW = pd.Timestamp("2030-01-01", tz="UTC")


def _read(path: Path, range_size: int):
    saved = csvfile.RANGE_SIZE
    csvfile.RANGE_SIZE = range_size
    try:
        log = sa.read_log(path, now=NOW)
    except SopAuditError as exc:
        return None, str(exc)
    finally:
        csvfile.RANGE_SIZE = saved
    info = log.attrs["sopaudit"]
    return log, (info.rejected, info.quality, info.rejected_cases)


def _differences(path: Path) -> list[str]:
    """How reading `path` in ranges differs from the streaming reader (nothing: an empty list)."""
    stream_log, stream = _read(path, 1 << 40)  # larger than the file: the streaming reader
    out = []
    for size in (23, 150):  # ranges of one line or a few: the first holds the header only, or rows too
        range_log, ranged = _read(path, size)
        if ranged != stream:
            out.append(f"ranges of {size} bytes: rejected rows, quality report or error {ranged!r} != {stream!r}")
        elif stream_log is not None:
            try:
                pd.testing.assert_frame_equal(range_log, stream_log)
            except AssertionError as exc:
                out.append(f"ranges of {size} bytes: events differ: {exc}")
    return out


def test_rows_rejected_in_several_ranges_keep_their_numbers(tmp_path):
    lines = ["case_id,activity,timestamp,resource", "P0,a,2024-03-04 07:00"]  # one field short
    for i in range(40):
        lines.append(f"P{i // 4},{'abc'[i % 3]},2024-03-04 0{8 + i % 2}:{i:02d},r{i % 3}")
        if i % 7 == 3:
            lines.append(f"P{i},x,2024-03-04 08:00,r,extra")  # one field too many
        if i % 11 == 5:
            lines.append("")
    path = tmp_path / "log.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    log, (rejected, _, _) = _read(path, 150)
    assert [r for r, _ in rejected] == [1, 6, 14, 22, 30, 38, 46]  # blank lines are not rows
    assert len(log) == 40
    assert _differences(path) == []


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files(CSV_SEED))
def test_any_file_reads_as_through_the_streaming_reader(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.csv"
        path.write_bytes(data)
        assert _differences(path) == []
