"""Exact findings per case on small hand-made logs (DESIGN.md deviation taxonomy)."""

from __future__ import annotations

import pandas as pd
import pytest

import sopaudit as sa

from conftest import make_log

MAIN = ["pra_permohonan", "pembayaran", "kedatangan", "pemeriksaan_berkas", "cek_pencegahan",
        "verifikasi_penyelia", "foto_sidik_jari", "wawancara", "verifikasi_pembayaran", "adjudikasi",
        "persetujuan", "pencetakan", "uji_kualitas", "laminasi", "penyerahan"]


def findings(result, case):
    d = result.deviations[result.deviations["case_id"] == case]
    return [(r.kind, r.step, r.related) for r in d.itertuples()]


@pytest.fixture(scope="module")
def passport_result(passport_sop):
    swapped = list(MAIN)
    swapped[6], swapped[7] = swapped[7], swapped[6]
    cases = {
        "conforming": MAIN,
        "skipped": [a for a in MAIN if a != "verifikasi_penyelia"],
        "swapped": swapped,
        "repeated": MAIN[:8] + ["wawancara"] + MAIN[8:],
        "unexpected": MAIN[:5] + ["titip_berkas"] + MAIN[5:],
        "rejected": MAIN[:8] + ["penolakan"],
        "rescan_twice": MAIN[:4] + ["pemeriksaan_berkas", "pemeriksaan_berkas"] + MAIN[4:],
        "reprint": MAIN[:13] + ["berita_acara_rusak", "pencetakan", "uji_kualitas"] + MAIN[13:],
    }
    return sa.audit(make_log(cases), passport_sop, processes=1)


def test_conforming_case_has_no_findings(passport_result):
    row = passport_result.cases.set_index("case_id").loc["conforming"]
    assert findings(passport_result, "conforming") == []
    assert bool(row["conforming"]) and row["fitness"] == 1.0 and row["end_reached"] == "complete"


def test_skipped_step(passport_result):
    assert findings(passport_result, "skipped") == [("skipped", "verifikasi_penyelia", "")]
    d = passport_result.deviations.set_index("case_id").loc["skipped"]
    assert d["expected_after"] == "cek_pencegahan"


def test_adjacent_swap_is_one_out_of_order_finding(passport_result):
    # Not a skip plus an unexpected step: one finding naming the pair.
    assert findings(passport_result, "swapped") == [("out_of_order", "wawancara", "foto_sidik_jari")]
    d = passport_result.deviations.set_index("case_id").loc["swapped"]
    # Third case of the log (after 15 and 14 events), its 7th event.
    assert d["event_pos"] == 6 and d["event_row"] == 15 + 14 + 7


def test_repeated_step_points_at_the_second_execution(passport_result):
    assert findings(passport_result, "repeated") == [("repeated", "wawancara", "")]
    d = passport_result.deviations.set_index("case_id").loc["repeated"]
    assert d["event_pos"] == 8


def test_activity_outside_the_sop(passport_result):
    assert findings(passport_result, "unexpected") == [("unexpected", "titip_berkas", "")]


def test_legitimate_rejection_conforms(passport_result):
    row = passport_result.cases.set_index("case_id").loc["rejected"]
    assert findings(passport_result, "rejected") == []
    assert bool(row["conforming"]) and row["end_reached"] == "ditolak_wawancara"


@pytest.mark.parametrize("case", ["rescan_twice", "reprint"])
def test_loop_taken_again_conforms(passport_result, case):
    assert findings(passport_result, case) == []


def test_metrics_count_every_kind(passport_result):
    m = passport_result.metrics
    assert m["cases"] == 8 and m["conforming_cases"] == 4
    assert m["case_conformance_rate"] == 0.5
    assert {k: v for k, v in m["deviations_by_kind"].items() if v} == {
        "skipped": 1, "out_of_order": 1, "repeated": 1, "unexpected": 1}


def test_steps_table(passport_result):
    steps = passport_result.steps.set_index("step")
    assert steps.loc["verifikasi_penyelia", "cases_skipped"] == 1
    assert steps.loc["verifikasi_penyelia", "cases_required"] == 8
    assert steps.loc["wawancara", "cases_repeated"] == 1
    assert steps.loc["wawancara", "cases_out_of_order"] == 1
    # Rejected after the interview: adjudication was not required of that case.
    assert steps.loc["adjudikasi", "cases_required"] == 7
    # The swap is reported on the interview (done too early), so the photo counts as in order.
    assert steps.loc["wawancara", ["cases_required", "cases_in_order"]].tolist() == [8, 7]
    assert steps.loc["foto_sidik_jari", ["cases_required", "cases_in_order"]].tolist() == [8, 8]
    assert steps.loc["verifikasi_penyelia", "cases_in_order"] == 7


MINI_CASES = {
    "ok": list("abcdefg"),
    "ok_variants": list("acedffg"),  # optional b left out, parallel d/e swapped, loop twice
    "rejected": list("abr"),
    "skip_f": list("abcdeg"),
    "swap_cd": list("abdcefg"),
    "optional_late": list("acdefgb"),
    "moved_far": list("abcfdeg"),
    "repeat_g": list("abcdefgg"),
    "unexpected_x": list("abcxdefg"),
}

MINI_EXPECTED = {
    "ok": [],
    "ok_variants": [],
    "rejected": [],
    "skip_f": [("skipped", "f", "")],
    "swap_cd": [("out_of_order", "d", "c")],
    "optional_late": [("out_of_order", "b", "")],
    "moved_far": [("out_of_order", "f", "d; e")],
    "repeat_g": [("repeated", "g", "")],
    "unexpected_x": [("unexpected", "x", "")],
}


@pytest.mark.parametrize("case", sorted(MINI_CASES))
def test_mini_sop_findings(mini_sop, case):
    result = sa.audit(make_log(MINI_CASES), mini_sop, processes=1)
    assert findings(result, case) == MINI_EXPECTED[case]


def test_labels_map_to_steps_through_aliases(mini_sop):
    result = sa.audit(make_log({"c1": ["REG", "c", "d", "e", "f", "g"]}), mini_sop, processes=1)
    assert result.metrics["conforming_cases"] == 1
    assert result.log["sopaudit:label"].iloc[0] == "REG"


def test_input_log_is_not_modified(mini_sop):
    log = make_log(MINI_CASES)
    before = log.copy()
    sa.audit(log, mini_sop, processes=1)
    assert log.equals(before)


def test_same_result_with_a_process_pool(mini_sop, monkeypatch):
    from sopaudit.conform import align

    cases = {}
    for k in range(300):  # 300 distinct variants: a pool is considered from 200
        t = list("abcdefg")
        del t[k % 7]
        t.insert((k // 7) % 7, "x" * (1 + k // 49))
        cases[f"c{k}"] = t
    one = sa.audit(make_log(cases), mini_sop, processes=1)

    started = []

    class Spy(align.ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            started.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(align, "_pool_size", lambda variants, net, processes, *rest: (processes, None, ([], {})))  # as if it paid
    monkeypatch.setattr(align, "ProcessPoolExecutor", Spy)
    two = sa.audit(make_log(cases), mini_sop, processes=2)
    assert started == [2]
    assert one.metrics["variants"] == 300 and len(one.deviations) == 557
    assert one.deviations.equals(two.deviations)
    assert one.metrics == two.metrics


def test_events_in_order_are_kept_and_others_sorted_as_sort_values_does():
    import numpy as np
    import pandas as pd

    from sopaudit.auditing.run import _by_case_and_time
    from sopaudit.core.columns import CASE, ROW, TIME

    t = pd.Timestamp("2024-01-02 08:00", tz="Asia/Jakarta")
    events = pd.DataFrame({
        # categories out of text order: sort_values orders a categorical by its codes
        CASE: pd.Categorical(["b", "b", "b", "a", "a"], categories=["b", "a"]),
        TIME: [t, t, t + pd.Timedelta("1h"), t, t + pd.Timedelta("2h")],  # a tie, kept in row order
        ROW: np.arange(5),
        "x": list("vwxyz"),
    })
    expected = events.sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(_by_case_and_time(events), expected)
    assert _by_case_and_time(events)["x"].tolist() == list("vwxyz")  # already in order
    shuffled = events.iloc[[4, 2, 0, 3, 1]]
    pd.testing.assert_frame_equal(_by_case_and_time(shuffled), expected)
    as_text = events.astype({CASE: "str"}).iloc[[4, 2, 0, 3, 1]]  # not categorical: sorted by text
    pd.testing.assert_frame_equal(
        _by_case_and_time(as_text), as_text.sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True))


def test_a_finding_event_is_found_by_case_and_position_or_not_at_all():
    from sopaudit.auditing.run import _case_starts, _event_at

    # events in case order, as the audit holds them: c1 has 3 events, c2 one, c3 two
    events = pd.Series(["c1", "c1", "c1", "c2", "c3", "c3"], dtype="string")
    first = _case_starts(events)
    assert first.tolist() == [0, 3, 4]
    at = _event_at(pd.Index(events.iloc[first]), first, len(events))
    cases = pd.Series(["c1", "c1", "c2", "c3", "c3", "c2", "c1", "zz", "c3"], dtype="string")
    pos = pd.Series([0, 2, 0, 1, None, 1, 3, 0, 2], dtype="Int64")
    # beyond a case's last event (c2 at 1, c1 at 3, c3 at 2), no position, an unknown case: none
    assert at(cases, pos).tolist() == [0, 2, 3, 5, -1, -1, -1, -1, -1]


def test_case_columns_belong_to_their_case_whatever_the_order_of_a_categorical(passport_sop):
    """A categorical case column whose categories are not in text order (a notebook's own frame,
    a dictionary-encoded Parquet column) orders the events by category: every case's counts and
    times must still be its own, and the findings those of the same log with text ids."""
    cases = {"c": MAIN, "a": MAIN[:5], "d": [a for a in MAIN if a != "wawancara"], "b": MAIN[:9] + MAIN[8:]}
    plain = make_log(cases)
    plain.loc[plain["case:concept:name"] == "a", "time:timestamp"] += pd.Timedelta(days=3)
    categorical = plain.astype({"case:concept:name": pd.CategoricalDtype(["d", "c", "b", "a"])})
    text, cat = sa.audit(plain, passport_sop, processes=1), sa.audit(categorical, passport_sop, processes=1)
    got = cat.cases.set_index("case_id")
    times = plain.groupby("case:concept:name")["time:timestamp"]
    assert got["n_events"].to_dict() == {"a": 5, "b": 16, "c": 15, "d": 14}
    assert (got["start"] == times.min().reindex(got.index)).all()
    assert (got["end"] == times.max().reindex(got.index)).all()
    pd.testing.assert_frame_equal(got.sort_index(), text.cases.set_index("case_id").sort_index())
    pd.testing.assert_frame_equal(cat.deviations, text.deviations)


@pytest.mark.parametrize("kind", ["object", "category"])
def test_case_ids_that_read_alike_are_one_case(passport_sop, kind):
    """A notebook's column holding both 1 and "1" (an export that read some ids as numbers): the
    reports show both as 1, so they are one case, audited as the same log with text ids."""
    cases = {"1": MAIN, "2": MAIN[:5], "3": [a for a in MAIN if a != "wawancara"]}
    text = make_log(cases)
    mixed = text.copy()
    ids = [int(c) if c != "1" or i % 2 else c for i, c in enumerate(text["case:concept:name"])]
    mixed["case:concept:name"] = pd.Series(ids, index=text.index, dtype=object).astype(kind)
    assert {type(v) for v in mixed.loc[text["case:concept:name"] == "1", "case:concept:name"]} == {int, str}
    want, got = sa.audit(text, passport_sop, processes=1), sa.audit(mixed, passport_sop, processes=1)
    assert got.cases.set_index("case_id")["n_events"].to_dict() == {"1": 15, "2": 5, "3": 14}
    pd.testing.assert_frame_equal(got.cases, want.cases)
    pd.testing.assert_frame_equal(got.deviations, want.deviations)


def test_events_without_a_case_id_are_refused_by_row(mini_sop):
    from sopaudit.core.errors import InputFileError

    log = make_log({"a": ["a", "b"], "b": ["a"]})
    log.loc[[0, 2], "case:concept:name"] = None
    with pytest.raises(InputFileError, match=r"2 event\(s\) of the log have no case id \(row labels 0, 2\)"):
        sa.audit(log, mini_sop)
