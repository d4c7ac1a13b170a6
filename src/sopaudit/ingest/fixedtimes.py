"""Times written in one fixed, zero-padded layout, read with numpy straight from the text's bytes.

An export writes its times the same way on every row (`2024-01-17 13:34:27+07:00`): every value
then has the same length and its digits stand at the same places. Such values are read here as a
matrix of bytes, a column per character, with a few array operations per field: no call per row,
no regular expression, no strptime. Only values that are plainly right are read (digits and
separators where the format puts them; a month 1-12; a day that every year has in that month, so
29 February is left out; hours, minutes and seconds in range; an offset of at most 23:59); the
caller reads every other value with its slower, general path, which is the reference. A value
read here is therefore read exactly as that path reads it (tests/test_ingest_fixedtimes.py).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

NAT = np.iinfo(np.int64).min
_WIDTH = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}
# The written forms of a UTC offset read here: '+07:00', '+0700', 'Z' (by their length).
_ZONE_WIDTHS = (6, 5, 1)
# Last day of each month that every year has (February: 28; the 29th goes to the slow path).
_LAST_DAY = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), vectorised."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _layout(fmt: str) -> tuple[list[tuple[str, int]], int, bool] | None:
    """(token, position) of each field and literal of `fmt`, the width without the zone, and
    whether it ends with %z; None when `fmt` has another code or lacks the date."""
    tokens = re.findall(r"%[A-Za-z%]|.", fmt, re.S)
    zone = bool(tokens) and tokens[-1] == "%z"
    if zone:
        tokens = tokens[:-1]
    out, pos = [], 0
    for t in tokens:
        if t in _WIDTH:
            out.append((t, pos))
            pos += _WIDTH[t]
        elif t.startswith("%") or not t.isascii() or t.isspace() and t != " ":
            return None
        else:
            out.append((t, pos))
            pos += 1
    if not {"%Y", "%m", "%d"} <= {t for t, _ in out}:
        return None
    return out, pos, zone


def parse_fixed(values: pa.Array, fmt: str, months: dict[str, int] | None = None
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """(int64 microseconds, read) of `values` written exactly in `fmt`'s zero-padded layout:
    naive wall-clock times, or UTC when `fmt` ends with %z. `read` is False for every other
    value (and for nulls). None when `fmt` is not a layout this reads. A format '%d %B ...'
    reads the month names of `months` (lower case -> number), in any case of letters, as the
    per-value path numbers them ('17 Januari 2024' reads as '17/01/2024')."""
    head, named, tail = fmt.partition(" %B ")
    if named and (head != "%d" or months is None):
        return None
    spec = _layout("%d/%m/" + tail if named else fmt)
    if spec is None or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    fields, width, zone = spec
    n = len(values)
    us = np.full(n, NAT, np.int64)
    ok = np.zeros(n, bool)
    data = values.buffers()[2]
    if n == 0 or data is None or values.null_count == n:
        return us, ok
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], off_type, n + 1, values.offset * np.dtype(off_type).itemsize)
    raw = np.frombuffer(data, np.uint8)
    lengths = np.diff(offsets)
    if values.null_count:
        lengths[~values.is_valid().to_numpy(zero_copy_only=False)] = -1
    # '17 Januari 2024 ...' is 'dd/mm/' and the rest, with a name of 3 to 9 letters in between
    name_widths = range(3, 10) if named else (None,)
    for zw in _ZONE_WIDTHS if zone else (0,):
        for k in name_widths:
            size = width + zw if k is None else width + zw - 2 + k
            if lengths[0] == size and np.all(lengths == size):
                rows = None  # the usual case: all values, one contiguous block of bytes
                mat = raw[offsets[0]:offsets[0] + n * size].reshape(n, size)
            else:
                rows = np.flatnonzero(lengths == size)
                if rows.size == 0:
                    continue
                mat = raw[offsets[:-1][rows, None] + np.arange(size)]
            month_ok = None
            if k is not None:
                mat, month_ok = _numbered(mat, k, months)
            got, good = _read(mat, fields, width, zw)
            if month_ok is not None:
                good &= month_ok
            if rows is None:
                return np.where(good, got, NAT), good
            us[rows[good]] = got[good]
            ok[rows[good]] = True
    return us, ok


def _numbered(mat: np.ndarray, k: int, months: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows 'dd Name rest' (a name of k letters) as 'dd/mm/rest', and whether the name is a
    month of `months`, in any case (ASCII letters only, as the per-value path reads them)."""
    n = len(mat)
    name = mat[:, 3:3 + k]
    lower = name | np.uint8(0x20)
    letters = ((lower >= ord("a")) & (lower <= ord("z"))).all(axis=1)
    packed = np.zeros((n, 16), np.uint8)  # the name as two integers: compared with each month's
    packed[:, :k] = lower
    keys = packed.view(np.uint64)
    number = np.zeros(n, np.uint8)
    for word, month in months.items():
        if len(word) != k or not word.isascii():
            continue
        want = np.zeros(16, np.uint8)
        want[:k] = np.frombuffer(word.encode(), np.uint8)
        w = want.view(np.uint64)
        number[(keys[:, 0] == w[0]) & (keys[:, 1] == w[1])] = month
    ok = letters & (number > 0) & (mat[:, 2] == ord(" ")) & (mat[:, 3 + k] == ord(" "))
    out = np.empty((n, mat.shape[1] - k + 2), np.uint8)
    out[:, :2] = mat[:, :2]
    out[:, 2] = out[:, 5] = ord("/")
    out[:, 3] = number // 10 + 48
    out[:, 4] = number % 10 + 48
    out[:, 6:] = mat[:, 4 + k:]
    return out, ok


def _read(mat: np.ndarray, fields: list[tuple[str, int]], width: int, zone_width: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds and validity of rows of bytes laid out as `fields` (+ a zone)."""
    cols = np.ascontiguousarray(mat.T)  # a row per character: every step below is contiguous
    digit_pos = [pos + k for tok, pos in fields if tok in _WIDTH for k in range(_WIDTH[tok])]
    lit = [(pos, ord(tok)) for tok, pos in fields if tok not in _WIDTH]
    if zone_width == 6:
        digit_pos += [width + 1, width + 2, width + 4, width + 5]
        lit.append((width + 3, ord(":")))
    elif zone_width == 5:
        digit_pos += [width + 1, width + 2, width + 3, width + 4]
    elif zone_width == 1:
        lit.append((width, ord("Z")))
    digits = cols - np.uint8(48)  # a byte below '0' wraps above 9
    bad = (digits[digit_pos] > 9).any(axis=0)
    if lit:
        bad |= (cols[[p for p, _ in lit]] != np.array([b for _, b in lit], np.uint8)[:, None]).any(axis=0)
    if zone_width > 1:
        sign = cols[width]
        negative = sign == ord("-")
        bad |= (sign != ord("+")) & ~negative
    del cols

    def number(pos: int, w: int) -> np.ndarray:
        value = digits[pos].astype(np.int32)
        for k in range(1, w):
            value *= 10
            value += digits[pos + k]
        return value

    num = {tok: number(pos, _WIDTH[tok]) for tok, pos in fields if tok in _WIDTH}
    y, m, d = num["%Y"], num["%m"], num["%d"]
    bad |= (y < 1000) | (m < 1) | (m > 12) | (d < 1)
    bad |= d > _LAST_DAY[np.where(bad, 0, m)]
    seconds = np.zeros(len(y), np.int32)
    for tok, unit, top in (("%H", 3600, 23), ("%M", 60, 59), ("%S", 1, 59)):
        if tok in num:
            bad |= num[tok] > top
            seconds += num[tok] * np.int32(unit)
    if zone_width > 1:
        zh, zm = number(width + 1, 2), number(width + (4 if zone_width == 6 else 3), 2)
        bad |= (zh > 23) | (zm > 59)
        minutes = zh * 60 + zm
        seconds -= np.where(negative, -minutes, minutes) * 60
    good = ~bad
    us = _days(np.where(good, y, 1970), np.where(good, m, 1), d).astype(np.int64)
    us *= 86_400
    us += seconds
    us *= 1_000_000
    return us, good


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """days_from_civil, through a table of the first days of the months of the years present
    (an export spans a few years: one lookup per value instead of a dozen operations)."""
    lo, hi = int(y.min()), int(y.max())
    if hi - lo > 400:
        return days_from_civil(y.astype(np.int64), m.astype(np.int64), d.astype(np.int64))
    years = np.repeat(np.arange(lo, hi + 1, dtype=np.int64), 13)
    months = np.tile(np.arange(13, dtype=np.int64), hi - lo + 1)
    first = days_from_civil(years, np.maximum(months, 1), np.ones_like(years)).astype(np.int32)
    return first[(y - lo) * 13 + m] + (d - 1)


def plain_integers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(float64 value, read) of the values written as 1 to 15 ASCII digits and nothing else (epoch
    seconds or milliseconds as exports write them); every other value (a sign, a decimal point,
    spaces, a null) is left to the per-value parser. Exact: such numbers are integers below 2**53."""
    n = len(values)
    vals = np.zeros(n, np.float64)
    ok = np.zeros(n, bool)
    data = values.buffers()[2] if pa.types.is_string(values.type) else None
    if n == 0 or data is None or values.null_count == n:
        return vals, ok
    offsets = np.frombuffer(values.buffers()[1], np.int32, n + 1, values.offset * 4)
    lengths = np.diff(offsets)
    raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]]
    # non-digits counted per value through a running count (one pass over the bytes)
    count = np.zeros(raw.size + 1, np.int32)
    np.cumsum((raw - np.uint8(48)) > 9, out=count[1:])
    start = offsets - offsets[0]
    ok = (count[start[1:]] == count[start[:-1]]) & (lengths >= 1) & (lengths <= 15)
    if values.null_count:
        ok &= values.is_valid().to_numpy(zero_copy_only=False)
    if ok.all():
        vals = values.cast(pa.int64()).to_numpy().astype(np.float64)
    elif ok.any():
        vals[ok] = values.filter(pa.array(ok)).cast(pa.int64()).to_numpy().astype(np.float64)
    return vals, ok
