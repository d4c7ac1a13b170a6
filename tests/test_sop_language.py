"""The compiled Petri net and process tree accept exactly the flow: every trace enumerated from
the flow tree fits with no deviation, edited traces the flow does not allow do not fit, and the
net's bounded language equals the flow's."""

from __future__ import annotations

import random

import pm4py
import pytest

import sopaudit as sa
from sopaudit.conform.align import align_variants
from sopaudit.conform.classify import end_reached
from sopaudit.core.errors import SopError
from sopaudit.sop.compile import CompiledNet, compile_sop
from sopaudit.sop.language import LanguageTooLarge, flow_language, mutate, net_language
from sopaudit.sop.model import Choice, End, Loop, Sequence, StepRef
from sopaudit.sop.tree import compile_tree, flow_to_tree

from conftest import FIXTURES, PASSPORT_SOP

MODELS = {
    "mini": FIXTURES / "mini_sop.yaml",
    "branch": FIXTURES / "branch_sop.yaml",
    "all_constructs": FIXTURES / "sop_flows" / "all_constructs.yaml",
    "loop_exit": FIXTURES / "sop_flows" / "loop_exit.yaml",
    "paspor_mpaspor": PASSPORT_SOP,
    "paspor_walkin": PASSPORT_SOP.with_name("paspor_baru_walkin.yaml"),
    "paspor_pengganti": PASSPORT_SOP.with_name("paspor_pengganti_hilang_rusak.yaml"),
    "itas": PASSPORT_SOP.with_name("izin_tinggal_itas.yaml"),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request):
    return sa.load_sop(MODELS[request.param])


def tree_net(sop) -> CompiledNet:
    return CompiledNet(*pm4py.convert_to_petri_net(compile_tree(sop)))


def language_and_mutants(sop, seed: int = 7):
    """The flow's traces (each loop going back at most twice) and edits of them, with the exact
    answer for each edit from the length-bounded language."""
    lang = flow_language(sop.flow, max_repeats=2)
    longest = max(map(len, lang))
    exact = flow_language(sop.flow, max_repeats=None, max_len=longest + 1)
    rng = random.Random(seed)
    alphabet = sop.step_ids + ("tidak_dikenal",)
    per_trace = max(4, 100 // len(lang))
    mutants = {mutate(t, alphabet, rng) for t in sorted(lang) for _ in range(per_trace)}
    mutants = sorted(m for m in mutants if len(m) <= longest + 1)
    return lang, mutants, exact


def test_language_traces_fit_with_no_deviation_and_reach_their_end(model):
    lang, _, _ = language_and_mutants(model)
    net = compile_sop(model)
    aligned = align_variants(list(lang), net)
    assert all(aligned[t].deviations == 0 for t in lang)
    # the silent move into the final place names the end the flow reaches on that trace
    for t, ends in lang.items():
        assert end_reached(aligned[t]) in ends


def test_edited_traces_fit_exactly_when_the_flow_allows_them(model):
    _, mutants, exact = language_and_mutants(model)
    assert len(mutants) >= 20
    aligned = align_variants(mutants, compile_sop(model))
    verdicts = {m: aligned[m].deviations == 0 for m in mutants}
    assert verdicts == {m: m in exact for m in mutants}
    assert not all(verdicts.values())  # most edits leave the language


def test_process_tree_accepts_the_same_traces(model):
    lang, mutants, exact = language_and_mutants(model)
    net = tree_net(model)
    aligned = align_variants(list(lang) + mutants, net)
    assert all(aligned[t].deviations == 0 for t in lang)
    assert {m: aligned[m].deviations == 0 for m in mutants} == {m: m in exact for m in mutants}


@pytest.mark.parametrize("name", ["mini", "branch", "all_constructs", "loop_exit", "itas", "paspor_walkin"])
def test_bounded_languages_of_flow_net_and_tree_are_equal(name):
    sop = sa.load_sop(MODELS[name])
    n = 14 if name in ("mini", "branch", "all_constructs", "loop_exit") else 22
    expected = set(flow_language(sop.flow, max_repeats=None, max_len=n))
    assert net_language(compile_sop(sop), n) == expected
    assert net_language(tree_net(sop), n) == expected


def test_mini_language_exactly():
    sop = sa.load_sop(MODELS["mini"])
    lang = flow_language(sop.flow, max_repeats=1)
    assert lang[("a", "r")] == frozenset({"rejected"})
    assert lang[("a", "b", "c", "e", "d", "f", "f", "g")] == frozenset({"complete"})
    # 2 (optional b) x [reject | c, 2 orders of d/e, 1 or 2 prints]
    assert len(lang) == 2 * (1 + 2 * 2)


def test_process_trees_of_known_flows():
    assert str(compile_tree(sa.load_sop(MODELS["mini"]))) == (
        "->( 'a', X( 'b', tau ), X( ->( 'c', +( 'd', 'e' ), *( 'f', tau ), 'g' ), 'r' ) )")
    # an end inside a loop body: zero or more rounds that go on, then a last round that ends or goes on
    flow = Sequence((Loop(Sequence((StepRef("h"), Choice("Ditarik?", End("ditarik"), Sequence(())))),
                          StepRef("i"), "Sah?"), StepRef("k")))
    assert str(flow_to_tree(flow)) == "->( *( tau, ->( 'h', 'i' ) ), 'h', X( tau, 'k' ) )"


def test_language_bounds_are_enforced():
    sop = sa.load_sop(MODELS["mini"])
    with pytest.raises(ValueError, match="set max_repeats or max_len"):
        flow_language(sop.flow, max_repeats=None)
    with pytest.raises(LanguageTooLarge):
        flow_language(sop.flow, max_repeats=None, max_len=40, limit=100)


def test_imported_models_have_no_process_tree(tmp_path):
    sop = sa.load_sop(FIXTURES / "sop_bpmn" / "signavio_links.bpmn")
    with pytest.raises(SopError, match="no flow to turn into a process tree"):
        compile_tree(sop)


def _random_flow(rng: random.Random, depth: int, may_stop: bool):
    """A random flow that the loader would accept (ends only where they may stand)."""
    from sopaudit.sop.model import Optional_, Parallel, always_ends, nullable

    letters = "abcdef"
    k = rng.random()
    if depth <= 0 or k < 0.35:
        return StepRef(rng.choice(letters))
    if k < 0.5:
        n = rng.randint(2, 3)
        return Sequence(tuple(_random_flow(rng, depth - 1, may_stop and i == n - 1) for i in range(n)))
    if k < 0.6 and may_stop:
        return Sequence((StepRef(rng.choice(letters)), End(f"e{rng.randint(1, 3)}")))
    if k < 0.7:
        return Optional_(Sequence((StepRef(rng.choice(letters)), _random_flow(rng, depth - 1, may_stop))))
    if k < 0.8:
        yes = _random_flow(rng, depth - 1, may_stop)
        no = rng.choice([Sequence(()), _random_flow(rng, depth - 1, may_stop)])
        choice = Choice("q?", yes, no)
        return StepRef(rng.choice(letters)) if always_ends(choice) else choice
    if k < 0.9:
        return Parallel(tuple(_random_flow(rng, depth - 1, False) for _ in range(rng.randint(2, 3))))
    body = _random_flow(rng, depth - 1, may_stop)
    # the redo steps may end the service on some paths (a rejection resubmitted or ended)
    redo = rng.choice([None, StepRef(rng.choice(letters)), Sequence(()), _random_flow(rng, depth - 1, may_stop)]
                      + ([Sequence((StepRef(rng.choice(letters)), Choice("q?", Sequence(()), End("e4"))))] * 2
                         if may_stop else []))
    if redo is not None and always_ends(redo):
        redo = Sequence((StepRef(rng.choice(letters)), Choice("q?", Sequence(()), redo)))
    if always_ends(body) or (nullable(body) and (redo is None or nullable(redo))):
        return StepRef(rng.choice(letters))
    return Loop(body, redo, "lagi?", exit=rng.choice(["yes", "no"]))


def test_random_flows_compile_export_and_import_to_the_same_language(tmp_path):
    """Net, process tree and exported-then-imported BPMN of 40 random flows accept exactly the
    flow's traces of up to 6 steps."""
    from sopaudit.sop.bpmn_write import write_bpmn
    from sopaudit.sop.compile import compile_flow
    from sopaudit.sop.model import SOP, Header, Step, always_ends, walk

    rng = random.Random(2024)
    checked = 0
    while checked < 40:
        flow = _random_flow(rng, 3, True)
        seqs = [n for n in walk(flow) if isinstance(n, Sequence)]
        if any(always_ends(a) for s in seqs for a in s.items[:-1]):
            continue  # the loader refuses items after an item that always ends
        try:
            expected = set(flow_language(flow, max_repeats=None, max_len=6))
            by_net = net_language(compile_flow(flow), 6, limit=50_000)
        except LanguageTooLarge:
            continue
        assert by_net == expected, flow
        assert net_language(CompiledNet(*pm4py.convert_to_petri_net(flow_to_tree(flow))), 6) == expected, flow
        used = sorted({n.step for n in walk(flow) if isinstance(n, StepRef)})
        sop = SOP(Header("R", "Random"), (), tuple(Step(s, s.upper()) for s in used), flow)
        path = tmp_path / f"r{checked}.bpmn"
        path.write_text(write_bpmn(sop), encoding="utf-8")
        assert net_language(sa.load_sop(path).net, 6) == expected, flow
        checked += 1
