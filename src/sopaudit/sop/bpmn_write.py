"""Write an SOP flow as BPMN 2.0 XML with diagram interchange (shapes and edges laid out), so it
opens and reads well in bpmn.io, Camunda Modeler or Signavio.

The layout follows the SOP AP flowchart: one vertical column read top to bottom; a decision
sends its other answer to the right (an answer that ends the service ends there, one that goes
on comes back into the column); parallel branches stand side by side; a loop goes back up on
the right after its question, through its redo steps. Every block is laid out in its own box
and blocks are stacked, so nothing overlaps and the same SOP always gives the same bytes.

sopaudit keeps what BPMN has no place for in attributes of its own namespace (ignored and kept
by modelling tools): the step id of each task (`sopaudit:step`), its roles (`sopaudit:roles`)
and the id of each legitimate end (`sopaudit:end`), so a re-imported file audits the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from sopaudit.sop.bpmn_read import SOPAUDIT_NS
from sopaudit.sop.model import (
    SOP,
    Choice,
    End,
    Loop,
    Node,
    Optional_,
    Parallel,
    Sequence,
    Step,
    StepRef,
)

TASK_W, TASK_H = 180, 80
GW = 50  # gateway size
EV = 36  # event size
VGAP = 40  # vertical gap between blocks
HGAP = 60  # horizontal gap between columns
LABEL_W = 150  # width of a decision's question, written left of its diamond
EVENT_LABEL_W, EVENT_LABEL_GAP = 110, 8  # an event's name, right of its circle
YES, NO = "ya", "tidak"


@dataclass
class _Shape:
    id: str
    kind: str
    name: str
    x: float
    y: float
    w: float
    h: float
    attrs: dict[str, str] = field(default_factory=dict)
    doc: str = ""
    default: str = ""  # a gateway's default flow


@dataclass
class _Flow:
    id: str
    src: str
    dst: str
    name: str
    points: list[tuple[float, float]]
    condition: str = ""


@dataclass
class _Frag:
    """A laid-out block: size, x of its column, the node a flow enters and the node it leaves."""

    w: float
    h: float
    axis: float
    entry: str | None
    exit: str | None  # None: every path through the block ends
    exit_label: str = ""
    shapes: list[_Shape] = field(default_factory=list)
    flows: list[_Flow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.entry is None

    def moved(self, dx: float, dy: float) -> _Frag:
        for s in self.shapes:
            s.x += dx
            s.y += dy
        for f in self.flows:
            f.points = [(x + dx, y + dy) for x, y in f.points]
        return self

    def flipped(self) -> _Frag:
        """The block upside down (its flow runs upwards): for steps redone before a loop goes back."""
        for s in self.shapes:
            s.y = self.h - s.y - s.h
        for f in self.flows:
            f.points = [(x, self.h - y) for x, y in f.points]
        return self

    def shape(self, sid: str) -> _Shape:
        return next(s for s in self.shapes if s.id == sid)


class _Writer:
    def __init__(self, sop: SOP):
        self.sop = sop
        self.steps = {s.id: s for s in sop.steps}
        self.counts: dict[str, int] = {}
        self.used: set[str] = set()

    def new_id(self, prefix: str) -> str:
        """`prefix` itself, then prefix_2, prefix_3 ... (prefix_1 ... when it ends with "_")."""
        while True:
            self.counts[prefix] = n = self.counts.get(prefix, 0) + 1
            candidate = prefix if n == 1 and not prefix.endswith("_") else f"{prefix.rstrip('_')}_{n}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def flow(self, src: str, dst: str, name: str, points, condition: str = "") -> _Flow:
        return _Flow(self.new_id("Flow_"), src, dst, name, [(float(x), float(y)) for x, y in points], condition)

    # --- blocks -----------------------------------------------------------------------------

    def block(self, node: Node) -> _Frag:
        if isinstance(node, StepRef):
            return self.task(self.steps[node.step])
        if isinstance(node, End):
            return self.event("endEvent", f"Event_end_{node.id}", node.name or node.id.replace("_", " "),
                              {"end": node.id})
        if isinstance(node, Sequence):
            return self.sequence([self.block(n) for n in node.items])
        if isinstance(node, Optional_):
            return self.branches("exclusiveGateway", "", [("", node.body), ("", Sequence(()))])
        if isinstance(node, Choice):
            return self.choice(node)
        if isinstance(node, Parallel):
            return self.branches("parallelGateway", "", [("", b) for b in node.branches])
        if isinstance(node, Loop):
            return self.loop(node)
        raise TypeError(node)

    def task(self, step: Step) -> _Frag:
        sid = self.new_id(f"Activity_{step.id}")
        attrs = {"step": step.id}
        if step.roles:
            attrs["roles"] = " ".join(step.roles)
        shape = _Shape(sid, "task", step.name, 0, 0, TASK_W, TASK_H, attrs, _documentation(self.sop, step))
        return _Frag(TASK_W, TASK_H, TASK_W / 2, sid, sid, shapes=[shape])

    def event(self, kind: str, prefix: str, name: str, attrs: dict | None = None) -> _Frag:
        eid = self.new_id(prefix)
        shape = _Shape(eid, kind, name, 0, 0, EV, EV, attrs or {})
        # the name stands right of the circle, clear of the flows above and below it
        width = EV + (EVENT_LABEL_GAP + EVENT_LABEL_W if name else 0)
        return _Frag(width, EV, EV / 2, eid, None if kind == "endEvent" else eid, shapes=[shape])

    def gateway(self, kind: str, name: str, attrs: dict | None = None) -> _Shape:
        return _Shape(self.new_id("Gateway_"), kind, name, 0, 0, GW, GW, attrs or {})

    def sequence(self, frags: list[_Frag]) -> _Frag:
        frags = [f for f in frags if not f.empty]
        if not frags:
            return _Frag(0, 0, 0, None, None)
        left = max(f.axis for f in frags)
        right = max(f.w - f.axis for f in frags)
        out = _Frag(left + right, 0, left, frags[0].entry, None)
        y = 0.0
        prev: _Frag | None = None
        for f in frags:
            f.moved(left - f.axis, y)
            if prev is not None:
                a, b = prev.shape(prev.exit), f.shape(f.entry)
                out.flows.append(self.flow(a.id, b.id, prev.exit_label, [(left, a.y + a.h), (left, b.y)]))
            out.shapes += f.shapes
            out.flows += f.flows
            y += f.h + VGAP
            prev = f
        out.h = y - VGAP
        out.exit, out.exit_label = prev.exit, prev.exit_label
        return out

    def choice(self, node: Choice) -> _Frag:
        attrs = {"choice": node.id} if node.id else {}
        cond = ""
        if node.condition is not None:
            c = node.condition
            cond = f"{c.attribute} {'not in' if c.negate else 'in'} [{', '.join(c.values)}]"
        return self.branches("exclusiveGateway", node.question, [(YES, node.yes), (NO, node.no)], attrs, cond)

    def branches(self, kind: str, question: str, arms: list[tuple[str, Node]], attrs: dict | None = None,
                 condition: str = "") -> _Frag:
        """A split gateway, its branches side by side (the one that goes on below it, the others
        to the right) and, when two or more branches go on, the join below them."""
        from sopaudit.sop.model import always_ends

        frags = [(label, self.block(n), always_ends(n)) for label, n in arms]
        # The column goes on with the first branch that does not end (the yes answer when both go on).
        main = next((i for i, (_, _, ends) in enumerate(frags) if not ends), 0)
        order = [main] + [i for i in range(len(frags)) if i != main]
        split = self.gateway(kind, question, attrs)
        going_on = [i for i, (_, _, ends) in enumerate(frags) if not ends]
        join = self.gateway("parallelGateway" if kind == "parallelGateway" else "exclusiveGateway", "") \
            if len(going_on) >= 2 else None
        left = GW / 2 + (LABEL_W + 10 if question else 0)
        m_label, m_frag, _ = frags[main]
        axis = max(left, m_frag.axis if not m_frag.empty else 0)
        out = _Frag(0, 0, axis, split.id, None)
        split.x, split.y = axis - GW / 2, 0
        out.shapes.append(split)
        top = GW + VGAP
        x_right = axis + max(GW / 2, m_frag.w - m_frag.axis if not m_frag.empty else 0)
        columns: dict[int, float] = {}
        for i in order:
            _, f, _ = frags[i]
            if i == main:
                columns[i] = axis
                if not f.empty:
                    f.moved(axis - f.axis, top)
            else:
                cx = x_right + HGAP / (2 if f.empty else 1) + (0 if f.empty else f.axis)
                columns[i] = cx
                if not f.empty:
                    f.moved(cx - f.axis, top)
                x_right = cx + (0 if f.empty else f.w - f.axis)
        inner_h = max([f.h for _, f, _ in frags if not f.empty] + [0])
        join_y = top + inner_h + VGAP
        cy = GW / 2
        for i in order:
            label, f, ends = frags[i]
            cx = columns[i]
            cond = condition if label == YES else ""
            start = [(axis, GW)] if i == main else [(axis + GW / 2, cy), (cx, cy)]
            if f.empty:
                if join is not None:
                    end = [(axis, join_y)] if i == main else [(cx, join_y + GW / 2), (axis + GW / 2, join_y + GW / 2)]
                    out.flows.append(self.flow(split.id, join.id, label, start + end, cond))
                else:  # the only way on leaves the split itself
                    out.exit, out.exit_label = split.id, label
                continue
            entry = f.shape(f.entry)
            out.flows.append(self.flow(split.id, entry.id, label, start + [(cx, entry.y)], cond))
            out.shapes += f.shapes
            out.flows += f.flows
            if ends:
                continue
            ex = f.shape(f.exit)
            if join is not None:
                pts = [(cx, ex.y + ex.h)] + ([(cx, join_y)] if i == main else
                                              [(cx, join_y + GW / 2), (axis + GW / 2, join_y + GW / 2)])
                out.flows.append(self.flow(ex.id, join.id, f.exit_label, pts))
            else:
                out.exit, out.exit_label = f.exit, f.exit_label
        if join is not None:
            join.x, join.y = axis - GW / 2, join_y
            out.shapes.append(join)
            out.exit, out.exit_label = join.id, ""
            out.h = join_y + GW
        else:
            out.h = top + inner_h if inner_h else GW
        out.w = x_right + (HGAP / 2 if frags[order[-1]][1].empty and len(order) > 1 else 0)
        out.w = max(out.w, axis + GW / 2)
        if condition:
            # The "tidak" flow is the default of a decision with a condition; when it is the way
            # out of the block, the parent draws it later (see _finish_defaults).
            split.default = next((f.id for f in out.flows if f.src == split.id and f.name == NO), f"next:{NO}")
        return out

    def loop(self, node: Loop) -> _Frag:
        back = self.gateway("exclusiveGateway", "")
        body = self.block(node.body)
        ask = self.gateway("exclusiveGateway", node.question, {"loop": node.id} if node.id else {})
        redo = self.block(node.redo) if node.redo is not None else _Frag(0, 0, 0, None, None)
        left = max(GW / 2 + LABEL_W + 10, body.axis if not body.empty else 0)
        axis = left
        leave, again = (YES, NO) if node.exit == "yes" else (NO, YES)
        out = _Frag(0, 0, axis, back.id, ask.id, exit_label=leave)
        back.x, back.y = axis - GW / 2, 0
        top = GW + VGAP
        middle = max(body.h if not body.empty else 0, redo.h if not redo.empty else 0)
        ask_y = top + middle + VGAP if middle else top
        ask.x, ask.y = axis - GW / 2, ask_y
        out.shapes += [back, ask]
        x_right = axis + max(GW / 2, body.w - body.axis if not body.empty else 0)
        if body.empty:
            out.flows.append(self.flow(back.id, ask.id, "", [(axis, GW), (axis, ask_y)]))
        else:
            body.moved(axis - body.axis, top)
            a, b = body.shape(body.entry), body.shape(body.exit)
            out.flows.append(self.flow(back.id, a.id, "", [(axis, GW), (axis, a.y)]))
            out.flows.append(self.flow(b.id, ask.id, body.exit_label, [(axis, b.y + b.h), (axis, ask_y)]))
            out.shapes += body.shapes
            out.flows += body.flows
        ask_cy, back_cy = ask_y + GW / 2, GW / 2
        if redo.empty:
            rx = x_right + HGAP / 2
            out.flows.append(self.flow(ask.id, back.id, again, [(axis + GW / 2, ask_cy), (rx, ask_cy), (rx, back_cy),
                                                            (axis + GW / 2, back_cy)]))
            out.w = rx + HGAP / 2
        else:
            rx = x_right + HGAP + redo.axis
            redo.flipped()
            mid = (back_cy + ask_cy) / 2
            redo.moved(rx - redo.axis, mid - redo.h / 2)
            first, last = redo.shape(redo.entry), redo.shape(redo.exit)
            out.flows.append(self.flow(ask.id, first.id, again, [(axis + GW / 2, ask_cy), (rx, ask_cy),
                                                             (rx, first.y + first.h)]))
            out.flows.append(self.flow(last.id, back.id, redo.exit_label, [(rx, last.y), (rx, back_cy),
                                                                          (axis + GW / 2, back_cy)]))
            out.shapes += redo.shapes
            out.flows += redo.flows
            out.w = rx + redo.w - redo.axis
        out.h = ask_y + GW
        return out

    # --- document ---------------------------------------------------------------------------

    def document(self) -> str:
        start = self.event("startEvent", "StartEvent", "Mulai")
        flow = self.block(self.sop.flow if self.sop.flow is not None else Sequence(()))
        parts = [start, flow]
        if flow.empty or flow.exit is not None:
            parts.append(self.event("endEvent", "Event_end_complete", "Selesai", {"end": "complete"}))
        whole = self.sequence(parts)
        _finish_defaults(whole)
        whole.moved(40, 40)
        return _xml(self.sop, whole)


def _finish_defaults(frag: _Frag) -> None:
    """A decision whose "tidak" answer goes straight on: its default is the flow that leaves it."""
    for s in frag.shapes:
        if s.default == f"next:{NO}":
            s.default = next((f.id for f in frag.flows if f.src == s.id and f.name == NO), "")


def _documentation(sop: SOP, step: Step) -> str:
    roles = {r.id: r.name for r in sop.roles}
    lines = []
    if step.roles:
        lines.append("Pelaksana: " + ", ".join(roles.get(r, r) for r in step.roles))
    if step.inputs:
        lines.append("Kelengkapan: " + "; ".join(step.inputs))
    t = step.time
    if t.duration or t.wait:
        parts = [f"{t.duration}" if t.duration else "", f"tunggu {t.wait}" if t.wait else ""]
        lines.append("Waktu: " + ", ".join(p for p in parts if p) + (" (inferred)" if t.inferred else ""))
    if step.output:
        lines.append("Output: " + step.output)
    if step.notes:
        lines.append("Keterangan: " + step.notes)
    if step.aliases:
        lines.append("Alias: " + ", ".join(step.aliases))
    return "\n".join(lines)


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _label_bounds(shape: _Shape) -> tuple[float, float, float, float] | None:
    if not shape.name:
        return None
    if shape.kind.endswith("Gateway"):
        return shape.x - 10 - LABEL_W, shape.y - 4, LABEL_W, 58
    if shape.kind.endswith("Event"):
        return shape.x + shape.w + EVENT_LABEL_GAP, shape.y + 4, EVENT_LABEL_W, 28
    return None


def _flow_label_bounds(f: _Flow) -> tuple[float, float, float, float]:
    (x0, y0), (_x1, y1) = f.points[0], f.points[1]
    if abs(y1 - y0) < 1e-9:  # horizontal first segment: above it, past the diamond's corner
        return x0 + 6, y0 - 18, 34, 14
    return x0 + 6, y0 + 2, 34, 14


def _xml(sop: SOP, frag: _Frag) -> str:
    from sopaudit import __version__

    h = sop.header
    pid = "Process_" + "".join(c if c.isalnum() or c in "_-." else "_" for c in (h.code or "sop"))
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for f in frag.flows:
        outgoing.setdefault(f.src, []).append(f.id)
        incoming.setdefault(f.dst, []).append(f.id)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
           'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
           'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xmlns:sopaudit="{SOPAUDIT_NS}" id="Definitions_1" '
           'targetNamespace="http://bpmn.io/schema/bpmn" '
           f'exporter="sopaudit" exporterVersion="{__version__}">']
    out.append(f'  <bpmn:process id={quoteattr(pid)} name={quoteattr(h.title)} isExecutable="false">')
    doc = [f"{h.code} {h.title}".strip()]
    if h.legal_basis:
        doc.append("Dasar hukum: " + "; ".join(h.legal_basis))
    out.append(f"    <bpmn:documentation>{escape(chr(10).join(doc))}</bpmn:documentation>")
    for s in frag.shapes:
        attrs = "".join(f" sopaudit:{k}={quoteattr(v)}" for k, v in sorted(s.attrs.items()))
        default = f" default={quoteattr(s.default)}" if s.default else ""
        name = f" name={quoteattr(s.name)}" if s.name else ""
        out.append(f"    <bpmn:{s.kind} id={quoteattr(s.id)}{name}{default}{attrs}>")
        if s.doc:
            out.append(f"      <bpmn:documentation>{escape(s.doc)}</bpmn:documentation>")
        out += [f"      <bpmn:incoming>{i}</bpmn:incoming>" for i in incoming.get(s.id, [])]
        out += [f"      <bpmn:outgoing>{o}</bpmn:outgoing>" for o in outgoing.get(s.id, [])]
        out.append(f"    </bpmn:{s.kind}>")
    for f in frag.flows:
        name = f" name={quoteattr(f.name)}" if f.name else ""
        head = f"    <bpmn:sequenceFlow id={quoteattr(f.id)}{name} sourceRef={quoteattr(f.src)} targetRef={quoteattr(f.dst)}"
        if f.condition:
            out.append(head + ">")
            out.append(f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(f.condition)}'
                       "</bpmn:conditionExpression>")
            out.append("    </bpmn:sequenceFlow>")
        else:
            out.append(head + " />")
    out.append("  </bpmn:process>")
    out.append('  <bpmndi:BPMNDiagram id="BPMNDiagram_1">')
    out.append(f'    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement={quoteattr(pid)}>')
    for s in frag.shapes:
        marker = ' isMarkerVisible="true"' if s.kind == "exclusiveGateway" else ""
        out.append(f'      <bpmndi:BPMNShape id="{s.id}_di" bpmnElement="{s.id}"{marker}>')
        out.append(f'        <dc:Bounds x="{_num(s.x)}" y="{_num(s.y)}" width="{_num(s.w)}" height="{_num(s.h)}" />')
        lb = _label_bounds(s)
        if lb:
            out.append('        <bpmndi:BPMNLabel>')
            out.append(f'          <dc:Bounds x="{_num(lb[0])}" y="{_num(lb[1])}" width="{_num(lb[2])}" height="{_num(lb[3])}" />')
            out.append('        </bpmndi:BPMNLabel>')
        out.append("      </bpmndi:BPMNShape>")
    for f in frag.flows:
        out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
        out += [f'        <di:waypoint x="{_num(x)}" y="{_num(y)}" />' for x, y in f.points]
        if f.name:
            lb = _flow_label_bounds(f)
            out.append('        <bpmndi:BPMNLabel>')
            out.append(f'          <dc:Bounds x="{_num(lb[0])}" y="{_num(lb[1])}" width="{_num(lb[2])}" height="{_num(lb[3])}" />')
            out.append('        </bpmndi:BPMNLabel>')
        out.append("      </bpmndi:BPMNEdge>")
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>", ""]
    return "\n".join(out)


def write_bpmn(sop: SOP) -> str:
    """BPMN 2.0 XML (with diagram layout) of an SOP written as a flow."""
    if sop.flow is None:
        raise ValueError("only an SOP written as a flow (YAML) can be exported to BPMN")
    return _Writer(sop).document()
