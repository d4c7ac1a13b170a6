"""Scenario files, the `sopaudit simulate` command and the shipped sample logs."""

from __future__ import annotations

import gzip
import re

import pandas as pd
import pytest
from click.testing import CliRunner

import sopaudit as sa
from sopaudit.cli import main
from sopaudit.simulation import (
    ScenarioError,
    default_scenario,
    load_scenario,
    officer_roles,
    simulate,
    write_log,
    write_officers,
    write_truth,
)
from sopaudit.simulation.scenario import DEFAULT_RATES, MECHANISMS

from conftest import PASSPORT_SOP, ROOT

SCENARIOS = ROOT / "scenarios"
SAMPLES = [
    ("ketapang_2023_sebelum_reformasi.yaml", "paspor_ketapang_2023_sebelum_reformasi_synthetic"),
    ("ketapang_2024_sesudah_reformasi.yaml", "paspor_ketapang_2024_sesudah_reformasi_synthetic"),
]

BAD = """scenario: {name: bad}
cases: 100
seed: 1
period: {from: 2024-01-01, to: 2024-03-31}
offices:
  - name: Kanim Uji
    tz: Asia/Pontianak
    officers:
      pemohon: []
      petugas_loket: [Rina, Budi]
      penyelia: [Sari]
      petugas_wawancara: [Andi]
      bendahara: [Yusuf]
      adjudikator: [Lestari]
      kasi_dokumen: [Lestari]
      petugas_cetak: [Joko]
      petugas_penyerahn: [Maya]
attributes:
  jenis_layanan: {reguler: 0.9, percepatan: 0.2}
flow:
  choices: {choice9: 0.5}
  ends: {ditolak_cekal: 1.5, ditolak_wawancaraa: 0.1}
  loops: {loop1: {again: 0.1, max_run: 3}}
timing:
  steps:
    wawancaraa: {duration: 15 minutes}
    adjudikasi: {wait: soon}
deviations:
  skiped: 0.1
  out_of_order: {swap: 0.02, shuffle: 0.1}
concentrations:
  - kinds: [skipped]
    officer: Budi Santoso
    factor: 5
unexpected_activities: [TOLAK, titip_berkas]
"""


def test_every_problem_of_a_scenario_at_once_with_its_place(passport_sop, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, passport_sop)
    p = str(path)
    problems = err.value.problems
    assert len(problems) == 14 and str(err.value).startswith(f"The scenario {p} has 14 problem(s):")
    expected = [
        f"{p}:17:7: office 'Kanim Uji' lists officers for role 'petugas_penyerahn' that the SOP does not have "
        "(did you mean 'petugas_penyerahan'?);",
        f"{p}:8:5: office 'Kanim Uji' has no officers for role 'petugas_penyerahan'; list them, or write "
        "'petugas_penyerahan: []' to record the role name itself as the resource (e.g. the applicant)",
        f"{p}:8:5: office 'Kanim Uji': the SOP rule 'rule1' needs different officers for 'adjudikasi' and "
        "'persetujuan', but one officer holds both roles alone; add another officer",
        f"{p}:19:18: the probabilities of 'jenis_layanan' add up to 1.1; make them add up to 1",
        f"{p}:21:13: no decision 'choice9' in the SOP (did you mean 'choice3'?); name a decision by its id, its "
        "question or its place (choice1, choice2, choice3)",
        f"{p}:22:25: 'ditolak_cekal: 1.5' must be a number from 0 to 1",
        f"{p}:22:30: no end 'ditolak_wawancaraa' in the SOP (did you mean 'ditolak_wawancara'?);",
        f"{p}:23:31: unknown key 'max_run' in loop 'loop1'; allowed: again, max_runs, runs",
        f"{p}:26:5: timing names step 'wawancaraa' that the SOP does not have (did you mean 'wawancara'?)",
        f"{p}:27:24: cannot read the time 'soon'; write a number and a unit, e.g. '15 min', '2 hours', "
        "'1 working day' or '3 days'",
        f"{p}:29:3: unknown key 'skiped' in deviations (did you mean 'skipped'?);",
        f"{p}:30:3: 'out_of_order' takes {{swap: RATE, move: RATE}}",
        f"{p}:33:5: concentration on officer 'Budi Santoso', who is in no office's officer list",
        f"{p}:35:1: unexpected activity 'TOLAK' is a label of SOP step 'penolakan'; an unexpected activity must "
        "be something the SOP does not know",
    ]
    for text in expected:
        assert sum(q.startswith(text) for q in problems) == 1, text
    # Sorted by place in the file.
    places = [tuple(map(int, re.match(rf"{re.escape(p)}:(\d+):(\d+):", q).groups())) for q in problems]
    assert places == sorted(places)


def test_file_problems_without_the_sop_and_syntax_errors(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("cases: many\nperiod: {from: 2024-02-30, to: 2024-01-01}\nlabels: code\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.problems == [
        f"{path}:1:8: 'cases: many' must be a whole number of at least 1",
        f"{path}:2:16: 'from: 2024-02-30' is not a date; write YYYY-MM-DD",
        f"{path}:3:9: 'labels: code' must be one of id, alias, name (what the log records as the activity)",
    ]
    path.write_text("cases: 10\n  seed: [1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"{re.escape(str(path))}:2:\d+: YAML syntax: "):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="the scenario file does not exist; check the path of --scenario"):
        load_scenario(tmp_path / "missing.yaml")


def test_what_a_file_leaves_out_is_the_default_except_deviations(passport_sop, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("offices:\n  - name: Kanim A\n    officers: {pemohon: [], petugas_loket: [A, B], penyelia: [C],"
                    " petugas_wawancara: [D], bendahara: [E], adjudikator: [F], kasi_dokumen: [G],"
                    " petugas_cetak: [H], petugas_penyerahan: [I]}\n", encoding="utf-8")
    sc = load_scenario(path, passport_sop)
    base = default_scenario(passport_sop)
    assert dict(sc.rates) == dict.fromkeys(MECHANISMS, 0.0)
    assert dict(base.rates) == DEFAULT_RATES
    assert (sc.period, sc.attributes, sc.labels, sc.case_prefix) == (base.period, base.attributes, "id", "SIM")
    log, truth = simulate(passport_sop, 300, 2, sc)
    assert truth.empty
    assert set(log.loc[log["concept:name"] == "pra_permohonan", "org:resource"].astype(str)) == {"pemohon"}
    with pytest.raises(ValueError, match="unknown deviation rate\\(s\\) \\['skip'\\]"):
        sc.with_rates(skip=0.1)


def test_the_sample_scenarios_fit_the_sop_and_the_reform_lowers_every_rate(passport_sop):
    before = load_scenario(SCENARIOS / SAMPLES[0][0], passport_sop)
    after = load_scenario(SCENARIOS / SAMPLES[1][0], passport_sop)
    assert (before.cases, after.cases) == (15000, 15000)
    assert (before.sop, after.sop) == ("../reference_models/paspor_baru_mpaspor.yaml",) * 2
    for mech, rate in before.rates:
        if rate > 0 and mech != "incomplete":  # open cases depend on when the log is taken, not on the reform
            assert after.rate(mech) < rate, mech
    assert after.rate("incomplete") == before.rate("incomplete") == 0.012
    for sc in (before, after):
        officer = [c for c in sc.concentrations if c.officer]
        assert [(c.officer, c.kinds) for c in officer] == [("Budi Santoso", ("skipped",))]


@pytest.mark.parametrize("scenario_file, stem", SAMPLES)
def test_the_sample_logs_are_what_their_scenarios_make(passport_sop, tmp_path, scenario_file, stem):
    sc = load_scenario(SCENARIOS / scenario_file)
    log, truth = simulate(passport_sop, scenario=sc)
    shipped = ROOT / "event_logs"
    write_log(log, tmp_path / "log.csv")
    write_truth(truth, tmp_path / "truth.csv")
    write_officers(officer_roles(passport_sop, sc), tmp_path / "petugas.csv")
    assert gzip.decompress((shipped / f"{stem}.csv.gz").read_bytes()) == (tmp_path / "log.csv").read_bytes()
    assert gzip.decompress((shipped / f"{stem}_truth.csv.gz").read_bytes()) == (tmp_path / "truth.csv").read_bytes()
    assert (shipped / f"{stem}_petugas.csv").read_bytes() == (tmp_path / "petugas.csv").read_bytes()
    assert (shipped / f"{stem}.csv.gz").stat().st_size < 5_000_000
    assert log["case:concept:name"].nunique() == 15000


def test_simulate_command_writes_the_files(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [
        "simulate", "--scenario", str(SCENARIOS / SAMPLES[0][0]), "--cases", "400", "--seed", "5",
        "-o", str(out / "log.csv.gz"), "--truth", str(out / "truth.csv"), "--officers", str(out / "petugas.csv"),
        "--labels", "id"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "SOP        SOP-IMI-PASPOR-01  Penerbitan Paspor Biasa (Baru) melalui M-Paspor"
    assert lines[1].startswith("scenario   ketapang-2023-sebelum-reformasi  (")
    assert re.match(r"cases      400   events [\d,]+   2023-\d\d-\d\d to 2023-12-29   in [\d.]+ s$", lines[2])
    assert lines[-3:] == [f"wrote      {out / 'log.csv.gz'}", f"wrote      {out / 'truth.csv'}",
                          f"wrote      {out / 'petugas.csv'}"]
    log = sa.read_log(out / "log.csv.gz")
    truth = pd.read_csv(out / "truth.csv")
    assert log["case:concept:name"].nunique() == 400 and log["case:concept:name"].iloc[0] == "2023KTP000001"
    assert "pemeriksaan_berkas" in set(log["concept:name"])  # --labels id, not the scenario's codes
    skipped = truth[truth["kind"] == "skipped"]
    assert f"  skipped        {len(skipped):>8,}" in res.output
    roles = pd.read_csv(out / "petugas.csv", keep_default_na=False)
    assert list(roles.columns) == ["officer", "role", "valid_from", "valid_to", "office"]
    assert ("Lestari Handayani", "adjudikator") in set(zip(roles["officer"], roles["role"], strict=True))


def test_simulate_command_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["simulate", "--sop", str(PASSPORT_SOP), "-o", str(tmp_path / "log.csv")])
    assert res.exit_code == 2
    assert "error: give a --seed (or `seed:` in the scenario) so the log can be made again" in res.output
    res = runner.invoke(main, ["simulate", "-o", str(tmp_path / "log.csv"), "--seed", "1"])
    assert res.exit_code == 2 and "name the SOP to simulate with --sop FILE" in res.output
    res = runner.invoke(main, ["simulate", "--sop", str(PASSPORT_SOP), "--seed", "1", "--cases", "5",
                               "-o", str(tmp_path / "log.json")])
    assert res.exit_code == 2 and "cannot tell how to write the log from its name; end it in .csv, .csv.gz" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    res = runner.invoke(main, ["simulate", "--sop", str(PASSPORT_SOP), "--scenario", str(bad), "-o",
                               str(tmp_path / "log.csv")])
    assert res.exit_code == 2 and f"The scenario {bad} has 14 problem(s):" in res.output
    assert "Traceback" not in res.output
