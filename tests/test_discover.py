"""Tests of sopaudit.discovery.mining: exact results on a hand-made log, equality with pm4py on the
public real logs, and process maps that render readably."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sopaudit.core.errors import SopAuditError
from sopaudit.discovery import mining as D
from sopaudit.discovery import models as M
from sopaudit.discovery import processmap as P

from conftest import DATASETS, skip_without_datasets


def _read(rel: str) -> pd.DataFrame:
    path = DATASETS / rel
    if not path.exists():
        skip_without_datasets(f"public log {path} not found")
    import pm4py

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(path), variant="chunk_regex", show_progress_bar=False)


@pytest.fixture(scope="module")
def receipt() -> pd.DataFrame:
    return _read("receipt/receipt.xes.gz")


@pytest.fixture(scope="module")
def sepsis() -> pd.DataFrame:
    return _read("sepsis/sepsis.xes.gz")


@pytest.fixture(scope="module")
def bpic2015() -> pd.DataFrame:
    return _read("bpic2015/bpic15_municipality1.xes.gz")


# ---------------------------------------------------------------------------------------------
# a tiny hand-made log


def _t(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="Asia/Jakarta")


def tiny_log() -> pd.DataFrame:
    """Five cases. c4 has two B with the same timestamp (file order decides) and its rows are
    interleaved with c5's, so nothing may assume the rows of a case are contiguous."""
    rows = [
        ("c1", "A", "2024-01-01 09:00", "web"),
        ("c1", "B", "2024-01-01 10:00", "web"),
        ("c1", "C", "2024-01-02 10:00", "web"),
        ("c2", "A", "2024-01-02 08:00", "loket"),
        ("c2", "C", "2024-01-02 08:30", "loket"),
        ("c3", "A", "2024-02-01 00:00", "web"),
        ("c3", "C", "2024-02-01 03:00", "web"),  # listed before B but happens after it
        ("c3", "B", "2024-02-01 01:00", "web"),
        ("c4", "A", "2024-02-15 09:00", "loket"),
        ("c5", "A", "2024-03-01 00:00", "web"),
        ("c4", "B", "2024-02-15 11:00", "loket"),
        ("c4", "B", "2024-02-15 11:00", "loket"),
        ("c5", "B", "2024-03-01 01:00", "web"),
        ("c4", "C", "2024-02-16 09:00", "loket"),
        ("c5", "C", "2024-03-01 02:00", "web"),
    ]
    return pd.DataFrame(
        {
            "case:concept:name": [r[0] for r in rows],
            "concept:name": [r[1] for r in rows],
            "time:timestamp": [_t(r[2]) for r in rows],
            "case:channel": [r[3] for r in rows],
        },
        index=pd.RangeIndex(100, 100 + len(rows)),
    )


def _cases(log: pd.DataFrame) -> list[str]:
    return sorted(set(log["case:concept:name"]))


def test_dfg_tiny_exact() -> None:
    d = D.dfg(tiny_log())
    got = {
        (r.source, r.target): (r.count, r.cases, r.median_wait_s, r.p90_wait_s)
        for r in d.itertuples()
    }
    hour = 3600.0
    # A->B: c1 1h, c3 1h, c4 2h, c5 1h
    assert got[("A", "B")][:2] == (4, 4)
    assert got[("A", "B")][2] == hour
    assert got[("A", "B")][3] == pytest.approx(hour + 0.7 * hour)  # linear interpolation
    assert got[("B", "B")][:3] == (1, 1, 0.0)
    # B->C: c1 24h, c3 2h, c4 22h, c5 1h -> median 12h
    assert got[("B", "C")][:3] == (4, 4, 12 * hour)
    assert got[("A", "C")][:3] == (1, 1, 0.5 * hour)
    assert got[(D.START, "A")][:2] == (5, 5)
    assert np.isnan(got[(D.START, "A")][2])
    assert got[("C", D.END)][:2] == (5, 5)
    assert len(d) == 6
    # sorted by count descending, then source, target
    assert list(d["count"]) == sorted(d["count"], reverse=True)
    assert list(d.columns) == ["source", "target", "count", "cases", "median_wait_s", "p90_wait_s"]


def test_variants_tiny_exact() -> None:
    v = D.variants(tiny_log())
    assert list(v["variant"]) == ["A → B → C", "A → B → B → C", "A → C"]
    assert list(v["activities"]) == [("A", "B", "C"), ("A", "B", "B", "C"), ("A", "C")]
    assert list(v["count"]) == [3, 1, 1]
    assert list(v["rank"]) == [1, 2, 3]
    assert list(v["share"]) == pytest.approx([0.6, 0.2, 0.2])
    assert list(v["cumulative_share"]) == pytest.approx([0.6, 0.8, 1.0])
    assert list(v["example_case"]) == ["c1", "c4", "c2"]
    assert list(v["length"]) == [3, 4, 2]


def test_activity_stats_tiny() -> None:
    a = D.activity_stats(tiny_log())
    assert list(a["activity"]) == ["A", "B", "C"]  # equal counts: by name
    assert list(a["events"]) == [5, 5, 5]
    assert dict(zip(a["activity"], a["cases"], strict=True)) == {"A": 5, "B": 4, "C": 5}
    assert dict(zip(a["activity"], a["position"], strict=True))["A"] == 0.0


def test_filter_period() -> None:
    log = tiny_log()
    before = log.copy()
    out = D.filter_log(log, start="2024-02-01", end="2024-03-01")
    assert _cases(out) == ["c3", "c4"]  # c5 starts exactly at the end: excluded
    assert list(out.index) == [105, 106, 107, 108, 110, 111, 113]  # original rows, order
    pd.testing.assert_frame_equal(log, before)
    out = D.filter_log(log, start=pd.Timestamp("2024-02-01", tz="Asia/Jakarta"))
    assert _cases(out) == ["c3", "c4", "c5"]
    out = D.filter_log(log, end="2024-01-02 08:00")
    assert _cases(out) == ["c1"]


def test_filter_attribute() -> None:
    log = tiny_log()
    assert _cases(D.filter_log(log, attribute="case:channel", values="web")) == ["c1", "c3", "c5"]
    out = D.filter_log(log, attribute="case:channel", values=["loket", "x"])
    assert _cases(out) == ["c2", "c4"]
    # an event attribute: cases with at least one such event
    assert _cases(D.filter_log(log, attribute="concept:name", values=["B"])) == [
        "c1",
        "c3",
        "c4",
        "c5",
    ]
    with pytest.raises(SopAuditError, match="not a column"):
        D.filter_log(log, attribute="nope", values=["x"])
    with pytest.raises(SopAuditError, match="needs values"):
        D.filter_log(log, attribute="case:channel")


def test_filter_variant_coverage() -> None:
    log = tiny_log()
    assert _cases(D.filter_log(log, variant_coverage=0.6)) == ["c1", "c3", "c5"]
    assert _cases(D.filter_log(log, variant_coverage=0.7)) == ["c1", "c3", "c4", "c5"]
    assert _cases(D.filter_log(log, variant_coverage=1.0)) == ["c1", "c2", "c3", "c4", "c5"]
    # combined: period first, then coverage within the period's cases (c3, c4, c5)
    out = D.filter_log(log, start="2024-01-15", variant_coverage=0.5)
    assert _cases(out) == ["c3", "c5"]
    with pytest.raises(SopAuditError, match="variant_coverage"):
        D.filter_log(log, variant_coverage=0)


def test_bad_logs_raise_clear_errors() -> None:
    log = tiny_log()
    with pytest.raises(SopAuditError, match="no column 'concept:name'"):
        D.dfg(log.drop(columns=["concept:name"]))
    bad = log.copy()
    bad.loc[103, "time:timestamp"] = pd.NaT
    with pytest.raises(SopAuditError, match="empty in 1 row"):
        D.variants(bad)
    bad = log.copy()
    bad["time:timestamp"] = bad["time:timestamp"].astype(str)
    with pytest.raises(SopAuditError, match="not date-times"):
        D.dfg(bad)
    bad = log.copy()
    bad.loc[100, "concept:name"] = D.START
    with pytest.raises(SopAuditError, match="rename that activity"):
        D.dfg(bad)


def test_empty_log() -> None:
    empty = tiny_log().iloc[0:0]
    assert len(D.dfg(empty)) == 0
    assert len(D.variants(empty)) == 0
    pm = P.discover(empty)
    assert pm.n_cases == 0
    ET.fromstring(pm.draw())


def test_sort_log_keeps_ties_in_row_order() -> None:
    s = D.sort_log(tiny_log())
    assert list(s.index) == [
        100,
        101,
        102,
        103,
        104,
        105,
        107,
        106,
        108,
        110,
        111,
        113,
        109,
        112,
        114,
    ]


# ---------------------------------------------------------------------------------------------
# equality with pm4py on real logs


def _pm4py_dfg(log: pd.DataFrame) -> tuple[dict, dict, dict]:
    import pm4py

    dfg, start, end = pm4py.discover_dfg(log)
    return dict(dfg), dict(start), dict(end)


def _ours(log: pd.DataFrame) -> tuple[dict, dict, dict]:
    d = D.dfg(log)
    inner = d[(d["source"] != D.START) & (d["target"] != D.END)]
    start = d[d["source"] == D.START]
    end = d[d["target"] == D.END]
    return (
        {
            (s, t): c
            for s, t, c in zip(inner["source"], inner["target"], inner["count"], strict=True)
        },
        dict(zip(start["target"], start["count"], strict=True)),
        dict(zip(end["source"], end["count"], strict=True)),
    )


@pytest.mark.parametrize("name", ["receipt", "sepsis"])
def test_dfg_equals_pm4py(name: str, request: pytest.FixtureRequest) -> None:
    log = request.getfixturevalue(name)
    assert _ours(log) == _pm4py_dfg(log)
    d = D.dfg(log)
    assert (d["cases"] <= d["count"]).all()
    inner = d[(d["source"] != D.START) & (d["target"] != D.END)]
    assert (inner["median_wait_s"] <= inner["p90_wait_s"]).all()


# sepsis has many events with equal timestamps in a case: equality with pm4py (which keeps
# the file order) shows that ties keep the row order
@pytest.mark.parametrize("name", ["receipt", "sepsis"])
def test_variants_equal_pm4py(name: str, request: pytest.FixtureRequest) -> None:
    import pm4py

    log = request.getfixturevalue(name)
    v = D.variants(log)
    assert dict(zip(v["activities"], v["count"], strict=True)) == pm4py.get_variants(log)
    assert v["count"].sum() == log["case:concept:name"].nunique()
    assert v["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    # deterministic order: count descending, then variant text
    keys = list(zip(-v["count"], v["variant"], strict=True))
    assert keys == sorted(keys)


def test_shuffled_rows_give_same_results(receipt: pd.DataFrame) -> None:
    # receipt has no equal timestamps within a case, so any row order must give the same answer
    shuffled = receipt.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(D.dfg(shuffled), D.dfg(receipt))
    a, b = D.variants(shuffled), D.variants(receipt)
    pd.testing.assert_frame_equal(a.drop(columns="example_case"), b.drop(columns="example_case"))


def test_models_and_quality(receipt: pd.DataFrame, capfd: pytest.CaptureFixture[str]) -> None:
    import pm4py

    net, im, fm = M.inductive_model(receipt, noise_threshold=0.2)
    q = M.model_quality(receipt, net, im, fm)
    assert q["method"] == "token_based_replay"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitness = pm4py.fitness_token_based_replay(receipt, net, im, fm)
        precision = pm4py.precision_token_based_replay(receipt, net, im, fm)
    capfd.readouterr()
    assert q["fitness"] == pytest.approx(fitness["log_fitness"])
    assert q["precision"] == pytest.approx(precision)
    assert q["precision"] == pytest.approx(0.26619927767155305)
    # pm4py gives a percentage; the report a share
    assert q["fitting_cases_share"] == pytest.approx(fitness["perc_fit_traces"] / 100)
    assert q["fitting_cases_share"] == pytest.approx(0.49721059972106)
    hnet, him, hfm = M.heuristics_model(receipt, dependency_threshold=0.9)
    assert len(hnet.transitions) > 0
    hq = M.model_quality(receipt, hnet, him, hfm)
    assert (hq["fitness"], hq["precision"]) == pytest.approx((0.912047442298928, 0.9417572554103919))
    out, err = capfd.readouterr()
    assert out == "" and err == "", "library code must not write to the terminal"


def test_models_accept_categorical_columns() -> None:
    # sopaudit's reader may hand over case and activity as categories; pm4py wants strings
    log = tiny_log().astype({"case:concept:name": "category", "concept:name": "category"})
    net, im, fm = M.inductive_model(log, noise_threshold=0.0)
    assert sorted(t.label for t in net.transitions if t.label) == ["A", "B", "C"]
    q = M.model_quality(log, net, im, fm)
    assert q == pytest.approx({"method": "token_based_replay", "fitness": 1.0, "precision": 0.96,
                               "fitting_cases_share": 1.0, "average_trace_fitness": 1.0})
    assert D.dfg(log).equals(D.dfg(tiny_log()))


# ---------------------------------------------------------------------------------------------
# process maps


def _no_overlaps(layout) -> None:
    nodes = layout.node_boxes()
    labels = layout.label_boxes()
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not a.overlaps(b), (a, b)
        for b in nodes:
            assert not a.overlaps(b), (a, b)


def test_receipt_map(receipt: pd.DataFrame, tmp_path: Path) -> None:
    pm = P.discover(receipt)
    assert pm.n_cases == 1434 and pm.n_events == 8577
    assert len(pm.activities) == 27
    svg = pm.draw(tmp_path / "receipt.svg")
    assert (tmp_path / "receipt.svg").read_text(encoding="utf-8") == svg
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "Confirmation of receipt" in svg
    assert svg == pm.draw(), "same map, same bytes"
    assert pm._repr_svg_() == svg
    _no_overlaps(pm.layout())
    _no_overlaps(pm.layout(min_edge_share=0.0))  # every edge, the dense case
    png_svg = pm.draw(tmp_path / "receipt.png", fmt="png")
    assert png_svg == svg
    assert (tmp_path / "receipt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wait_metric_labels(receipt: pd.DataFrame) -> None:
    nodes, edges = P.discover(receipt).graph(metric="wait")
    inner = [e for e in edges if D.START not in (e.source, e.target) and e.target != D.END]
    assert inner and all(e.label[-1] in "smhd" for e in inner)
    label = {(e.source, e.target): e.label for e in edges}
    # the median waits, 35.2 s (1,079 times) and 27.6 s (1,119 times); their p90 is over 1.5 hours
    assert label["Confirmation of receipt", "T02 Check confirmation of receipt"] == "35s"
    assert label["T02 Check confirmation of receipt", "T04 Determine confirmation of receipt"] == "28s"


def test_bpic2015_map_with_thresholds(bpic2015: pd.DataFrame) -> None:
    pm = P.discover(bpic2015)
    assert len(pm.activities) == 398
    kw = {"max_nodes": 30, "min_edge_share": 0.1}
    nodes, edges = pm.graph(**kw)
    assert len([n for n in nodes if n.id not in (D.START, D.END)]) == 30
    assert len(edges) < 80
    ids = {n.id for n in nodes}
    assert all(e.source in ids and e.target in ids for e in edges)
    svg = pm.draw(**kw)
    ET.fromstring(svg)
    assert svg == pm.draw(**kw)
    _no_overlaps(pm.layout(**kw))
    _no_overlaps(pm.layout())  # the default thresholds: 40 activities, edges of 1% of cases


def test_bpic2015_dfg_equals_pm4py(bpic2015: pd.DataFrame) -> None:
    assert _ours(bpic2015) == _pm4py_dfg(bpic2015)


def test_hostile_activity_name_is_escaped() -> None:
    log = tiny_log()
    log.loc[log["concept:name"] == "B", "concept:name"] = "<script>alert(1)</script>"
    svg = P.discover(log).draw()
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    ET.fromstring(svg)


def test_the_case_and_time_order_without_a_sort_is_the_sorted_order():
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(0, 40))
        cases = np.sort(rng.integers(0, 6, n)) if trial % 2 else rng.integers(0, 6, n)
        times = rng.integers(0, 5, n)  # many ties: those keep their row order
        if trial % 3 == 0:  # in case and time order already: the shortcut is taken
            order = np.lexsort((times, cases))
            cases, times = cases[order], times[order]
        assert np.array_equal(D._case_time_order(cases, times), np.lexsort((times, cases)))
