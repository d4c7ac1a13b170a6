"""wrong_branch, incomplete, declarative rules, accepted deviations and evidence rows."""

from __future__ import annotations

import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.core.errors import InputFileError

from conftest import FIXTURES, make_log


@pytest.fixture(scope="module")
def branch_sop():
    return sa.load_sop(FIXTURES / "branch_sop.yaml")


def with_attr(log: pd.DataFrame, values: dict[str, str]) -> pd.DataFrame:
    return log.assign(jenis_layanan=log["case:concept:name"].map(values))


def kinds(result, case):
    d = result.deviations[result.deviations["case_id"] == case]
    return [(r.kind, r.step) for r in d.itertuples()]


def test_wrong_branch_both_ways(branch_sop):
    log = make_log({
        "new_ok": ["daftar", "periksa", "cetak", "serah"],
        "lost_ok": ["daftar", "bap", "periksa", "cetak", "serah"],
        "new_with_bap": ["daftar", "bap", "periksa", "cetak", "serah"],
        "lost_without_bap": ["daftar", "periksa", "cetak", "serah"],
    })
    log = with_attr(log, {"new_ok": "baru", "lost_ok": "hilang", "new_with_bap": "baru", "lost_without_bap": "rusak"})
    r = sa.audit(log, branch_sop, processes=1)
    assert kinds(r, "new_ok") == [] and kinds(r, "lost_ok") == []
    assert kinds(r, "new_with_bap") == [("wrong_branch", "bap")]
    assert kinds(r, "lost_without_bap") == [("wrong_branch", "bap")]
    d = r.deviations.set_index("case_id")
    assert d.loc["new_with_bap", "detail"] == (
        "decision 'Paspor hilang atau rusak?' answered 'yes', but jenis_layanan = 'baru' requires 'no'")
    assert d.loc["new_with_bap", "event_pos"] == 1
    assert r.metrics["conforming_cases"] == 2


def test_rules_are_checked_on_the_log(branch_sop):
    log = make_log({
        "print_first": ["daftar", "cetak", "periksa", "serah"],
        "two_handovers": ["daftar", "periksa", "cetak", "serah", "serah"],
        "starts_wrong": ["periksa", "daftar", "cetak", "serah"],
    })
    r = sa.audit(with_attr(log, dict.fromkeys(["print_first", "two_handovers", "starts_wrong"], "baru")),
                 branch_sop, processes=1)
    rules = r.deviations[r.deviations["kind"] == "rule"]
    got = sorted(zip(rules["case_id"], rules["related"], rules["step"], rules["event_pos"].astype(object), strict=True),
                 key=str)
    assert got == sorted([
        ("print_first", "R1", "cetak", 1),
        ("two_handovers", "R2", "serah", pd.NA),
        ("starts_wrong", "R3", "daftar", 0),
    ], key=str)
    assert "rule R1 broken: every 'cetak' needs an earlier 'periksa' (Check before printing)" in set(rules["detail"])


def test_open_case_is_incomplete_not_skipped(mini_sop):
    # 'open' did its last step at the log's last moment: within any wait the log shows
    log = make_log({"done": list("abcdefg")})
    log = pd.concat([log, make_log({"open": list("abc")}, start="2024-03-04 08:40")], ignore_index=True)
    r = sa.audit(log, mini_sop, processes=1)
    assert kinds(r, "open") == [("incomplete", "d")]
    row = r.cases.set_index("case_id").loc["open"]
    assert row["status"] == "incomplete" and not row["conforming"]
    m = r.metrics
    assert (m["finished_cases"], m["incomplete_cases"], m["case_conformance_rate"]) == (1, 1, 1.0)
    d = r.deviations.set_index("case_id").loc["open"]
    assert d["detail"] == "not finished when the log ends; next SOP step(s): 'd', 'e'"
    # Long before the end of the log, the same case is judged as finished: its cheapest
    # explanation is a rejection with the check done where the reject step belongs.
    late = make_log({"done": list("abcdefg")}, start="2024-06-01 08:00")
    r2 = sa.audit(pd.concat([make_log({"open": list("abc")}), late], ignore_index=True), mini_sop, processes=1)
    assert kinds(r2, "open") == [("out_of_order", "c"), ("skipped", "r")]


def test_evidence_rows_of_each_kind(mini_sop):
    r = sa.audit(make_log({"c": ["a", "b", "d", "c", "e", "f", "g", "g", "x"]}), mini_sop, processes=1)
    got = {(d.kind, d.step): (d.event_row, d.evidence_rows) for d in r.deviations.itertuples()}
    # d done before c (rows 3 and 4); the second g (row 8) repeats row 7; x (row 9) is alone.
    assert got == {("out_of_order", "d"): (3, "4"), ("repeated", "g"): (8, "7"), ("unexpected", "x"): (9, "")}
    r2 = sa.audit(make_log({"c": list("abcdeg")}), mini_sop, processes=1)
    skipped = r2.deviations.iloc[0]
    assert (skipped["kind"], skipped["step"], skipped["evidence_rows"]) == ("skipped", "f", "5; 6")
    assert pd.isna(skipped["event_row"])


def test_accepted_deviations(tmp_path, mini_sop):
    allow = tmp_path / "accepted.yaml"
    allow.write_text(
        "accepted:\n"
        "  - kind: skipped\n"
        "    step: f\n"
        "    condition: {attribute: kanal, in: [online]}\n"
        "    valid_from: 2024-01-01\n"
        "    valid_to: 2024-12-31\n"
        "    reason: Printing outsourced in 2024\n"
        "    approved_by: Kepala Kantor\n"
        "  - kind: unexpected\n"
        "    reason: never used\n"
        "    approved_by: Kasi\n", encoding="utf-8")
    log = make_log({"online": list("abcdeg"), "walkin": list("abcdeg")})
    log = log.assign(kanal=log["case:concept:name"])
    r = sa.audit(log, mini_sop, accepted=allow, processes=1)
    d = r.deviations.set_index("case_id")
    assert bool(d.loc["online", "accepted"]) and not bool(d.loc["walkin", "accepted"])
    assert d.loc["online", "accepted_reason"] == "Printing outsourced in 2024 (approved by Kepala Kantor)"
    cases = r.cases.set_index("case_id")
    assert bool(cases.loc["online", "conforming"]) and not bool(cases.loc["walkin", "conforming"])
    assert r.metrics["case_conformance_rate"] == 0.5 and r.metrics["accepted_deviations"] == 1
    assert r.accepted["findings_matched"].tolist() == [1, 0]
    assert r.accepted["line"].tolist() == [2, 9]


def test_accepted_file_errors_are_located(tmp_path, mini_sop):
    allow = tmp_path / "bad.yaml"
    allow.write_text("accepted:\n  - kind: skiped\n    reason: x\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        sa.audit(make_log({"c": list("abcdefg")}), mini_sop, accepted=allow, processes=1)
    msg = str(exc.value)
    assert f"{allow}:2:11: kind 'skiped' is not a finding kind" in msg
    assert f"{allow}:2:5: missing 'approved_by:'" in msg


def test_precision_equals_pm4py(mini_sop):
    import pm4py

    from sopaudit.conform.labels import map_activities
    from sopaudit.sop import compile_sop

    log = make_log({"a": list("abcdefg"), "b": list("acedffg"), "c": list("abr"), "d": list("abcxdefg")})
    result = sa.audit(log, mini_sop, precision=True, processes=1)
    net = compile_sop(mini_sop)
    expected = pm4py.precision_alignments(map_activities(log, mini_sop), *net.to_pm4py())
    assert result.metrics["precision"] == pytest.approx(expected, abs=1e-12)
    assert sa.audit(log, mini_sop, processes=1).metrics["precision"] is None


def test_open_case_decisions_come_from_its_prefix_alignment(branch_sop):
    # A lost passport still under way after the BAP: no wrong_branch, one incomplete finding.
    done = make_log({"done": ["daftar", "periksa", "cetak", "serah"]})
    open_ = make_log({"open": ["daftar", "bap"]}, start="2024-03-04 09:00")
    log = with_attr(pd.concat([done, open_], ignore_index=True), {"done": "baru", "open": "hilang"})
    r = sa.audit(log, branch_sop, processes=1)
    assert kinds(r, "open") == [("incomplete", "periksa")]


def test_xes_style_case_attribute_names(branch_sop):
    log = make_log({"new_with_bap": ["daftar", "bap", "periksa", "cetak", "serah"]})
    log["case:jenis_layanan"] = "baru"
    r = sa.audit(log, branch_sop, processes=1)
    assert kinds(r, "new_with_bap") == [("wrong_branch", "bap")]
