"""The SOP as plain frozen data: header, roles, steps, flow, service standard and rules.

The flow mirrors how an SOP AP table and flowchart are written (Permenpan-RB 35/2012): steps in
sequence, optional steps, yes/no decisions, parallel blocks, loops back and legitimate ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Duration:
    """A time standard: an amount in a unit (minutes, hours or working days)."""

    value: float
    unit: str  # "minutes" | "hours" | "working_days" | "days"

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class TimeStandard:
    """Mutu baku waktu of a step: how long the step may take and how long the wait before it."""

    duration: Duration | None = None
    wait: Duration | None = None
    inferred: bool = False  # True when no SOP text gave the figure and it was estimated


@dataclass(frozen=True)
class Role:
    id: str
    name: str


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    roles: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    time: TimeStandard = field(default_factory=TimeStandard)
    inputs: tuple[str, ...] = ()
    output: str = ""
    notes: str = ""


# --- flow nodes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRef:
    """One execution of a step at this point of the flow."""

    step: str


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Optional_:
    """A block the SOP allows to be left out."""

    body: Node


@dataclass(frozen=True)
class Condition:
    """A case-attribute condition on a decision, e.g. service_type in [lost, damaged]."""

    attribute: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, value: object) -> bool:
        inside = str(value) in self.values
        return not inside if self.negate else inside


@dataclass(frozen=True)
class Choice:
    """A yes/no decision (the diamond of an SOP flowchart)."""

    question: str
    yes: Node
    no: Node
    condition: Condition | None = None  # when set: "yes" must be taken exactly when it holds
    id: str = ""


@dataclass(frozen=True)
class Parallel:
    """Branches whose steps may interleave in any order."""

    branches: tuple[Node, ...]


@dataclass(frozen=True)
class Loop:
    """Body done at least once; after each time, the question decides whether to go back.

    The loop is left only along the `exit` answer ("yes" or "no"); the other answer goes through
    `redo` (e.g. an official report before a reprint) back to the body. `redo` may end the
    service on some of its paths (a rejected application resubmitted or ended as rejected), so
    a case that took the other answer can never leave the loop as if it had taken `exit`.
    """

    body: Node
    redo: Node | None = None
    question: str = ""
    id: str = ""
    exit: str = "yes"

    @property
    def again(self) -> str:
        """The answer that goes back (through `redo`)."""
        return "no" if self.exit == "yes" else "yes"


@dataclass(frozen=True)
class End:
    """A legitimate end of the service (rejection, withdrawal, deferral): the case stops here."""

    id: str
    name: str = ""


Node = StepRef | Sequence | Optional_ | Choice | Parallel | Loop | End


@dataclass(frozen=True)
class ServiceStandard:
    """End-to-end limit in working days between two steps, optionally per service type."""

    limit: Duration
    from_step: str
    to_step: str
    attribute: str = ""  # case attribute that selects a per-type limit, e.g. service_type
    per_value: tuple[tuple[str, Duration], ...] = ()
    pauses: tuple[tuple[str, str], ...] = ()  # (from_step, to_step) spans excluded from the clock
    start_at: str = "end"  # the clock starts at the "start" or the "end" of from_step


@dataclass(frozen=True)
class Rule:
    """A rule the flow does not show: separation of duties or a declarative constraint."""

    kind: str  # separation_of_duties | precedence | response | existence | absence | ...
    steps: tuple[str, ...]
    id: str = ""
    description: str = ""
    count: int | None = None


@dataclass(frozen=True)
class Header:
    code: str
    title: str
    unit: str = ""
    service: str = ""
    version: str = ""
    issued: dt.date | None = None
    effective: dt.date | None = None
    approver: str = ""
    legal_basis: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class SOP:
    """A validated SOP reference model."""

    header: Header
    roles: tuple[Role, ...]
    steps: tuple[Step, ...]
    flow: Node | None
    service_standards: tuple[ServiceStandard, ...] = ()
    rules: tuple[Rule, ...] = ()
    source: str = ""  # file the SOP was loaded from
    sha256: str = ""
    # For models imported from PNML/BPMN there is no flow tree: the Petri net itself
    # (a sopaudit.sop.compile.CompiledNet) is the reference.
    net: Any = None

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps)

    def __repr__(self) -> str:
        kind = "flow" if self.flow is not None else "net"
        return (f"<SOP {self.header.code} '{self.header.title}': {len(self.steps)} steps, {len(self.roles)} roles, "
                f"{kind}{f', {len(self.service_standards)} service standard(s)' if self.service_standards else ''}>")

    def alias_map(self) -> dict[str, str]:
        """Recorded label (name, id or alias) -> step id."""
        out: dict[str, str] = {}
        for s in self.steps:
            for label in (s.id, s.name, *s.aliases):
                out.setdefault(label, s.id)
        return out


def walk(node: Node):
    """Yield every node of a flow, depth first, parents before children."""
    yield node
    if isinstance(node, Sequence):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Optional_):
        yield from walk(node.body)
    elif isinstance(node, Choice):
        yield from walk(node.yes)
        yield from walk(node.no)
    elif isinstance(node, Parallel):
        for b in node.branches:
            yield from walk(b)
    elif isinstance(node, Loop):
        yield from walk(node.body)
        if node.redo is not None:
            yield from walk(node.redo)


def always_ends(node: Node) -> bool:
    """True if every path through `node` reaches a legitimate end (nothing after it can run)."""
    if isinstance(node, End):
        return True
    if isinstance(node, Sequence):
        return any(always_ends(n) for n in node.items)
    if isinstance(node, Choice):
        return always_ends(node.yes) and always_ends(node.no)
    if isinstance(node, Loop):  # the exit answer never ends; only the body can end every path
        return always_ends(node.body)
    return False  # steps, optional blocks (may be skipped) and parallel blocks (no ends inside)


def may_end(node: Node) -> bool:
    """True if some path through `node` reaches a legitimate end."""
    return any(isinstance(n, End) for n in walk(node))


def nullable(node: Node) -> bool:
    """True if a path through `node` does no step at all and does not end."""
    if isinstance(node, StepRef | End):
        return False
    if isinstance(node, Sequence):
        return all(nullable(n) for n in node.items)
    if isinstance(node, Optional_):
        return True
    if isinstance(node, Choice):
        return nullable(node.yes) or nullable(node.no)
    if isinstance(node, Parallel):
        return all(nullable(b) for b in node.branches)
    if isinstance(node, Loop):
        return nullable(node.body)
    raise TypeError(node)
