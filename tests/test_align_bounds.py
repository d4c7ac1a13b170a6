"""The graph gear's lower bounds (conform/graphbound.py) and the search's stand-ins for deviating
moves: exact tables against a plain Dijkstra, label limits on small nets, and optimal costs equal
to pm4py's with the same moves as the fly gear, through align_variants (the batch path)."""

from __future__ import annotations

import heapq
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopaudit.conform import graphbound
from sopaudit.conform.align import Aligner, align_variants
from sopaudit.conform.graphbound import TailCost, label_caps
from sopaudit.conform.moves import DEAD, MODEL_COST, TAU_COST, labels_ahead
from sopaudit.sop.compile import compile_flow
from sopaudit.sop.marking import MarkingGraph
from sopaudit.sop.model import Choice, Loop, Optional_, Parallel, Sequence, StepRef
from test_align_gears import _flows, _perturb, _playout, _pm4py_cost


def _plain_tail(graph: MarkingGraph, labels: frozenset[str]) -> list[int]:
    """The cheapest model-side cost to the final marking, by a textbook Dijkstra backwards."""
    pred: dict[int, list[tuple[int, int]]] = {}
    for m in range(len(graph)):
        for _, label, m2 in graph.successors(m):
            cost = TAU_COST if label is None else 0 if label in labels else MODEL_COST
            pred.setdefault(m2, []).append((m, cost))
    dist = [DEAD] * len(graph)
    dist[graph.final] = 0
    queue = [(0, graph.final)]
    while queue:
        d, m = heapq.heappop(queue)
        if d > dist[m]:
            continue
        for m0, cost in pred.get(m, ()):
            if d + cost < dist[m0]:
                dist[m0] = d + cost
                heapq.heappush(queue, (d + cost, m0))
    return dist


def _graph(flow) -> MarkingGraph:
    net = compile_flow(flow)
    graph = MarkingGraph(net, max_markings=None)
    graph.future()  # the whole graph, as the graph gear builds it
    return graph


# A loop (a cycle of markings), a choice with a silent branch and a parallel block.
LOOPED = Sequence((StepRef("a"), Loop(Sequence((StepRef("b"), Optional_(StepRef("c")))), StepRef("r")),
                   Parallel((StepRef("d"), Sequence((StepRef("e"), StepRef("a"))))),
                   Choice("?", StepRef("f"), Sequence(()))))


def test_tail_tables_in_one_sweep_equal_one_dijkstra_per_set_and_a_plain_dijkstra():
    graph = _graph(LOOPED)
    letters = sorted(graph.labels)
    sets = {frozenset(letters[k] for k in range(len(letters)) if mask >> k & 1) for mask in range(1 << len(letters))}
    sets.add(frozenset({"a", "not in the model"}))
    swept, single = TailCost(graph), TailCost(graph)
    swept.prepare(sets)
    assert len(swept._tables) == len(sets) >= graphbound.BATCH_FROM  # the sweep, not one at a time
    for s in sets:
        expected = _plain_tail(graph, s)
        assert swept.table(s) == expected, sorted(s)
        assert single.table(s) == expected, sorted(s)
    # From the start with every label ahead: only the silent moves of the cheapest run are paid
    # (into and out of the loop's body, the split and join of the parallel block, the silent end).
    everything = swept.table(frozenset(letters))
    assert 0 < everything[graph.initial] < MODEL_COST
    # With no label ahead every visible step left is a model move: at least a, b, d, e, a.
    assert swept.table(frozenset())[graph.initial] >= 5 * MODEL_COST


def test_label_limits_count_how_often_a_step_can_still_happen():
    # a, then b one or more times (a loop whose redo step is r), then a again, then c or nothing.
    graph = _graph(Sequence((StepRef("a"), Loop(StepRef("b"), StepRef("r")), StepRef("a"),
                             Optional_(StepRef("c")))))
    bit = graph.label_bit
    caps = label_caps(graph)

    def limits(m: int) -> dict[str, int | None]:
        unlimited, layers = caps[m]
        out: dict[str, int | None] = {}
        for label, b in bit.items():
            out[label] = None if unlimited & b else sum(1 for layer in layers if layer & b)
        return out

    assert limits(graph.initial) == {"a": 2, "b": None, "r": None, "c": 1}
    [(_, _, after_a)] = graph.successors(graph.initial)
    assert limits(after_a) == {"a": 1, "b": None, "r": None, "c": 1}
    assert limits(graph.final) == {"a": 0, "b": 0, "r": 0, "c": 0}


def test_a_step_done_once_too_often_is_one_log_move_found_without_search_blowup():
    graph_net = compile_flow(Sequence((StepRef("s"), Parallel(tuple(StepRef(x) for x in "abcdef")), StepRef("e"))))
    aligner = Aligner(graph_net)
    assert aligner.gear == "graph"
    trace = ("s", "a", "b", "c", "a", "d", "e", "f", "e")  # a twice: its limit is once
    moves, cost, _ = aligner.align(trace)
    assert cost == _pm4py_cost(graph_net, trace) == MODEL_COST + 3  # one log move, three silent moves
    assert [m.kind for m in moves].count("log") == 1


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(flow=_flows(2), seed=st.integers(0, 10**6))
def test_random_models_batch_path_costs_equal_pm4py_and_moves_equal_the_fly_gear(flow, seed, monkeypatch_module):
    net = compile_flow(Sequence((StepRef("s"), flow, StepRef("e"))))
    if Aligner(net).gear != "graph":
        return  # the wide parallel blocks: the fly gear only (test_align_gears covers them)
    rng = random.Random(seed)
    traces = sorted({_perturb(_playout(net, rng), rng, rng.randrange(4)) for _ in range(6)})
    graph = align_variants(traces, net, gear="graph")
    fly = align_variants(traces, net, gear="fly")
    assert graph == fly
    for trace in traces:
        assert graph[trace].cost == _pm4py_cost(net, trace), trace


@pytest.fixture(scope="module")
def monkeypatch_module():
    # every label set through the numpy sweep, however few the traces
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(graphbound, "BATCH_FROM", 1)
        yield mp


def test_labels_ahead_per_position():
    assert labels_ahead(("a", "b", "a")) == [frozenset("ab"), frozenset("ab"), frozenset("a"), frozenset()]
