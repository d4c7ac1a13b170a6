"""Compile an SOP flow into a Petri net (`sopaudit.sop.petri`) whose language is exactly the flow.

Each flow block is built between an entry place and an exit place (block-structured workflow
net). Silent transitions isolate loops and joins so no block can feed back into another's entry.
Legitimate ends move the token straight to the single final place, so a rejected case that stops
there fits the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from sopaudit.sop.model import SOP, Choice, End, Loop, Node, Optional_, Parallel, Sequence, StepRef
from sopaudit.sop.petri import Marking, PetriNet, to_pm4py

COMPLETE_END = "complete"
END_PREFIX = "end:"


@dataclass(frozen=True)
class CompiledNet:
    """A Petri net with its markings; transition labels are SOP step ids. The net is ours
    (`sopaudit.sop.petri`) or a pm4py net handed in by a user: both have the same attributes."""

    net: PetriNet
    initial: Marking
    final: Marking
    # Each decision of the flow with the names of the silent transitions that enter its "yes"
    # and its "no" branch; an alignment's silent moves then tell which answer a case took.
    choices: tuple[tuple[Choice, str, str], ...] = ()

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(t.label for t in self.net.transitions if t.label is not None)

    def as_tuple(self) -> tuple[PetriNet, Marking, Marking]:
        return self.net, self.initial, self.final

    def to_pm4py(self):
        """The net as pm4py objects `(net, initial, final)`, for pm4py's own algorithms."""
        return to_pm4py(self.net, self.initial, self.final)


class _Builder:
    def __init__(self, name: str):
        self.net = PetriNet(name)
        self.n_places = 0
        self.n_trans = 0
        self.choices: list[tuple[Choice, str, str]] = []
        self.sink = self.place()

    def place(self) -> PetriNet.Place:
        self.n_places += 1
        p = PetriNet.Place(f"p{self.n_places}")
        self.net.places.add(p)
        return p

    def transition(self, label: str | None, name: str | None = None) -> PetriNet.Transition:
        self.n_trans += 1
        t = PetriNet.Transition(name or f"t{self.n_trans}", label)
        self.net.transitions.add(t)
        return t

    def arc(self, a, b) -> None:
        self.net.add_arc(a, b)

    def tau(self, src, dst, name: str | None = None) -> str:
        t = self.transition(None, name and f"{name}#{self.n_trans + 1}")
        if isinstance(src, list):
            for s in src:
                self.arc(s, t)
        else:
            self.arc(src, t)
        if isinstance(dst, list):
            for d in dst:
                self.arc(t, d)
        else:
            self.arc(t, dst)
        return t.name

    def build(self, node: Node, entry: PetriNet.Place) -> PetriNet.Place | None:
        """Add `node` starting at `entry`; return its exit place, or None if it always ends."""
        if isinstance(node, StepRef):
            t = self.transition(node.step, f"{node.step}#{self.n_trans + 1}")
            out = self.place()
            self.arc(entry, t)
            self.arc(t, out)
            return out
        if isinstance(node, Sequence):
            current: PetriNet.Place | None = entry
            for item in node.items:
                current = self.build(item, current)
                if current is None:
                    return None
            return current
        if isinstance(node, End):
            self.tau(entry, self.sink, f"{END_PREFIX}{node.id}")
            return None
        if isinstance(node, Optional_):
            return self._exclusive([node.body, Sequence(())], entry)
        if isinstance(node, Choice):
            key = node.id or f"c{len(self.choices) + 1}"
            names: list[str] = []
            out = self._exclusive([node.yes, node.no], entry, [f"choice:{key}:yes", f"choice:{key}:no"], names)
            self.choices.append((node, names[0], names[1]))
            return out
        if isinstance(node, Parallel):
            starts = [self.place() for _ in node.branches]
            self.tau(entry, starts, "and-split")
            ends = []
            for start, branch in zip(starts, node.branches, strict=True):
                end = self.build(branch, start)
                if end is None:  # the loader forbids ends inside parallel branches
                    raise ValueError("an end inside a parallel branch cannot be compiled")
                ends.append(end)
            out = self.place()
            self.tau(ends, out, "and-join")
            return out
        if isinstance(node, Loop):
            start = self.place()
            self.tau(entry, start, "loop-enter")
            # An end inside the body (a withdrawal) leaves from its own place to the final place;
            # only a body that ends on every path (a loop without exit, refused by the loader)
            # has no way back to the question.
            body_end = self.build(node.body, start)
            if body_end is None:
                raise ValueError("a loop whose body always ends has no exit and cannot be compiled")
            if node.redo is None:
                self.tau(body_end, start, "loop-back")
            else:
                redo_start = self.place()
                self.tau(body_end, redo_start, "loop-redo")
                redo_end = self.build(node.redo, redo_start)
                if redo_end is None:  # an end on some paths of redo goes to the sink like any end
                    raise ValueError("a loop whose redo steps always end never goes back and cannot be compiled")
                self.tau(redo_end, start, "loop-back")
            out = self.place()
            self.tau(body_end, out, "loop-exit")
            return out
        raise TypeError(f"unknown flow node {node!r}")

    def _exclusive(self, branches: list[Node], entry: PetriNet.Place, split_names=None,
                   names_out: list | None = None) -> PetriNet.Place | None:
        # Each branch starts behind its own silent transition, so an empty branch or a branch
        # that starts with a loop never shares the decision place with another branch's moves.
        exits = []
        for k, branch in enumerate(branches):
            start = self.place()
            name = self.tau(entry, start, split_names[k] if split_names else "xor-split")
            if names_out is not None:
                names_out.append(name)
            end = self.build(branch, start)
            if end is not None:
                exits.append(end)
        if not exits:
            return None
        out = self.place()
        for end in exits:
            self.tau(end, out, "xor-join")
        return out


def compile_flow(flow: Node, name: str = "sop") -> CompiledNet:
    """Compile a flow tree to a workflow net with one initial and one final place."""
    b = _Builder(name)
    source = b.place()
    exit_place = b.build(flow, source)
    if exit_place is not None:
        b.tau(exit_place, b.sink, f"{END_PREFIX}{COMPLETE_END}")
    im = Marking({source: 1})
    fm = Marking({b.sink: 1})
    return CompiledNet(b.net, im, fm, tuple(b.choices))


def compile_sop(sop: SOP) -> CompiledNet:
    """The Petri net of an SOP: compiled from its flow, or the net it was imported with."""
    if sop.net is not None:
        return sop.net
    return compile_flow(sop.flow, sop.header.code or "sop")
