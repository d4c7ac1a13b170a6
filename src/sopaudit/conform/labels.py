"""The log's activity labels as SOP step ids: the one mapping every check and map works on."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, LABEL, ROW
from sopaudit.sop.model import SOP


def map_activities(log: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """A copy of the log whose activities are SOP step ids where a name, id or alias matches;
    unmatched labels stay as recorded (they become `unexpected` findings). The copy shares the
    columns it leaves alone: columns are replaced or added, never written into."""
    out = log.copy(deep=False)
    if LABEL not in out.columns:
        out[LABEL] = out[ACTIVITY]
    aliases = sop.alias_map()
    # after the ingest label table; LABEL keeps the record. Each distinct label is looked up
    # once and the column taken from them by code (missing labels stay missing).
    codes, uniques = pd.factorize(out[ACTIVITY])
    steps = [aliases.get(v, v) for v in pd.Series(uniques).astype("string")]
    out[ACTIVITY] = pd.Series(pd.array(steps, dtype="string").take(codes, allow_fill=True), index=out.index)
    if ROW not in out.columns:
        out[ROW] = np.arange(1, len(out) + 1)
    # XES readers name case attributes "case:<name>"; SOP conditions and service standards use
    # the plain name, so both names are offered.
    for col in [c for c in out.columns if isinstance(c, str) and c.startswith("case:") and c != CASE]:
        if col[5:] and col[5:] not in out.columns:
            out[col[5:]] = out[col]
    return out


def counts_by_text(column: pd.Series) -> pd.Series:
    """Rows per value of `column`, indexed by the value as text (missing values left out):
    counted by code, so a categorical's rows are not copied to text one by one, then values
    that read alike (1 and "1") summed."""
    codes, values = pd.factorize(column)
    counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(values)), index=pd.Index(values).astype("string"))
    return counts.groupby(level=0, sort=False).sum()


NEAR = 0.8  # difflib similarity from which a log label is offered as an alias of a step
FEW = 0.5  # below this share of the log's labels (or events) matching a step, the SOP may be the wrong one


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold()).ratio()


def label_warnings(log: pd.DataFrame, sop: SOP) -> list[dict]:
    """Warnings about labels that do not meet the SOP, before they turn into alarming findings:

    - `near_label`: an SOP step matches no label of the log while an unmatched label is a near
      match (difflib similarity >= `NEAR` to the step's id, name or an alias, ignoring case):
      probably a typo or another spelling; the warning suggests the label as an alias;
    - `few_labels`: fewer than `FEW` of the log's distinct labels, or of its events, match any
      SOP step: perhaps the SOP of another service, or labels that need a mapping.

    Each warning is a dict with `code`, `step`, `label`, `similarity`, `events` and an English
    `message` (the report words it in its language)."""
    aliases = sop.alias_map()
    counts = counts_by_text(log[ACTIVITY])
    matched = {lab for lab in counts.index if lab in aliases}
    used_steps = {aliases[lab] for lab in matched}
    unmatched = [lab for lab in counts.index if lab not in aliases]
    out: list[dict] = []
    for s in sop.steps:
        if s.id in used_steps or not unmatched:
            continue
        names = (s.id, s.name, *s.aliases)
        best = max(((max(_similarity(lab, n) for n in names), lab) for lab in unmatched),
                   key=lambda x: (x[0], int(counts[x[1]]), x[1]))
        if best[0] >= NEAR:
            sim, lab = best
            out.append({"code": "near_label", "step": s.id, "label": lab, "similarity": round(sim, 3),
                        "events": int(counts[lab]),
                        "message": f"SOP step '{s.id}' ({s.name}) matches no label of the log, but the log has "
                                   f"'{lab}' ({int(counts[lab]):,} events, {100 * sim:.0f}% similar): if it is the "
                                   f"same step, add it to the step's aliases (aliases: [{lab}])"})
    n_labels, n_events = len(counts), int(counts.sum())
    ev_matched = int(counts[list(matched)].sum()) if matched else 0
    if n_labels and (len(matched) / n_labels < FEW or ev_matched / max(n_events, 1) < FEW):
        out.append({"code": "few_labels", "step": "", "label": "", "similarity": None,
                    "events": ev_matched, "labels_matched": len(matched), "labels": n_labels,
                    "message": f"only {len(matched)} of the log's {n_labels} labels ({100 * ev_matched / n_events:.0f}% "
                               "of its events) match an SOP step: check that the SOP belongs to this log, or map "
                               "the labels (step aliases or a label table, docs/mapping.md)"})
    return out
