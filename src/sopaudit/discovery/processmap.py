"""The process map: the actual process of a log (directly-follows edges, variants, activity
counts) as a drawing with frequency thresholds; `discover(log)` makes it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sopaudit import drawing
from sopaudit.discovery.mining import END, START, discover_tables

__all__ = ["ProcessMap", "discover"]


def _fmt_duration(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _blend(level: float) -> str:
    """Node fill: white-blue ramp by relative frequency (0..1)."""
    lo, hi = (0xEE, 0xF4, 0xFB), (0x1F, 0x5F, 0xA8)
    t = 0.15 + 0.85 * max(0.0, min(1.0, level))
    rgb = [round(a + (b - a) * t) for a, b in zip(lo, hi, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


@dataclass
class ProcessMap:
    """The actual process of a log: directly-follows edges, variants and activity counts, with
    a drawing. Make it with :func:`discover`."""

    dfg: pd.DataFrame
    variants: pd.DataFrame
    activities: pd.DataFrame
    n_cases: int
    n_events: int
    default_draw: dict[str, Any] = field(default_factory=dict)

    def graph(
        self,
        min_edge_share: float = 0.01,
        min_node_count: int = 1,
        max_nodes: int | None = 40,
        max_edges: int | None = None,
        metric: Literal["frequency", "wait"] = "frequency",
    ) -> tuple[list[drawing.Node], list[drawing.Edge]]:
        """Nodes and edges to draw, after the frequency thresholds (see :meth:`draw`)."""
        if metric not in ("frequency", "wait"):
            raise ValueError(f"unknown metric {metric!r}; use 'frequency' or 'wait'")
        acts = self.activities
        acts = acts[acts["events"] >= min_node_count]
        if max_nodes is not None:
            acts = acts.head(max_nodes)
        kept = list(acts["activity"])
        kept_set = set(kept) | {START, END}
        d = self.dfg
        cand = d[d["source"].isin(kept_set) & d["target"].isin(kept_set)]
        cand = cand.reset_index(drop=True)
        share = cand["cases"] / max(self.n_cases, 1)
        chosen = share >= min_edge_share
        if max_edges is not None:
            rank = np.arange(len(cand))
            chosen &= rank < max_edges
        # keep the strongest incoming and outgoing edge of every node so none floats free
        strongest = set(cand.drop_duplicates("source").index) | set(
            cand.drop_duplicates("target").index
        )
        chosen_idx = sorted(set(np.flatnonzero(chosen.to_numpy())) | strongest)
        edges_df = cand.loc[chosen_idx]
        used = set(edges_df["source"]) | set(edges_df["target"])
        max_ev = max(int(acts["events"].max()) if len(acts) else 1, 1)
        nodes: list[drawing.Node] = []
        if START in used:
            nodes.append(
                drawing.Node(
                    START,
                    START,
                    shape="circle",
                    fill="#2e7d32",
                    rank="first",
                    tooltip=f"start: {self.n_cases:,} cases",
                )
            )
        for row in acts.itertuples(index=False):
            level = math.log1p(row.events) / math.log1p(max_ev)
            nodes.append(
                drawing.Node(
                    str(row.activity),
                    f"{row.activity}\n{row.events:,}",
                    fill=_blend(level),
                    tooltip=f"{row.activity}\n{row.events:,} events in {row.cases:,} cases",
                )
            )
        if END in used:
            nodes.append(
                drawing.Node(
                    END,
                    END,
                    shape="circle",
                    fill="#37474f",
                    rank="last",
                    tooltip=f"end: {self.n_cases:,} cases",
                )
            )
        edges: list[drawing.Edge] = []
        for row in edges_df.itertuples(index=False):
            wait = _fmt_duration(row.median_wait_s)
            label = wait if metric == "wait" else f"{row.count:,}"
            tip = f"{row.source} → {row.target}\n{row.count:,} times in {row.cases:,} cases"
            if wait:
                tip += f"\nmedian wait {wait}, p90 {_fmt_duration(row.p90_wait_s)}"
            edges.append(
                drawing.Edge(
                    str(row.source),
                    str(row.target),
                    label=label,
                    weight=float(row.count),
                    color="#5c6b7a",
                    tooltip=tip,
                )
            )
        return nodes, edges

    def draw(
        self,
        path: str | Path | None = None,
        fmt: Literal["svg", "png"] = "svg",
        min_edge_share: float = 0.01,
        min_node_count: int = 1,
        max_nodes: int | None = 40,
        max_edges: int | None = None,
        metric: Literal["frequency", "wait"] = "frequency",
        style: drawing.Style | None = None,
    ) -> str:
        """Draw the map and return the SVG text; also write it to ``path`` (SVG or PNG).

        Thresholds keep big logs readable: activities with at least ``min_node_count`` events,
        at most ``max_nodes`` of the most frequent; edges followed by at least
        ``min_edge_share`` of the cases, at most ``max_edges`` of the most frequent; plus the
        strongest incoming and outgoing edge of each activity shown, so none floats free.
        ``metric`` labels edges with their count or their median wait.
        """
        nodes, edges = self.graph(min_edge_share, min_node_count, max_nodes, max_edges, metric)
        title = f"Process map: {self.n_cases:,} cases, {self.n_events:,} events"
        return drawing.draw(nodes, edges, path=path, fmt=fmt, style=style, title=title)

    def layout(self, **kwargs: Any) -> drawing.Layout:
        """The computed layout of :meth:`draw` with the same thresholds (for checks)."""
        style = kwargs.pop("style", None)
        nodes, edges = self.graph(**kwargs)
        return drawing.layout_graph(nodes, edges, style=style)

    def _repr_svg_(self) -> str:
        return self.draw(**self.default_draw)


def discover(log: pd.DataFrame) -> ProcessMap:
    """The actual process of a log, ready to inspect or draw (``discover(log).draw()``)."""
    return ProcessMap(**discover_tables(log))
