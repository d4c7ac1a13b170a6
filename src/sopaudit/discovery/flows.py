"""The flows an SOP allows and the differences between the SOP and the log.

- which directly-follows flows the SOP allows (:func:`sop_flows`), read from the compiled Petri
  net's reachability graph, so it holds for YAML tables, PNML and BPMN models alike;
- a table of the differences between the SOP and the log (:func:`compare`): activities and
  flows in one but not the other, with counts.

The drawings of the SOP beside the actual process are in :mod:`sopaudit.discovery.overlay`.
The log's activities are mapped to SOP step ids the way :func:`sopaudit.audit` maps them (name,
id or alias), so both sides speak of the same steps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sopaudit.conform.labels import map_activities
from sopaudit.discovery.mining import CASE, END, START, LogOrder, log_order
from sopaudit.sop.compile import CompiledNet, compile_sop
from sopaudit.sop.marking import MarkingGraph
from sopaudit.sop.model import SOP, StepRef, walk

__all__ = ["DIFFERENCE_COLUMNS", "DIFFERENCE_KINDS", "SopFlows", "compare", "open_case_ids", "sop_flows"]

DIFFERENCE_KINDS = ("activity_not_in_sop", "step_not_in_log", "flow_not_in_sop", "flow_not_in_log")
"""Kinds of rows of the :func:`compare` table, in the order the table lists them."""

DIFFERENCE_COLUMNS = [
    "kind", "source", "target", "source_name", "target_name", "count", "cases", "case_share",
    "example_cases", "detail",
]

EXAMPLE_CASES = 5  # case ids listed per flow the SOP does not allow


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


def transitions(log: pd.DataFrame, s: LogOrder | None = None) -> pd.DataFrame:
    """Every directly-follows occurrence of the log, one row per (case, source, target), with
    :data:`START` before the first and :data:`END` after the last event of each case; in the
    event order of :func:`sopaudit.discovery.sort_log` (so the counts equal ``dfg``). `s`: the
    log's sort when the caller has made it."""
    s = s if s is not None else log_order(log)
    if len(s.order) == 0:
        return pd.DataFrame({"case": [], "source": [], "target": []}, dtype=object)
    # Text columns taken from the distinct ids and names by code: one string per distinct value
    # instead of one per event. START and END are the last two names.
    cases = pd.array([str(c) for c in s.case_ids], dtype="str")
    names = pd.array([str(a) for a in s.activities] + [START, END], dtype="str")
    start, end = len(names) - 2, len(names) - 1
    case, act = s.case_codes, s.act_codes
    new = np.concatenate(([True], case[1:] != case[:-1]))
    last = np.concatenate((new[1:], [True]))
    first_idx = np.flatnonzero(new)
    last_idx = np.flatnonzero(last)
    inner = np.flatnonzero(~new)  # events with a predecessor in the same case
    return pd.DataFrame({
        "case": cases.take(np.concatenate((case[first_idx], case[inner], case[last_idx]))),
        "source": names.take(np.concatenate((np.full(len(first_idx), start), act[inner - 1], act[last_idx]))),
        "target": names.take(np.concatenate((act[first_idx], act[inner], np.full(len(last_idx), end)))),
    })


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


def open_case_ids(result) -> set[str]:
    """The cases an audit judged still under way (``status == "incomplete"``), for
    :func:`compare`: the one open-case decision of :mod:`sopaudit.conform.open_cases`."""
    cases = result.cases
    return set(cases.loc[cases["status"] == "incomplete", "case_id"].astype(str))


def compare(log: pd.DataFrame, sop: SOP, flows: SopFlows | None = None,
            open_cases: Iterable[str] | None = None) -> pd.DataFrame:
    """The differences between the SOP and the log, one row per difference.

    ``kind`` is one of :data:`DIFFERENCE_KINDS`:

    - ``activity_not_in_sop``: an activity of the log that is no SOP step (``source``); count
      of its events and of the cases with it;
    - ``step_not_in_log``: an SOP step no case did (count 0);
    - ``flow_not_in_sop``: ``target`` directly followed ``source`` in the log but the SOP does
      not allow it (:data:`START`/:data:`END` for a case's first/last event); how many times,
      in how many cases, and the first case ids (sorted);
    - ``flow_not_in_log``: a flow the SOP allows that no case took (count 0).

    ``open_cases``: ids of cases still under way when the log ends (the audit's decision,
    :func:`open_case_ids` of an :class:`sopaudit.AuditResult`); their last event -> end is not
    a flow (they have not ended), so it is neither counted nor reported.

    Columns :data:`DIFFERENCE_COLUMNS`; ``detail`` says it in words. Sorted by kind, then count
    (descending), then SOP order, so the same inputs give the same table.
    """
    flows = flows or sop_flows(sop)
    mapped = map_activities(log, sop)
    names = {s.id: s.name for s in sop.steps}
    steps = set(flows.steps)
    pos = {s: i for i, s in enumerate(flows.steps)}
    n_cases = int(mapped[CASE].nunique())
    tr = transitions(mapped)
    if open_cases is not None:
        still = tr["case"].isin({str(c) for c in open_cases}) & (tr["target"] == END)
        tr = tr[~still]
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
    outside = events[~events["target"].isin(list(steps))].groupby("target", sort=True)["case"].agg(
        lambda c: "; ".join(sorted(set(c))[:EXAMPLE_CASES]))
    for act, r in per_act.iterrows():
        if act not in steps:
            row("activity_not_in_sop", act, "", r["size"], r["nunique"], outside.get(act, ""),
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
