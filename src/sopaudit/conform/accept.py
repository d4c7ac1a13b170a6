"""Accepted deviations: an allow-list of findings the office has justified and approved.

An accepted finding stays in every table with its reason, but it does not make a case
non-conforming. An entry that matches no finding is reported, so stale entries get noticed.

File format (YAML):

    accepted:
      - kind: skipped                 # a finding kind (required)
        step: verifikasi_penyelia     # optional: any step when absent
        condition: {attribute: jenis_layanan, in: [percepatan]}   # optional, on case attributes
        valid_from: 2024-01-01        # optional: the finding's time (or case start) from ...
        valid_to: 2024-06-30          # ... up to and including this date
        reason: Penyelia cuti; verifikasi oleh Kasi sesuai memo 12/2024
        approved_by: Kepala Kantor    # required
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sopaudit.core.errors import InputFileError
from sopaudit.core.kinds import ALL_KINDS
from sopaudit.sop.yamlsrc import LocDict, LocList, load_yaml


@dataclass(frozen=True)
class AllowEntry:
    kind: str
    reason: str
    approved_by: str
    step: str = ""
    attribute: str = ""
    values: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    line: int = 0


_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")


def load_allow_list(path: str | Path) -> list[AllowEntry]:
    """Read an allow-list file; every problem is reported with file:line:column at once."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: the accepted-deviations file does not exist; check the path")
    try:
        doc = load_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise InputFileError(f"{where}: YAML syntax error ({getattr(exc, 'problem', exc)})") from None
    items = doc.get("accepted") if isinstance(doc, LocDict) else None
    if not isinstance(items, LocList):
        raise InputFileError(f"{path}:1:1: the file must hold 'accepted:' with a list of entries")
    problems: list[str] = []
    entries = []
    allowed = {"kind", "step", "condition", "valid_from", "valid_to", "reason", "approved_by"}

    def where(d: LocDict, key: str | None = None) -> str:
        line, col = d.key_locs.get(key, d.loc) if key else d.loc
        return f"{path}:{line}:{col}"

    for i, item in enumerate(items):
        if not isinstance(item, LocDict):
            line, col = items.item_locs[i]
            problems.append(f"{path}:{line}:{col}: an entry is a mapping with kind, reason and approved_by")
            continue
        for key in item:
            if key not in allowed:
                problems.append(f"{where(item, key)}: unknown key '{key}'; allowed: {', '.join(sorted(allowed))}")
        kind = str(item.get("kind", "")).strip()
        if kind not in ALL_KINDS:
            problems.append(f"{where(item, 'kind')}: kind '{kind}' is not a finding kind; use one of "
                            f"{', '.join(ALL_KINDS)}")
        for key in ("reason", "approved_by"):
            if not str(item.get(key) or "").strip():
                problems.append(f"{where(item)}: missing '{key}:'; an accepted deviation needs a reason "
                                "and the person who approved it")
        attribute, values = "", ()
        cond = item.get("condition")
        if cond is not None:
            if not isinstance(cond, LocDict) or "attribute" not in cond or "in" not in cond:
                problems.append(f"{where(item, 'condition')}: a condition is {{attribute: NAME, in: [values]}}")
            else:
                attribute = str(cond["attribute"]).strip()
                if not _ATTR_RE.match(attribute):
                    problems.append(f"{where(cond, 'attribute')}: attribute name '{attribute}' is malformed")
                raw = cond["in"]
                values = tuple(str(v) for v in (raw if isinstance(raw, list) else [raw]))
        dates = {}
        for key in ("valid_from", "valid_to"):
            v = item.get(key)
            if v is None or isinstance(v, dt.date):
                dates[key] = v
                continue
            try:
                dates[key] = dt.date.fromisoformat(str(v))
            except ValueError:
                problems.append(f"{where(item, key)}: '{v}' is not a date; write YYYY-MM-DD")
                dates[key] = None
        entries.append(AllowEntry(kind, str(item.get("reason") or "").strip(),
                                  str(item.get("approved_by") or "").strip(), str(item.get("step") or "").strip(),
                                  attribute, values, dates["valid_from"], dates["valid_to"], item.loc[0]))
    if problems:
        raise InputFileError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems))
    return entries


def apply_allow_list(deviations: pd.DataFrame, case_attrs: pd.DataFrame, case_start: pd.Series,
                     entries: list[AllowEntry]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mark accepted findings; returns (deviations, one row per entry with its match count).

    The first matching entry gives the reason. `case_attrs` is indexed by case id; the date of a
    finding is its event's local date, or the case's start for findings without an event.
    """
    if not entries:
        return deviations, pd.DataFrame()
    out = deviations.copy()
    # Local date of the finding: its event, or the start of the case for a skipped step (a
    # date object per finding: only when an entry is bounded in time).
    dated = any(e.valid_from is not None or e.valid_to is not None for e in entries)
    day = out["event_time"].fillna(out["case_id"].map(case_start)).dt.date if dated else None
    rows = []
    for e in entries:
        mask = (out["kind"] == e.kind) & ~out["accepted"]
        if e.step:
            mask &= out["step"] == e.step
        if e.attribute:
            col = case_attrs[e.attribute] if e.attribute in case_attrs else pd.Series(dtype="string")
            mask &= out["case_id"].map(col).astype("string").isin(e.values).fillna(False).to_numpy()
        if e.valid_from is not None:
            mask &= (day >= e.valid_from).to_numpy()
        if e.valid_to is not None:
            mask &= (day <= e.valid_to).to_numpy()
        out.loc[mask, "accepted"] = True
        out.loc[mask, "accepted_reason"] = f"{e.reason} (approved by {e.approved_by})"
        rows.append({"line": e.line, "kind": e.kind, "step": e.step or "*",
                     "condition": f"{e.attribute} in [{', '.join(e.values)}]" if e.attribute else "",
                     "valid_from": e.valid_from, "valid_to": e.valid_to, "reason": e.reason,
                     "approved_by": e.approved_by, "findings_matched": int(mask.sum())})
    return out, pd.DataFrame(rows)
