"""Every public log in ../shared/datasets reads with the same cases, events and values as pm4py."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import sopaudit as sa

from conftest import DATASETS, dataset, skip_without_datasets

LOGS = [
    ("running_example", "running-example.xes"),
    ("receipt", "receipt.xes.gz"),
    ("sepsis", "sepsis.xes.gz"),
    ("bpic2020", "domestic_declarations.xes.gz"),
    ("bpic2015", "bpic15_municipality1.xes.gz"),
]


def test_every_dataset_is_covered():
    if not DATASETS.exists():
        skip_without_datasets(f"public datasets folder {DATASETS} is absent")
    found = sorted(str(p.relative_to(DATASETS)) for p in DATASETS.glob("*/*.xes*"))
    assert found == sorted(f"{a}/{b}" for a, b in LOGS)


@pytest.mark.parametrize("folder, name", LOGS, ids=[n for _, n in LOGS])
def test_reads_like_pm4py(folder, name):
    import pm4py

    path = dataset(folder, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm4py.read_xes(str(path), variant="chunk_regex", show_progress_bar=False)
    log = sa.read_log(path)
    assert len(log) == len(ref)
    assert log["case:concept:name"].nunique() == ref["case:concept:name"].nunique()
    assert log["concept:name"].astype(str).value_counts().to_dict() == ref["concept:name"].value_counts().to_dict()
    # every column pm4py has, value for value: each event's source row points at the same event
    ordered = ref.reset_index(drop=True).iloc[log["sopaudit:row"].to_numpy() - 1].reset_index(drop=True)
    ours = log.reset_index(drop=True)
    assert set(ref.columns) <= set(log.columns)
    for col in ref.columns:
        a, b = ordered[col], ours[col]
        assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), col
        if isinstance(a.dtype, pd.DatetimeTZDtype):
            same = a[a.notna()].to_numpy() == b[b.notna()].dt.tz_convert("UTC").to_numpy()
        else:
            same = a[a.notna()].astype(object).to_numpy() == b[b.notna()].astype(object).to_numpy()
        assert same.all(), col
    info = log.attrs["sopaudit"]
    assert info.rejected == () and info.quality["events"] == len(ref) and len(info.sha256) == 64
