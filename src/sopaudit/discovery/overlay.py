"""Drawings of the SOP beside the actual process.

- the actual process map with the flows the SOP does not allow in red, dashed and counted
  (:func:`draw_actual_vs_sop`);
- the SOP map coloured by how each step is followed in the audit (:func:`draw_sop_overlay`).

The allowed flows come from :mod:`sopaudit.discovery.flows`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sopaudit import drawing
from sopaudit.conform.labels import map_activities
from sopaudit.core.errors import EventLogError
from sopaudit.discovery.flows import SopFlows, sop_flows
from sopaudit.discovery.legend import with_legend
from sopaudit.discovery.mining import END, START, _variant_ids, log_order
from sopaudit.discovery.processmap import ProcessMap, discover
from sopaudit.sop.model import SOP

logger = logging.getLogger(__name__)

__all__ = ["CasePaths", "actual_graph", "case_paths", "draw_actual_vs_sop", "draw_sop_overlay", "sop_graph"]

# Colours. Flows and activities outside the SOP share one red, also in the report's maps.
OUTSIDE = "#c53030"
ALLOWED_EDGE = "#5c6b7a"
UNSEEN_EDGE = "#a0aab4"
# SOP steps by the share of the cases that required a step and did it in order (as the report).
GOOD, FAIR, POOR, NONE = "#c6f6d5", "#fefcbf", "#fed7d7", "#edf2f7"
GOOD_FROM, FAIR_FROM = 0.95, 0.80

_TEXT = {
    "id": {
        "start": "mulai", "end": "selesai", "n_cases": "{n} kasus",
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
        "start": "start", "end": "end", "n_cases": "{n} cases",
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
            out_nodes.append(dataclasses.replace(n, tooltip=f"{ends[n.id]}: {tx['n_cases'].format(n=_num(pm.n_cases, lang))}"))
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


@dataclasses.dataclass(frozen=True)
class CasePaths:
    """The distinct paths of a log's cases (their SOP steps or recorded activities, in order),
    how many cases took each and how many of those are still under way. All that the
    actual-vs-SOP map counts: an audit hands over its variants (`AuditResult.variant_paths`), so
    the map does not go over the events again."""

    paths: list[tuple[str, ...]]
    cases: np.ndarray  # cases per path
    still_open: np.ndarray  # of those, cases still under way: their last step -> end is no flow yet


def case_paths(log: pd.DataFrame, sop: SOP, open_cases: Iterable[str] | None = None) -> CasePaths:
    """The CasePaths of a log, its activities mapped to SOP steps as the audit maps them;
    ``open_cases``: ids of the cases still under way (compared as text)."""
    s = log_order(map_activities(log, sop))
    vid = _variant_ids(s)
    _, example = np.unique(vid, return_index=True)  # each path's first case
    n_var = len(example)
    paths = [tuple(s.activities[s.act_codes[a:a + n]].tolist())
             for a, n in zip(s.starts[example].tolist(), s.lengths[example].tolist(), strict=True)]
    open_ids = {str(c) for c in (open_cases if open_cases is not None else ())}
    is_open = pd.Index([str(c) for c in s.case_ids]).isin(list(open_ids)) if open_ids else np.zeros(len(vid), bool)
    return CasePaths(paths, np.bincount(vid, minlength=n_var), np.bincount(vid[is_open], minlength=n_var))


def draw_actual_vs_sop(
    log: pd.DataFrame | None,
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
    open_cases: Iterable[str] | None = None,
    paths: CasePaths | None = None,
) -> str:
    """The actual process map of ``log`` with the flows the SOP does not allow in red and
    dashed, and a legend that counts them (also those hidden by the thresholds). Returns the
    SVG text and writes it to ``path`` if given. Thresholds as in :meth:`ProcessMap.draw`.
    ``open_cases``: ids of cases still under way (as in :func:`sopaudit.discovery.flows.compare`):
    their last step -> end is not drawn nor counted, so the legend agrees with the table.
    ``paths``: the log's :class:`CasePaths` when they are known (open cases included); the log
    and ``open_cases`` are then not read."""
    tx = _t(lang)
    flows = flows or sop_flows(sop)
    p = paths if paths is not None else case_paths(log, sop, open_cases)
    pm, bad_cases = _path_map(p, flows)
    nodes, edges = actual_graph(
        pm, sop, flows, lang=lang, labels=labels, min_edge_share=min_edge_share,
        min_node_count=min_node_count, max_nodes=max_nodes, max_edges=max_edges)
    steps = set(flows.steps)
    bad = pm.dfg[[not flows.allows(a, b) for a, b in zip(pm.dfg["source"], pm.dfg["target"], strict=True)]]
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


def _path_map(p: CasePaths, flows: SopFlows) -> tuple[ProcessMap, int]:
    """The map's counts (no waits nor variants: the drawing shows none) from the case paths, as
    `discover` counts them from the events: directly-follows edges with START and END, each with
    its occurrences and cases, less the end of each open case; events and cases per activity.
    And the cases that took a flow the SOP does not allow."""
    count: Counter = Counter()
    cases: Counter = Counter()
    events: Counter = Counter()
    act_cases: Counter = Counter()
    position: Counter = Counter()
    bad_cases = 0
    for path, n, still in zip(p.paths, p.cases.tolist(), p.still_open.tolist(), strict=True):
        pairs = list(zip((START, *path[:-1]), path, strict=True))  # START -> first, then each step
        ended = n - still  # an open case has no last step -> end yet
        for e in pairs:
            count[e] += n
        for e in set(pairs):
            cases[e] += n
        if ended:
            count[(path[-1], END)] += ended
            cases[(path[-1], END)] += ended
        for a in path:
            events[a] += n
        span = max(len(path) - 1, 1)
        for a, i in {a: i for i, a in reversed(list(enumerate(path)))}.items():  # first occurrences
            act_cases[a] += n
            position[a] += n * i / span
        if any(not flows.allows(a, b) for a, b in pairs):
            bad_cases += n
        elif ended and not flows.allows(path[-1], END):
            bad_cases += ended
    acts = sorted(events)
    if {START, END} & set(acts):
        raise EventLogError(
            f"an activity is named {START!r} or {END!r}, which the process map uses for the "
            f"start and end of a case; rename that activity")
    dfg = pd.DataFrame({
        "source": pd.Series([a for a, _ in count], dtype=object),
        "target": pd.Series([b for _, b in count], dtype=object),
        "count": np.array(list(count.values()), dtype=np.int64),
        "cases": np.array([cases[e] for e in count], dtype=np.int64),
        "median_wait_s": np.nan,
        "p90_wait_s": np.nan,
    }).sort_values(["count", "source", "target"], ascending=[False, True, True], kind="stable")
    activities = pd.DataFrame({
        "activity": pd.Series(acts, dtype=object),
        "events": np.array([events[a] for a in acts], dtype=np.int64),
        "cases": np.array([act_cases[a] for a in acts], dtype=np.int64),
        "position": np.array([position[a] / act_cases[a] for a in acts], dtype=float),
    }).sort_values(["events", "activity"], ascending=[False, True], kind="stable")
    n_cases = int(p.cases.sum())
    pm = ProcessMap(dfg=dfg.reset_index(drop=True), variants=pd.DataFrame(),
                    activities=activities.reset_index(drop=True), n_cases=n_cases,
                    n_events=sum(n * len(path) for path, n in zip(p.paths, p.cases.tolist(), strict=True)))
    return pm, bad_cases


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

        nodes, edges = sop_draw.flowchart(sop, lang)
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
    n_cases = len(result.cases)  # one row per case
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
        observed = discover(map_activities(log, sop)).dfg if len(log) else None
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
    svg = with_legend(drawing.render_svg(lay), title, subtitle, legend, lay.style)
    if path is not None:
        Path(path).write_text(svg, encoding="utf-8")
    return svg
