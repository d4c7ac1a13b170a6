"""Audits of the public real logs in ../shared/datasets (skipped when the folder is absent)."""

from __future__ import annotations

import json
import warnings

import pytest

import sopaudit as sa
from sopaudit.cli import main

from conftest import dataset


@pytest.fixture(scope="module")
def sepsis_summary(tmp_path_factory):
    log = dataset("sepsis", "sepsis.xes.gz")
    net = dataset("sepsis", "sepsis_normative.pnml")
    out = tmp_path_factory.mktemp("sepsis")
    from click.testing import CliRunner

    res = CliRunner().invoke(main, ["audit", "--log", str(log), "--sop", str(net), "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8")), log, net


def test_sepsis_fitness_equals_pm4py(sepsis_summary):
    import pm4py

    summary, log_path, net_path = sepsis_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = pm4py.read_xes(str(log_path), show_progress_bar=False)
    net, im, fm = pm4py.read_pnml(str(net_path))
    expected = pm4py.fitness_alignments(log, net, im, fm, multi_processing=False)["log_fitness"]
    assert summary["fitness"] == pytest.approx(expected, abs=1e-9)
    assert summary["cases"] == 1050 and summary["events"] == 15214 and summary["variants"] == 846


def test_running_example_bpmn_and_pnml_audit_alike():
    log = sa.read_log(dataset("running_example", "running-example.xes"))
    by_pnml = sa.audit(log, sa.load_sop(dataset("running_example", "running-example.pnml")), processes=1)
    by_bpmn = sa.audit(log, sa.load_sop(dataset("running_example", "running-example.bpmn")), processes=1)
    assert by_pnml.metrics["cases"] == 6 and by_pnml.metrics["events"] == 42
    # The textbook model fits all six cases of its own log. Log fitness is pm4py's formula, in
    # which the silent moves' small cost counts: 0.99998 for a perfect fit.
    import pm4py

    net, im, fm = pm4py.read_pnml(str(dataset("running_example", "running-example.pnml")))
    pm_log = pm4py.read_xes(str(dataset("running_example", "running-example.xes")), show_progress_bar=False)
    expected = pm4py.fitness_alignments(pm_log, net, im, fm, multi_processing=False)["log_fitness"]
    assert by_pnml.metrics["conforming_cases"] == 6
    assert by_pnml.metrics["fitness"] == pytest.approx(expected, abs=1e-12)
    assert by_bpmn.metrics["conforming_cases"] == 6
