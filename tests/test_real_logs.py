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


def test_sepsis_fitness_and_every_variant_cost_equal_pm4py(sepsis_summary):
    import pm4py
    from pm4py.algo.evaluation.replay_fitness.variants import alignment_based

    from sopaudit.conform.align import align_variants
    from sopaudit.sop.compile import CompiledNet

    summary, log_path, net_path = sepsis_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = pm4py.read_xes(str(log_path), variant="chunk_regex", show_progress_bar=False)
        net, im, fm = pm4py.read_pnml(str(net_path))
        # One pm4py alignment run gives both: per-case costs, and the log fitness computed the way
        # pm4py.fitness_alignments computes it from those alignments.
        event_log = pm4py.convert_to_event_log(log)
        theirs = pm4py.conformance_diagnostics_alignments(event_log, net, im, fm, multi_processing=False)
    expected = alignment_based.evaluate(theirs)["log_fitness"]
    assert summary["fitness"] == pytest.approx(expected, abs=1e-9)
    pm_cost = {tuple(e["concept:name"] for e in trace): a["cost"] for trace, a in zip(event_log, theirs, strict=True)}
    ours = align_variants(list(pm_cost), CompiledNet(net, im, fm))
    assert len(pm_cost) == 846
    assert {v: a.cost for v, a in ours.items()} == pm_cost
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
    pm_log = pm4py.read_xes(str(dataset("running_example", "running-example.xes")), variant="chunk_regex",
                             show_progress_bar=False)
    expected = pm4py.fitness_alignments(pm_log, net, im, fm, multi_processing=False)["log_fitness"]
    assert by_pnml.metrics["conforming_cases"] == 6
    assert by_pnml.metrics["fitness"] == pytest.approx(expected, abs=1e-12)
    assert by_bpmn.metrics["conforming_cases"] == 6
