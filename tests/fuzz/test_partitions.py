"""A log audited in partitions and merged (batch `partitions:`) is the audit of the whole log, on
simulated logs of the 2023 Ketapang scenario (every kind of deviation, open cases at the end,
officers with roles), drawn seeds, sizes and partition counts: the same CSV tables byte for
byte and the same metrics."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from simulated import ROLES, SLOW, SOP, ketapang_log  # noqa: E402

import sopaudit as sa  # noqa: E402
from sopaudit.batch.partition import audit_partition, load_parts, merge_results, split_log  # noqa: E402
from sopaudit.batch.plan import AuditJob  # noqa: E402
from sopaudit.report import write_report  # noqa: E402


@SLOW
@given(st.integers(0, 10**6), st.integers(30, 150), st.integers(2, 5), st.sampled_from([None, 20]))
def test_partitions_merge_into_the_audit_of_the_whole_log(seed, cases, k, open_days):
    sop, log = ketapang_log(seed, cases)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        log.to_csv(tmp / "log.csv", index=False)
        job = AuditJob(name="x", log=str(tmp / "log.csv"), sop=str(SOP), where="plan.yaml:1:1", partitions=k,
                       tz="Asia/Pontianak", roles=str(ROLES), open_days=open_days)
        parts = tmp / "parts"
        parts.mkdir()
        events = split_log(job, str(parts))
        assert sum(audit_partition(job, p, str(parts)) for p in range(k)) == events == len(log)
        results, ranks, _, calendar = load_parts(parts, k)
        merged = merge_results(results, ranks, calendar)
        read = sa.read_log(tmp / "log.csv", tz="Asia/Pontianak")
        whole = sa.audit(read, sop, calendar=calendar, processes=1, roles=str(ROLES), open_days=open_days)
        for name, result in (("whole", whole), ("merged", merged)):
            write_report(result, tmp / name, formats="csv")
        for table in ("cases", "deviations", "steps", "variants", "timing"):
            assert (tmp / "whole" / f"{table}.csv").read_bytes() == (tmp / "merged" / f"{table}.csv").read_bytes(), table
        assert merged.metrics == whole.metrics
