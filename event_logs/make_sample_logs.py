"""Regenerate the synthetic Ketapang sample logs from their scenarios, with their truth files.

Synthetic data: invented officers and applications; no real applicant is in it. The same
scenario files give the same bytes on every run (the scenario fixes the seed).
Run from the repository root:  python event_logs/make_sample_logs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from sopaudit import load_sop
from sopaudit.simulation import (
    load_scenario,
    officer_roles,
    simulate,
    write_log,
    write_officers,
    write_truth,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent
SAMPLES = [
    ("scenarios/ketapang_2023_sebelum_reformasi.yaml", "paspor_ketapang_2023_sebelum_reformasi_synthetic"),
    ("scenarios/ketapang_2024_sesudah_reformasi.yaml", "paspor_ketapang_2024_sesudah_reformasi_synthetic"),
]


def main() -> None:
    for scenario_file, stem in SAMPLES:
        scenario = load_scenario(ROOT / scenario_file)
        sop = load_sop(ROOT / "scenarios" / scenario.sop)
        log, truth = simulate(sop, scenario=scenario)
        files = [
            write_log(log, OUT / f"{stem}.csv.gz"),
            write_truth(truth, OUT / f"{stem}_truth.csv.gz"),
            write_officers(officer_roles(sop, scenario), OUT / f"{stem}_petugas.csv"),
        ]
        print(f"{scenario_file}: {log['case:concept:name'].nunique():,} cases, {len(log):,} events, "
              f"{len(truth):,} deviations")
        for f in files:
            print(f"  wrote {f.relative_to(ROOT)} ({f.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
