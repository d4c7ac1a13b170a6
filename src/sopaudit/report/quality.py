"""The data-quality section: the ingest's quality report and the rejected rows, shown as given.

The ingest stage owns the content of `AuditResult.quality` (a dict of counts, lists and tables);
this module shows any such dict without knowing its keys in advance: known keys get a translated
label (catalog key `quality.<key>`), others their own name, and every value is shown as numbers,
lists or small tables, capped, with the count of what was left out; booleans and the ingest's
known codes and phrases in the report language (`report.values`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sopaudit.report.i18n import Translator, format_number
from sopaudit.report.values import phrase, value_text

FIRST_ROWS = 10  # row numbers shown per rejection reason


def _label(key: str, t: Translator) -> str:
    k = f"quality.{key}"
    return t(k) if t.has(k) else str(key).replace("_", " ")


def _key(key, t: Translator) -> str:
    """A key of a mapping shown as a row (a column name, a time format found): its label, or
    the phrase in the report language."""
    k = f"quality.{key}"
    return t(k) if t.has(k) else phrase(str(key), t)


def _scalar(value, lang: str, t: Translator | None = None) -> str:
    if t is not None:
        return value_text(value, t, lang)
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, lang)
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return format_number(value, lang, 0 if value.is_integer() else 3)
    return str(value)


def _is_scalar(value) -> bool:
    return not isinstance(value, Mapping | list | tuple | set | pd.DataFrame | pd.Series | np.ndarray)


def _as_list(value) -> list:
    if isinstance(value, pd.Series | np.ndarray):
        return list(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return list(value)


def _cell(value, lang: str, limit: int, t: Translator | None = None) -> str:
    if _is_scalar(value):
        return _scalar(value, lang, t)
    items = _as_list(value.items() if isinstance(value, Mapping) else value)
    shown = ", ".join(_scalar(v, lang, t) if _is_scalar(v) else str(v) for v in items[:limit])
    return shown + (f" … (+{format_number(len(items) - limit, lang)})" if len(items) > limit else "")


def _table(value, t: Translator, lang: str, limit: int) -> dict:
    """A dict or a list as {head, rows, more}: rows of text cells, at most `limit`."""
    if isinstance(value, pd.DataFrame):
        value = value.to_dict(orient="records")
    if isinstance(value, Mapping):
        items = list(value.items())
        if items and all(isinstance(v, Mapping) for _, v in items):
            cols = list(dict.fromkeys(c for _, v in items for c in v))
            rows = [[_key(k, t)] + [_cell(v.get(c), lang, FIRST_ROWS, t) for c in cols] for k, v in items[:limit]]
            return {"head": [""] + [_label(c, t) for c in cols], "rows": rows, "more": max(0, len(items) - limit)}
        rows = [[_key(k, t), _cell(v, lang, FIRST_ROWS, t)] for k, v in items[:limit]]
        return {"head": [], "rows": rows, "more": max(0, len(items) - limit)}
    items = _as_list(value)
    if items and all(isinstance(v, Mapping) for v in items):
        cols = list(dict.fromkeys(c for v in items for c in v))
        rows = [[_cell(v.get(c), lang, FIRST_ROWS, t) for c in cols] for v in items[:limit]]
        return {"head": [_label(c, t) for c in cols], "rows": rows, "more": max(0, len(items) - limit)}
    if items and all(isinstance(v, list | tuple) for v in items):
        rows = [[_cell(x, lang, FIRST_ROWS, t) for x in v] for v in items[:limit]]
        return {"head": [], "rows": rows, "more": max(0, len(items) - limit)}
    return {"head": [], "rows": [[_cell(items, lang, limit, t)]], "more": 0}


def rejected_by_reason(rejected: list) -> list[tuple[str, int, list]]:
    """(reason, rows, first row numbers) per reason, most frequent first."""
    groups: dict[str, list] = {}
    for row, reason in rejected:
        groups.setdefault(str(reason), []).append(row)
    return sorted(((r, len(rows), rows[:FIRST_ROWS]) for r, rows in groups.items()), key=lambda x: (-x[1], x[0]))


# Shown elsewhere in the section (rows read, rejected rows) or of no use to a reader.
SKIPPED_KEYS = ("schema_version", "rows_read", "rows_rejected", "rejected_by_reason")


def _counted(value: Mapping, t: Translator, lang: str) -> dict:
    """A check reported as {"count": n, "rows": [...], ...}: the count, then its other fields
    in words (lists cut to their first entries)."""
    notes = []
    for k, v in value.items():
        if k == "count":
            continue
        if _is_scalar(v) or len(_as_list(v.items() if isinstance(v, Mapping) else v)):
            notes.append(f"{_label(k, t)}: {_cell(v, lang, FIRST_ROWS, t)}")
    return {"value": _scalar(value["count"], lang, t), "notes": notes}


def quality_view(result, t: Translator, lang: str, limit: int) -> dict:
    """What the data-quality section shows: each entry of the quality report, and the rejected
    rows grouped by reason."""
    items = []
    for key, value in (result.quality or {}).items():
        item = {"key": key, "label": _label(key, t), "value": None, "notes": [], "table": None}
        if key in SKIPPED_KEYS:
            continue
        if _is_scalar(value):
            item["value"] = _scalar(value, lang, t)
        elif isinstance(value, Mapping) and "count" in value and _is_scalar(value["count"]):
            item.update(_counted(value, t, lang))
        elif len(value):
            item["table"] = _table(value, t, lang, limit)
        else:
            item["value"] = t("none")
        items.append(item)
    reasons = [(phrase(r, t), format_number(n, lang), ", ".join(_scalar(x, lang) for x in first) + (" …" if n > len(first) else ""))
               for r, n, first in rejected_by_reason(result.rejected)]
    p = result.provenance
    dev = result.deviations
    n_incomplete = (int(dev.loc[dev["evidence_incomplete"], "case_id"].nunique())
                    if "evidence_incomplete" in dev else 0)
    return {"items": items, "rejected": reasons, "n_rejected": len(result.rejected), "n_incomplete": n_incomplete,
            "rows_read": p.get("log_rows_read"), "has_report": bool(result.quality)}


def quality_rows(result, t: Translator | None = None, lang: str = "en") -> list[tuple[str, str, object]]:
    """The quality report flattened to (entry, item, value) rows for the workbook; with a
    translator, keys, yes/no and known codes in its language (numbers stay numbers)."""
    out: list[tuple[str, str, object]] = []

    def value_of(v):
        if _is_scalar(v):
            v = v.item() if isinstance(v, np.generic) else v
            return value_text(v, t, lang) if t is not None and isinstance(v, bool | str) else v
        items = _as_list(v.items() if isinstance(v, Mapping) else v)
        return "; ".join(str(x) for x in items)

    def key(k) -> str:
        return _key(k, t) if t is not None else str(k)

    for name, value in (result.quality or {}).items():
        if isinstance(value, pd.DataFrame):
            value = value.to_dict(orient="records")
        if _is_scalar(value):
            out.append((key(name), "", value_of(value)))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                out.append((key(name), key(k), value_of(v)))
        else:
            for i, v in enumerate(_as_list(value), start=1):
                text = "; ".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, Mapping) else value_of(v)
                out.append((key(name), str(i), text))
    for reason, n, _ in rejected_by_reason(result.rejected):
        out.append((key("rows_rejected"), phrase(reason, t) if t is not None else reason, n))
    return out
