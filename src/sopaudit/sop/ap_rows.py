"""The SOP AP table (Permenpan-RB 35/2012) as rows with jumps, the form both the exporter writes
and the importer reads: a start row, one row per step, a diamond row per decision with where
"ya" and "tidak" lead, an end row per legitimate end and a final end row.

Jumps are row numbers. A step row leads to the next row unless its note says otherwise
("lanjut ke No. 9", "kembali ke No. 3"); a decision names the row of each answer, or "next" for
the following row, or an end. Optional steps are marked "opsional" (the first row of an optional
block) or "opsional (lanjutan)" (the rows that continue it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sopaudit.core.errors import SopAuditError
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
    always_ends,
    walk,
)

NEXT = "next"  # a jump to the following row


@dataclass
class ApRow:
    """One row of an SOP AP table."""

    kind: str  # "start" | "step" | "decision" | "end"
    text: str = ""  # Kegiatan: the step's name, the question, or the end's name
    step: str = ""  # step id (step rows)
    end: str = ""  # end id (end rows; "" for the normal end of the service)
    yes: object = NEXT  # decision rows: a row label, NEXT, or an End
    no: object = NEXT
    goto: object = None  # step rows: a row label to jump to after the step
    optional: str = ""  # "" | "start" | "more": the row starts or continues an optional block
    label: int = field(default=0)  # identity while linearising; the row number after
    line: int = 0  # where the row stood in the imported file (for messages)


class ApExportError(SopAuditError):
    """The SOP's flow cannot be written as an SOP AP table (e.g. a parallel block)."""


def linearise(sop: SOP) -> list[ApRow]:
    """The rows of the SOP's flow, numbered from 1 (the start row), jumps as row numbers."""
    if sop.flow is None:
        raise ApExportError(f"{sop.source or sop.header.code}: the SOP has no flow table (it was read from a "
                            "Petri net); only SOPs written as a flow can be exported as an SOP AP table")
    w = _Writer(sop)
    w.rows.append(ApRow("start", "Mulai"))
    after = w.emit(sop.flow)
    final = ApRow("end", "Selesai")
    w.rows.append(final)
    w.resolve(after, final)
    return w.number()


class _Writer:
    def __init__(self, sop: SOP):
        self.sop = sop
        self.rows: list[ApRow] = []
        self.count = 0

    def new(self, **kw) -> ApRow:
        self.count += 1
        row = ApRow(label=self.count, **kw)
        self.rows.append(row)
        return row

    def resolve(self, waiting: list[tuple[ApRow, str]], target: ApRow) -> None:
        if not target.label:  # the start and final rows are made without a label
            self.count += 1
            target.label = self.count
        for row, attr in waiting:
            setattr(row, attr, target.label)

    def emit(self, node: Node) -> list[tuple[ApRow, str]]:
        """Write `node`; returns the (row, attribute) jumps that lead to the row after it."""
        if isinstance(node, Sequence):
            waiting: list = []
            for item in node.items:
                first = len(self.rows)
                inner = self.emit(item)
                if waiting and len(self.rows) > first:
                    self.resolve(waiting, self.rows[first])
                    waiting = []
                waiting += inner
            return waiting
        if isinstance(node, StepRef):
            self.new(kind="step", text=self.sop.step(node.step).name, step=node.step)
            return []
        if isinstance(node, End):
            self.new(kind="end", text=node.name or node.id, end=node.id)
            return []
        if isinstance(node, Optional_):
            if any(isinstance(n, Optional_) for n in walk(node.body)):
                raise ApExportError(f"{self.sop.source}: an optional block inside an optional block cannot be "
                                    "written as an SOP AP table (its rows would read as one block); make one of "
                                    "them a choice with a question")
            first = len(self.rows)
            waiting = self.emit(node.body)
            steps = [r for r in self.rows[first:] if r.kind == "step"]
            if len(steps) != len(self.rows) - first:
                raise ApExportError(f"{self.sop.source}: an optional block holding decisions or ends cannot be written "
                                    "as an SOP AP table; make it a choice with a question")
            for i, r in enumerate(steps):
                r.optional = "start" if i == 0 else "more"
            return waiting
        if isinstance(node, Parallel):
            raise ApExportError(f"{self.sop.source}: an SOP AP table has no parallel block; write the parallel "
                                "steps in the order the office follows, or keep this SOP as YAML or BPMN")
        if isinstance(node, Choice):
            return self._choice(node)
        if isinstance(node, Loop):
            return self._loop(node)
        raise TypeError(node)

    def _choice(self, node: Choice) -> list:
        d = self.new(kind="decision", text=node.question)
        branches = [("yes", node.yes), ("no", node.no)]
        empty = [(a, b) for a, b in branches if isinstance(b, Sequence) and not b.items]
        full = [(a, b) for a, b in branches if (a, b) not in empty]
        if len(full) == 1:  # one answer does something, the other goes on after the choice
            (answer, branch), (other, _) = full[0], empty[0]
            setattr(d, answer, NEXT)
            return self.emit(branch) + [(d, other)]
        # both answers do something: the branch that ends first, so the other falls through; when
        # both go on, the first must end in a step, whose "lanjut ke" jumps over the second
        full.sort(key=lambda ab: not always_ends(ab[1]))
        orders = [full, full[::-1]] if not always_ends(full[0][1]) else [full]
        start, count = len(self.rows), self.count
        for order in orders:
            (a1, b1), (a2, b2) = order
            del self.rows[start:]
            self.count = count
            setattr(d, a1, NEXT)
            waiting1 = self.emit(b1)
            if always_ends(b1):
                break
            last = self.rows[-1]
            if last.kind == "step" and all(w == (last, "goto") for w in waiting1):
                waiting1 = [(last, "goto")]
                break
        else:
            raise ApExportError(f"{self.sop.source}: the choice '{node.question}' has two branches that both go "
                                "on and neither ends in a plain step; an SOP AP table cannot show where they "
                                "rejoin (end one branch with a step)")
        first2 = len(self.rows)
        waiting2 = self.emit(b2)
        setattr(d, a2, self.rows[first2].label)
        return waiting1 + waiting2

    def _loop(self, node: Loop) -> list:
        first = len(self.rows)
        waiting = self.emit(node.body)
        head = self.rows[first]
        d = self.new(kind="decision", text=node.question)
        self.resolve(waiting, d)
        setattr(d, node.again, NEXT)
        start = len(self.rows)
        redo_waiting = self.emit(node.redo) if node.redo is not None else []
        if len(self.rows) == start:  # no redo rows: the answer that goes back leads to the body's start
            setattr(d, node.again, head.label)
            return [(d, node.exit)]
        last = self.rows[-1]
        if last.kind == "step" and last.goto is None:  # the last redo step goes back
            redo_waiting.append((last, "goto"))
        if not redo_waiting:
            raise ApExportError(f"{self.sop.source}: the redo steps of the loop '{node.question}' end the service "
                                "on every path, so the loop never goes back; write a choice instead")
        # every path of the redo steps that does not end goes back to the start of the body
        for row, attr in redo_waiting:
            setattr(row, attr, head.label)
        return [(d, node.exit)]

    def number(self) -> list[ApRow]:
        by_label = {}
        for i, r in enumerate(self.rows, start=1):
            if r.label:
                by_label[r.label] = i
        for i, r in enumerate(self.rows, start=1):
            for attr in ("yes", "no", "goto"):
                v = getattr(r, attr)
                if isinstance(v, int):
                    setattr(r, attr, by_label[v])
            r.label = i
        # a jump to the row right after is written as "next"
        for r in self.rows:
            for attr in ("yes", "no"):
                if getattr(r, attr) == r.label + 1:
                    setattr(r, attr, NEXT)
            if r.goto == r.label + 1:
                r.goto = None
        return self.rows
