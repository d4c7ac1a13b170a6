"""The per-group tools of discovery/grouped.py count and order by group in linear time where numpy
sorts. On drawn inputs they give exactly what they replaced, kept here as the references: the
directly-follows graph of the sorting code (counts, cases, median and p90 waits), numpy's
unique and pandas' groupby quantile."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sopaudit.discovery import grouped, mining  # noqa: E402

EXAMPLES = int(os.environ.get("SOPAUDIT_FUZZ_EXAMPLES", "80"))


def reference_edges(s: mining.LogOrder) -> pd.DataFrame:
    """The edge table of the code before counting: np.unique, a sort of the (edge, case) pairs and
    np.lexsort for the quantiles."""
    n_act = len(s.activities)
    nxt = np.flatnonzero(s.case_codes[1:] == s.case_codes[:-1])
    src = s.act_codes[nxt].astype(np.int64)
    tgt = s.act_codes[nxt + 1].astype(np.int64)
    waits = ((s.times[nxt + 1] - s.times[nxt]) / np.timedelta64(1, "s")).astype(float)
    keys, edge_idx, counts = np.unique(src * n_act + tgt, return_inverse=True, return_counts=True)
    pairs = np.unique(edge_idx.astype(np.int64) * (len(s.case_ids) + 1) + s.case_codes[nxt])
    cases = np.bincount(pairs // (len(s.case_ids) + 1), minlength=len(keys))
    order = np.lexsort((waits, edge_idx))
    g, v = edge_idx[order], waits[order]
    first = np.cumsum(counts) - counts
    quantiles = {}
    for name, q in (("median_wait_s", 0.5), ("p90_wait_s", 0.9)):
        pos = q * (counts - 1)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        quantiles[name] = v[first + lo] + (v[first + hi] - v[first + lo]) * (pos - lo)
    assert (g[first] == np.arange(len(keys))).all()
    return pd.DataFrame({"source": s.activities[keys // n_act], "target": s.activities[keys % n_act],
                         "count": counts, "cases": cases, **quantiles})


@st.composite
def logs(draw) -> pd.DataFrame:
    n_act = draw(st.integers(1, 6))
    rows = []
    for case in range(draw(st.integers(1, 25))):
        t = draw(st.integers(0, 10_000))
        for _ in range(draw(st.integers(1, 9))):
            t += draw(st.sampled_from([0, 0, 1, 60, 3600, 86_400 * 3]))  # ties included
            rows.append((f"c{draw(st.integers(0, 40)) if draw(st.booleans()) else case}",
                         f"a{draw(st.integers(0, n_act - 1))}", t))
    log = pd.DataFrame(rows, columns=[mining.CASE, mining.ACTIVITY, "t"])
    log[mining.TIMESTAMP] = pd.to_datetime(log.pop("t"), unit="s", utc=True)
    return log.sample(frac=1, random_state=draw(st.integers(0, 99))).reset_index(drop=True)


@settings(max_examples=EXAMPLES, deadline=None)
@given(logs())
def test_dfg_edges_are_those_of_the_sorting_code(log):
    s = mining.log_order(log)
    got = mining.dfg(log)
    got = got[(got["source"] != mining.START) & (got["target"] != mining.END)]
    ref = reference_edges(s)
    key = ["source", "target"]
    got = got.sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True).astype(got.dtypes.to_dict())
    pd.testing.assert_frame_equal(got, ref)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=300), st.sampled_from([2001, 1 << 23]))
def test_distinct_is_numpys_unique_whether_counted_or_sorted(keys, n_keys):
    keys = np.array(keys, dtype=np.int64)
    for got, ref in zip(grouped.distinct(keys, n_keys), np.unique(keys, return_inverse=True, return_counts=True),
                        strict=True):
        np.testing.assert_array_equal(got, ref)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-1e6, 1e6)), max_size=200),
       st.sampled_from([6, 70_000]), st.sampled_from([0.0, 0.5, 0.9, 0.95, 1.0]))
def test_group_quantiles_are_pandas_groupby_quantiles(pairs, n_groups, q):
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    (got,) = grouped.group_quantiles(group, values, n_groups, (q,))
    ref = pd.Series(values).groupby(group).quantile(q).reindex(range(n_groups))
    np.testing.assert_array_equal(got, ref.to_numpy())  # to the last bit
