from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
DATASETS = ROOT.parent / "shared" / "datasets"
PASSPORT_SOP = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
DEMO_LOG = ROOT / "event_logs" / "paspor_demo_synthetic.csv"


def make_log(cases: dict[str, list[str]], start="2024-03-04 08:00", step_minutes=10, resource=None) -> pd.DataFrame:
    """A pm4py-style event log from {case id: [activity, ...]}, events 10 minutes apart.

    Each step is done by its own officer (`officer_<step>`) unless `resource` names one for all."""
    t0 = pd.Timestamp(start, tz="Asia/Jakarta")
    rows = []
    for case, acts in cases.items():
        for i, a in enumerate(acts):
            rows.append({"case:concept:name": case, "concept:name": a,
                         "time:timestamp": t0 + pd.Timedelta(minutes=step_minutes * i),
                         "org:resource": resource or f"officer_{a}"})
    return pd.DataFrame(rows)


def dataset(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public dataset {path} is not present (../shared/datasets is absent on this machine)")
    return path


@pytest.fixture(scope="session")
def mini_sop():
    from sopaudit import load_sop

    return load_sop(FIXTURES / "mini_sop.yaml")


@pytest.fixture(scope="session")
def passport_sop():
    from sopaudit import load_sop

    return load_sop(PASSPORT_SOP)
