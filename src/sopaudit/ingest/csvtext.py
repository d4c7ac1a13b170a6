"""Columns of a DataFrame as text for the writers, vectorised with numpy and Arrow.

pandas formats tz-aware times and categorical values one Python object at a time (about 90 s
for ten million events); here times are written digit by digit into a fixed-width byte buffer
and every other value once per distinct value, then Arrow joins the columns into lines. The text
is what `DataFrame.to_csv` writes (QUOTE_MINIMAL, missing values empty), so the files are the
same bytes.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _quoted_chars() -> str:
    """The characters that make pandas' writer (the csv module, QUOTE_MINIMAL, '\\n' line ends)
    quote a field: ',', '"' and '\\n', and '\\r' only in the Python versions that quote it."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["a\rb"])
    return ',"\n' + ("\r" if buf.getvalue().startswith('"') else "")


_QUOTED = _quoted_chars()
_NEEDS_QUOTES = "[" + _QUOTED.replace("\n", r"\n").replace("\r", r"\r") + "]"  # for Arrow (RE2)


def quote(text: str) -> str:
    """One CSV field as pandas writes it (QUOTE_MINIMAL with ',' and '"')."""
    if any(c in text for c in _QUOTED):
        return '"' + text.replace('"', '""') + '"'
    return text


def quote_array(arr: pa.Array) -> pa.Array:
    """`quote` over an Arrow string array."""
    needs = pc.match_substring_regex(arr, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return arr
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    h, m = divmod(abs(int(seconds)) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}"


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm), vectorised."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII digits of non-negative integers, zero-padded: one row of `width` bytes per value."""
    out = np.empty((len(values), width), np.uint8)
    for k in range(width - 1, -1, -1):
        out[:, k] = values % 10 + 48
        values = values // 10
    return out


@functools.lru_cache(maxsize=1)
def _clock_table() -> np.ndarray:
    """'HH:MM:SS' of every second of a day."""
    sod = np.arange(86_400)
    colon = np.full((86_400, 1), ord(":"), np.uint8)
    return np.concatenate([_digits(sod // 3600, 2), colon, _digits(sod // 60 % 60, 2), colon,
                           _digits(sod % 60, 2)], axis=1)


@functools.lru_cache(maxsize=1)
def _millis_table() -> np.ndarray:
    """'.fff' of every millisecond of a second."""
    return np.concatenate([np.full((1000, 1), ord("."), np.uint8), _digits(np.arange(1000), 3)], axis=1)


def iso_times(values: pd.Series, sep: str = " ", millis: bool = False) -> pa.Array:
    """tz-aware times as 'YYYY-MM-DD HH:MM:SS+HH:MM' in their own zone (with `millis`,
    'YYYY-MM-DD HH:MM:SS.fff+HH:MM'), seconds or milliseconds truncated as the writers always
    did; null for NaT. Built from tables of the days in range and of the seconds of a day."""
    utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    local = values.dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    missing = values.isna().to_numpy()
    n = len(values)
    if missing.all():
        return pa.nulls(n, pa.string())
    local = np.where(missing, local[~missing][0], local)
    offset = np.where(missing, 0, (local - utc) // 1_000_000_000)
    ms = np.floor_divide(local, 1_000_000)
    days, ms_of_day = np.divmod(ms, 86_400_000)
    first = int(days.min())
    y, mo, d = civil_from_days(np.arange(first, int(days.max()) + 1))
    dash = np.full((len(y), 1), ord("-"), np.uint8)
    dates = np.concatenate([_digits(y, 4), dash, _digits(mo, 2), dash, _digits(d, 2),
                            np.full((len(y), 1), ord(sep), np.uint8)], axis=1)
    clock = [_clock_table()[ms_of_day // 1000]] + ([_millis_table()[ms_of_day % 1000]] if millis else [])
    uniq, inverse = np.unique(offset, return_inverse=True)
    zones = np.array([list(_offset_text(o).encode()) for o in uniq], np.uint8).reshape(len(uniq), 6)
    buf = np.concatenate([dates[days - first], *clock, zones[inverse.reshape(-1)]], axis=1)
    width = buf.shape[1]
    offsets = pa.py_buffer(np.arange(0, width * (n + 1), width, dtype=np.int32)[: n + 1])
    mask = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(buf), mask)  # no copies


def by_distinct(values: pd.Series, text: Callable[[object], str], table: pa.Array | None = None) -> pa.Array:
    """`text(value)` of every value, computed once per distinct value; null where missing. For a
    categorical column, `table` may hold the text of its categories (see `category_text`)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if table is None:
        table = pa.array([text(v) for v in uniques], pa.string())
    return pc.take(table, pa.array(codes, mask=codes < 0))


def category_text(values: pd.Series) -> pa.Array:
    """The CSV text of each category of a categorical column (a million case ids at once)."""
    cats = values.cat.categories
    if pd.api.types.infer_dtype(cats, skipna=False) == "string":
        return quote_array(pa.array(cats.to_numpy(object), pa.string()))
    return pa.array([quote(str(v)) for v in cats], pa.string())


def csv_column(values: pd.Series, table: pa.Array | None = None) -> pa.Array:
    """A column as CSV field text, as `DataFrame.to_csv` writes it; null where missing. `table`:
    the text of the categories of a categorical column, when already known."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) and not has_fraction(values):
        return iso_times(values)
    if isinstance(dtype, pd.CategoricalDtype):
        return by_distinct(values, str, category_text(values) if table is None else table)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return by_distinct(values, lambda v: quote(str(v)))
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(values, from_pandas=True).cast(pa.string())
    if pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return quote_array(pa.array(values, pa.string(), from_pandas=True))
    if pd.api.types.is_object_dtype(dtype):  # mixed objects (tuples, numbers): str() of each, as the csv module writes them
        missing = values.isna().to_numpy()
        return pa.array([None if m else quote(str(v)) for v, m in zip(values, missing, strict=True)], pa.string())
    # anything else (naive or fractional times, durations): pandas' own text, one line per value
    text = values.to_frame().to_csv(header=False, index=False, lineterminator="\n")
    return pa.array([None if t == '""' else t for t in text.split("\n")[:-1]], pa.string())


def has_fraction(values: pd.Series) -> bool:
    """Whether any of the tz-aware times has a fraction of a second."""
    ns = values.dropna().dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    return bool((ns % 1_000_000_000).any())


def lines(columns: list[pa.Array], sep: str = ",") -> pa.Array:
    """Rows of text columns joined with `sep`, each ending in a line break; missing -> empty."""
    if len(columns) == 1:  # a row of one empty field is written '""', as the csv module does
        columns = [pc.if_else(pc.equal(pc.fill_null(columns[0], ""), ""), '""', columns[0])]
    # the line break joined to the last field first: one pass over the lines' text, not two
    last = pc.binary_join_element_wise(pc.fill_null(columns[-1], ""), "", "\n")
    return pc.binary_join_element_wise(*columns[:-1], last, sep, null_handling="replace", null_replacement="")


def text_bytes(arr: pa.Array) -> pa.Buffer:
    """The concatenated text of a string array, without copying (a chunked one is joined first)."""
    if isinstance(arr, pa.ChunkedArray):  # columns of pandas' Arrow-backed dtypes come chunked
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    return arr.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def csv_chunks(df: pd.DataFrame, rows: int = 500_000) -> Iterator[pa.Buffer]:
    """The bytes of `df.to_csv(index=False, lineterminator="\\n")`, a chunk of rows at a time."""
    yield pa.py_buffer((",".join(quote(str(c)) for c in df.columns) + "\n").encode())
    tables = {i: category_text(df.iloc[:, i]) for i in range(df.shape[1])
              if isinstance(df.iloc[:, i].dtype, pd.CategoricalDtype)}
    # Times whose text pandas decides over the whole column (one value with a fraction of a second
    # gives every value its digits; naive times all at midnight are written as dates): written
    # whole once, then cut, so that every chunk is written alike.
    whole = {i: csv_column(df.iloc[:, i]) for i in range(df.shape[1])
             if len(df) > rows and _column_wide(df.iloc[:, i])}
    for start in range(0, len(df), rows):
        chunk = df.iloc[start:start + rows]
        yield text_bytes(lines([whole[i].slice(start, len(chunk)) if i in whole
                                else csv_column(chunk.iloc[:, i], tables.get(i)) for i in range(chunk.shape[1])]))


def _column_wide(values: pd.Series) -> bool:
    """Whether pandas' text of the column's values depends on the other values of the column."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return has_fraction(values)
    return pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
