"""A clean audit (no finding at all) writes every report file, in both languages, from the CLI
and from AuditResult.write() (issue 13, defect 1: numpy cannot format an empty time column)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from sopaudit.cli import main
from sopaudit.report.csvfiles import iso_times

from conftest import dataset, make_log

FILES = {"report.html", "findings.xlsx", "summary.json", "quality.json", "deviations.csv", "cases.csv", "steps.csv",
         "variants.csv"}


def test_iso_times_of_an_empty_column():
    empty = pd.Series(pd.DatetimeIndex([], tz="Asia/Jakarta"))
    out = iso_times(empty)
    assert len(out) == 0 and out.dtype == "string"


@pytest.fixture(scope="module")
def clean_result(mini_sop):
    import sopaudit as sa

    log = make_log({"1": ["a", "c", "d", "e", "f", "g"], "2": ["a", "b", "c", "e", "d", "f", "g"]})
    result = sa.audit(log, mini_sop)
    assert result.deviations.empty  # the premise: nothing to find
    return result


@pytest.mark.parametrize("lang", ["id", "en"])
def test_clean_result_writes_every_file(clean_result, tmp_path, lang):
    written = clean_result.write(tmp_path, lang=lang)
    assert {p.name for p in written.values()} == FILES
    assert {p.name for p in tmp_path.iterdir()} == FILES
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["deviations"] == 0
    devs = pd.read_csv(tmp_path / "deviations.csv")
    assert len(devs) == 0 and "event_row" in devs.columns
    assert len(pd.read_csv(tmp_path / "cases.csv")) == 2
    sheets = pd.read_excel(tmp_path / "findings.xlsx", sheet_name=None)
    assert list(sheets) == {
        "en": ["Summary", "Findings", "Cases", "Steps", "Variants", "Data quality", "Accepted deviations"],
        "id": ["Ringkasan", "Temuan", "Permohonan", "Langkah", "Varian", "Kualitas data", "Penyimpangan diterima"],
    }[lang]
    # an empty findings sheet (headers only), one row per case
    assert [len(sheets[name]) for name in list(sheets)[1:3]] == [0, 2]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("model", ["running-example.pnml", "running-example.bpmn"])
def test_readme_tour_command(tmp_path, lang, model):
    log = dataset("running_example", "running-example.xes")
    sop = dataset("running_example", model)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["audit", "--log", str(log), "--sop", str(sop), "--out", str(out),
                                    "--lang", lang])
    assert res.exit_code == 0, res.output
    # the terminal speaks the report's language
    assert {"en": "findings   0 in 0 cases", "id": "temuan     0 dalam 0 permohonan"}[lang] in res.output
    # the PNML names its net; the BPMN has no name of its own and is named once, by its file name
    assert res.output.splitlines()[0] == {"running-example.pnml": "SOP        running-example  Petri net",
                                          "running-example.bpmn": "SOP        running-example"}[model]
    assert {p.name for p in out.iterdir()} == FILES
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["deviations"] == 0


@pytest.mark.parametrize("lang", ["id", "en"])
def test_clean_audit_from_the_cli(tmp_path, lang):
    from conftest import FIXTURES

    rows = [("1", s, f"2024-03-04 08:{10 * i:02d}") for i, s in enumerate(["a", "c", "d", "e", "f", "g"])]
    log = tmp_path / "log.csv"
    log.write_text("case,activity,time\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["audit", "--log", str(log), "--sop", str(FIXTURES / "mini_sop.yaml"),
                                    "--case", "case", "--activity", "activity", "--time", "time",
                                    "--out", str(out), "--lang", lang])
    assert res.exit_code == 0, res.output
    # the terminal speaks the report's language
    assert {"en": "findings   0 in 0 cases", "id": "temuan     0 dalam 0 permohonan"}[lang] in res.output
    assert {p.name for p in out.iterdir()} == FILES
