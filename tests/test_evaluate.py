"""compare_findings: exact precision, recall and confusion on small hand-made tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sopaudit.core.errors import SopAuditError
from sopaudit.simulation.evaluate import compare_findings


def table(rows):
    return pd.DataFrame(rows, columns=["case_id", "kind", "step", "related"])


TRUTH = table([
    ("c1", "skipped", "b", ""),
    ("c1", "out_of_order", "d", "c"),          # swap c <-> d: the step done early is d
    ("c2", "out_of_order", "x", "a; b"),       # move of x over a and b
    ("c2", "repeated", "a", ""),
    ("c3", "unexpected", "titip_berkas", ""),
    ("c3", "late_case", "laminasi", "wawancara"),
    ("c4", "skipped", "e", ""),
    ("c5", "incomplete", "", ""),
])


def scores(ev):
    return {r.kind: (r.truth, r.found, r.tp, r.fp, r.fn) for r in ev.per_kind.itertuples()}


def test_exact_counts_precision_and_recall():
    found = table([
        ("c1", "skipped", "b", ""),
        ("c1", "out_of_order", "c", "d"),          # the swap named by its other step
        ("c2", "out_of_order", "x", "a; b"),
        ("c2", "repeated", "a", ""),
        ("c2", "repeated", "a", ""),               # reported twice, true once
        ("c3", "unexpected", "titip_berkas", ""),
        ("c3", "late_case", "persetujuan", ""),    # a late case matches on the case alone
        ("c4", "out_of_order", "e", ""),           # the skip of e reported as out of order
        ("c5", "incomplete", "wawancara", ""),
        ("c6", "skipped", "a", ""),                # nothing of the kind in the truth
    ])
    ev = compare_findings(found, TRUTH)
    assert scores(ev) == {
        "incomplete": (1, 1, 1, 0, 0),
        "late_case": (1, 1, 1, 0, 0),
        "out_of_order": (2, 3, 2, 1, 0),
        "repeated": (1, 2, 1, 1, 0),
        "skipped": (2, 2, 1, 1, 1),
        "unexpected": (1, 1, 1, 0, 0),
    }
    assert ev.precision("out_of_order") == pytest.approx(2 / 3)
    assert ev.recall("skipped") == 0.5 and ev.precision("skipped") == 0.5
    assert ev.f1("repeated") == pytest.approx(2 * 0.5 * 1 / 1.5)
    # c4: the true skip of e was found as out_of_order: one confusion, not a miss and a false alarm.
    c = ev.confusion
    assert c.loc["skipped", "out_of_order"] == 1 and c.loc["skipped", "(none)"] == 0
    assert c.loc["(none)", "skipped"] == 1 and c.loc["(none)", "repeated"] == 1
    assert c.loc["out_of_order", "out_of_order"] == 2 and c.loc["(none)", "out_of_order"] == 0
    assert int(c.to_numpy().sum()) == 8 + 2  # every true row once, plus the two false alarms
    assert ev.missed[["case_id", "kind", "step"]].values.tolist() == [["c4", "skipped", "e"]]
    assert sorted(map(tuple, ev.spurious[["case_id", "kind", "step"]].values.tolist())) == [
        ("c2", "repeated", "a"), ("c4", "out_of_order", "e"), ("c6", "skipped", "a")]


def test_swap_matches_either_step_only_at_pair_level():
    found = table([("c1", "out_of_order", "c", "d")])
    truth = table([("c1", "out_of_order", "d", "c")])
    assert compare_findings(found, truth, match="pair").recall("out_of_order") == 1.0
    assert compare_findings(found, truth, match="step").recall("out_of_order") == 0.0
    # A move matches on the whole set of steps, not on a part of it.
    moved = table([("c1", "out_of_order", "x", "a")])
    truth = table([("c1", "out_of_order", "x", "a; b")])
    assert compare_findings(moved, truth, match="pair").recall("out_of_order") == 0.0
    assert compare_findings(moved, truth, match="step").recall("out_of_order") == 1.0
    assert compare_findings(moved, truth, match="case").recall("out_of_order") == 1.0


def test_duty_conflict_pair_in_any_order():
    found = table([("c1", "duty_conflict", "adjudikasi", "persetujuan")])
    truth = table([("c1", "duty_conflict", "persetujuan", "adjudikasi")])
    ev = compare_findings(found, truth)
    assert ev.precision("duty_conflict") == 1.0 and ev.recall("duty_conflict") == 1.0


def test_kinds_filter_and_undefined_scores():
    found = table([("c1", "skipped", "b", ""), ("c9", "rule", "x", "")])
    ev = compare_findings(found, TRUTH, kinds=["skipped", "wrong_role"])
    assert list(ev.per_kind["kind"]) == ["skipped", "wrong_role"]
    assert scores(ev)["skipped"] == (2, 1, 1, 0, 1)
    wr = ev.per_kind.set_index("kind").loc["wrong_role"]
    assert (wr["truth"], wr["found"]) == (0, 0) and math.isnan(wr["precision"]) and math.isnan(wr["recall"])
    assert list(ev.confusion.index) == ["skipped", "wrong_role", "(none)"]


def test_audit_columns_and_missing_values_are_accepted():
    # The audit's deviations table: extra columns, NA in related and step.
    found = pd.DataFrame({"case_id": pd.array(["c5", "c1"], dtype="string"), "kind": ["incomplete", "skipped"],
                          "step": [pd.NA, "b"], "related": [pd.NA, None], "event_row": [3, None]})
    ev = compare_findings(found, TRUTH, kinds=["incomplete", "skipped"])
    assert scores(ev) == {"incomplete": (1, 1, 1, 0, 0), "skipped": (2, 1, 1, 0, 1)}


def test_bad_input_is_explained():
    with pytest.raises(SopAuditError, match="the truth table lacks the column\\(s\\) kind"):
        compare_findings(TRUTH, TRUTH.drop(columns=["kind"]))
    with pytest.raises(SopAuditError, match="match must be 'step', 'pair' or 'case', not 'rows'"):
        compare_findings(TRUTH, TRUTH, match="rows")


def test_printable_summary():
    text = str(compare_findings(TRUTH, TRUTH))
    assert "match: pair" in text and "confusion (rows: truth, columns: found)" in text
    assert "skipped      2      2   2   0   0    1.0000 1.0000 1.0000" in text
