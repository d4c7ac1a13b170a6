"""Verification sample (issue 14): reproducible stratified draw, the worksheet round trip from
the CLI and the API, and the intervals against hand-computed values."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.core.errors import InputFileError
from sopaudit.verification.intervals import clopper_pearson, interval, sample_size, wilson
from sopaudit.verification.sample import _allocate

from conftest import DEMO_LOG, PASSPORT_SOP

# --- intervals, by hand ------------------------------------------------------------------------
# z = 1.959964 (95%), z^2 = 3.841459.
# Wilson 8/10: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.992073 / 1.384146 = 0.716741,
#   half z * sqrt(0.8*0.2/10 + z^2/400) / 1.384146 = 1.959964 * 0.160011 / 1.384146 = 0.226578
# Wilson 0/30: upper z^2 / (30 + z^2) = 3.841459 / 33.841459 = 0.113513
# Clopper-Pearson 0/30: upper 1 - 0.025^(1/30) = 0.115703; 30/30: lower 0.025^(1/30) = 0.884297
# Clopper-Pearson 8/10: the tabulated exact interval (0.4439, 0.9748)


def test_wilson_by_hand():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.716741 - 0.226578, abs=2e-6) and high == pytest.approx(0.716741 + 0.226578, abs=2e-6)
    assert wilson(0, 30) == (0.0, pytest.approx(3.841459 / 33.841459, abs=1e-6))
    assert wilson(30, 30)[0] == pytest.approx(30 / 33.841459, abs=1e-6) and wilson(30, 30)[1] == 1.0
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_clopper_pearson_by_hand():
    assert clopper_pearson(0, 30) == (0.0, pytest.approx(1 - 0.025 ** (1 / 30), abs=1e-9))
    assert clopper_pearson(30, 30) == (pytest.approx(0.025 ** (1 / 30), abs=1e-9), 1.0)
    low, high = clopper_pearson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4439, 0.9748)
    # one success in one trial at 90%: lower bound 0.1 (beta(1, 1) quantile 0.05 ... 1 - 0.95 = 0.05)
    assert clopper_pearson(1, 1, 0.90) == (pytest.approx(0.05), 1.0)
    assert interval(8, 10, method="clopper-pearson") == clopper_pearson(8, 10)
    with pytest.raises(ValueError, match="unknown interval method"):
        interval(1, 2, method="normal")


def test_sample_size_by_hand():
    # z^2 * 0.25 / 0.1^2 = 96.04 -> 97; with 50 in the population 96.04 / (1 + 95.04 / 50) = 33.1 -> 34
    assert sample_size(0.1) == 97 and sample_size(0.1, population=50) == 34
    # an observed 80% share: 3.841459 * 0.16 / 0.01 = 61.46 -> 62
    assert sample_size(0.1, share=0.8) == 62
    assert sample_size(0.05, population=3) == 3 and sample_size(0.1, population=0) == 0


def test_proportional_allocation():
    import pandas as pd

    sizes = pd.Series({"skipped": 9, "out_of_order": 7, "repeated": 5, "unexpected": 3, "late_step": 2})
    take = _allocate(sizes, 12)
    # one each (5), the other 7 by largest remainder of 12 * share - taken
    assert take.to_dict() == {"skipped": 4, "out_of_order": 3, "repeated": 2, "unexpected": 2, "late_step": 1}
    assert _allocate(sizes, 3).to_dict() == {"skipped": 1, "out_of_order": 1, "repeated": 1, "unexpected": 0,
                                             "late_step": 0}
    assert _allocate(sizes, 100).to_dict() == sizes.to_dict()


# --- the draw and the worksheet ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    log = sa.read_log(DEMO_LOG, case="no_permohonan", activity="tahapan", time="waktu", resource="petugas",
                      tz="Asia/Pontianak")
    return sa.audit(log, sa.load_sop(PASSPORT_SOP), roles=DEMO_LOG.with_name("paspor_demo_petugas.csv"),
                    processes=1)


def test_the_draw_is_stratified_and_reproducible(demo):
    s = sa.verification_sample(demo, 12, seed=11)
    counts = s.items[s.items["sample"] == "finding"].groupby("kind").size().to_dict()
    # 31 findings in 8 kinds: one each, the rest in proportion (skipped 9, out_of_order 7, repeated 5, ...)
    assert sum(counts.values()) == 12 and set(counts) == {"skipped", "out_of_order", "repeated", "unexpected",
                                                          "late_step", "late_case", "wrong_role", "duty_conflict"}
    assert counts == {"skipped": 3, "out_of_order": 2, "repeated": 2, "unexpected": 1, "late_step": 1,
                      "late_case": 1, "wrong_role": 1, "duty_conflict": 1}
    assert (s.items["sample"] == "conforming").sum() == 12
    again = sa.verification_sample(demo, 12, seed=11)
    assert again.items.equals(s.items)
    other = sa.verification_sample(demo, 12, seed=12)
    assert not other.items.equals(s.items)
    # every sampled finding is a real finding of the audit, with its source row
    dev = demo.deviations
    for r in s.items[s.items["sample"] == "finding"].itertuples():
        match = dev[(dev["case_id"] == r.case_id) & (dev["kind"] == r.kind) & (dev["step"] == r.step)]
        assert len(match) >= 1
    # every sampled conforming case conforms, and its events are in the evidence sheet
    conf = s.items[s.items["sample"] == "conforming"]
    assert set(conf["case_id"]) <= set(demo.cases.loc[demo.cases["conforming"], "case_id"])
    first = conf.iloc[0]
    ev = s.evidence[s.evidence["item"] == first["item"]]
    assert len(ev) == int(demo.cases.set_index("case_id").loc[first["case_id"], "n_events"])


def test_per_kind_and_by_step(demo):
    s = sa.verification_sample(demo, 2, per_kind=True, by=("step",), conforming=0, seed=1)
    st = s.strata.set_index("stratum").drop(index="conforming")
    assert st.loc["skipped | penolakan", ["population", "sampled"]].tolist() == [2, 2]
    assert (st["sampled"] == st["population"].clip(upper=2)).all()
    assert (s.items["sample"] == "finding").all()


def _fill(path, verdicts: dict[str, str]):
    """Fill the verdict column as an auditor would (labels of the worksheet's language)."""
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    col_kind, col_verdict = head.index("Stratum") + 1, head.index("Verdict") + 1
    seen: dict[str, int] = {}
    for row in range(2, ws.max_row + 1):
        kind = ws.cell(row, col_kind).value.split(" | ")[0]
        plan = verdicts.get(kind, "")
        i = seen.get(kind, 0)
        seen[kind] = i + 1
        if i < len(plan):
            ws.cell(row, col_verdict).value = {"c": "confirmed", "n": "not confirmed", "?": "cannot tell"}[plan[i]]
    wb.save(path)


def test_worksheet_round_trip_from_the_api(demo, tmp_path):
    s = sa.verification_sample(demo, 12, seed=11, conforming=10)
    path = s.write(tmp_path / "ws.xlsx", lang="en")
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    assert [sh.title for sh in wb.worksheets] == ["Sample", "Evidence", "Strata", "About"]
    head = [c.value for c in ws[1]]
    assert head[-3:] == ["Verdict", "Comment", "Paper file reference"]
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].formula1 == '"confirmed,not confirmed,cannot tell"'
    assert str(dv[0].sqref) == f"N2:N{len(s.items) + 1}"
    # skipped: 3 drawn -> 1 confirmed, 1 not, 1 left empty; conforming: 10 drawn -> 9 confirmed, 1 deviating
    _fill(path, {"skipped": "cn", "out_of_order": "cc", "conforming": "ccccccccc" + "n", "repeated": "?"})
    r = sa.read_verification(path)
    t = r.table.set_index("kind")
    assert t.loc["skipped", ["population", "sampled", "judged", "confirmed", "not_confirmed"]].tolist() == [9, 3, 2, 1, 1]
    assert t.loc["skipped", "empty"] == 1
    assert t.loc["skipped", "share"] == 0.5
    assert (t.loc["skipped", "low"], t.loc["skipped", "high"]) == wilson(1, 2)
    assert t.loc["repeated", ["judged", "cannot_tell", "empty"]].tolist() == [0, 1, 1]  # 2 drawn
    assert math.isnan(t.loc["repeated", "share"])
    assert t.loc["late_step", ["judged", "empty"]].tolist() == [0, 1]
    miss = r.missed
    assert (miss["judged"], miss["deviating"], miss["conforming_cases"]) == (10, 1, 36)
    assert (miss["low"], miss["high"]) == wilson(1, 10)
    assert miss["missed_cases_high"] == round(wilson(1, 10)[1] * 36, 1)
    # suggested size for +/- 10 points, from the observed share and the population
    assert t.loc["skipped", "suggested_size"] == sample_size(0.1, share=0.5, population=9) == 9
    exact = sa.read_verification(path, method="clopper-pearson")
    assert tuple(exact.table.set_index("kind").loc["skipped", ["low", "high"]]) == clopper_pearson(1, 2)


def test_worksheet_round_trip_from_the_cli(tmp_path):
    out = tmp_path / "audit"
    run = CliRunner().invoke(main, ["demo", "--out", str(out), "--lang", "id"])
    assert run.exit_code == 0, run.output
    ws = tmp_path / "lembar.xlsx"
    res = CliRunner().invoke(main, ["sample", str(out), "--size", "8", "--seed", "5", "--conforming", "6",
                                    "-o", str(ws)])
    assert res.exit_code == 0, res.output
    assert "sample     8 of 31 findings in 8 strata, 6 of 36 conforming cases   seed 5" in res.output
    # the same draw as the API on the audit folder
    api = sa.verification_sample(out, 8, seed=5, conforming=6)
    wb = load_workbook(ws)
    sheet = wb.worksheets[0]
    assert sheet.title == "Sampel" and [c.value for c in sheet[1]][-3:] == ["Kesimpulan", "Catatan",
                                                                            "Rujukan berkas fisik"]
    cases = [sheet.cell(r, 5).value for r in range(2, sheet.max_row + 1)]
    assert cases == api.items["case_id"].tolist()
    # fill in Indonesian: every finding 'terbukti', the conforming cases too
    col = [c.value for c in sheet[1]].index("Kesimpulan") + 1
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, col).value = "terbukti"
    wb.save(ws)
    res = CliRunner().invoke(main, ["sample", "--read", str(ws), "--interval", "clopper-pearson",
                                    "--json", str(tmp_path / "v.json")])
    assert res.exit_code == 0, res.output
    assert "Clopper-Pearson (exact), 95% confidence" in res.output
    data = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["skipped"]["confirmed"] == kinds["skipped"]["judged"] >= 1
    n = kinds["skipped"]["judged"]
    assert kinds["skipped"]["low"] == pytest.approx(0.025 ** (1 / n)) and kinds["skipped"]["high"] == 1.0
    # 0 of 6 conforming cases deviate on paper: exact upper bound 1 - 0.025^(1/6) = 0.45925
    assert data["missed"]["deviating"] == 0 and data["missed"]["high"] == pytest.approx(1 - 0.025 ** (1 / 6))
    assert "missed     0 of 6 conforming cases checked deviate on paper: 0.0% [0.0%, 45.9%]" in res.output


def test_a_bad_verdict_names_its_row(demo, tmp_path):
    path = sa.verification_sample(demo, 3, seed=2, conforming=0).write(tmp_path / "w.xlsx", lang="en")
    wb = load_workbook(path)
    wb.worksheets[0].cell(3, 14).value = "maybe"
    wb.save(path)
    with pytest.raises(InputFileError, match=r"row 3: verdict 'maybe' is not one of"):
        sa.read_verification(path)
    res = CliRunner().invoke(main, ["sample", "--read", str(path)])
    assert res.exit_code == 2 and "row 3" in res.output


def test_not_an_audit_folder(tmp_path):
    res = CliRunner().invoke(main, ["sample", str(tmp_path), "--size", "3", "-o", str(tmp_path / "w.xlsx")])
    assert res.exit_code == 2 and "is not an audit folder: deviations.csv, cases.csv missing" in res.output


def test_evidence_from_the_audited_log(tmp_path):
    out = tmp_path / "audit"
    assert CliRunner().invoke(main, ["demo", "--out", str(out), "--lang", "en"]).exit_code == 0
    flags = ["--case", "no_permohonan", "--activity", "tahapan", "--time", "waktu", "--resource", "petugas",
             "--tz", "Asia/Pontianak"]
    res = CliRunner().invoke(main, ["sample", str(out), "--size", "3", "--seed", "1", "--conforming", "2",
                                    "-o", str(tmp_path / "w.xlsx"), "--log", str(DEMO_LOG), *flags])
    assert res.exit_code == 0, res.output
    wb = load_workbook(tmp_path / "w.xlsx", read_only=True)
    items = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    evidence = list(wb.worksheets[1].iter_rows(min_row=2, values_only=True))
    cases = sa.read_log(DEMO_LOG, case="no_permohonan", activity="tahapan", time="waktu",
                        tz="Asia/Pontianak")["case:concept:name"].astype(str).value_counts()
    # every event of every sampled case, conforming ones too
    assert len(evidence) == sum(int(cases[r[4]]) for r in items)
    # another file than the audited one is refused
    other = tmp_path / "other.csv"
    other.write_text(DEMO_LOG.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    res = CliRunner().invoke(main, ["sample", str(out), "--size", "3", "-o", str(tmp_path / "x.xlsx"),
                                    "--log", str(other), *flags])
    assert res.exit_code == 2 and "is not the file the audit read" in res.output
