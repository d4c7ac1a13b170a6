"""An audit does not depend on the format the log was exported in: a drawn simulated log of the
2023 Ketapang scenario, written by the simulator as CSV, CSV.gz, Parquet and XES.gz, gives the
same findings, cases, steps, variants and summary numbers from each file (only the source row
numbers, which name rows of each file, differ)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from simulated import ROLES, SLOW, ketapang_log  # noqa: E402

import sopaudit as sa  # noqa: E402
from sopaudit.simulation.write import write_log  # noqa: E402

ROW_COLUMNS = ["event_row", "evidence_rows"]  # rows of each file
RUN_KEYS = {"run_at", "seconds", "inputs", "log_rows_read"}  # of the run
SOURCE_KEYS = {"source", "time_formats"}  # of the data-quality report: the file and how its times were written


@SLOW
@given(st.integers(0, 10**6), st.integers(10, 120))
def test_every_export_format_gives_the_same_audit(seed, cases):
    sop, log = ketapang_log(seed, cases)
    seen = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("log.csv", "log.csv.gz", "log.parquet", "log.xes.gz"):
            path = write_log(log, Path(tmp) / name)
            result = sa.audit(sa.read_log(path), sop, processes=1, roles=str(ROLES))
            out = Path(tmp) / f"report-{name}"
            result.write(out, formats="csv,json", lang="en")
            tables = {t: pd.read_csv(out / f"{t}.csv", dtype=str, keep_default_na=False)
                      for t in ("deviations", "cases", "steps", "variants")}
            tables["deviations"] = tables["deviations"].drop(columns=ROW_COLUMNS)
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            summary["quality"] = {k: v for k, v in summary["quality"].items() if k not in SOURCE_KEYS}
            summary["quality"]["future"].pop("now")  # the time of the check
            seen[name] = (tables, {k: v for k, v in summary.items() if k not in RUN_KEYS})
    (csv_tables, csv_summary), *others = seen.values()
    for name, (tables, summary) in list(seen.items())[1:]:
        for t, frame in tables.items():
            pd.testing.assert_frame_equal(frame, csv_tables[t], obj=f"{name} {t}.csv")
        assert summary == csv_summary, name
