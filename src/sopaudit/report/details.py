"""Findings in words: the explanation of each finding and durations in the report language."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from sopaudit.report.i18n import Translator, format_number, missing
from sopaudit.report.values import texts_by_code
from sopaudit.sop.model import SOP, Duration


def _text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def unit_label(unit: str, t: Translator, value: float | None = None) -> str:
    """'working_days' -> 'hari kerja' / 'working days' ('working day' for a value of 1); an
    unknown unit as written."""
    key = f"unit.{unit}"
    if value is not None and float(value) == 1 and t.has(key + ".one"):
        return t(key + ".one")
    return t(key) if unit and t.has(key) else str(unit or "").replace("_", " ")


def duration_text(d: Duration | None, t: Translator, lang: str) -> str:
    """A time standard in words: '15 menit', '1 hari kerja'; '' when there is none."""
    if d is None:
        return ""
    digits = 0 if float(d.value).is_integer() else 1
    return f"{format_number(d.value, lang, digits)} {unit_label(d.unit, t, d.value)}"


def measured_text(value, unit: str, t: Translator, lang: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    digits = 0 if float(value).is_integer() else 1
    return f"{format_number(float(value), lang, digits)} {unit_label(unit, t, value)}"


# conform/branches.py writes a wrong_branch finding's detail in English with its parts inside.
_WRONG_BRANCH = re.compile(r"^decision '(?P<question>.*)' answered '(?P<answer>yes|no)', but (?P<attribute>.*) = "
                           r"'(?P<value>.*)' requires '(?P<required>yes|no)'$", re.S)


def _value(v):
    """A field's value as Python holds it, missing ones (None, NaN, NA) as None."""
    v = v.item() if isinstance(v, np.generic) else v
    return None if missing(v) else v


class DetailWriter:
    """Writes the explanation of a finding in the report language.

    Sentences come from the catalog key `detail.<detail_code>`; a time finding without its own
    sentence is told from its measured value and limit; a code the catalog does not know keeps
    the engine's own (English) explanation, so nothing is lost."""

    def __init__(self, sop: SOP, t: Translator, lang: str):
        self.t, self.lang = t, lang
        self.names = {s.id: s.name for s in sop.steps}
        self.rules = {r.id: r for r in sop.rules if r.id}

    def name(self, step: str) -> str:
        return self.names.get(step, step)

    def __call__(self, row: dict) -> str:
        t = self.t
        code = _text(row.get("detail_code"))
        step = _text(row.get("step"))
        related = [s for s in _text(row.get("related")).split("; ") if s]
        if code == "rule":
            rule = self.rules.get(related[0]) if related else None
            rid = related[0] if related else ""
            if rule is not None and rule.description:
                return t("detail.rule_described", rule=rid, description=rule.description)
            return t("detail.rule", rule=rid) if rid else _text(row.get("detail"))
        if code == "wrong_branch":
            m = _WRONG_BRANCH.match(_text(row.get("detail")))
            if m is None:
                return _text(row.get("detail"))
            return t("detail.wrong_branch", question=m["question"], answer=t(f"value.{m['answer']}"),
                     attribute=m["attribute"], value=m["value"], required=t(f"value.{m['required']}"))
        if code and t.has(f"detail.{code}"):
            unit = _text(row.get("unit"))
            return t(f"detail.{code}", after=self.name(_text(row.get("expected_after"))),
                     steps=", ".join(f"'{self.name(s)}'" for s in related), step=step,
                     step_name=self.name(step), other=self.name(related[0]) if related else "",
                     related=", ".join(related), resource=_text(row.get("resource")),
                     measured=measured_text(row.get("measured"), unit, t, self.lang),
                     limit=measured_text(row.get("limit"), unit, t, self.lang))
        if row.get("kind") in ("late_step", "late_case"):
            unit = _text(row.get("unit"))
            measured = measured_text(row.get("measured"), unit, t, self.lang)
            limit = measured_text(row.get("limit"), unit, t, self.lang)
            if measured and limit:
                return t("detail.late", measured=measured, limit=limit)
        return _text(row.get("detail"))

    FIELDS = ("detail_code", "step", "related", "detail", "kind", "unit", "expected_after", "resource", "measured",
              "limit")

    def column(self, df: pd.DataFrame) -> list[str]:
        """The explanation of every finding of a table (see `categorical`)."""
        return self.categorical(df).tolist()

    def categorical(self, df: pd.DataFrame) -> pd.Categorical:
        """The explanation of every finding of a table, each distinct combination of the fields it
        reads written once (findings repeat a few sentences thousands of times): the combinations
        are found by factorizing the fields, not by a tuple per row."""
        fields = [f for f in self.FIELDS if f in df.columns]
        key = np.zeros(len(df), dtype=np.int64)
        for f in fields:  # missing values (None, NaN, NA) are one value, as in the sentences
            codes, uniques = pd.factorize(df[f], use_na_sentinel=True)
            key = pd.factorize(key * (len(uniques) + 1) + codes + 1)[0]
        _, first, which = np.unique(key, return_index=True, return_inverse=True)
        rows = df[fields].iloc[first].to_dict(orient="records") if fields else [{}] * len(first)
        return texts_by_code(which, [self({f: _value(v) for f, v in row.items()}) for row in rows])
