"""The event log ordered for time checks (`OrderedLog`) and findings frames with the audit's deviation columns; shared
by the time-standard checks (`timing.py`) and the role checks (`roles.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sopaudit.calendar.measure import NAT, UNITS
from sopaudit.core.columns import ACTIVITY, CASE, POS, RESOURCE, ROW, START, TIME
from sopaudit.sop.model import SOP

# The audit's deviation columns (sopaudit.conform.audit.DEVIATION_COLUMNS), in the same order;
# kept here so this module does not import the audit that imports it.
FINDING_COLUMNS = [
    "case_id", "kind", "step", "step_name", "detail", "related", "expected_after",
    "event_row", "event_time", "resource", "event_pos", "variant_id", "detail_code",
    "evidence_rows", "measured", "limit", "unit", "accepted", "accepted_reason",
]



UNIT_NAMES = np.array(UNITS + ("",), dtype=object)  # indexed by unit code; -1 (none) gives ""

_RANK = "_case_rank"


# --------------------------------------------------------------------- the ordered event log


class OrderedLog:
    """The columns the checks need, as numpy arrays over the log ordered by case and position.

    Shared by the time and role checks of this package; `frame` is the (possibly re-sorted)
    log, never the caller's object modified in place.
    """

    def __init__(self, events: pd.DataFrame, sop: SOP):
        missing = [c for c in (CASE, ACTIVITY, TIME) if c not in events.columns]
        if missing:
            raise ValueError(
                f"the event log lacks the column(s) {', '.join(missing)}; pass the audit's mapped "
                "log (sopaudit.conform.labels.map_activities) with pm4py column names"
            )
        frame = events
        if ROW not in frame.columns:
            frame = frame.assign(**{ROW: np.arange(1, len(frame) + 1)})
        found = _case_codes_if_ordered(frame)
        if found is None:
            # The audit passes its log sorted by case, time and row with positions; a hand-built
            # one may come in any order. Sorted here on a copy, never in place.
            frame = frame.sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True)
            codes, uniques = pd.factorize(frame[CASE], use_na_sentinel=False)
            frame = frame.assign(**{POS: _positions(codes)})
            found = codes, pd.Index(uniques)
        self.frame = frame
        self.n = len(frame)
        self.case = found[0].astype(np.int64)  # 0..n_cases-1, non-decreasing
        self.case_ids = found[1].astype("string")
        self.pos = frame[POS].to_numpy(dtype=np.int64)
        self.end = _ns(frame[TIME])
        self.start = _ns(frame[START]) if START in frame.columns else np.full(self.n, NAT)
        self.has_start = self.start != NAT
        self.step_ids = list(sop.step_ids)
        self.step_names = {s.id: s.name for s in sop.steps}
        self.step_name_array = np.array([s.name for s in sop.steps] + [""], dtype=object)
        act_codes, act_uniques = pd.factorize(frame[ACTIVITY])
        index = {sid: i for i, sid in enumerate(self.step_ids)}
        lookup = np.array([index.get(str(a), -1) for a in act_uniques] + [-1], dtype=np.int64)
        self.step = lookup[act_codes]  # SOP step index of each event, -1 when not an SOP step
        self.activity = frame[ACTIVITY]

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    def case_rank(self) -> np.ndarray:
        """Rank of each case's id in sorted order: findings are sorted by case id with it."""
        if self.case_ids.is_monotonic_increasing:
            return np.arange(self.n_cases)
        rank = np.empty(self.n_cases, np.int64)
        rank[np.argsort(self.case_ids.to_numpy(dtype=object), kind="stable")] = np.arange(self.n_cases)
        return rank


def ordered_log(events: pd.DataFrame | OrderedLog, sop: SOP) -> OrderedLog:
    """The log ordered for the checks; one already ordered is taken as it is: the audit orders
    its log once for all its time and role checks (on the 150,000-case log 25 ms each time)."""
    return events if isinstance(events, OrderedLog) else OrderedLog(events, sop)


def _case_codes_if_ordered(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index] | None:
    """(case code per row, case ids) when the log is ordered as the audit orders it, else None.

    Ordered: `sopaudit:pos` is 0 exactly where the case id changes, counts up by one within a
    case, and no case id comes back after another. Cheaper than hashing every row's case id.
    """
    if POS not in frame.columns or frame.empty:
        return None
    pos = frame[POS]
    if pos.isna().any() or frame[CASE].isna().any():
        return None
    pos = pos.to_numpy(dtype=np.int64)
    first = pos == 0
    if not first[0] or np.any(~first[1:] & (pos[1:] != pos[:-1] + 1)):
        return None
    cases = frame[CASE].array
    changed = np.asarray(cases[1:] != cases[:-1], dtype=bool)
    if not np.array_equal(changed, first[1:]):
        return None
    ids = pd.Index(cases[first])
    if not ids.is_unique:
        return None
    return np.cumsum(first) - 1, ids


def _positions(codes: np.ndarray) -> np.ndarray:
    """0-based position of each row within its (contiguous) case."""
    n = codes.size
    if n == 0:
        return np.zeros(0, np.int64)
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    lengths = np.diff(np.r_[first, n])
    return np.arange(n, dtype=np.int64) - np.repeat(first, lengths)


def _ns(values: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a tz-aware column (NaT as int64 min); naive times are refused."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is None and idx.notna().any():
        raise ValueError(
            f"the column {values.name!r} holds naive timestamps; the audit needs tz-aware times "
            "(read the log with sopaudit.read_log, or .dt.tz_localize('Asia/Jakarta') first)"
        )
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.as_unit("ns").asi8


# --------------------------------------------------------------------- findings tables


def finding_frame(
    log: OrderedLog,
    rows: np.ndarray,
    *,
    kind: str,
    detail: Sequence[str],
    detail_code: str | Sequence[str],
    related: Sequence[str] | None = None,
    evidence_rows: Sequence[str] | None = None,
    measured: Sequence[float] | None = None,
    limit: Sequence[float] | None = None,
    unit: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Findings on the events at `rows` of the ordered log, with the audit's deviation columns."""
    frame = log.frame
    n = rows.size

    def texts(values, default: str = "") -> np.ndarray:
        if values is None:
            return np.full(n, default, dtype=object)
        if isinstance(values, str):
            return np.full(n, values, dtype=object)
        return np.asarray(values, dtype=object)

    step = frame[ACTIVITY].iloc[rows].to_numpy(dtype=object)
    k = log.step[rows]
    step_name = np.where(k >= 0, log.step_name_array[np.maximum(k, 0)], step)
    resource = (frame[RESOURCE].iloc[rows].astype("string").reset_index(drop=True)
                if RESOURCE in frame.columns else pd.Series(pd.NA, index=range(n), dtype="string"))
    out = pd.DataFrame({
        "case_id": log.case_ids[log.case[rows]],
        "kind": texts(kind),
        "step": step.astype(str).astype(object),
        "step_name": step_name,
        "detail": texts(detail),
        "related": texts(related),
        "expected_after": texts(None),
        "event_row": pd.array(frame[ROW].to_numpy()[rows], dtype="Int64"),
        "event_time": frame[TIME].iloc[rows].reset_index(drop=True),
        "resource": resource,
        "event_pos": pd.array(log.pos[rows], dtype="Int64"),
        "variant_id": pd.array(np.zeros(n, np.int64), dtype="Int64"),
        "detail_code": texts(detail_code),
        "evidence_rows": texts(evidence_rows),
        "measured": np.asarray(measured, np.float64) if measured is not None else np.full(n, np.nan),
        "limit": np.asarray(limit, np.float64) if limit is not None else np.full(n, np.nan),
        "unit": texts(unit),
        "accepted": np.zeros(n, bool),
        "accepted_reason": texts(None),
    })
    out["variant_id"] = pd.NA  # filled by the audit for control-flow findings only
    out["variant_id"] = out["variant_id"].astype("Int64")
    out[_RANK] = log.case_rank()[log.case[rows]]  # sort key; combine_findings drops it
    return out[FINDING_COLUMNS + [_RANK]]


def empty_findings(time_dtype=None) -> pd.DataFrame:
    """A findings table with no rows and the column types of a filled one."""
    return pd.DataFrame({
        "case_id": pd.Series(dtype="string"), "kind": pd.Series(dtype=object),
        "step": pd.Series(dtype=object), "step_name": pd.Series(dtype=object),
        "detail": pd.Series(dtype=object), "related": pd.Series(dtype=object),
        "expected_after": pd.Series(dtype=object), "event_row": pd.Series(dtype="Int64"),
        "event_time": pd.Series(dtype=time_dtype or pd.DatetimeTZDtype("ns", "UTC")),
        "resource": pd.Series(dtype="string"), "event_pos": pd.Series(dtype="Int64"),
        "variant_id": pd.Series(dtype="Int64"), "detail_code": pd.Series(dtype=object),
        "evidence_rows": pd.Series(dtype=object), "measured": pd.Series(dtype=np.float64),
        "limit": pd.Series(dtype=np.float64), "unit": pd.Series(dtype=object),
        "accepted": pd.Series(dtype=bool), "accepted_reason": pd.Series(dtype=object),
    })[FINDING_COLUMNS]


def combine_findings(pieces: list[pd.DataFrame], log: OrderedLog) -> pd.DataFrame:
    """Concatenate finding_frame tables in the deterministic order: case id, event position,
    detail code, related step. An empty table (same columns) when there is nothing."""
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return empty_findings(log.frame[TIME].dtype)
    out = pd.concat(pieces, ignore_index=True)
    out = out.sort_values([_RANK, "event_pos", "detail_code", "related"], kind="mergesort")
    return out.drop(columns=_RANK).reset_index(drop=True)


def amounts(values: np.ndarray, unit_codes: np.ndarray) -> np.ndarray:
    """_amount of every value (object array), formatting each distinct (value, unit) once."""
    values = np.round(np.asarray(values, np.float64), 2)
    out = np.empty(values.size, dtype=object)
    for code in np.unique(unit_codes):
        mask = unit_codes == code
        distinct, inverse = np.unique(values[mask], return_inverse=True)
        texts = np.array([_amount(v, UNIT_NAMES[code]) for v in distinct] + [""], dtype=object)
        out[mask] = texts[inverse.ravel()]
    return out


def _amount(value: float, unit: str) -> str:
    """'32 minutes', '1 working day', '2.5 hours'."""
    number = np.format_float_positional(round(float(value), 2), trim="-")
    words = str(unit).replace("_", " ")
    if number == "1" and words.endswith("s"):
        words = words[:-1]
    return f"{number} {words}"
