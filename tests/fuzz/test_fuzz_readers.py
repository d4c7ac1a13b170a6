"""A short fuzzing run of every reader (issue 13): hostile mutations of a valid file either load
or raise a SopAuditError naming the file. The longer run is tests/fuzz/run_long.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")

from harness import files, readers  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

READERS = {r.name: r for r in readers()}
SHORT = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_loads_or_raises_a_located_error(name):
    reader = READERS[name]
    assert reader.check(Path(tempfile.mkdtemp()) / f"seed{reader.suffix}", reader.seed) == "ok"  # the seed is valid

    @SHORT
    @given(files(reader.seed))
    def run(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            reader.check(Path(tmp) / f"input{reader.suffix}", data)

    run()
