"""Draw an SOP as an SOP AP flowchart (Permenpan-RB 35/2012): terminators, process boxes with
the step and its role, decision diamonds answered ya/tidak, arrows and loop-back arrows, read top
to bottom. Laid out and rendered by `sopaudit.drawing` (SVG text, PNG via matplotlib), so no
system Graphviz is needed and the same SOP always gives the same bytes. The chart's own words
(start, end, yes/no, tooltips) are in Bahasa Indonesia (`lang="id"`, the SOP AP form) or English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sopaudit import drawing as dr
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
    walk,
)

LANGS = ("id", "en")
# The flowchart's own words; everything else on it comes from the SOP file.
TEXT = {
    "id": {"yes": "ya", "no": "tidak", "start": "Mulai", "end": "Selesai", "stop": "Selesai: {name}",
           "done": "{name} dilakukan?", "this_step": "Langkah ini", "output": "Output: {v}", "time": "Waktu: {v}",
           "fork": "paralel: cabang dalam urutan apa pun", "join": "paralel: semua cabang selesai",
           "minutes": "menit", "hours": "jam", "working_days": "hari kerja", "days": "hari"},
    "en": {"yes": "yes", "no": "no", "start": "Start", "end": "End", "stop": "End: {name}",
           "done": "{name} done?", "this_step": "This step", "output": "Output: {v}", "time": "Time: {v}",
           "fork": "parallel: branches in any order", "join": "parallel: all branches done",
           "minutes": "minutes", "hours": "hours", "working_days": "working days", "days": "days"},
}


def _text(lang: str) -> dict[str, str]:
    if lang not in TEXT:
        raise ValueError(f"unknown flowchart language '{lang}'; use one of {', '.join(LANGS)}")
    return TEXT[lang]
STEP_FILL = "#ffffff"
DECISION_FILL = "#fff4cc"
START_FILL = "#d9ead3"
END_FILL = "#d9ead3"
STOP_FILL = "#f4cccc"  # a legitimate end other than the normal one (rejection, withdrawal)
JOIN_FILL = "#eeeeee"
STYLE = dr.Style(max_label_width=190.0, node_gap=36.0, layer_gap=26.0)


@dataclass
class _Block:
    entry: str | None  # first node (None: the block does nothing)
    exits: list[tuple[str, str]]  # (node, label of the arrow leaving it) of paths that go on


@dataclass
class _Chart:
    sop: SOP
    nodes: list[dr.Node] = field(default_factory=list)
    edges: list[dr.Edge] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    n: int = 0
    tx: dict[str, str] = field(default_factory=lambda: TEXT["id"])

    def node(self, prefix: str, label: str, shape: str, fill: str, tooltip: str = "", rank: str = "") -> str:
        self.n += 1
        nid = f"{prefix}{self.n}"
        self.nodes.append(dr.Node(nid, label, shape=shape, fill=fill, tooltip=tooltip, rank=rank,
                                  order=float(self.n)))
        return nid

    def duration(self, d) -> str:
        return f"{d.value:g} {self.tx.get(d.unit, d.unit.replace('_', ' '))}"

    def connect(self, exits: list[tuple[str, str]], target: str) -> None:
        for src, label in exits:
            self.edges.append(dr.Edge(src, target, label))

    def block(self, node: Node) -> _Block:
        if isinstance(node, StepRef):
            step = self.sop.step(node.step)
            roles = {r.id: r.name for r in self.sop.roles}
            who = ", ".join(roles.get(r, r) for r in step.roles)
            label = f"{self.numbers[step.id]}. {step.name}" + (f"\n[{who}]" if who else "")
            tip = "; ".join(p for p in (self.tx["output"].format(v=step.output) if step.output else "",
                                        self.tx["time"].format(v=self.duration(step.time.duration))
                                        if step.time.duration else "")
                            if p)
            nid = self.node("s", label, "box", STEP_FILL, tip)
            return _Block(nid, [(nid, "")])
        if isinstance(node, End):
            nid = self.node("e", self.tx["stop"].format(name=node.name or node.id.replace("_", " ")), "terminator",
                            STOP_FILL)
            return _Block(nid, [])
        if isinstance(node, Sequence):
            entry, exits = None, None
            for item in node.items:
                b = self.block(item)
                if b.entry is None:
                    continue
                if exits is None:
                    entry = b.entry
                else:
                    self.connect(exits, b.entry)
                exits = b.exits
            return _Block(entry, exits if exits is not None else [])
        if isinstance(node, Choice):
            return self.decision(node.question, [(self.tx["yes"], node.yes), (self.tx["no"], node.no)])
        if isinstance(node, Optional_):
            first = next((n.step for n in walk(node.body) if isinstance(n, StepRef)), "")
            name = self.sop.step(first).name if first else self.tx["this_step"]
            return self.decision(self.tx["done"].format(name=name),
                                 [(self.tx["yes"], node.body), (self.tx["no"], Sequence(()))])
        if isinstance(node, Parallel):
            fork = self.node("f", "+", "circle", JOIN_FILL, self.tx["fork"])
            join_exits: list[tuple[str, str]] = []
            pending = []
            for branch in node.branches:
                b = self.block(branch)
                if b.entry is None:
                    pending.append((fork, ""))
                else:
                    self.connect([(fork, "")], b.entry)
                    pending += b.exits
            join = self.node("j", "+", "circle", JOIN_FILL, self.tx["join"])
            self.connect(pending, join)
            join_exits.append((join, ""))
            return _Block(fork, join_exits)
        if isinstance(node, Loop):
            leave, again = (self.tx["yes"], self.tx["no"]) if node.exit == "yes" else (self.tx["no"], self.tx["yes"])
            body = self.block(node.body)
            ask = self.node("d", node.question, "diamond", DECISION_FILL)
            if body.entry is None:
                top = ask
            else:
                top = body.entry
                self.connect(body.exits, ask)
            redo = self.block(node.redo) if node.redo is not None else _Block(None, [])
            if redo.entry is not None:  # the redo steps, then back (unless they end the service)
                self.connect([(ask, again)], redo.entry)
                self.connect(redo.exits, top)
            else:
                self.connect([(ask, again)], top)
            return _Block(top, [(ask, leave)])
        raise TypeError(node)

    def decision(self, question: str, arms: list[tuple[str, Node]]) -> _Block:
        ask = self.node("d", question, "diamond", DECISION_FILL)
        exits: list[tuple[str, str]] = []
        for label, arm in arms:
            b = self.block(arm)
            if b.entry is None:
                exits.append((ask, label))
            else:
                self.connect([(ask, label)], b.entry)
                exits += b.exits
        return _Block(ask, exits)


def step_numbers(sop: SOP) -> dict[str, int]:
    """The SOP AP number ("No") of each step: its row in the file's step list, as in the table."""
    return {s.id: i for i, s in enumerate(sop.steps, start=1)}


def flowchart(sop: SOP, lang: str = "id") -> tuple[list[dr.Node], list[dr.Edge]]:
    """The nodes and edges of the SOP's flowchart (for `sopaudit.drawing`), its own words in
    `lang` ("id" or "en")."""
    tx = _text(lang)
    if sop.flow is None:
        raise ValueError("only an SOP written as a flow (YAML) can be drawn as a flowchart; "
                         "draw an imported model in its modelling tool")
    chart = _Chart(sop, numbers=step_numbers(sop), tx=tx)
    start = chart.node("t", tx["start"], "terminator", START_FILL, rank="first")
    body = chart.block(sop.flow)
    if body.entry is None:
        exits = [(start, "")]
    else:
        chart.connect([(start, "")], body.entry)
        exits = body.exits
    if exits:
        end = chart.node("t", tx["end"], "terminator", END_FILL, rank="last")
        chart.connect(exits, end)
    # edges in reading order (by where their source and target stand in the flow)
    order = {n.id: k for k, n in enumerate(chart.nodes)}
    edges = sorted(chart.edges, key=lambda e: (order[e.source], order[e.target]))
    return chart.nodes, edges


def draw_sop(sop: SOP, path: str | Path | None = None, fmt: str | None = None, lang: str = "id") -> str:
    """Draw the SOP flowchart (its own words in `lang`: "id" or "en"); write it to `path` (format
    from `fmt` or the file suffix: svg or png) when given, and return the SVG text either way."""
    nodes, edges = flowchart(sop, lang)
    layout = dr.layout_graph(nodes, edges, style=STYLE)
    title = f"{sop.header.code} {sop.header.title}".strip()
    svg = dr.render_svg(layout, title=title)
    if path is not None:
        path = Path(path)
        fmt = (fmt or path.suffix.lstrip(".") or "svg").lower()
        if fmt == "svg":
            path.write_text(svg, encoding="utf-8")
        elif fmt == "png":
            path.write_bytes(dr.render_png(layout))
        else:
            raise ValueError(f"unknown drawing format '{fmt}'; use svg or png")
    return svg
