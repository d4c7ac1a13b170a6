"""The audit's variants: each case's trace grouped by a hash of its activity codes, checked event
by event, and by the codes' bytes should two traces ever share a hash (auditing/run.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.auditing import run

from conftest import make_log

CASES = {
    "c1": ["a", "b", "c"], "c2": ["a", "c", "b"], "c3": ["a", "b", "c"], "c4": ["a"],
    "c5": ["b", "a", "c"], "c6": ["a", "c", "b"], "c7": ["a", "b", "c", "c"], "c8": ["c", "b", "a"],
}


@pytest.fixture(scope="module")
def sop():
    from conftest import FIXTURES

    return sa.load_sop(FIXTURES / "mini_sop.yaml")


def _variants(result) -> dict[str, tuple[str, ...]]:
    by_id = dict(zip(result.variants["variant_id"], result.variants["variant"], strict=True))
    return dict(zip(result.cases["case_id"], result.cases["variant_id"].map(by_id), strict=True))


def test_cases_with_the_same_steps_share_a_variant_numbered_in_sorted_order(sop):
    r = sa.audit(make_log(CASES), sop, processes=1)
    steps = {c: " → ".join(r.variant_paths[v]) for c, v in zip(r.cases["case_id"], r.cases["variant_id"], strict=True)}
    assert steps == {c: " → ".join(a) for c, a in CASES.items()}
    assert _variants(r) == steps
    assert list(r.variant_paths.values()) == sorted(set(map(tuple, CASES.values())))
    assert r.variants.set_index("variant")["cases"].to_dict() == {
        "a → b → c": 2, "a → c → b": 2, "a": 1, "b → a → c": 1, "a → b → c → c": 1, "c → b → a": 1}


def test_traces_that_share_a_hash_are_told_apart_by_their_steps(sop, monkeypatch):
    expected = sa.audit(make_log(CASES), sop, processes=1)
    # every trace hashes alike (base 0): only the check against each group's first case
    # separates them, and the bytes of the codes group them instead
    monkeypatch.setattr(run, "_HASH_BASE", np.uint64(0))
    calls = []
    real = run._groups_by_bytes
    monkeypatch.setattr(run, "_groups_by_bytes", lambda *a: calls.append(1) or real(*a))
    collided = sa.audit(make_log(CASES), sop, processes=1)
    assert calls == [1]
    assert collided.variant_paths == expected.variant_paths
    pd.testing.assert_frame_equal(collided.cases, expected.cases)
    pd.testing.assert_frame_equal(collided.variants, expected.variants)
    pd.testing.assert_frame_equal(collided.deviations, expected.deviations)


def test_case_attributes_are_each_cases_first_value_as_a_group_by_gives_it():
    # read from each case's first row where every case has one there, grouped for the others
    n = 9
    events = pd.DataFrame({
        "case:concept:name": pd.array(["a", "a", "a", "b", "b", "c", "d", "d", "d"], dtype="string"),
        "full": pd.array(list("xyzuvwpqr"), dtype="string"),
        "late": pd.array([None, "a2", "a3", None, None, "c1", None, None, "d3"], dtype="string"),
        "count": pd.array([None, 2, 3, 4, None, None, 7, 8, 9], dtype="Int64"),
        "share": [np.nan, 0.5, np.nan, 1.5, 2.5, np.nan, np.nan, np.nan, 9.5],
        "kind": pd.Categorical(["k1", None, "k2", None, "k3", "k1", "k2", "k2", None]),
        "at": pd.to_datetime([None, "2024-01-02", None, "2024-01-03", None, "2024-01-04", "2024-01-05", None,
                              None]).tz_localize("Asia/Jakarta"),
        "flag": [True, False, True, False, False, True, True, False, True],
    })
    first = np.array([0, 3, 5, 6])
    by_case = events.groupby(np.repeat(np.arange(4), np.diff(np.r_[first, n])), sort=False)
    expected = by_case[[c for c in events.columns if c != "case:concept:name"]].first().reset_index(drop=True)
    got = run._first_values(events, first, by_case)
    pd.testing.assert_frame_equal(got, expected)
    assert got["late"].tolist() == ["a2", pd.NA, "c1", "d3"] and got["full"].tolist() == ["x", "u", "w", "p"]
