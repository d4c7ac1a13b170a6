"""Values of the audit's parameters and of the ingest's quality report in the report language.

The audit and the ingest record their settings and checks as plain data (booleans, numbers,
short English codes such as `keep` or `year-first (2024-12-31 14:05)`); a report shows them in
words of its own language: yes/no, numbers in the locale, and known codes and phrases from the
catalogs (`value.<code>`, `time_family.<family>`, `param.<key>`). Anything unknown is shown as
recorded, so nothing is lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sopaudit.ingest.timestamps import FAMILY_LABELS
from sopaudit.report.i18n import Translator, format_number

_FAMILY_OF = {label: family for family, label in FAMILY_LABELS.items()}
# ingest/quality.py: "08:00-16:00 on working days (ID, Asia/Jakarta)"
_OFFICE_HOURS = re.compile(r"^(\d{1,2}[:.]\d{2}-\d{1,2}[:.]\d{2}) on working days \((.*)\)$")
# ingest/build.py: the reasons a row is rejected, with the column named
_REASONS = (
    (re.compile(r"^no case id in column '(.*)'$"), "value.reason_no_case"),
    (re.compile(r"^no activity in column '(.*)'$"), "value.reason_no_activity"),
    (re.compile(r"^missing or unreadable time in column '(.*)'$"), "value.reason_no_time"),
)
# conform/accept.py: why a finding is accepted, and who approved it
_APPROVED = re.compile(r"^(.*) \(approved by (.*)\)$", re.S)
# auditing/run.py: the alignment costs of the standard cost function
STANDARD_COSTS = "log move 1, visible model move 1, synchronous and silent moves 0"


def phrase(text: str, t: Translator) -> str:
    """A code or phrase of the audit or the ingest in the report language (as recorded when
    the catalogs do not know it)."""
    if t.has(f"value.{text}"):
        return t(f"value.{text}")
    if text in _FAMILY_OF and t.has(f"time_family.{_FAMILY_OF[text]}"):
        return t(f"time_family.{_FAMILY_OF[text]}")
    m = _OFFICE_HOURS.match(text)
    if m:
        return t("value.office_hours", hours=m.group(1), where=m.group(2))
    for pattern, key in _REASONS:
        m = pattern.match(text)
        if m:
            return t(key, column=m.group(1))
    m = _APPROVED.match(text)
    if m:
        return f"{m.group(1)} ({t('approved_by_inline', name=m.group(2))})"
    if text == STANDARD_COSTS:
        return t("value.standard_costs")
    return text


def value_text(value, t: Translator, lang: str) -> str:
    """Any recorded value as text: yes/no, numbers in the locale, lists and mappings in words."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return t("value.yes") if value else t("value.no")
    if isinstance(value, int):
        return format_number(value, lang)
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return format_number(value, lang, 0 if value.is_integer() else 3)
    if isinstance(value, str):
        return phrase(value, t)
    if isinstance(value, Mapping):
        return "; ".join(f"{key_label(k, t)}: {value_text(v, t, lang)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return ", ".join(value_text(v, t, lang) for v in items)
    return str(value)


def key_label(key, t: Translator) -> str:
    """The label of a parameter or a quality-report key (its own name when unknown)."""
    for prefix in ("param", "quality"):
        if t.has(f"{prefix}.{key}"):
            return t(f"{prefix}.{key}")
    return phrase(str(key), t)


def parameter_rows(parameters: Mapping, t: Translator, lang: str) -> list[tuple[str, str]]:
    """The audit's parameters (provenance) as (label, value) rows in the report language; how open
    cases were decided has its own sentence (open_cases_view)."""
    return [(key_label(k, t), value_text(v, t, lang)) for k, v in sorted((parameters or {}).items())
            if k != "open_cases"]


def open_cases_view(parameters: Mapping, t: Translator, lang: str) -> dict | None:
    """How still-open cases were decided (conform/open_cases.py) and how many each rule classified."""
    method = parameters.get("open_cases")
    if not method:
        return None
    if method.get("rule") == "open_days":
        days = float(method.get("open_days"))
        text = t("open.method_days", days=format_number(days, lang, 0 if days.is_integer() else 1))
    else:
        text = t("open.method_data", pct=method.get("percentile"), min=method.get("min_waits"))
    counts = [(t(f"open.rule.{k}"), format_number(v, lang)) for k, v in (method.get("cases_by_rule") or {}).items()
              if v and t.has(f"open.rule.{k}")]
    return {"text": text, "counts": counts}



# Columns of the result tables that hold codes with a label in the catalogs (prefix of the key).
CODE_COLUMNS = {"status": "status", "measure": "measure", "unit": "unit", "end_reached": "end_reached"}


def with_code_labels(df: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """A copy of a result table whose code columns (status, measure, unit, end) show their labels in
    the report language; codes without a label stay as they are."""
    cols = [c for c in CODE_COLUMNS if c in df.columns]
    if not cols or df.empty:
        return df
    out = df.copy(deep=False)  # the code columns are replaced, the others shared
    for c in cols:
        key = CODE_COLUMNS[c]
        out[c] = labelled(out[c].astype("string"), lambda v, key=key: t(f"{key}.{v}") if t.has(f"{key}.{v}") else v)
    return out


def labelled(column: pd.Series, label) -> pd.Categorical:
    """label(value) of every value of a column, computed once per distinct value; a missing
    value stays missing."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return texts_by_code(codes, [label(u) for u in uniques.tolist()])


def texts_by_code(codes: np.ndarray, texts: list[str]) -> pd.Categorical:
    """texts[code] for every code (-1: missing) as a categorical, one category per distinct text
    (two codes may read alike): what the workbook writes from its categories at once."""
    text_codes, uniques = pd.factorize(pd.Index(texts, dtype=object))
    codes = np.asarray(codes)
    taken = np.where(codes < 0, -1, text_codes[np.maximum(codes, 0)]) if len(text_codes) else np.full(len(codes), -1)
    return pd.Categorical.from_codes(taken, categories=pd.Index(uniques, dtype=object))
