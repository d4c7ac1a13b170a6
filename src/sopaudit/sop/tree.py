"""Compile an SOP flow into a pm4py process tree with the same language as the flow.

A process tree has no "stop here": a legitimate end inside a decision is expressed by moving
the rest of the flow into the branches that do not end (the end itself becomes a silent leaf).
A loop whose body or redo steps may end becomes "zero or more non-ending rounds, then one last
round that ends or goes on": seq(loop(tau, seq(body without its ending paths, redo without its
ending paths)), xor(last round + rest, body without ends + the ending paths of redo)).
Both rewrites copy parts of the flow, so labels may occur more than once in the tree.
"""

from __future__ import annotations

from pm4py.objects.process_tree.obj import Operator, ProcessTree

from sopaudit.core.errors import SopError
from sopaudit.sop.model import (
    SOP,
    Choice,
    End,
    Loop,
    Node,
    Optional_,
    Parallel,
    Sequence,
    StepRef,
    may_end,
)


def _tree(operator: Operator | None, children: list[ProcessTree] | None = None,
          label: str | None = None) -> ProcessTree:
    node = ProcessTree(operator=operator, label=label)
    for child in children or []:
        child.parent = node
        node.children.append(child)
    return node


def _tau() -> ProcessTree:
    return _tree(None)


def _seq(parts: list[ProcessTree]) -> ProcessTree:
    # Silent leaves in a sequence change nothing; drop them to keep the tree small.
    parts = [p for p in parts if not (p.operator is None and p.label is None)]
    # A sequence inside a sequence is the same sequence: splice it in.
    parts = [c for p in parts for c in (p.children if p.operator == Operator.SEQUENCE else [p])]
    if not parts:
        return _tau()
    return parts[0] if len(parts) == 1 else _tree(Operator.SEQUENCE, parts)


def _xor(parts: list[ProcessTree]) -> ProcessTree:
    return _tree(Operator.XOR, parts)


def _cat(a: Node | None, b: Node | None) -> Node | None:
    """The flow `a` followed by `b` (None = nothing)."""
    if a is None:
        return b
    if b is None:
        return a
    left = a.items if isinstance(a, Sequence) else (a,)
    right = b.items if isinstance(b, Sequence) else (b,)
    return Sequence(left + right)


def _plain(node: Node) -> ProcessTree:
    """Translate a flow node that contains no end."""
    if isinstance(node, StepRef):
        return _tree(None, label=node.step)
    if isinstance(node, Sequence):
        return _seq([_plain(n) for n in node.items])
    if isinstance(node, Optional_):
        return _xor([_plain(node.body), _tau()])
    if isinstance(node, Choice):
        return _xor([_plain(node.yes), _plain(node.no)])
    if isinstance(node, Parallel):
        return _tree(Operator.PARALLEL, [_plain(b) for b in node.branches])
    if isinstance(node, Loop):
        redo = _plain(node.redo) if node.redo is not None else _tau()
        return _tree(Operator.LOOP, [_plain(node.body), redo])
    raise TypeError(f"cannot translate {node!r} without its continuation")


def _without_ends(node: Node) -> Node | None:
    """The part of `node` whose paths do not end (None if every path ends)."""
    if isinstance(node, End):
        return None
    if isinstance(node, StepRef | Parallel):
        return node
    if isinstance(node, Sequence):
        items = [_without_ends(n) for n in node.items]
        return None if any(i is None for i in items) else Sequence(tuple(items))
    if isinstance(node, Optional_):
        body = _without_ends(node.body)
        return Optional_(body) if body is not None else Sequence(())
    if isinstance(node, Choice):
        yes, no = _without_ends(node.yes), _without_ends(node.no)
        if yes is None or no is None:
            return no if yes is None else yes
        return Choice(node.question, yes, no, node.condition, node.id)
    if isinstance(node, Loop):
        body = _without_ends(node.body)
        if body is None:
            return None
        if node.redo is None or not may_end(node.redo):
            return Loop(body, node.redo, node.question, node.id, node.exit)
        redo = _without_ends(node.redo)
        # a redo that always ends never goes back (the loader refuses it): one round only
        return body if redo is None else Loop(body, redo, node.question, node.id, node.exit)
    raise TypeError(node)


def _ending(node: Node) -> Node | None:
    """The part of `node` whose paths end (None if no path ends)."""
    if not may_end(node):
        return None
    if isinstance(node, End):
        return node
    if isinstance(node, Optional_):
        return _ending(node.body)
    if isinstance(node, Choice):
        yes, no = _ending(node.yes), _ending(node.no)
        return (no if yes is None else yes) if yes is None or no is None else Choice(node.question, yes, no)
    if isinstance(node, Sequence):  # the paths that end in item k, after items before it went on
        options: list[Node] = []
        for k, item in enumerate(node.items):
            tail = _ending(item)
            if tail is not None:
                options.append(_cat(Sequence(tuple(_without_ends(n) for n in node.items[:k])), tail))
            if _without_ends(item) is None:  # nothing after an item that always ends can run
                break
        out = options[-1]
        for o in reversed(options[:-1]):
            out = Choice("", o, out)
        return out
    if isinstance(node, Loop):  # zero or more rounds that go back, then a round that ends
        again = _without_ends(Loop(node.body, node.redo, node.question, node.id, node.exit))
        body = _without_ends(node.body)
        last = [e for e in (_ending(node.body),
                            _cat(body, _ending(node.redo)) if node.redo is not None and may_end(node.redo) else None)
                if e is not None]
        last_round = last[0] if len(last) == 1 else Choice("", last[0], last[1])
        if not isinstance(again, Loop):
            return last_round
        rounds = Loop(_cat(again.body, again.redo) or Sequence(()), None, node.question)
        return Sequence((Optional_(rounds), last_round))
    raise TypeError(node)


def _then(node: Node, rest: Node | None) -> ProcessTree:
    """The tree of `node` followed by `rest`, where an end inside `node` skips `rest`."""
    if not may_end(node):
        return _seq([_plain(node), _then(rest, None)]) if rest is not None else _plain(node)
    if isinstance(node, End):
        return _tau()
    if isinstance(node, Sequence):
        k = next(i for i, n in enumerate(node.items) if may_end(n))
        tail = _cat(Sequence(node.items[k + 1:]) if k + 1 < len(node.items) else None, rest)
        return _seq([_plain(n) for n in node.items[:k]] + [_then(node.items[k], tail)])
    if isinstance(node, Optional_):
        return _xor([_then(node.body, rest), _then(rest, None) if rest is not None else _tau()])
    if isinstance(node, Choice):
        return _xor([_then(node.yes, rest), _then(node.no, rest)])
    if isinstance(node, Loop):
        body = _without_ends(node.body)
        if body is None:  # the loader reports this as a loop without exit
            raise ValueError("a loop whose body always ends cannot be compiled")
        redo = node.redo if node.redo is None or not may_end(node.redo) else _without_ends(node.redo)
        last = _then(node.body, rest)
        redo_end = _ending(node.redo) if node.redo is not None else None
        if redo_end is not None:  # the last round may also take the other answer and end in redo
            last = _xor([last, _seq([_plain(body), _then(redo_end, None)])])
        if node.redo is not None and redo is None:  # redo always ends: no round goes back
            return last
        rounds = _tree(Operator.LOOP, [_tau(), _plain(_cat(body, redo) or Sequence(()))])
        return _seq([rounds, last])
    raise TypeError(f"unknown flow node {node!r}")


def flow_to_tree(flow: Node) -> ProcessTree:
    """A pm4py process tree whose language is the flow's (legitimate ends become silent leaves)."""
    return _then(flow, None)


def compile_tree(sop: SOP) -> ProcessTree:
    """The process tree of an SOP written as a flow (YAML)."""
    if sop.flow is None:
        raise SopError(sop.source, [f"{sop.source}: this model was imported as a Petri net (PNML/BPMN); "
                                    "it has no flow to turn into a process tree"])
    return flow_to_tree(sop.flow)
