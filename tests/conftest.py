from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
DATASETS = Path(os.environ.get("SOPAUDIT_DATASETS", ROOT.parent / "shared" / "datasets"))
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


def skip_without_datasets(reason: str) -> NoReturn:
    """Skip a test whose public log is missing: the logs are data beside the repository, which
    .ci/run cannot install (no network but the package registries), so CI skips too."""
    pytest.skip(reason + "; set SOPAUDIT_DATASETS to the folder of the public logs")


def unavailable(reason: str, fix: str = "") -> NoReturn:
    """Skip a test whose real component (server, browser, command, public dataset) is missing,
    saying why; under CI (the CI environment variable set) fail instead, so that a missing install
    step cannot silently turn tests off. `fix` says how CI provides the component."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test" + (f" ({fix})" if fix else ""))
    pytest.skip(reason)


def dataset(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        skip_without_datasets(f"public dataset {path} is not present (../shared/datasets is absent on this machine)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _own_user_cache(tmp_path_factory):
    """The suite's own user-cache folder (core/usercache.py): the tests start with no cached
    holiday table or template, and never write into the user's."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def mini_sop():
    from sopaudit import load_sop

    return load_sop(FIXTURES / "mini_sop.yaml")


@pytest.fixture(scope="session")
def passport_sop():
    from sopaudit import load_sop

    return load_sop(PASSPORT_SOP)
