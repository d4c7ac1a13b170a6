"""The SOP beside the actual process: drawings for the report, with the audit laid over them.

`process_drawings` takes the drawings of the discovery stage when it is installed
(`sopaudit.compare`: the SOP coloured by how each step is followed, and the actual process map
with the flows the SOP does not allow in red, each with its own legend). Without it, the report
draws its own from the parts that are there:
- `sopaudit.discovery.discover(log)` (the actual process map), drawn with the activities the SOP
  does not know filled red and the SOP steps that have findings outlined red;
- `sopaudit.sop.draw.flowchart` (the SOP AP flowchart), with each step box filled by the share
  of its cases done in order; an SOP without a flow (imported PNML/BPMN) is shown as a numbered
  list of steps with the same overlay (see `step_overlay`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, TIME
from sopaudit.report.figures import open_findings
from sopaudit.report.i18n import Translator, format_number, format_percent

logger = logging.getLogger(__name__)

OUTSIDE_FILL = "#c53030"  # activities outside the SOP
FINDING_STROKE = "#c53030"  # SOP steps with open findings

MAX_NODES = 30  # activities drawn in the actual process map (the most frequent)

# Overlay colours by the share of the cases that required a step and did it in order.
GOOD, FAIR, POOR = "#c6f6d5", "#fefcbf", "#fed7d7"
GOOD_FROM, FAIR_FROM = 0.95, 0.80


@dataclass(frozen=True)
class ProcessDrawings:
    """SVG text of the two sides (None: not drawable) and whether each carries its own legend."""

    sop_svg: str | None
    actual_svg: str | None
    legends_inside: bool


def process_drawings(result, overlay: dict[str, dict], t: Translator, lang: str) -> ProcessDrawings:
    """The SOP and the actual process of an audit, drawn for the report (see the module doc)."""
    try:
        from sopaudit.discovery.overlay import CasePaths, draw_actual_vs_sop, draw_sop_overlay
    except ImportError:
        return ProcessDrawings(sop_flowchart_svg(result, overlay, t, lang),
                               actual_process_svg(result, t, lang, MAX_NODES), legends_inside=False)
    still_open = result.cases["status"].eq("incomplete").to_numpy() if "status" in result.cases else None
    if result.variant_paths and still_open is not None:  # the audit's variants: no pass over the events
        ids = sorted(result.variant_paths)
        vid = result.cases["variant_id"].to_numpy(dtype=np.int64)
        paths = CasePaths([result.variant_paths[i] for i in ids], np.bincount(vid, minlength=ids[-1] + 1)[ids],
                          np.bincount(vid[still_open], minlength=ids[-1] + 1)[ids])
        actual = draw_actual_vs_sop(None, result.sop, lang=lang, max_nodes=MAX_NODES, paths=paths)
    elif len(result.log):
        open_ids = set(result.cases.loc[still_open, "case_id"].astype(str)) if still_open is not None else None
        actual = draw_actual_vs_sop(result.log, result.sop, lang=lang, max_nodes=MAX_NODES, open_cases=open_ids)
    else:
        actual = None
    return ProcessDrawings(draw_sop_overlay(result, lang=lang), actual, legends_inside=True)


def step_overlay(steps: pd.DataFrame) -> dict[str, dict]:
    """Per SOP step id: shares of the cases that required it (in order, skipped, out of order,
    repeated) and a fill colour by the in-order share; steps no case required have no colour."""
    out = {}
    for s in steps.to_dict(orient="records"):
        req = int(s["cases_required"])
        shares = {k: (int(s[f"cases_{k}"]) / req if req else None)
                  for k in ("in_order", "skipped", "out_of_order", "repeated")}
        share = shares["in_order"]
        fill = "" if share is None else GOOD if share >= GOOD_FROM else FAIR if share >= FAIR_FROM else POOR
        out[s["step"]] = {"name": s["step_name"], "required": req, "fill": fill, **shares}
    return out


def sop_flowchart_svg(result, overlay: dict[str, dict], t: Translator, lang: str) -> str | None:
    """The SOP flowchart of the SOP stage (`sopaudit.sop.draw`), each step box filled by the share
    of the cases that did it in order and labelled with that share; None for an SOP without a
    flow (imported PNML/BPMN) or when the SOP drawing is not installed (the report then shows the
    SOP as a list of steps with the same overlay).

    The flowchart's step boxes are labelled "<number>. <name>" with the SOP AP number of
    `step_numbers`; that number is how a box is matched to its step."""
    try:
        from sopaudit.sop import draw as sop_draw
    except ImportError:
        return None
    from sopaudit import drawing

    sop = result.sop
    if sop.flow is None:
        return None
    nodes, edges = sop_draw.flowchart(sop, lang)
    step_of = {n: sid for sid, n in sop_draw.step_numbers(sop).items()}
    out = []
    for node in nodes:
        m = re.match(r"(\d+)\. ", node.text) if node.shape == "box" else None
        o = overlay.get(step_of.get(int(m.group(1)), "")) if m else None
        if o and o["required"]:
            line = t("map.sop_line", inorder=share_text(o["in_order"], lang), n=format_number(o["required"], lang))
            tip = t("bar_title", inorder=share_text(o["in_order"], lang), skipped=share_text(o["skipped"], lang),
                    ooo=share_text(o["out_of_order"], lang))
            node = dataclasses.replace(node, fill=o["fill"], label=f"{node.text}\n{line}",
                                       tooltip=f"{o['name']}\n{line}\n{tip}")
        out.append(node)
    layout = drawing.layout_graph(out, edges, style=sop_draw.STYLE)
    return drawing.render_svg(layout, title=f"{sop.header.code} {sop.header.title}".strip())


def actual_process_svg(result, t: Translator, lang: str, max_nodes: int = MAX_NODES) -> str | None:
    """The discovered process map of the audited log (step names, event counts), with the SOP
    overlay; None when the discovery stage is not installed or the log is empty."""
    try:
        from sopaudit import drawing
        from sopaudit.discovery import mining as disc
        from sopaudit.discovery.processmap import discover
    except ImportError:
        return None
    log = result.log
    if log.empty:
        return None
    pm = discover(log[[CASE, ACTIVITY, TIME]])
    nodes, edges = pm.graph(max_nodes=max_nodes, min_edge_share=0.01)
    names = {s.id: s.name for s in result.sop.steps}
    dev = open_findings(result.deviations)
    per_step = dev.groupby("step").size() if len(dev) else pd.Series(dtype=int)
    counts = dict(zip(pm.activities["activity"].astype(str), pm.activities["events"], strict=True))
    out = []
    for n in nodes:
        if n.id in (disc.START, disc.END):
            out.append(n)
            continue
        events = format_number(int(counts.get(n.id, 0)), lang)
        findings = int(per_step.get(n.id, 0))
        tip = [t("map.node_tip", events=events)]
        if findings:
            tip.append(t("map.node_findings", n=format_number(findings, lang)))
        if n.id in names:
            out.append(dataclasses.replace(
                n, label=f"{names[n.id]}\n{events}", tooltip=f"{names[n.id]} ({n.id})\n" + "\n".join(tip),
                stroke=FINDING_STROKE if findings else n.stroke))
        else:
            out.append(dataclasses.replace(
                n, label=f"{n.id}\n{events}", fill=OUTSIDE_FILL, text_color="#ffffff",
                tooltip=f"{n.id}\n{t('map.outside')}\n" + "\n".join(tip)))
    relabelled = []
    for e in edges:
        ends = {disc.START: t("map.start"), disc.END: t("map.end")}
        src = ends.get(e.source) or names.get(e.source, e.source)
        dst = ends.get(e.target) or names.get(e.target, e.target)
        n = format_number(int(e.weight), lang)
        relabelled.append(dataclasses.replace(e, label=n, tooltip=t("map.edge_tip", source=src, target=dst, n=n)))
    edges = relabelled
    title = t("map.title", cases=format_number(pm.n_cases, lang), events=format_number(pm.n_events, lang))
    shown = sum(1 for n in out if n.id not in (disc.START, disc.END))
    logger.debug("process map: %d of %d activities drawn", shown, len(pm.activities))
    return drawing.draw(out, edges, title=title)


def map_note(result, t: Translator, lang: str, max_nodes: int = MAX_NODES) -> str:
    """What the map leaves out, in words (activities beyond the most frequent `max_nodes`)."""
    n_acts = int(result.log[ACTIVITY].nunique()) if ACTIVITY in result.log else 0
    if n_acts <= max_nodes:
        return ""
    return t("map.truncated", shown=format_number(max_nodes, lang), total=format_number(n_acts, lang))


def share_text(value, lang: str) -> str:
    return "–" if value is None else format_percent(value, lang)
