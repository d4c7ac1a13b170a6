"""PNML: reading nets with silent transitions and explicit (or unambiguous missing) markings,
errors naming the element at fault, and writing nets that pm4py and sopaudit read back."""

from __future__ import annotations

import random

import pm4py
import pytest

import sopaudit as sa
from sopaudit.conform.align import align_variants
from sopaudit.conform.classify import end_reached
from sopaudit.core.errors import SopError
from sopaudit.sop.compile import CompiledNet, compile_sop
from sopaudit.sop.language import flow_language, mutate, net_language
from sopaudit.sop.pnml import read_pnml, write_pnml

from conftest import FIXTURES, PASSPORT_SOP, dataset

SHIPPED = sorted(PASSPORT_SOP.parent.glob("*.yaml"))


def pnml(places: str, transitions: str, arcs: str, final: str | None = "p3") -> str:
    fm = (f'<finalmarkings><marking><place idref="{final}"><text>1</text></place></marking></finalmarkings>'
          if final else "")
    return ('<?xml version="1.0" encoding="UTF-8"?><pnml><net id="n1" type="http://www.pnml.org/version-2009/'
            f'grammar/pnmlcoremodel"><name><text>uji</text></name><page id="pg">{places}{transitions}{arcs}</page>'
            f"{fm}</net></pnml>")


P3 = ('<place id="p1"><initialMarking><text>1</text></initialMarking></place><place id="p2"/>'
      '<place id="p3"/>')
T2 = ('<transition id="t1"><name><text>Daftar</text></name></transition>'
      '<transition id="t2"><name><text>end:selesai</text></name>'
      '<toolspecific tool="ProM" version="6.4" activity="$invisible$"/></transition>')
A4 = ('<arc id="a1" source="p1" target="t1"/><arc id="a2" source="t1" target="p2"/>'
      '<arc id="a3" source="p2" target="t2"/><arc id="a4" source="t2" target="p3"/>')


def write(tmp_path, text: str, name: str = "net.pnml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_silent_transitions_and_explicit_markings(tmp_path):
    sop = sa.load_sop(write(tmp_path, pnml(P3, T2, A4)))
    net = sop.net
    assert sop.step_ids == ("Daftar",) and sop.header.title == "uji"
    assert sorted((t.name, t.label) for t in net.net.transitions) == [("end:selesai", None), ("t1", "Daftar")]
    assert {p.name: k for p, k in net.initial.items()} == {"p1": 1}
    assert {p.name: k for p, k in net.final.items()} == {"p3": 1}
    aligned = align_variants([("Daftar",)], net)
    assert aligned[("Daftar",)].deviations == 0 and end_reached(aligned[("Daftar",)]) == "selesai"


def test_missing_markings_are_taken_from_the_only_source_and_sink(tmp_path):
    places = '<place id="p1"/><place id="p2"/><place id="p3"/>'
    net, _ = read_pnml(write(tmp_path, pnml(places, T2, A4, final=None)))
    assert {p.name for p in net.initial} == {"p1"} and {p.name for p in net.final} == {"p3"}


PROBLEMS = [
    pytest.param(pnml(P3, T2, A4.replace('target="t2"', 'target="t9"')),
                 ["arc 'a3' names target 't9', which is not a place or transition of the net"], id="unknown_node"),
    pytest.param(pnml(P3, T2, A4 + '<arc id="a5" source="p1" target="p2"/>'),
                 ["arc 'a5' joins two places; an arc joins a place and a transition"], id="place_to_place"),
    pytest.param(pnml(P3, T2, A4 + '<arc id="a6" source="p2" target="t1"><type value="inhibitor"/></arc>'),
                 ["arc 'a6' is a inhibitor arc; only normal arcs are supported"], id="inhibitor_arc"),
    pytest.param(pnml(P3 + '<place id="p2"/>', T2, A4), ["the id 'p2' is used twice; ids must be unique"],
                 id="duplicate_id"),
    pytest.param(pnml(P3, T2, A4, final="p9"),
                 ["the final marking names place 'p9', which is not a place of the net"], id="unknown_final_place"),
    pytest.param(pnml(P3, T2 + '<referenceTransition id="r1" ref="t1"/>', A4),
                 ["referenceTransition 'r1' (modular PNML) is not supported; flatten the net in the modelling tool"],
                 id="modular_pnml"),
    pytest.param(pnml(P3.replace("<text>1</text>", "<text>satu</text>"), T2, A4),
                 ["the initial marking of place 'p1' is 'satu', not a whole number"], id="bad_marking"),
    pytest.param(pnml(P3, T2, A4).replace("<text>1</text></place></marking>", "<text>2</text></place></marking>"),
                 ["the final marking cannot be reached from the initial marking, so no case could conform; check "
                  "both markings in the modelling tool"], id="unreachable_final_marking"),
    pytest.param(pnml('<place id="p1"/><place id="p2"/><place id="p3"/><place id="p4"/>', T2, A4, final=None),
                 ["the net has no initial marking and 2 places without incoming arcs (p1, p4); set the initial "
                  "marking in the modelling tool and export again"], id="ambiguous_initial_marking"),
    pytest.param(pnml(P3, T2.replace("<name><text>Daftar</text></name>", "").replace(
        '<transition id="t1">', '<transition id="t1"><toolspecific tool="ProM" activity="$invisible$"/>'), A4),
                 ["the model has no labelled transitions (no steps); name the transitions after the steps the "
                  "service system records"], id="no_steps"),
    pytest.param('<?xml version="1.0"?><pnml><net id="a"/><net id="b"/></pnml>',
                 ["the file holds 2 nets (a, b); keep the one net to audit against"], id="two_nets"),
    pytest.param('<?xml version="1.0"?><pnml></pnml>', ["no <net> element; this is not a PNML Petri net"],
                 id="no_net"),
]


@pytest.mark.parametrize(("text", "expected"), PROBLEMS)
def test_problems_name_the_element(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SopError) as err:
        sa.load_sop(path)
    assert err.value.problems == [f"{path}: {m}" for m in expected]


def test_two_final_markings_are_refused(tmp_path):
    text = pnml(P3, T2, A4).replace(
        "</finalmarkings>", '<marking><place idref="p2"><text>1</text></place></marking></finalmarkings>')
    path = write(tmp_path, text)
    with pytest.raises(SopError) as err:
        sa.load_sop(path)
    assert err.value.problems == [f"{path}: the net declares 2 different final markings; sopaudit aligns against "
                                  "one, so keep the one every case should reach"]


def test_sepsis_normative_net_reads_like_pm4py_reads_it():
    path = dataset("sepsis", "sepsis_normative.pnml")
    ours = sa.load_sop(path).net
    theirs = CompiledNet(*pm4py.read_pnml(str(path)))
    assert sorted(str(t.label) for t in ours.net.transitions) == sorted(str(t.label) for t in theirs.net.transitions)
    assert len(ours.net.arcs) == len(theirs.net.arcs) == 80
    short = net_language(ours, 5)
    assert len(short) == 172 and short == net_language(theirs, 5)


def test_running_example_pnml_audits_its_log():
    log = sa.read_log(dataset("running_example", "running-example.xes"))
    result = sa.audit(log, sa.load_sop(dataset("running_example", "running-example.pnml")), processes=1)
    assert result.metrics["cases"] == 6 and result.metrics["conforming_cases"] == 6
    assert result.metrics["deviations"] == 0


def test_sepsis_normative_net_audits_a_slice_of_its_log():
    log = sa.read_log(dataset("sepsis", "sepsis.xes.gz"))
    first = sorted(log["case:concept:name"].unique())[:60]
    log = log[log["case:concept:name"].isin(first)]
    sop = sa.load_sop(dataset("sepsis", "sepsis_normative.pnml"))
    result = sa.audit(log, sop, processes=1)
    assert result.metrics["cases"] == 60
    variants = sorted(set(log.sort_values(["case:concept:name", "time:timestamp"], kind="mergesort")
                          .groupby("case:concept:name", sort=True)["concept:name"].agg(tuple)))
    theirs = CompiledNet(*pm4py.read_pnml(str(dataset("sepsis", "sepsis_normative.pnml"))))
    ours, ref = align_variants(variants, sop.net), align_variants(variants, theirs)
    assert [ours[v].deviations for v in variants] == [ref[v].deviations for v in variants]


def test_written_pnml_reads_back_in_pm4py_and_sopaudit(tmp_path):
    sop = sa.load_sop(FIXTURES / "mini_sop.yaml")
    net = compile_sop(sop)
    text = write_pnml(net, "TEST-MINI")
    assert text == write_pnml(compile_sop(sa.load_sop(FIXTURES / "mini_sop.yaml")), "TEST-MINI")
    path = write(tmp_path, text, "mini.pnml")
    by_pm4py = CompiledNet(*pm4py.read_pnml(str(path)))
    back = sa.load_sop(path)
    expected = set(flow_language(sop.flow, max_repeats=None, max_len=10))
    assert net_language(by_pm4py, 10) == expected == net_language(back.net, 10)
    aligned = align_variants([("a", "r")], back.net)
    assert end_reached(aligned[("a", "r")]) == "rejected"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_yaml_to_pnml_and_back_gives_the_same_verdicts(path, tmp_path):
    sop = sa.load_sop(path)
    out = write(tmp_path, write_pnml(compile_sop(sop), sop.header.code), f"{path.stem}.pnml")
    back = sa.load_sop(out)
    lang = sorted(flow_language(sop.flow, max_repeats=2))
    rng = random.Random(5)
    traces = sorted(set(lang) | {mutate(lang[rng.randrange(len(lang))], sop.step_ids, rng) for _ in range(250)})
    assert len(traces) >= 200
    a, b = align_variants(traces, compile_sop(sop)), align_variants(traces, back.net)
    assert [a[t].deviations == 0 for t in traces] == [b[t].deviations == 0 for t in traces]
    assert [end_reached(a[t]) for t in traces] == [end_reached(b[t]) for t in traces]
