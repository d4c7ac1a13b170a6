"""The simulator: deviations at their rates, exactly as the audit sees them, on the calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.calendar import WorkingCalendar
from sopaudit.core.errors import SopAuditError
from sopaudit.core.kinds import ALL_KINDS
from sopaudit.simulation import (
    TRUTH_COLUMNS,
    default_scenario,
    load_scenario,
    officer_roles,
    simulate,
)
from sopaudit.simulation.evaluate import compare_findings
from sopaudit.simulation.scenario import MECHANISMS

from conftest import PASSPORT_SOP, ROOT

CASE, ACT, TIME, START, RES = "case:concept:name", "concept:name", "time:timestamp", "start_timestamp", "org:resource"
CF4 = ["skipped", "out_of_order", "repeated", "unexpected"]
KETAPANG_2023 = ROOT / "scenarios" / "ketapang_2023_sebelum_reformasi.yaml"

# A flow with every construct: a decision on a case attribute, an end reached without a step,
# a parallel block of sequences, an optional block, a rejection, a loop with a redo step.
CONDITIONAL_SOP = """
sop: {code: T-COND, title: Decisions on case attributes}
roles:
  - {id: loket, name: Loket}
  - {id: kepala, name: Kepala}
steps:
  - {id: a, name: A, role: loket}
  - {id: b, name: B, role: loket}
  - {id: c, name: C, role: loket}
  - {id: bap, name: BAP, role: kepala, time: {duration: 30 min}}
  - {id: keputusan, name: Keputusan, role: kepala, time: {wait: 1 working day}}
  - {id: d1, name: D1, role: loket}
  - {id: d2, name: D2, role: loket}
  - {id: e1, name: E1, role: kepala}
  - {id: e2, name: E2, role: kepala}
  - {id: o1, name: O1, role: loket}
  - {id: o2, name: O2, role: loket}
  - {id: o3, name: O3, role: loket}
  - {id: tolak, name: Tolak, role: kepala}
  - {id: p, name: Print, role: loket}
  - {id: q, name: QC, role: loket}
  - {id: r, name: Redo note, role: loket}
  - {id: f, name: F, role: loket}
  - {id: g, name: G, role: kepala}
  - {id: h, name: H, role: loket}
flow:
  - a
  - b
  - choice:
      id: hilang
      question: Paspor hilang atau rusak?
      condition: {attribute: jenis_layanan, in: [hilang, rusak]}
      yes: [bap, keputusan]
      no: []
  - c
  - choice:
      question: Berkas lengkap?
      yes: []
      no: [{end: ditarik}]
  - parallel:
      - [d1, d2]
      - [e1, e2]
  - optional: [o1, o2, o3]
  - choice:
      question: Disetujui?
      yes: [f]
      no: [tolak, {end: ditolak}]
  - loop:
      body: [p, q]
      redo: [r]
      question: QC ok?
  - g
  - h
rules:
  - {kind: separation_of_duties, steps: [bap, keputusan]}
  - {kind: separation_of_duties, steps: [a, c]}
service_standard: {limit: 3 working days, from: c, to: g}
"""
CONDITIONAL_SCENARIO = """
attributes:
  jenis_layanan: {baru: 0.7, hilang: 0.2, rusak: 0.1}
flow:
  ends: {ditarik: 0.05, ditolak: 0.05}
  optionals: {o1: 0.5}
offices:
  - name: Kantor Uji
    tz: WITA
    officers:
      loket: [Ani, Budi, Cici]
      kepala: [Dedi, Eka]
"""


def cases_of(log: pd.DataFrame) -> dict[str, list[str]]:
    return {c: list(g[ACT].astype(str)) for c, g in log.groupby(CASE, observed=True, sort=False)}


def injected(truth: pd.DataFrame) -> pd.DataFrame:
    return truth[truth["origin"] == "injected"]


@pytest.fixture(scope="module")
def cf_run(passport_sop):
    """Control-flow deviations at 10% each (swaps and moves 5% each), audited."""
    sc = default_scenario(passport_sop).with_rates(skipped=0.1, swap=0.05, move=0.05, repeated=0.1, unexpected=0.1)
    log, truth = simulate(passport_sop, 2500, 11, sc)
    return log, truth, sa.audit(log, passport_sop, processes=2)


@pytest.fixture(scope="module")
def all_run(passport_sop):
    """Every kind the passport SOP allows at 6%, audited with the calendar and the officer roles."""
    rates = {m: 0.06 for m in MECHANISMS if m != "wrong_branch"}
    sc = default_scenario(passport_sop).with_rates(**rates)
    log, truth = simulate(passport_sop, 2500, 12, sc)
    res = sa.audit(log, passport_sop, calendar=WorkingCalendar(tz="Asia/Jakarta"),
                   roles=officer_roles(passport_sop, sc), processes=2)
    return log, truth, res, sc


@pytest.fixture(scope="module")
def conditional(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cond")
    (folder / "sop.yaml").write_text(CONDITIONAL_SOP, encoding="utf-8")
    (folder / "scenario.yaml").write_text(CONDITIONAL_SCENARIO, encoding="utf-8")
    return sa.load_sop(folder / "sop.yaml"), load_scenario(folder / "scenario.yaml")


def test_control_flow_deviations_at_10_percent_are_what_the_audit_finds(cf_run):
    log, truth, res = cf_run
    ev = compare_findings(res.deviations, truth, match="pair", kinds=CF4)
    print(ev)
    assert ev.per_kind.set_index("kind")["truth"].min() >= 200  # enough of each kind to mean something
    for kind in CF4:
        assert ev.precision(kind) >= 0.98, (kind, ev.missed, ev.spurious)
        assert ev.recall(kind) >= 0.98, (kind, ev.missed, ev.spurious)
    # Both mechanisms of out_of_order are in the truth.
    assert set(truth.loc[truth["kind"] == "out_of_order", "mechanism"]) == {"swap", "move"}


def test_every_kind_at_6_percent_is_what_the_audit_finds(all_run):
    log, truth, res, _ = all_run
    kinds = ["skipped", "out_of_order", "repeated", "unexpected", "wrong_role", "duty_conflict", "late_step",
             "late_case", "incomplete"]
    ev = compare_findings(res.deviations, truth, kinds=kinds)
    print(ev)
    for kind in kinds:
        assert ev.precision(kind) >= 0.98 and ev.recall(kind) >= 0.98, (kind, ev.missed, ev.spurious)
    assert (truth["origin"] == "natural").sum() == 0


def test_decisions_on_case_attributes_and_wrong_branches(conditional):
    sop, sc = conditional
    sc = sc.with_rates(skipped=0.05, swap=0.03, move=0.03, repeated=0.05, unexpected=0.05, wrong_branch=0.1,
                       wrong_role=0.05, duty_conflict=0.05, late_step=0.05, late_case=0.05)
    log, truth = simulate(sop, 2000, 21, sc)
    # Straight from the log: BAP done exactly for lost and damaged passports, except the
    # injected wrong branches.
    first = log.groupby(CASE, observed=True, sort=False).first()
    did_bap = log[log[ACT] == "bap"][CASE].astype(str).unique()
    wants = first["jenis_layanan"].astype(str).isin(["hilang", "rusak"])
    reached = log[log[ACT] == "b"][CASE].astype(str).unique()  # cases that got to the decision
    against = {c for c in reached if (c in set(did_bap)) != bool(wants[c])}
    wb = truth[truth["kind"] == "wrong_branch"]
    assert set(wb["case_id"]) == against and len(wb) == len(against)
    assert set(wb["step"]) == {"bap"}
    assert abs(len(wb) - 200) <= 4.5 * np.sqrt(2000 * 0.1 * 0.9)
    cal = WorkingCalendar(tz="WITA")
    res = sa.audit(log, sop, calendar=cal, roles=officer_roles(sop, sc), processes=2)
    ev = compare_findings(res.deviations, truth)
    print(ev)
    for kind in sorted(set(truth["kind"])):
        assert ev.precision(kind) >= 0.98 and ev.recall(kind) >= 0.98, (kind, ev.missed, ev.spurious)
    assert str(log[TIME].dt.tz) == "Asia/Makassar"


def test_with_all_rates_zero_every_case_conforms(passport_sop):
    sc = default_scenario(passport_sop).with_rates()
    log, truth = simulate(passport_sop, 2000, 5, sc)
    assert truth.empty and list(truth.columns) == TRUTH_COLUMNS
    res = sa.audit(log, passport_sop, calendar=WorkingCalendar(tz="Asia/Jakarta"),
                   roles=officer_roles(passport_sop, sc), processes=2)
    assert res.metrics["case_conformance_rate"] == 1.0
    assert res.metrics["cases"] == 2000 and res.metrics["deviations"] == 0


def test_each_kind_at_its_rate(passport_sop):
    rates = {"skipped": 0.05, "swap": 0.03, "move": 0.02, "repeated": 0.04, "unexpected": 0.05,
             "wrong_role": 0.04, "duty_conflict": 0.03, "late_step": 0.05, "late_case": 0.04, "incomplete": 0.02}
    n = 20000
    log, truth = simulate(passport_sop, n, 8, default_scenario(passport_sop).with_rates(**rates))
    inj = injected(truth)
    for mech, rate in rates.items():
        rows = inj[inj["mechanism"] == mech] if mech not in ("late_step",) else inj[inj["kind"] == "late_step"]
        sigma = np.sqrt(n * rate * (1 - rate))
        assert abs(len(rows) - n * rate) <= 4.5 * sigma, (mech, len(rows), n * rate)
        assert rows["case_id"].is_unique, mech  # at most one of each kind per case
    assert set(truth["kind"]) <= set(ALL_KINDS)
    assert (truth["origin"] == "natural").sum() == 0
    # Only same-day cases with a late step of their own are late as a consequence.
    cons = truth[truth["origin"] == "consequence"]
    assert set(cons["kind"]) <= {"late_case"}
    kinds = log.groupby(CASE, observed=True)["jenis_layanan"].first().astype(str)
    assert set(kinds[cons["case_id"]]) <= {"percepatan"}
    late_step_cases = set(inj.loc[inj["kind"] == "late_step", "case_id"])
    assert set(cons["case_id"]) <= late_step_cases


def test_truth_rows_point_at_their_events(all_run):
    log, truth, _, _ = all_run
    traces = cases_of(log)
    resources = {c: list(g[RES].astype(str)) for c, g in log.groupby(CASE, observed=True, sort=False)}
    sop_steps = {s.id for s in sa.load_sop(PASSPORT_SOP).steps}
    for r in truth.itertuples():
        acts = traces[r.case_id]
        if r.kind in ("skipped", "incomplete"):  # no event: never done / the step expected next
            assert pd.isna(r.event_pos) and r.step not in acts
            if r.kind == "incomplete":
                assert acts[-1] not in ("penyerahan", "penolakan") and r.resource == ""
            continue
        pos = int(r.event_pos)
        assert acts[pos] == r.step and resources[r.case_id][pos] == r.resource, r
        if r.kind == "out_of_order":
            jumped = r.related.split("; ")
            assert acts[pos + 1: pos + 1 + len(jumped)] == jumped, r
            assert len(jumped) == 1 if r.mechanism == "swap" else 2 <= len(jumped) <= 4
        elif r.kind == "repeated":
            assert acts[pos - 1] == r.step
        elif r.kind == "unexpected":
            assert r.step not in sop_steps
        elif r.kind == "duty_conflict":
            other = acts.index(r.related)
            assert other < pos and resources[r.case_id][other] == r.resource


def test_time_truth_is_the_calendar_measurement(all_run):
    """Re-measure every standard with the working-day calendar: exactly the truth is late."""
    log, truth, _, _ = all_run
    cal = WorkingCalendar(tz="Asia/Jakarta")
    sop = sa.load_sop(PASSPORT_SOP)
    ev = log.assign(**{CASE: log[CASE].astype(str), ACT: log[ACT].astype(str)}).reset_index(drop=True)
    ev["pos"] = ev.groupby(CASE, sort=False).cumcount()
    prev_end = ev[TIME].shift(1).where(ev["pos"] > 0)
    late = set()
    for s in sop.steps:
        m = ev[ACT] == s.id
        if s.time.duration is not None:  # minutes: all simulated steps start and end on one day
            assert (ev.loc[m, START].dt.date == ev.loc[m, TIME].dt.date).all()
            minutes = (ev.loc[m, TIME] - ev.loc[m, START]).dt.total_seconds() / 60
            late |= {(c, p, "duration") for c, p in ev.loc[m][minutes > s.time.duration.value][[CASE, "pos"]].values}
        if s.time.wait is not None:
            m &= ev["pos"] > 0
            days = cal.working_days_between(prev_end[m], ev.loc[m, START])
            late |= {(c, p, "wait") for c, p in ev.loc[m][days > s.time.wait.value][[CASE, "pos"]].values}
    rows = truth[truth["kind"] == "late_step"]
    assert late == {(c, int(p), m) for c, p, m in rows[["case_id", "event_pos", "mechanism"]].values}
    # The service standard: first interview to last lamination, 4 working days (0 for percepatan).
    g = ev.groupby(CASE, sort=False)
    frm = ev[ev[ACT] == "wawancara"].groupby(CASE)[TIME].first()
    to = ev[ev[ACT] == "laminasi"].groupby(CASE)[TIME].last()
    both = frm.index.intersection(to.index)
    limit = np.where(g["jenis_layanan"].first().astype(str)[both] == "percepatan", 0, 4)
    span = cal.working_days_between(frm[both], to[both])
    assert set(both[span > limit]) == set(truth.loc[truth["kind"] == "late_case", "case_id"])
    assert len(rows) > 100 and (truth["kind"] == "late_case").sum() > 100


def test_events_fall_on_working_days_in_office_hours(all_run):
    log, _, _, _ = all_run
    cal = WorkingCalendar(tz="Asia/Jakarta")
    assert cal.is_working_day(log[TIME]).all() and cal.is_working_day(log[START]).all()
    local_start = log[START].dt.tz_convert("Asia/Jakarta")
    local_end = log[TIME].dt.tz_convert("Asia/Jakarta")
    assert (local_start.dt.strftime("%H:%M") >= "08:00").all()
    assert (local_end.dt.strftime("%H:%M:%S") <= "16:00:00").all()
    # Idul Fitri 2024 (10-11 April) and its cuti bersama (8, 9, 12, 15 April): nobody works.
    days = set(local_end.dt.date)
    assert not days & {dt.date(2024, 4, d) for d in (8, 9, 10, 11, 12, 15)}
    assert (log[START] <= log[TIME]).all()
    # Within a case, events follow each other.
    ordered = log.groupby(CASE, observed=True)[TIME].apply(lambda s: s.is_monotonic_increasing)
    assert ordered.all()


def test_open_cases_end_in_the_last_days_of_the_log(all_run):
    log, truth, _, _ = all_run
    cal = WorkingCalendar(tz="Asia/Jakarta")
    last = log.groupby(CASE, observed=True)[TIME].max()
    last.index = last.index.astype(str)
    log_end = pd.Timestamp("2024-12-31 16:00", tz="Asia/Jakarta")
    assert last.max() <= log_end
    open_cases = truth.loc[truth["kind"] == "incomplete", "case_id"]
    assert len(open_cases) > 100
    days_before_end = cal.working_days_between(last[open_cases], log_end)
    assert days_before_end.between(0, 4).all()


def test_separation_of_duties_holds_unless_injected(all_run):
    log, truth, _, _ = all_run
    conflicts = set()
    for a, b in (("adjudikasi", "persetujuan"), ("pemeriksaan_berkas", "verifikasi_penyelia")):
        ra = log[log[ACT] == a].groupby(CASE, observed=True)[RES].agg(lambda s: set(s.astype(str)))
        rb = log[log[ACT] == b].groupby(CASE, observed=True)[RES].agg(lambda s: set(s.astype(str)))
        both = ra.index.intersection(rb.index)
        conflicts |= {str(c) for c in both if ra[c] & rb[c]}
    assert conflicts == set(truth.loc[truth["kind"] == "duty_conflict", "case_id"])


def test_concentration_on_one_officer(passport_sop):
    sc = load_scenario(KETAPANG_2023)
    log, truth = simulate(passport_sop, 6000, 3, sc)
    counter = log[log[ACT] == "PERIKSA_BERKAS"].groupby(CASE, observed=True)[RES].first().astype(str)
    skipped = truth[truth["kind"] == "skipped"]
    # Whose counter a case went through (a case that skipped the document check: the skip's officer).
    officer = counter.to_dict()
    officer.update({c: r for c, r, s in skipped[["case_id", "resource", "step"]].values if s == "pemeriksaan_berkas"})
    officer = pd.Series(officer)
    budi = officer[officer == "Budi Santoso"].index
    others = officer[officer != "Budi Santoso"].index
    rate_budi = skipped["case_id"].isin(budi).sum() / len(budi)
    rate_others = skipped["case_id"].isin(others).sum() / len(others)
    assert 4.5 < rate_budi / rate_others < 7.5, (rate_budi, rate_others)
    # In his cases the skipped step is one of his: the document check or the travel-ban check.
    mine = skipped[skipped["case_id"].isin(budi)]
    assert set(mine["resource"]) == {"Budi Santoso"}
    assert set(mine["step"]) == {"pemeriksaan_berkas", "cek_pencegahan"}


def test_same_seed_same_bytes(passport_sop, tmp_path):
    from sopaudit.simulation import write_log, write_officers, write_truth

    def run(folder, seed):
        folder.mkdir()
        log, truth = simulate(passport_sop, 800, seed)
        for name in ("log.csv.gz", "log.csv", "log.parquet", "log.xes.gz"):
            write_log(log, folder / name)
        write_truth(truth, folder / "truth.csv")
        write_officers(officer_roles(passport_sop), folder / "petugas.csv")
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    a, b, c = run(tmp_path / "a", 99), run(tmp_path / "b", 99), run(tmp_path / "c", 100)
    assert a == b
    assert a["log.csv"] != c["log.csv"] and a["truth.csv"] != c["truth.csv"]


def test_written_logs_read_back(passport_sop, tmp_path):
    from sopaudit.simulation import write_log

    sc = default_scenario(passport_sop)
    log, _ = simulate(passport_sop, 200, 4, sc.with_rates(unexpected=0.2))
    for name in ("log.csv.gz", "log.xes.gz"):
        back = sa.read_log(write_log(log, tmp_path / name))
        assert len(back) == len(log) and back[CASE].nunique() == 200
        assert (back[TIME].to_numpy() == log[TIME].to_numpy()).all()
        assert list(back[ACT]) == list(log[ACT].astype(str))
    parquet = pd.read_parquet(write_log(log, tmp_path / "log.parquet"))
    pd.testing.assert_frame_equal(parquet, log)
    with pytest.raises(SopAuditError, match="cannot tell how to write the log from its name; end it in"):
        write_log(log, tmp_path / "log.json")


def test_log_columns_and_labels(passport_sop):
    sc = default_scenario(passport_sop)
    log, _ = simulate(passport_sop, 100, 1, sc)
    assert list(log.columns) == [CASE, ACT, TIME, START, RES, "jenis_layanan", "kategori_pemohon", "kanal", "kantor"]
    assert str(log[TIME].dt.tz) == "Asia/Jakarta"
    assert log[CASE].astype(str).iloc[0] == "SIM000001" and log[CASE].nunique() == 100
    from dataclasses import replace

    coded, _ = simulate(passport_sop, 100, 1, replace(sc, labels="alias"))
    assert coded[ACT].astype(str).iloc[:3].tolist() == ["PRA_PERMOHONAN", "BAYAR_PNBP", "ANTRIAN"]
    assert (coded[TIME] == log[TIME]).all()  # the labels change nothing else


def test_imported_model_without_flow_is_refused(passport_sop, tmp_path):
    import pm4py

    from sopaudit.sop import compile_sop

    net, im, fm = compile_sop(passport_sop).to_pm4py()
    pm4py.write_pnml(net, im, fm, str(tmp_path / "paspor.pnml"))
    model = sa.load_sop(tmp_path / "paspor.pnml")
    with pytest.raises(SopAuditError, match="has no flow tree, so it cannot be simulated; write the SOP as a YAML"):
        simulate(model, 10, 1)


def test_number_of_cases_and_seed_are_checked(passport_sop):
    with pytest.raises(SopAuditError, match="the number of cases must be at least 1, not 0"):
        simulate(passport_sop, 0, 1)
    with pytest.raises(SopAuditError, match="simulate needs a seed"):
        simulate(passport_sop, 10)


def test_sop_without_roles_or_time_standards(tmp_path):
    (tmp_path / "sop.yaml").write_text(
        "sop: {code: T-NR, title: No roles}\nsteps:\n  - {id: a, name: Daftar}\n  - {id: b, name: Periksa}\n"
        "  - {id: c, name: Proses}\n  - {id: d, name: Serahkan}\nflow: [a, b, c, d]\n", encoding="utf-8")
    sop = sa.load_sop(tmp_path / "sop.yaml")
    log, truth = simulate(sop, 400, 3, default_scenario(sop).with_rates(skipped=0.1, swap=0.1, unexpected=0.1,
                                                                         wrong_role=0.1, late_step=0.1))
    assert set(log[RES].astype(str)) == {"petugas"}  # nobody's role to check: one generic officer
    assert set(truth["kind"]) == {"skipped", "out_of_order", "unexpected"}  # no role, no standard
    ev = compare_findings(sa.audit(log, sop, processes=1).deviations, truth)
    assert ev.per_kind["fp"].sum() == 0 and ev.per_kind["fn"].sum() == 0


def test_two_offices_in_two_time_zones(passport_sop, tmp_path):
    officers = ("{pemohon: [], petugas_loket: [%s1, %s2], penyelia: [%s3], petugas_wawancara: [%s4], bendahara: [%s5],"
                " adjudikator: [%s6], kasi_dokumen: [%s7], petugas_cetak: [%s8], petugas_penyerahan: [%s9]}")
    (tmp_path / "s.yaml").write_text(f"""
offices:
  - {{name: Kanim Ketapang, share: 2, tz: WIB, officers: {officers % (("K",) * 9)}}}
  - name: Kanim Denpasar
    tz: WITA
    office_hours: ["07:30", "15:30"]
    closures: [2024-03-11, {{date: 2024-03-12, reason: Nyepi}}]
    officers: {officers % (("D",) * 9)}
deviations: {{late_case: 0.1}}
concentrations:
  - {{kinds: [late_case], office: Kanim Denpasar, factor: 3}}
""", encoding="utf-8")
    sc = load_scenario(tmp_path / "s.yaml", passport_sop)
    log, truth = simulate(passport_sop, 3000, 2, sc)
    assert str(log[TIME].dt.tz) == "UTC"  # offices in two zones: times in UTC
    office = log.groupby(CASE, observed=True)["kantor"].first().astype(str)
    assert 0.6 < (office == "Kanim Ketapang").mean() < 0.73
    den = log[log["kantor"] == "Kanim Denpasar"]
    local = den[START].dt.tz_convert("Asia/Makassar")
    assert local.dt.strftime("%H:%M").min() >= "07:30"
    assert den[TIME].dt.tz_convert("Asia/Makassar").dt.strftime("%H:%M:%S").max() <= "15:30:00"
    assert not set(local.dt.date) & {dt.date(2024, 3, 11), dt.date(2024, 3, 12)}
    assert set(log.loc[log["kantor"] == "Kanim Denpasar", RES].astype(str)) <= {"pemohon"} | {f"D{i}" for i in range(1, 10)}
    late = office[truth.loc[truth["kind"] == "late_case", "case_id"]].value_counts() / office.value_counts()
    assert 0.25 < late["Kanim Denpasar"] < 0.35 and 0.07 < late["Kanim Ketapang"] < 0.13
