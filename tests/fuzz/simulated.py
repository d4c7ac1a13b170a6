"""Drawn simulated logs for the property tests of whole audits (partitions, the report's
numbers, export formats): the 2023 Ketapang scenario, whose logs hold every deviation kind,
officers with roles and open cases at the year's end."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
SOP = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
SCENARIO = ROOT / "scenarios" / "ketapang_2023_sebelum_reformasi.yaml"
SCENARIO_AFTER = ROOT / "scenarios" / "ketapang_2024_sesudah_reformasi.yaml"  # the year after the reform
ROLES = ROOT / "event_logs" / "paspor_ketapang_2023_sebelum_reformasi_synthetic_petugas.csv"
# Each example audits a small log (about a second): a few in the suite, more by hand with
# SOPAUDIT_FUZZ_EXAMPLES_SLOW=100.
SLOW = settings(max_examples=int(os.environ.get("SOPAUDIT_FUZZ_EXAMPLES_SLOW", "6")), deadline=None,
                derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


def ketapang_log(seed: int, cases: int, scenario: Path = SCENARIO):
    """The SOP and a simulated log of `cases` cases of the scenario, drawn with `seed`."""
    import sopaudit as sa
    from sopaudit.simulation import load_scenario

    sop = sa.load_sop(SOP)
    log, _ = sa.simulate(sop, scenario=dataclasses.replace(load_scenario(scenario, sop), cases=cases, seed=seed))
    return sop, log
