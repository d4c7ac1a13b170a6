"""Petri nets as plain objects: places, transitions (name, label; no label = silent), weighted
arcs and markings, with the attribute names pm4py uses (`net.places`, `t.label`, `t.in_arcs`,
`arc.source`, `arc.weight`, `place.name`, ...).

The SOP compiler, the PNML and BPMN readers and the aligner build and walk these, so an audit
never imports pm4py (a second or more of start-up). Code that walks a net reads only those
attributes, so a pm4py net handed in by a user (e.g. `CompiledNet(*pm4py.read_pnml(path))`) works
the same. `to_pm4py` is the one way to hand our nets to pm4py's own algorithms.
"""

from __future__ import annotations

from collections import Counter


class Place:
    """A place; equal only to itself (two places may share a name), like pm4py's."""

    __slots__ = ("name", "in_arcs", "out_arcs", "properties")

    def __init__(self, name: str):
        self.name = name
        self.in_arcs: set[Arc] = set()
        self.out_arcs: set[Arc] = set()
        self.properties: dict = {}

    def __repr__(self) -> str:
        return str(self.name)


class Transition:
    """A transition: `name` is unique in its net, `label` the step it records (None: silent)."""

    __slots__ = ("name", "label", "in_arcs", "out_arcs", "properties")

    def __init__(self, name: str, label: str | None = None):
        self.name = name
        self.label = label
        self.in_arcs: set[Arc] = set()
        self.out_arcs: set[Arc] = set()
        self.properties: dict = {}

    def __repr__(self) -> str:
        return f"({self.name}, None)" if self.label is None else f"({self.name}, '{self.label}')"


class Arc:
    """An arc from a place to a transition or back, with its weight (tokens moved)."""

    __slots__ = ("source", "target", "weight", "properties")

    def __init__(self, source: Place | Transition, target: Place | Transition, weight: int = 1):
        if isinstance(source, Place) == isinstance(target, Place):
            raise ValueError(f"an arc joins a place and a transition, not {source!r} and {target!r}")
        self.source = source
        self.target = target
        self.weight = weight
        self.properties: dict = {}

    def __repr__(self) -> str:
        return f"{self.source!r}->{self.target!r}"


class PetriNet:
    """A place/transition net: sets of places, transitions and arcs."""

    Place = Place
    Transition = Transition
    Arc = Arc

    def __init__(self, name: str = ""):
        self.name = name
        self.places: set[Place] = set()
        self.transitions: set[Transition] = set()
        self.arcs: set[Arc] = set()
        self.properties: dict = {}

    def add_arc(self, source: Place | Transition, target: Place | Transition, weight: int = 1) -> Arc:
        """Join a place and a transition (either way round) with an arc of `weight` tokens."""
        arc = Arc(source, target, weight)
        self.arcs.add(arc)
        source.out_arcs.add(arc)
        target.in_arcs.add(arc)
        return arc

    def __repr__(self) -> str:
        return f"PetriNet({self.name!r}: {len(self.places)} places, {len(self.transitions)} transitions)"


class Marking(Counter):
    """Tokens per place (a Counter keyed by place); hashable, so it can key a dict or set."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset((p, k) for p, k in self.items() if k))

    def __repr__(self) -> str:
        return str([f"{p.name}:{k}" for p, k in sorted(self.items(), key=lambda pk: str(pk[0].name))])


def to_pm4py(net, initial, final):
    """The same net as pm4py objects `(PetriNet, initial Marking, final Marking)`, for pm4py's own
    algorithms (precision, token replay, playout, export). Reads only the attributes above, so it
    takes a pm4py net as well. Imports pm4py (slow): call it only where pm4py is needed."""
    from pm4py.objects.petri_net.obj import Marking as PmMarking
    from pm4py.objects.petri_net.obj import PetriNet as PmNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    out = PmNet(net.name)
    nodes = {}
    for p in net.places:
        nodes[p] = PmNet.Place(p.name)
        out.places.add(nodes[p])
    for t in net.transitions:
        nodes[t] = PmNet.Transition(t.name, t.label)
        out.transitions.add(nodes[t])
    for a in net.arcs:
        add_arc_from_to(nodes[a.source], nodes[a.target], out, weight=a.weight)
    return (out, PmMarking({nodes[p]: k for p, k in initial.items() if k}),
            PmMarking({nodes[p]: k for p, k in final.items() if k}))
