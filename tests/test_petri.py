"""Our Petri-net objects (sop/petri.py) and PNML reader against pm4py's: every PNML we can find
reads to the same places, transitions, labels, arcs and markings; `CompiledNet.to_pm4py` gives
pm4py the same net; a pm4py net handed in still audits."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pm4py
import pytest

import sopaudit as sa
from sopaudit.conform.align import align_variants
from sopaudit.conform.bounded import check_bounded, few_markings
from sopaudit.sop import compile_sop
from sopaudit.sop.compile import CompiledNet, compile_flow
from sopaudit.sop.marking import MarkingGraph
from sopaudit.sop.model import Parallel, Sequence, StepRef
from sopaudit.sop.petri import Marking, PetriNet
from sopaudit.sop.pnml import read_pnml, write_pnml

from conftest import DATASETS, dataset

ROOT = Path(__file__).resolve().parents[1]
FOUND = sorted(DATASETS.rglob("*.pnml")) + sorted((ROOT / "tests").rglob("*.pnml"))  # none without the datasets
SHIPPED = sorted((ROOT / "reference_models").glob("*.yaml"))


def describe(net, initial, final) -> dict:
    """Everything a reader decides about a net, by names: places, each transition's label with
    the places and weights on its arcs (silent ones by their arcs only: our reader names a silent
    transition by its written name, pm4py by its id), and both markings."""
    def arcs(t):
        return (tuple(sorted((a.source.name, a.weight) for a in t.in_arcs)),
                tuple(sorted((a.target.name, a.weight) for a in t.out_arcs)))

    return {
        "places": sorted(p.name for p in net.places),
        "visible": sorted((t.name, t.label, arcs(t)) for t in net.transitions if t.label is not None),
        "silent": Counter(arcs(t) for t in net.transitions if t.label is None),
        "arcs": len(net.arcs),
        "initial": sorted((p.name, k) for p, k in initial.items()),
        "final": sorted((p.name, k) for p, k in final.items()),
    }


def pm4py_read(path: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return describe(*pm4py.read_pnml(str(path)))


def written_by_pm4py(tmp_path: Path) -> list[Path]:
    """PNML files pm4py writes from the shipped SOPs (through our converter)."""
    out = []
    for yaml in SHIPPED:
        path = tmp_path / f"{yaml.stem}.pnml"
        pm4py.write_pnml(*compile_sop(sa.load_sop(yaml)).to_pm4py(), str(path))
        out.append(path)
    return out


@pytest.mark.parametrize("path", FOUND, ids=[p.stem for p in FOUND])
def test_every_pnml_found_reads_as_pm4py_reads_it(path):
    net, _ = read_pnml(path)
    assert isinstance(net.net, PetriNet)
    assert describe(*net.as_tuple()) == pm4py_read(path)


def test_pnml_written_by_pm4py_and_by_us_reads_as_pm4py_reads_it(tmp_path):
    assert len(SHIPPED) >= 4
    for path in written_by_pm4py(tmp_path):
        assert describe(*read_pnml(path)[0].as_tuple()) == pm4py_read(path), path
    for yaml in SHIPPED:
        ours = tmp_path / f"ours_{yaml.stem}.pnml"
        ours.write_text(write_pnml(compile_sop(sa.load_sop(yaml)), yaml.stem), encoding="utf-8")
        assert describe(*read_pnml(ours)[0].as_tuple()) == pm4py_read(ours), ours


def test_pm4py_generated_net_name_gives_way_to_the_file_name(tmp_path):
    # pm4py names a net "imported_<time>" and writes that: it must not become the SOP title
    path = tmp_path / "passport.pnml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm4py.write_pnml(*pm4py.read_pnml(str(written_by_pm4py(tmp_path)[0])), str(path))
    assert "imported_" in path.read_text(encoding="utf-8")
    sop = sa.load_sop(path)
    assert (sop.header.code, sop.header.title) == (path.stem, path.stem)
    assert sa.load_sop(dataset("sepsis", "sepsis_normative.pnml")).header.title == "sepsis_normative"


@pytest.mark.parametrize("yaml", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_to_pm4py_is_the_same_net(yaml):
    net = compile_sop(sa.load_sop(yaml))
    converted = net.to_pm4py()
    assert type(converted[0]).__module__.startswith("pm4py.")
    assert describe(*converted) == describe(*net.as_tuple())
    # and a pm4py net handed back in is walked the same (same reachability graph)
    ours, theirs = MarkingGraph(net), MarkingGraph(CompiledNet(*converted))
    assert ours.transitions == theirs.transitions
    assert (ours.initial, ours.final) == (theirs.initial, theirs.final)


def test_pm4py_net_handed_in_aligns_like_ours():
    path = dataset("running_example", "running-example.pnml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = CompiledNet(*pm4py.read_pnml(str(path)))
    ours = sa.load_sop(path).net
    variants = [("register request", "examine casually", "check ticket", "decide", "reject request"),
                ("register request", "decide", "pay compensation"), ()]
    a, b = align_variants(variants, ours), align_variants(variants, theirs)
    assert [a[v].cost for v in variants] == [b[v].cost for v in variants] == [2, 20002, 50002]


def test_arcs_join_a_place_and_a_transition_and_markings_hash_by_content():
    net = PetriNet("n")
    p, q, t = PetriNet.Place("p"), PetriNet.Place("q"), PetriNet.Transition("t", "a")
    arc = net.add_arc(p, t, 2)
    assert (arc.source, arc.target, arc.weight) == (p, t, 2) and arc in p.out_arcs and arc in t.in_arcs
    with pytest.raises(ValueError, match="joins a place and a transition"):
        net.add_arc(p, q)
    assert hash(Marking({p: 1})) == hash(Marking({p: 1, q: 0})) and Marking({p: 1}) == Marking({p: 1, q: 0})
    assert repr(t) == "(t, 'a')" and repr(Marking({q: 1, p: 2})) == "['p:2', 'q:1']"


def test_small_state_spaces_are_bounded_without_the_linear_program():
    small = compile_flow(Sequence((StepRef("a"), Parallel((StepRef("b"), StepRef("c"))), StepRef("d"))))
    assert few_markings(MarkingGraph(small, max_markings=None))
    # 12 parallel steps: 4,096+ markings, past the walk's limit, so the linear program decides
    wide = compile_flow(Parallel(tuple(StepRef(f"s{k:02d}") for k in range(12))))
    assert not few_markings(MarkingGraph(wide, max_markings=None))
    check_bounded(wide)
