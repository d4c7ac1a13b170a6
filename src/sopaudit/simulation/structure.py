"""The static shape of an SOP flow, computed once before any case is played.

Every flow node gets an integer id (depth-first order) and the facts the play-out and the
deviation injection need: which Sequence lists a step directly and at which index, the outermost
decision or loop around it (its *region*), and minimal step counts along paths. The minimal
counts decide whether an injected deviation is the cheapest explanation an optimal alignment can
find (see docs/simulation.md, "Which deviations are injected where").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sopaudit.core.errors import SopAuditError
from sopaudit.sop.model import SOP, Choice, End, Loop, Node, Optional_, Parallel, Sequence, StepRef

STEP, SEQ, OPTIONAL, CHOICE, PARALLEL, LOOP, END = range(7)
_KIND = {StepRef: STEP, Sequence: SEQ, Optional_: OPTIONAL, Choice: CHOICE, Parallel: PARALLEL,
         Loop: LOOP, End: END}
_INF = 1 << 20


@dataclass
class PlanNode:
    id: int
    kind: int
    node: Node
    parent: int
    children: list[int] = field(default_factory=list)
    step: int = -1  # step code of a StepRef
    seq_parent: int = -1  # the Sequence that lists this node directly (-1: none)
    seq_index: int = -1
    min_cont: int | None = None  # fewest steps through the node when the case goes on after it
    min_end: int | None = None  # fewest steps through the node on a path that ends inside it
    after: int = 0  # fewest steps after the node up to any end of the flow
    outer: int = -1  # outermost Choice/Optional/Loop containing the node (itself included)
    in_loop: bool = False
    in_parallel: bool = False
    key: str = ""  # choice1, loop2, optional1: how a scenario names unnamed decisions
    end: int = -1  # index of an End in Plan.ends


@dataclass
class Plan:
    """The flow of one SOP as a table of nodes; step codes index `step_ids`."""

    sop: SOP
    nodes: list[PlanNode]
    root: int
    step_ids: tuple[str, ...]
    unique: np.ndarray  # per step code: the step stands at exactly one place of the flow
    ends: tuple[str, ...]
    min_end_cost: int | None  # fewest steps of any branch that ends the case (None: no ends)

    def of_kind(self, kind: int) -> list[PlanNode]:
        return [n for n in self.nodes if n.kind == kind]

    def branch_min(self, node_id: int) -> int:
        """Fewest steps an alignment must add to explain a path through this branch instead of
        the one the case took: a continuing path, or an ending path plus at least one log move
        for the step(s) the case did after the decision."""
        n = self.nodes[node_id]
        options = []
        if n.min_cont is not None:
            options.append(n.min_cont)
        if n.min_end is not None:
            parent = self.nodes[n.parent]
            options.append(n.min_end + (1 if parent.after >= 1 else 0))
        return min(options) if options else _INF

    def silent_end_after(self, node_id: int) -> bool:
        """Whether, right after node `node_id` is done, the case can reach an end of the SOP (a
        legitimate end or the normal end) without any visible step."""
        pn = self.nodes[node_id]
        if pn.parent == -1:
            return True
        up = self.nodes[pn.parent]
        if up.kind == SEQ:
            for cid in up.children[pn.seq_index + 1:]:
                c = self.nodes[cid]
                if c.min_end == 0:
                    return True
                if c.min_cont != 0:
                    return False
            return self.silent_end_after(up.id)
        if up.kind == LOOP:
            body = self.nodes[up.children[0]]
            redo = self.nodes[up.children[1]] if len(up.children) > 1 else None
            if node_id == body.id and self.silent_end_after(up.id):
                return True
            if node_id == body.id and redo is not None:
                return redo.min_end == 0 or (redo.min_cont == 0 and body.min_end == 0)
            return body.min_end == 0
        return self.silent_end_after(up.id)

    def first_step(self, node_id: int) -> str:
        """The first step of a branch in flow order ('' for an empty branch)."""
        for n in self.nodes[node_id:]:
            if n.kind == STEP and self._inside(n.id, node_id):
                return self.step_ids[n.step]
        return ""

    def _inside(self, node_id: int, ancestor: int) -> bool:
        while node_id != -1:
            if node_id == ancestor:
                return True
            node_id = self.nodes[node_id].parent
        return False


def build_plan(sop: SOP) -> Plan:
    """Number the nodes of the SOP's flow tree and compute the facts the simulator needs."""
    if sop.flow is None:
        raise SopAuditError(
            f"{sop.source or 'the SOP'}: this model was imported from PNML/BPMN and has no flow "
            "tree, so it cannot be simulated; write the SOP as a YAML table (docs/sop-format.md) "
            "and simulate that"
        )
    step_ids = tuple(s.id for s in sop.steps)
    code = {s: i for i, s in enumerate(step_ids)}
    nodes: list[PlanNode] = []
    ends: list[str] = []
    counters = {CHOICE: 0, LOOP: 0, OPTIONAL: 0}

    def add(node: Node, parent: int, outer: int, in_loop: bool, in_par: bool) -> int:
        kind = _KIND[type(node)]
        nid = len(nodes)
        pn = PlanNode(nid, kind, node, parent, in_loop=in_loop, in_parallel=in_par)
        nodes.append(pn)
        if kind in counters:
            counters[kind] += 1
            pn.key = {CHOICE: "choice", LOOP: "loop", OPTIONAL: "optional"}[kind] + str(counters[kind])
            if outer == -1:
                outer = nid
        pn.outer = outer
        if kind == STEP:
            if node.step not in code:
                raise SopAuditError(f"the flow names step '{node.step}' that the SOP does not define")
            pn.step = code[node.step]
        elif kind == END:
            pn.end = len(ends)
            ends.append(node.id)
        children: list[Node] = []
        if kind == SEQ:
            children = list(node.items)
        elif kind == OPTIONAL:
            children = [node.body, Sequence(())]  # the "left out" branch, so it has a node id
        elif kind == CHOICE:
            children = [node.yes, node.no]
        elif kind == PARALLEL:
            children = list(node.branches)
        elif kind == LOOP:
            children = [node.body] + ([node.redo] if node.redo is not None else [])
        for i, child in enumerate(children):
            cid = add(child, nid, outer, in_loop or kind == LOOP, in_par or kind == PARALLEL)
            pn.children.append(cid)
            if kind == SEQ:
                nodes[cid].seq_parent, nodes[cid].seq_index = nid, i
        return nid

    root = add(sop.flow, -1, -1, False, False)
    for pn in reversed(nodes):  # children before parents
        _min_lengths(pn, nodes)
    _afters(nodes, root, 0)

    counts = np.zeros(len(step_ids), np.int64)
    for pn in nodes:
        if pn.kind == STEP:
            counts[pn.step] += 1
    end_costs = [nodes[c].min_end for pn in nodes if pn.kind in (CHOICE, OPTIONAL)
                 for c in pn.children if nodes[c].min_end is not None]
    return Plan(sop, nodes, root, step_ids, counts == 1, tuple(ends),
                min(end_costs) if end_costs else None)


def _min_lengths(pn: PlanNode, nodes: list[PlanNode]) -> None:
    kids = [nodes[c] for c in pn.children]
    if pn.kind == STEP:
        pn.min_cont, pn.min_end = 1, None
    elif pn.kind == END:
        pn.min_cont, pn.min_end = None, 0
    elif pn.kind == SEQ:
        acc: int | None = 0
        best_end: int | None = None
        for k in kids:
            if k.min_end is not None:
                best_end = acc + k.min_end if best_end is None else min(best_end, acc + k.min_end)
            if k.min_cont is None:
                acc = None
                break
            acc += k.min_cont
        pn.min_cont, pn.min_end = acc, best_end
    elif pn.kind in (CHOICE, OPTIONAL):
        conts = [k.min_cont for k in kids if k.min_cont is not None]
        ends = [k.min_end for k in kids if k.min_end is not None]
        pn.min_cont = min(conts) if conts else None
        pn.min_end = min(ends) if ends else None
    elif pn.kind == PARALLEL:
        pn.min_cont, pn.min_end = sum(k.min_cont or 0 for k in kids), None
    elif pn.kind == LOOP:
        body = kids[0]
        ends = [body.min_end] if body.min_end is not None else []
        if len(kids) > 1 and body.min_cont is not None and kids[1].min_end is not None:
            ends.append(body.min_cont + kids[1].min_end)
        pn.min_cont, pn.min_end = body.min_cont, (min(ends) if ends else None)


def _afters(nodes: list[PlanNode], nid: int, after: int) -> None:
    """Fewest steps after each node on any path to an end (complete or legitimate)."""
    pn = nodes[nid]
    pn.after = after
    if pn.kind == SEQ:
        kids = [nodes[c] for c in pn.children]
        for i, k in enumerate(kids):
            best, acc = None, 0
            for later in kids[i + 1:]:
                if later.min_end is not None:
                    cand = acc + later.min_end
                    best = cand if best is None else min(best, cand)
                if later.min_cont is None:
                    acc = None
                    break
                acc += later.min_cont
            if acc is not None:
                cand = acc + after
                best = cand if best is None else min(best, cand)
            _afters(nodes, k.id, best if best is not None else 0)
    elif pn.kind == LOOP:
        body = pn.children[0]
        _afters(nodes, body, after)
        if len(pn.children) > 1:
            _afters(nodes, pn.children[1], (nodes[body].min_cont or 0) + after)
    else:
        for c in pn.children:
            _afters(nodes, c, after)
