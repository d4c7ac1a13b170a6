"""The log's activity labels as SOP step ids: the one mapping every check and map works on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, LABEL, ROW
from sopaudit.sop.model import SOP


def map_activities(log: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """A copy of the log whose activities are SOP step ids where a name, id or alias matches;
    unmatched labels stay as recorded (they become `unexpected` findings)."""
    out = log.copy()
    if LABEL not in out.columns:
        out[LABEL] = out[ACTIVITY]
    aliases = sop.alias_map()
    labels = out[ACTIVITY].astype("string")  # after the ingest label table; LABEL keeps the record
    uniques = pd.Series(labels.unique())
    lookup = dict(zip(uniques, uniques.map(lambda v: aliases.get(v, v)), strict=True))
    out[ACTIVITY] = labels.map(lookup).astype("string")
    if ROW not in out.columns:
        out[ROW] = np.arange(1, len(out) + 1)
    # XES readers name case attributes "case:<name>"; SOP conditions and service standards use
    # the plain name, so both names are offered.
    for col in [c for c in out.columns if isinstance(c, str) and c.startswith("case:") and c != CASE]:
        if col[5:] and col[5:] not in out.columns:
            out[col[5:]] = out[col]
    return out
