"""The SOP beside the actual process.

Three things an auditor looks at before reading single findings:

- which directly-follows flows the SOP allows (:func:`sop_flows`), read from the compiled Petri
  net's reachability graph, so it holds for YAML tables, PNML and BPMN models alike;
- a table of the differences between the SOP and the log (:func:`compare`): activities and
  flows in one but not the other, with counts;
- two drawings: the actual process map with the flows the SOP does not allow in red, dashed
  and counted (:func:`draw_actual_vs_sop`), and the SOP map coloured by how each step is
  followed in the audit (:func:`draw_sop_overlay`).

The log's activities are mapped to SOP step ids the way :func:`sopaudit.audit` maps them (name,
id or alias), so both sides speak of the same steps.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sopaudit import drawing
from sopaudit.conform.labels import map_activities
from sopaudit.discovery.mining import ACTIVITY, CASE, END, START, sort_log
from sopaudit.discovery.processmap import ProcessMap, discover
from sopaudit.sop.compile import CompiledNet, compile_sop
from sopaudit.sop.marking import MarkingGraph
from sopaudit.sop.model import SOP, StepRef, walk

logger = logging.getLogger(__name__)

__all__ = [
    "DIFFERENCE_COLUMNS",
    "DIFFERENCE_KINDS",
    "SopFlows",
    "actual_graph",
    "compare",
    "draw_actual_vs_sop",
    "draw_sop_overlay",
    "sop_flows",
    "sop_graph",
]

DIFFERENCE_KINDS = ("activity_not_in_sop", "step_not_in_log", "flow_not_in_sop", "flow_not_in_log")
"""Kinds of rows of the :func:`compare` table, in the order the table lists them."""

DIFFERENCE_COLUMNS = [
    "kind", "source", "target", "source_name", "target_name", "count", "cases", "case_share",
    "example_cases", "detail",
]

EXAMPLE_CASES = 5  # case ids listed per flow the SOP does not allow

# Colours. Flows and activities outside the SOP share one red, also in the report's maps.
OUTSIDE = "#c53030"
ALLOWED_EDGE = "#5c6b7a"
UNSEEN_EDGE = "#a0aab4"
# SOP steps by the share of the cases that required a step and did it in order (as the report).
GOOD, FAIR, POOR, NONE = "#c6f6d5", "#fefcbf", "#fed7d7", "#edf2f7"
GOOD_FROM, FAIR_FROM = 0.95, 0.80

_TEXT = {
    "id": {
        "start": "mulai", "end": "selesai",
        "actual_title": "Proses aktual dibanding SOP: {cases} kasus, {events} peristiwa",
        "outside_flows": "Alur yang tidak diizinkan SOP: {flows} alur, {times} kali, dalam {cases} kasus",
        "drawn": "{drawn} di antaranya tergambar; sisanya di bawah ambang frekuensi",
        "outside_acts": "Aktivitas di luar SOP: {n}",
        "allowed": "Alur yang diizinkan SOP",
        "sop_title": "Pelaksanaan tiap langkah SOP: {cases} kasus",
        "good": "≥ {good} kasus melakukan langkah sesuai urutan",
        "fair": "{fair}–{good} sesuai urutan",
        "poor": "< {fair} sesuai urutan",
        "none": "tidak dilalui kasus mana pun",
        "unseen": "Alur SOP yang tidak pernah terjadi di log: {n}",
        "not_drawn": "tidak digambar",
        "seen": "Alur SOP yang terjadi (label: berapa kali)",
        "in_order": "{done}/{req} sesuai urutan ({share})",
        "detail": "terlewat {skipped} · tidak urut {ooo}",
        "repeated": " · diulang {n}",
        "no_case": "0 kasus",
        "not_sop": "bukan langkah SOP",
        "edge_tip": "{src} → {dst}\n{count} kali dalam {cases} kasus",
        "edge_not_allowed": "tidak diizinkan SOP",
        "edge_unseen": "diizinkan SOP, tidak pernah terjadi",
        "node_tip": "{events} peristiwa dalam {cases} kasus",
    },
    "en": {
        "start": "start", "end": "end",
        "actual_title": "Actual process against the SOP: {cases} cases, {events} events",
        "outside_flows": "Flows the SOP does not allow: {flows} flows, {times} times, in {cases} cases",
        "drawn": "{drawn} of them drawn; the others are below the frequency thresholds",
        "outside_acts": "Activities outside the SOP: {n}",
        "allowed": "Flows the SOP allows",
        "sop_title": "How each SOP step is followed: {cases} cases",
        "good": "≥ {good} of the cases do the step in order",
        "fair": "{fair}–{good} in order",
        "poor": "< {fair} in order",
        "none": "required by no case",
        "unseen": "SOP flows never seen in the log: {n}",
        "not_drawn": "not drawn",
        "seen": "SOP flows seen (label: how often)",
        "in_order": "{done}/{req} in order ({share})",
        "detail": "skipped {skipped} · out of order {ooo}",
        "repeated": " · repeated {n}",
        "no_case": "0 cases",
        "not_sop": "not an SOP step",
        "edge_tip": "{src} → {dst}\n{count} times in {cases} cases",
        "edge_not_allowed": "not allowed by the SOP",
        "edge_unseen": "allowed by the SOP, never seen",
        "node_tip": "{events} events in {cases} cases",
    },
}


def _t(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"unknown language {lang!r}; use 'id' or 'en'")
    return _TEXT[lang]


def _num(n: int, lang: str) -> str:
    """Thousands separated as the reader expects: 1.234 in Bahasa Indonesia, 1,234 in English."""
    s = f"{int(n):,}"
    return s.replace(",", ".") if lang == "id" else s


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


# ---------------------------------------------------------------------------------------------
# The flows the SOP allows


@dataclass(frozen=True)
class SopFlows:
    """The directly-follows relation of an SOP: which visible step may come right after which
    in some complete run of the model (silent transitions in between do not count), which steps
    may start and end a case, and whether a case may do nothing at all.

    ``steps`` lists the visible steps in SOP order (the order of the written flow; for an
    imported net, by how few steps it takes to reach them)."""

    steps: tuple[str, ...]
    pairs: frozenset[tuple[str, str]]
    starts: frozenset[str]
    ends: frozenset[str]
    allows_empty: bool = False

    def allows(self, source: str, target: str) -> bool:
        """Whether ``target`` may directly follow ``source``; :data:`START` and :data:`END`
        stand for the beginning and the end of a case, as in :func:`sopaudit.discovery.dfg`."""
        if source == START and target == END:
            return self.allows_empty
        if source == START:
            return target in self.starts
        if target == END:
            return source in self.ends
        return (source, target) in self.pairs

    def table(self) -> pd.DataFrame:
        """Every allowed flow as a row ``source, target``: starts, step pairs and ends, in SOP
        order of the source, then of the target."""
        pos = {s: i for i, s in enumerate(self.steps)}
        pos[START], pos[END] = -1, len(self.steps)
        rows = [(START, s) for s in self.starts] + list(self.pairs) + [(s, END) for s in self.ends]
        if self.allows_empty:
            rows.append((START, END))
        rows.sort(key=lambda r: (pos[r[0]], pos[r[1]], r))
        return pd.DataFrame(rows, columns=["source", "target"], dtype=object)


def sop_flows(sop: SOP | CompiledNet) -> SopFlows:
    """The flows an SOP allows, from the reachability graph of its compiled Petri net.

    ``b`` may directly follow ``a`` when some reachable marking enables ``a``, and from the
    marking after ``a`` a path of silent transitions enables ``b``; only markings from which
    the final marking can still be reached count, so a dead end of an imported net allows
    nothing. Raises :class:`sopaudit.SopAuditError` for nets with too many states (unbounded).
    """
    net = compile_sop(sop) if isinstance(sop, SOP) else sop
    graph = MarkingGraph(net)
    # the whole reachability graph: (label, next marking) per marking
    succ: dict[int, list[tuple[str | None, int]]] = {}
    queue = deque([graph.initial])
    succ[graph.initial] = []
    while queue:
        m = queue.popleft()
        # the last two fields of a successor are (label, next marking) in every version
        out = [(s[-2], s[-1]) for s in graph.successors(m)]
        succ[m] = out
        for _, m2 in out:
            if m2 not in succ:
                succ[m2] = []
                queue.append(m2)
    preds: dict[int, list[int]] = {m: [] for m in succ}
    for m, out in succ.items():
        for _, m2 in out:
            preds[m2].append(m)
    live: set[int] = set()
    if graph.final in succ:
        live.add(graph.final)
        stack = [graph.final]
        while stack:
            for p in preds[stack.pop()]:
                if p not in live:
                    live.add(p)
                    stack.append(p)

    after: dict[int, tuple[frozenset[str], bool]] = {}

    def visible_after(m: int) -> tuple[frozenset[str], bool]:
        """Steps that can fire next from ``m`` through silent moves, and whether the run can
        stop here (the final marking through silent moves only)."""
        if m not in after:
            seen, stack, labels = {m}, [m], set()
            while stack:
                for label, m2 in succ[stack.pop()]:
                    if m2 not in live:
                        continue
                    if label is not None:
                        labels.add(label)
                    elif m2 not in seen:
                        seen.add(m2)
                        stack.append(m2)
            after[m] = (frozenset(labels), graph.final in seen)
        return after[m]

    pairs: set[tuple[str, str]] = set()
    ends: set[str] = set()
    starts: frozenset[str] = frozenset()
    allows_empty = False
    if graph.initial in live:
        starts, allows_empty = visible_after(graph.initial)
    for m in sorted(live):
        for label, m2 in succ[m]:
            if label is None or m2 not in live:
                continue
            nxt, can_end = visible_after(m2)
            pairs.update((label, b) for b in nxt)
            if can_end:
                ends.add(label)
    return SopFlows(
        steps=_step_order(sop, graph, succ, live),
        pairs=frozenset(pairs),
        starts=frozenset(starts),
        ends=frozenset(ends),
        allows_empty=allows_empty,
    )


def _step_order(
    sop: SOP | CompiledNet, graph: MarkingGraph, succ: dict[int, list], live: set[int]
) -> tuple[str, ...]:
    """Steps in the order of the written flow (a step named more than once at its last place);
    steps the flow does not name (imported nets) by the fewest visible steps before them (a
    0-1 breadth-first search), then by name."""
    labels = set(graph.labels)
    order: list[str] = []
    if isinstance(sop, SOP) and sop.flow is not None:
        for node in walk(sop.flow):
            if isinstance(node, StepRef):
                # a step named at several places (a rejection after each check) goes to its
                # last place, so every flow into it points forward
                if node.step in order:
                    order.remove(node.step)
                order.append(node.step)
    dist = {graph.initial: 0}
    dq = deque([graph.initial])
    first: dict[str, int] = {}
    while dq:
        m = dq.popleft()
        for label, m2 in succ.get(m, ()):
            d = dist[m] + (label is not None)
            if label is not None and m in live:
                first[label] = min(first.get(label, d), d)
            if d < dist.get(m2, math.inf):
                dist[m2] = d
                (dq.appendleft if label is None else dq.append)(m2)
    rest = sorted(labels - set(order), key=lambda s: (first.get(s, math.inf), s))
    return tuple(order + rest)


# ---------------------------------------------------------------------------------------------
# The differences table


def _mapped(log: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """The log with activities as SOP step ids where a name, id or alias matches (as the audit
    maps them); already mapped logs (``AuditResult.log``) stay as they are."""
    out = map_activities(log, sop)
    out[ACTIVITY] = out[ACTIVITY].astype(object)
    return out


def _transitions(log: pd.DataFrame) -> pd.DataFrame:
    """Every directly-follows occurrence of the log, one row per (case, source, target), with
    :data:`START` before the first and :data:`END` after the last event of each case; in the
    event order of :func:`sopaudit.discovery.sort_log` (so the counts equal ``dfg``)."""
    s = sort_log(log)
    case = s[CASE].astype(str).to_numpy(dtype=object)
    act = s[ACTIVITY].astype(str).to_numpy(dtype=object)
    if len(case) == 0:
        return pd.DataFrame({"case": [], "source": [], "target": []}, dtype=object)
    new = np.concatenate(([True], case[1:] != case[:-1]))
    last = np.concatenate((new[1:], [True]))
    first_idx = np.flatnonzero(new)
    last_idx = np.flatnonzero(last)
    inner = np.flatnonzero(~new)  # events with a predecessor in the same case
    frame = pd.DataFrame({
        "case": np.concatenate((case[first_idx], case[inner], case[last_idx])),
        "source": np.concatenate((np.full(len(first_idx), START, dtype=object), act[inner - 1],
                                  act[last_idx])),
        "target": np.concatenate((act[first_idx], act[inner],
                                  np.full(len(last_idx), END, dtype=object))),
    })
    return frame


def _flow_detail(source: str, target: str, steps: set[str], names: dict[str, str]) -> str:
    def q(s: str) -> str:
        return f"'{names.get(s, s)}'"

    for a in (source, target):
        if a not in (START, END) and a not in steps:
            return f"{q(a)} is not an SOP step"
    if source == START:
        return f"the SOP does not start with {q(target)}"
    if target == END:
        return f"the SOP does not end after {q(source)}"
    return f"the SOP does not allow {q(target)} directly after {q(source)}"


def compare(log: pd.DataFrame, sop: SOP, flows: SopFlows | None = None) -> pd.DataFrame:
    """The differences between the SOP and the log, one row per difference.

    ``kind`` is one of :data:`DIFFERENCE_KINDS`:

    - ``activity_not_in_sop``: an activity of the log that is no SOP step (``source``); count
      of its events and of the cases with it;
    - ``step_not_in_log``: an SOP step no case did (count 0);
    - ``flow_not_in_sop``: ``target`` directly followed ``source`` in the log but the SOP does
      not allow it (:data:`START`/:data:`END` for a case's first/last event); how many times,
      in how many cases, and the first case ids (sorted);
    - ``flow_not_in_log``: a flow the SOP allows that no case took (count 0).

    Columns :data:`DIFFERENCE_COLUMNS`; ``detail`` says it in words. Sorted by kind, then count
    (descending), then SOP order, so the same inputs give the same table.
    """
    flows = flows or sop_flows(sop)
    mapped = _mapped(log, sop)
    names = {s.id: s.name for s in sop.steps}
    steps = set(flows.steps)
    pos = {s: i for i, s in enumerate(flows.steps)}
    n_cases = int(mapped[CASE].nunique())
    tr = _transitions(mapped)
    rows: list[dict[str, Any]] = []

    def row(kind: str, source: str, target: str, count: int, cases: int, examples: str,
            detail: str) -> None:
        rows.append({
            "kind": kind, "source": source, "target": target,
            "source_name": names.get(source, "") if source not in (START, END) else "",
            "target_name": names.get(target, "") if target not in (START, END) else "",
            "count": int(count), "cases": int(cases),
            "case_share": cases / n_cases if n_cases else 0.0,
            "example_cases": examples, "detail": detail,
        })

    events = tr[tr["target"] != END]  # one row per event: the flow into it
    per_act = events.groupby("target", sort=True)["case"].agg(["size", "nunique"])
    for act, r in per_act.iterrows():
        if act not in steps:
            row("activity_not_in_sop", act, "", r["size"], r["nunique"], "",
                f"'{act}' is recorded in the log but is not a step of the SOP")
    for s in flows.steps:
        if s not in per_act.index:
            row("step_not_in_log", s, "", 0, 0, "", f"no case did the SOP step '{names.get(s, s)}'")
    if len(tr):
        keys = tr[["source", "target"]].drop_duplicates()
        allowed = np.fromiter((flows.allows(a, b) for a, b in keys.itertuples(index=False)),
                              dtype=bool, count=len(keys))
        bad_keys = keys[~allowed]
        bad = tr.merge(bad_keys, on=["source", "target"], how="inner")
        if len(bad):
            agg = bad.groupby(["source", "target"], sort=True)["case"].agg(
                count="size", cases="nunique",
                examples=lambda c: "; ".join(sorted(set(c))[:EXAMPLE_CASES]))
            for (a, b), r in agg.iterrows():
                row("flow_not_in_sop", a, b, r["count"], r["cases"], r["examples"],
                    _flow_detail(a, b, steps, names))
    seen = set(map(tuple, tr[["source", "target"]].drop_duplicates().to_numpy().tolist()))
    for a, b in flows.table().itertuples(index=False):
        if (a, b) not in seen:
            row("flow_not_in_log", a, b, 0, 0, "", "the SOP allows this flow but no case took it")
    table = pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
    if table.empty:
        return table.astype({"count": "int64", "cases": "int64", "case_share": "float64"})
    big = len(flows.steps) + 1

    def rank(s: pd.Series) -> pd.Series:
        return s.map(lambda a: -1 if a == START else pos.get(a, big))

    table = table.assign(
        _k=table["kind"].map(DIFFERENCE_KINDS.index), _s=rank(table["source"]),
        _t=rank(table["target"]))
    table = table.sort_values(["_k", "count", "_s", "_t", "source", "target"],
                              ascending=[True, False, True, True, True, True], kind="mergesort")
    return table[DIFFERENCE_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Drawings


def _label(step: str, names: dict[str, str], labels: str) -> str:
    return names.get(step, step) if labels == "name" else step


def actual_graph(
    pm: ProcessMap,
    sop: SOP,
    flows: SopFlows,
    lang: str = "id",
    labels: Literal["name", "id"] = "name",
    **thresholds: Any,
) -> tuple[list[drawing.Node], list[drawing.Edge]]:
    """Nodes and edges of the actual map (``pm`` of the mapped log) with the SOP laid over it:
    activities outside the SOP filled red, flows the SOP does not allow red and dashed; SOP
    steps placed in SOP order. ``thresholds`` are those of :meth:`ProcessMap.graph`."""
    tx = _t(lang)
    names = {s.id: s.name for s in sop.steps}
    pos = {s: i for i, s in enumerate(flows.steps)}
    steps = set(flows.steps)
    nodes, edges = pm.graph(**thresholds)
    acts = pm.activities.set_index("activity")
    ends = {START: tx["start"], END: tx["end"]}

    def shown(a: str) -> str:
        return ends.get(a) or _label(a, names, labels)

    out_nodes = []
    for n in nodes:
        if n.id in (START, END):
            out_nodes.append(dataclasses.replace(n, tooltip=f"{ends[n.id]}: {n.tooltip}"))
            continue
        r = acts.loc[n.id]
        tip = tx["node_tip"].format(events=_num(r["events"], lang), cases=_num(r["cases"], lang))
        text = f"{_label(n.id, names, labels)}\n{_num(r['events'], lang)}"
        if n.id in steps:
            out_nodes.append(dataclasses.replace(
                n, label=text, order=float(pos[n.id]),
                tooltip=f"{names.get(n.id, n.id)} ({n.id})\n{tip}"))
        else:
            out_nodes.append(dataclasses.replace(
                n, label=text, fill=OUTSIDE, stroke="#822727", text_color="#ffffff",
                tooltip=f"{n.id}\n{tx['not_sop']}\n{tip}"))
    d = pm.dfg.set_index(["source", "target"])
    out_edges = []
    for e in edges:
        r = d.loc[(e.source, e.target)]
        tip = tx["edge_tip"].format(src=shown(e.source), dst=shown(e.target),
                                    count=_num(r["count"], lang), cases=_num(r["cases"], lang))
        if flows.allows(e.source, e.target):
            out_edges.append(dataclasses.replace(
                e, label=_num(r["count"], lang), color=ALLOWED_EDGE, tooltip=tip))
        else:
            out_edges.append(dataclasses.replace(
                e, label=_num(r["count"], lang), color=OUTSIDE, dashed=True,
                tooltip=f"{tip}\n{tx['edge_not_allowed']}"))
    return out_nodes, out_edges


def draw_actual_vs_sop(
    log: pd.DataFrame,
    sop: SOP,
    path: str | Path | None = None,
    *,
    lang: str = "id",
    labels: Literal["name", "id"] = "name",
    min_edge_share: float = 0.01,
    min_node_count: int = 1,
    max_nodes: int | None = 40,
    max_edges: int | None = None,
    flows: SopFlows | None = None,
    style: drawing.Style | None = None,
) -> str:
    """The actual process map of ``log`` with the flows the SOP does not allow in red and
    dashed, and a legend that counts them (also those hidden by the thresholds). Returns the
    SVG text and writes it to ``path`` if given. Thresholds as in :meth:`ProcessMap.draw`."""
    tx = _t(lang)
    flows = flows or sop_flows(sop)
    mapped = _mapped(log, sop)
    pm = discover(mapped)
    nodes, edges = actual_graph(
        pm, sop, flows, lang=lang, labels=labels, min_edge_share=min_edge_share,
        min_node_count=min_node_count, max_nodes=max_nodes, max_edges=max_edges)
    steps = set(flows.steps)
    d = pm.dfg
    not_allowed = np.array([not flows.allows(a, b) for a, b in zip(d["source"], d["target"],
                                                                     strict=True)], dtype=bool)
    bad = d[not_allowed]
    tr = _transitions(mapped)
    bad_cases = tr.merge(bad[["source", "target"]], on=["source", "target"])["case"].nunique()
    drawn = sum(1 for e in edges if e.dashed)
    outside = [a for a in pm.activities["activity"] if a not in steps]
    title = tx["actual_title"].format(cases=_num(pm.n_cases, lang), events=_num(pm.n_events, lang))
    legend: list[tuple[tuple[str, ...] | None, str]] = [
        (("line", ALLOWED_EDGE, ""), tx["allowed"]),
        (("line", OUTSIDE, "dashed"), tx["outside_flows"].format(
            flows=_num(len(bad), lang), times=_num(int(bad["count"].sum()), lang),
            cases=_num(bad_cases, lang))
         + (f" ({tx['drawn'].format(drawn=_num(drawn, lang))})" if drawn < len(bad) else "")),
    ]
    if outside:
        legend.append((("box", OUTSIDE, "#822727"), tx["outside_acts"].format(n=_num(len(outside), lang))))
    return _draw(nodes, edges, style, sop, title, legend, path)


def _band(share: float | None) -> str:
    if share is None:
        return NONE
    return GOOD if share >= GOOD_FROM else FAIR if share >= FAIR_FROM else POOR


def _step_overlay(r: pd.Series, lang: str) -> tuple[str, list[str]]:
    """Fill colour and label lines of one step from its row of ``AuditResult.steps``."""
    tx = _t(lang)
    req = int(r["cases_required"])
    if not req:
        return NONE, [tx["no_case"]]
    share = int(r["cases_in_order"]) / req
    lines = [tx["in_order"].format(done=_num(r["cases_in_order"], lang), req=_num(req, lang),
                                   share=_pct(share))]
    skipped, ooo = int(r["cases_skipped"]), int(r["cases_out_of_order"])
    repeated = int(r["cases_repeated"])
    if skipped or ooo or repeated:  # a line of zeros only adds noise
        lines.append(tx["detail"].format(skipped=_num(skipped, lang), ooo=_num(ooo, lang))
                     + (tx["repeated"].format(n=_num(repeated, lang)) if repeated else ""))
    return _band(share), lines


def sop_graph(
    sop: SOP,
    flows: SopFlows,
    steps: pd.DataFrame | None = None,
    observed: pd.DataFrame | None = None,
    lang: str = "id",
    labels: Literal["name", "id"] = "name",
) -> tuple[list[drawing.Node], list[drawing.Edge]]:
    """Nodes and edges of the SOP map: one box per step in SOP order, one edge per allowed flow.

    With ``steps`` (an :attr:`AuditResult.steps` table) each box is filled by the share of the
    cases requiring the step that did it in order (green from 95%, yellow from 80%, red below;
    grey when no case required it) and says the numbers. With ``observed`` (a
    :func:`sopaudit.discovery.dfg` of the mapped log) edges are labelled and sized by how often
    the flow happened; flows never seen are dashed grey."""
    tx = _t(lang)
    names = {s.id: s.name for s in sop.steps}
    per_step = steps.set_index("step") if steps is not None else None
    nodes = [drawing.Node(START, START, shape="circle", fill="#2e7d32", rank="first",
                          tooltip=tx["start"])]
    for i, s in enumerate(flows.steps):
        text = _label(s, names, labels)
        tip = f"{names.get(s, s)} ({s})"
        fill = "#ffffff"
        if per_step is not None and s in per_step.index:
            fill, lines = _step_overlay(per_step.loc[s], lang)
            text += "\n" + "\n".join(lines)
            tip += "\n" + "\n".join(lines)
        nodes.append(drawing.Node(s, text, fill=fill, tooltip=tip, order=float(i)))
    nodes.append(drawing.Node(END, END, shape="circle", fill="#37474f", rank="last",
                              tooltip=tx["end"]))
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    if observed is not None:
        for a, b, c, k in observed[["source", "target", "count", "cases"]].itertuples(index=False):
            counts[(a, b)] = (int(c), int(k))
    ends = {START: tx["start"], END: tx["end"]}
    edges = []
    for a, b in flows.table().itertuples(index=False):
        src = ends.get(a) or names.get(a, a)
        dst = ends.get(b) or names.get(b, b)
        if observed is None:
            edges.append(drawing.Edge(a, b, color=ALLOWED_EDGE, tooltip=f"{src} → {dst}"))
            continue
        c, k = counts.get((a, b), (0, 0))
        tip = tx["edge_tip"].format(src=src, dst=dst, count=_num(c, lang), cases=_num(k, lang))
        if c:
            edges.append(drawing.Edge(a, b, label=_num(c, lang), weight=float(c),
                                      color=ALLOWED_EDGE, tooltip=tip))
        else:
            edges.append(drawing.Edge(a, b, weight=0.0, color=UNSEEN_EDGE, dashed=True,
                                      tooltip=f"{tip}\n{tx['edge_unseen']}"))
    return nodes, edges


def _flowchart_overlay(
    sop: SOP, steps: pd.DataFrame, lang: str
) -> tuple[list[drawing.Node], list[drawing.Edge], drawing.Style | None] | None:
    """The SOP AP flowchart of the SOP stage (``sopaudit.sop.draw.flowchart``) with its step
    boxes coloured and annotated like :func:`sop_graph`'s; None when the SOP has no written
    flow (an imported net) or the flowchart drawing is not available.

    A step box is recognised by its label, which starts with the step's number in the SOP
    table ("4. ..."); the other shapes (terminators, decisions, joins) are drawn neutral so
    that colour means only how the step is followed."""
    if sop.flow is None:
        return None
    try:
        from sopaudit.sop import draw as sop_draw

        nodes, edges = sop_draw.flowchart(sop)
        numbers = sop_draw.step_numbers(sop)
    except (ImportError, AttributeError) as exc:
        logger.debug("SOP flowchart not available (%s); drawing the SOP's flows instead", exc)
        return None
    by_number = {n: sid for sid, n in numbers.items()}
    per_step = steps.set_index("step")
    out, matched = [], 0
    for n in nodes:
        m = _NUMBERED.match(n.label or "")
        sid = by_number.get(int(m.group(1))) if m and n.shape == "box" else None
        if sid is None or sid not in per_step.index:
            out.append(dataclasses.replace(n, fill="#ffffff" if n.shape != "circle" else n.fill))
            continue
        matched += 1
        fill, lines = _step_overlay(per_step.loc[sid], lang)
        tip = "\n".join(p for p in (n.tooltip, *lines) if p)
        out.append(dataclasses.replace(n, label=f"{n.label}\n" + "\n".join(lines), fill=fill,
                                       tooltip=tip))
    if not matched:
        logger.debug("no step box recognised in the SOP flowchart; drawing the SOP's flows")
        return None
    return out, edges, getattr(sop_draw, "STYLE", None)


_NUMBERED = re.compile(r"^(\d+)\. ")


def draw_sop_overlay(
    result: Any,
    path: str | Path | None = None,
    *,
    lang: str = "id",
    chart: Literal["auto", "flowchart", "flows"] = "auto",
    labels: Literal["name", "id"] = "name",
    show_unseen: bool = True,
    flows: SopFlows | None = None,
    style: drawing.Style | None = None,
) -> str:
    """The SOP of an :class:`sopaudit.AuditResult` with each step coloured by the share of the
    cases requiring it that did it in order (green from 95%, yellow from 80%, red below, grey
    when no case required it), and the in-order, skipped, out-of-order (and repeated) counts
    in its box. Returns the SVG text and writes it to ``path`` if given.

    ``chart="flowchart"`` draws the SOP AP flowchart of the SOP stage (decisions, loops, ends);
    ``"flows"`` draws the SOP as a map of its allowed flows (:func:`sop_graph`), each labelled
    by how often the log took it, flows never taken dashed (or left out with
    ``show_unseen=False``); ``"auto"`` draws the flowchart when the SOP has a written flow and
    the flows map for an imported net."""
    tx = _t(lang)
    if chart not in ("auto", "flowchart", "flows"):
        raise ValueError(f"unknown chart {chart!r}; use 'auto', 'flowchart' or 'flows'")
    sop = result.sop
    log = result.log
    n_cases = int(log[CASE].nunique()) if len(log) else 0
    title = tx["sop_title"].format(cases=_num(n_cases, lang))
    good, fair = _pct(GOOD_FROM), _pct(FAIR_FROM)
    legend: list[tuple[tuple[str, ...] | None, str]] = [
        (("box", GOOD, "#4d4d4d"), tx["good"].format(good=good)),
        (("box", FAIR, "#4d4d4d"), tx["fair"].format(good=good, fair=fair)),
        (("box", POOR, "#4d4d4d"), tx["poor"].format(fair=fair)),
        (("box", NONE, "#4d4d4d"), tx["none"]),
    ]
    drawn = _flowchart_overlay(sop, result.steps, lang) if chart != "flows" else None
    if drawn is None and chart == "flowchart":
        raise ValueError("this SOP cannot be drawn as a flowchart (it has no written flow, or the "
                         "SOP flowchart drawing is not installed); use chart='flows'")
    if drawn is not None:
        nodes, edges, chart_style = drawn
        style = style or chart_style
    else:
        flows = flows or sop_flows(sop)
        observed = discover(_mapped(log, sop)).dfg if len(log) else None
        nodes, edges = sop_graph(sop, flows, steps=result.steps, observed=observed, lang=lang,
                                 labels=labels)
        unseen = sum(1 for e in edges if e.dashed)
        if not show_unseen:
            edges = [e for e in edges if not e.dashed]
        legend += [
            (("line", ALLOWED_EDGE, ""), tx["seen"]),
            (("line", UNSEEN_EDGE, "dashed"), tx["unseen"].format(n=_num(unseen, lang))
             + ("" if show_unseen else f" ({tx['not_drawn']})")),
        ]
    return _draw(nodes, edges, style, sop, title, legend, path)


def _draw(nodes, edges, style, sop: SOP, title: str,
          legend: list[tuple[tuple[str, ...] | None, str]], path: str | Path | None) -> str:
    """Lay out and render a drawing under the SOP's code and title with its legend; also written
    to `path` when given."""
    lay = drawing.layout_graph(nodes, edges, style=style)
    subtitle = f"{sop.header.code} {sop.header.title}".strip()
    svg = _with_legend(drawing.render_svg(lay), title, subtitle, legend, lay.style)
    if path is not None:
        Path(path).write_text(svg, encoding="utf-8")
    return svg


_SIZE = re.compile(r'^<svg [^>]*?width="([0-9.]+)" height="([0-9.]+)"')


def _with_legend(
    map_svg: str,
    title: str,
    subtitle: str,
    legend: list[tuple[tuple[str, ...] | None, str]],
    st: drawing.Style,
) -> str:
    """The map under a heading (bold title, subtitle) and a legend, as one SVG: the map is
    nested as an inner <svg>. Every text is escaped; the same inputs give the same bytes."""
    m = _SIZE.match(map_svg)
    if m is None:  # render_svg always writes width and height first
        raise ValueError("not an SVG written by sopaudit.drawing")
    w, h = float(m.group(1)), float(m.group(2))
    fs = st.font_size
    lh = round(fs * 1.6, 2)
    pad = st.margin
    swatch = 28.0
    title_fs = fs + 2
    # bold DejaVu Sans is about a tenth wider than the regular metrics text_width knows
    text_w = max([1.12 * drawing.text_width(title, title_fs), drawing.text_width(subtitle, fs)]
                 + [swatch + 8 + drawing.text_width(t, fs) for _, t in legend])
    width = max(w, text_w + 2 * pad)
    y0 = pad + title_fs * 1.4 + (lh if subtitle else 0.0)
    head = y0 + lh * len(legend) + 4

    def f(v: float) -> str:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if s in ("-0", "") else s

    def esc(s: str) -> str:
        return html.escape(str(s), quote=True)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(width)}" height="{f(head + h)}" '
        f'viewBox="0 0 {f(width)} {f(head + h)}" font-family="{esc(st.font_family)}">',
        f"<title>{esc(title)}</title>",
        f'<rect x="0" y="0" width="{f(width)}" height="{f(head + h)}" fill="{esc(st.background)}"/>',
        f'<text x="{f(pad)}" y="{f(pad + title_fs)}" font-size="{f(title_fs)}" '
        f'font-weight="bold" fill="#1a1a1a">{esc(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text x="{f(pad)}" y="{f(pad + title_fs * 1.4 + 0.5 * lh + 0.35 * fs)}" '
                   f'font-size="{f(fs)}" fill="#333333">{esc(subtitle)}</text>')
    out.append('<g class="legend">')
    for i, (sw, text) in enumerate(legend):
        cy = y0 + lh * (i + 0.5)
        if sw is not None and sw[0] == "line":
            dash = ' stroke-dasharray="6 4"' if sw[2] == "dashed" else ""
            out.append(f'<line x1="{f(pad)}" y1="{f(cy)}" x2="{f(pad + swatch)}" y2="{f(cy)}" '
                       f'stroke="{esc(sw[1])}" stroke-width="2.5"{dash}/>')
        elif sw is not None and sw[0] == "box":
            out.append(f'<rect x="{f(pad + 4)}" y="{f(cy - fs * 0.5)}" width="{f(swatch - 8)}" '
                       f'height="{f(fs)}" rx="2" fill="{esc(sw[1])}" stroke="{esc(sw[2])}"/>')
        out.append(f'<text x="{f(pad + swatch + 8)}" y="{f(cy + 0.35 * fs)}" font-size="{f(fs)}" '
                   f'fill="#333333">{esc(text)}</text>')
    out.append("</g>")
    inner = map_svg.rstrip("\n")
    x = (width - w) / 2
    inner = inner.replace("<svg ", f'<svg x="{f(x)}" y="{f(head)}" ', 1)
    out.append(inner)
    out.append("</svg>")
    return "\n".join(out) + "\n"
