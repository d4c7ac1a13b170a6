"""Report language: message catalogs (Bahasa Indonesia and English) and locale formatting.

Labels and sentences live in JSON catalogs beside this module (`messages/id.json`,
`messages/en.json`), one stable key per text, with `{name}` placeholders; a test keeps the two
catalogs in step. Numbers, percentages and dates are formatted with Babel's CLDR data, so
Indonesian reports read `1.234,5`, `64,3%` and `5 Maret 2024`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

LANGS = ("id", "en")

Translator = Callable[..., str]


@cache
def catalog(lang: str, folder: Path | None = None) -> dict[str, str]:
    """The messages of one language (key -> text), from the report's catalogs or `folder`."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language '{lang}'; use one of {', '.join(LANGS)}")
    path = (folder or Path(__file__).with_name("messages")) / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def translator(lang: str, folder: Path | None = None) -> Translator:
    """A function key -> text in `lang`; a missing key is a bug, so it fails loudly.

    `t.has(key)` tells whether a key exists (for texts that are optional, such as a column label
    for a column another stage may add)."""
    messages = catalog(lang, folder)

    def t(key: str, **kwargs) -> str:
        text = messages[key]
        return text.format(**kwargs) if kwargs else text

    t.has = messages.__contains__  # type: ignore[attr-defined]
    t.lang = lang  # type: ignore[attr-defined]
    return t


def missing(value) -> bool:
    """Whether a table value is missing: None, NA, NaT or NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_number(value, lang: str, digits: int = 0) -> str:
    """1234.5 -> '1.234,5' (id) or '1,234.5' (en); a missing value -> '–'."""
    if missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=lang)


def format_percent(share, lang: str, digits: int = 1) -> str:
    """0.6428 -> '64,3%' (id) or '64.3%' (en); a missing value -> '–'."""
    if missing(share):
        return "–"
    return format_number(100 * float(share), lang, digits) + "%"


def format_date(value, lang: str, style: str = "long") -> str:
    """A date (or the date of a timestamp) in the locale: '5 Maret 2024' / 'March 5, 2024'."""
    if missing(value):
        return "–"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return _babel_date(value, format=style, locale=lang)


# Short event times: '4 Mar 2024 09.06' (id) / '4 Mar 2024 09:06' (en), in the time's own zone.
_EVENT_PATTERN = {"id": "d MMM yyyy HH.mm", "en": "d MMM yyyy HH:mm"}
_MONTH_PATTERN = "MMM yyyy"


def format_time(value, lang: str) -> str:
    """An event time in its own time zone, to the minute ('4 Mar 2024 09.06')."""
    if missing(value):
        return ""
    ts = pd.Timestamp(value)
    return _babel_datetime(ts.to_pydatetime(), format=_EVENT_PATTERN[lang], tzinfo=ts.tzinfo, locale=lang)


@cache
def _event_parts(lang: str) -> tuple[tuple[str, ...], str]:
    """The locale's abbreviated month names (index 1-12) and hour-minute separator of
    _EVENT_PATTERN, read once from Babel by formatting one day of every month."""
    months = ("",) + tuple(_babel_date(dt.date(2000, m, 1), format="MMM", locale=lang) for m in range(1, 13))
    return months, "." if lang == "id" else ":"


def time_texts(values, lang: str) -> list[str]:
    """`format_time` of many values at once: the same text (tests compare them), built from the
    locale's month names without a Babel call per event. A column of times (its own zone, or
    naive) is taken apart by numpy and joined by Arrow; other values one by one."""
    months, sep = _event_parts(lang)
    series = pd.Series(values, copy=False)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [_time_text(v, months, sep) for v in series.tolist()]
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_localize(None)  # the wall clock of the time's own zone
    minute = series.to_numpy(dtype="datetime64[m]")
    day = minute.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    known = ~np.isnat(minute)
    if ((year[known] < 1) | (year[known] > 9999)).any():
        return [_time_text(v, months, sep) for v in series.tolist()]
    of_day = (minute - day).astype(np.int64)

    def text(numbers, width: int = 1) -> pa.Array:
        return pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")

    clock = pc.binary_join_element_wise(text(of_day // 60, 2), text(of_day % 60, 2), sep)
    name = pa.array(months, pa.string()).take(pa.array(month.astype(np.int64) % 12 + 1))
    joined = pc.binary_join_element_wise(text((day - month).astype(np.int64) + 1), name, text(year, 4), clock, " ")
    return pc.if_else(pa.array(known), joined, "").to_pylist()


def _time_text(value, months: tuple[str, ...], sep: str) -> str:
    if missing(value):
        return ""
    ts = value if isinstance(value, dt.datetime) else pd.Timestamp(value)
    return f"{ts.day} {months[ts.month]} {ts.year:04d} {ts.hour:02d}{sep}{ts.minute:02d}"


def format_run_time(iso: str, lang: str) -> str:
    """The run's ISO timestamp as '29 November 2026 04.55 UTC' (id) or 'November 29, 2026 at
    4:55 AM UTC'-like (en); unreadable text is shown as given."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    pattern = "d MMMM yyyy HH.mm" if lang == "id" else "MMMM d, yyyy HH:mm"
    tz = when.tzinfo or dt.UTC
    return _babel_datetime(when, format=pattern, tzinfo=tz, locale=lang) + f" {when.strftime('%Z') or 'UTC'}"


def format_month(period: str, lang: str) -> str:
    """'2024-03' -> 'Mar 2024' in the locale ('Agu 2024' for August in Indonesian)."""
    year, month = (int(x) for x in period.split("-"))
    return _babel_date(dt.date(year, month, 1), format=_MONTH_PATTERN, locale=lang)
