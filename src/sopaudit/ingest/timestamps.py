"""Read the timestamps of service-system exports, vectorised, without guessing.

Text times are recognised by family: ISO-like year-first dates (`2024-12-31 14:05`), numeric
day/month dates (`31/12/2024 14.05`), dates with Indonesian or English month names
(`31 Des 2024 14:05`, `2 Agustus 2024`, `Dec 31, 2024 2:05 PM`), and plain numbers (Excel
serial dates, epoch seconds or milliseconds, told apart by their range). A numeric date whose
day/month order cannot be told from the data (no day above 12 anywhere) is an error asking for
the format: 01/02/2024 is never guessed.

Parsing works on the unique values of a column (or on a whole batch with one strptime call when
a fixed format has been verified against this parser), so millions of rows cost little more
than their distinct values. Results are int64 microseconds: local wall-clock times for naive
values (localised later to the configured zone) and UTC for values that carry a zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.calendar.workdays import resolve_tz
from sopaudit.core.errors import MappingError
from sopaudit.ingest.fixedtimes import days_from_civil, parse_fixed

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
NAT = np.iinfo(np.int64).min

# The spellings of `time_format` that are not strptime patterns.
KEYWORDS = ("auto", "iso", "dayfirst", "monthfirst", "excel", "epoch", "epoch_ms")

MONTHS = {
    # Indonesian, full and the abbreviations offices use (Agt/Agu/Ags, Okt, Des, Peb, Nop)
    "januari": 1, "februari": 2, "pebruari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "agustus": 8, "september": 9, "oktober": 10, "november": 11, "nopember": 11,
    "desember": 12, "peb": 2, "agt": 8, "agu": 8, "ags": 8, "agus": 8, "okt": 10, "nop": 11,
    "des": 12,
    # English
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_EN_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
ZONE_OFFSETS = {"z": 0, "utc": 0, "gmt": 0, "wib": 7 * 60, "wita": 8 * 60, "wit": 9 * 60}

# RE2 patterns (pyarrow.compute.extract_regex), case-insensitive. Named groups: Y year, A/B the
# two numeric date fields, N month name, H M S F time of day, P am/pm, Z zone.
_TIME = (r"(?:(?:\s*[t,]\s*|\s+)(?:(?:pukul|pkl|jam)\.?\s*)?(?P<H>\d{1,2})[:.](?P<M>\d{2})"
         r"(?:[:.](?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?(?:\s*(?P<P>[ap])\.?m\.?)?)?")
_ZONE = r"\s*(?P<Z>z|utc|gmt|wib|wita|wit|[+-]\d{2}(?::?\d{2})?)?\s*$"
_WEEKDAY = r"(?:[a-z]+,?\s+)?"
FAMILIES = {
    "iso": r"(?i)^(?P<Y>\d{4})[-/.](?P<A>\d{1,2})[-/.](?P<B>\d{1,2})" + _TIME + _ZONE,
    "numeric": r"(?i)^(?P<A>\d{1,2})[-/.](?P<B>\d{1,2})[-/.](?P<Y>\d{4}|\d{2})" + _TIME + _ZONE,
    "named": r"(?i)^" + _WEEKDAY + r"(?P<B>\d{1,2})[\s\-/.]*(?P<N>[a-z]{3,9})\.?[\s\-/.,]*(?P<Y>\d{4})" + _TIME + _ZONE,
    "named_us": r"(?i)^" + _WEEKDAY + r"(?P<N>[a-z]{3,9})\.?\s+(?P<B>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<Y>\d{4})" + _TIME + _ZONE,
    "number": r"^(?P<V>[+-]?\d+(?:\.\d+)?)$",
}
FAMILY_LABELS = {
    "iso": "year-first (2024-12-31 14:05)",
    "dayfirst": "day-first (31/12/2024 14:05)",
    "monthfirst": "month-first (12/31/2024 14:05)",
    "named": "month name (31 Des 2024 14:05)",
    "named_us": "month name, month first (Dec 31, 2024)",
    "excel": "Excel serial date (45657.59)",
    "epoch": "epoch seconds (1735628700)",
    "epoch_ms": "epoch milliseconds (1735628700000)",
    "native": "typed timestamps of the source",
    "strptime": "the given format",
}
# Plausible ranges of the number family: Excel serial days 1954-2119, epoch s 1973-2099, ms.
NUMBER_RANGES = {"excel": (20_000.0, 80_000.0), "epoch": (1e8, 4.1e9), "epoch_ms": (1e11, 4.1e12)}

# Fixed formats tried for the fast path, per family; each is verified against this parser.
_FAST = {
    "iso": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
            "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"],
    "dayfirst": ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S",
                 "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"],
    "monthfirst": ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m-%d-%Y %H:%M:%S",
                   "%m-%d-%Y %H:%M", "%m-%d-%Y"],
    # Indonesian or English month names, numbered before strptime (see parse_fast)
    "named": ["%d %B %Y %H:%M:%S", "%d %B %Y %H:%M", "%d %B %Y"],
}
_NAMED_PARTS = r"^(?P<d>\d{1,2}) (?P<n>[A-Za-z]{3,9}) (?P<r>.*)$"


# The C strptime behind Arrow is lenient where this parser is not: it takes day 31 of any month
# and rolls it over (2024-02-30 becomes 1 March), seconds 60 and 61, one-digit minutes, years of
# one to three digits. The fast path therefore reads only values of the format's strict shape,
# with a day that exists in its month (29 February aside); every other value goes to the
# per-value parser, which rejects what does not exist.
_D28 = r"(?:0?[1-9]|1\d|2[0-8])"
_MONTH_DAY = {  # (month pattern, day pattern) of the days every year has
    "31": (r"(?:0?[13578]|1[02])", rf"(?:{_D28}|29|30|31)"),
    "30": (r"(?:0?[469]|11)", rf"(?:{_D28}|29|30)"),
    "28": (r"0?2", _D28),
}
_SHAPE_CODES = {"%Y": r"[1-9]\d{3}", "%H": r"(?:[01]?\d|2[0-3])", "%M": r"[0-5]\d", "%S": r"[0-5]\d",
                "%z": r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)", " ": r"\s+"}


def _shape(fmt: str) -> str:
    """An RE2 pattern of the values `fmt` reads that mean the same to this parser."""
    md = re.search(r"%([md])([-/.])%([md])", fmt)
    assert md is not None, fmt
    first = 0 if md[1] == "m" else 1
    pair = "|".join(f"{m if first == 0 else d}[{md[2]}]{d if first == 0 else m}"
                    for m, d in _MONTH_DAY.values())
    out = []
    for token in re.findall(r"%[A-Za-z]|.", fmt[:md.start()]) + [f"(?:{pair})"] + \
            re.findall(r"%[A-Za-z]|.", fmt[md.end():]):
        out.append(token if token.startswith("(?:") else _SHAPE_CODES.get(token, f"[{token}]"))
    return r"^\s*" + "".join(out) + r"\s*$"


@dataclass
class Parsed:
    """Times of an array of values: microseconds, whether read, whether they carried a zone."""

    us: np.ndarray  # int64; local wall clock when naive, UTC when aware; NAT where not read
    ok: np.ndarray  # bool
    aware: np.ndarray  # bool
    family: np.ndarray  # object: the family label of each value ('' where not read)

    @classmethod
    def empty(cls, n: int) -> Parsed:
        return cls(np.full(n, NAT, np.int64), np.zeros(n, bool), np.zeros(n, bool), np.full(n, "", object))

    def take(self, idx: np.ndarray) -> Parsed:
        return Parsed(self.us[idx], self.ok[idx], self.aware[idx], self.family[idx])


class AmbiguousOrder(Exception):
    """Numeric dates whose day/month order the data does not settle (raised to the caller)."""

    def __init__(self, conflict: bool, examples: tuple[str, ...]):
        self.conflict = conflict
        self.examples = examples
        super().__init__(examples)


def check_format(spec: str | None) -> str:
    """Normalise a `time_format` setting: a keyword or a strptime pattern with % codes."""
    if spec is None or str(spec).strip() == "":
        return "auto"
    spec = str(spec).strip()
    low = spec.lower().replace("-", "").replace("_", "")
    aliases = {"auto": "auto", "iso": "iso", "dayfirst": "dayfirst", "dmy": "dayfirst",
               "monthfirst": "monthfirst", "mdy": "monthfirst", "excel": "excel", "epoch": "epoch",
               "epochs": "epoch", "epochms": "epoch_ms", "unix": "epoch", "unixms": "epoch_ms"}
    if low in aliases:
        return aliases[low]
    if "%" in spec:
        return spec
    raise MappingError(
        f"time format {spec!r} is not understood; use one of {', '.join(KEYWORDS)} or a strptime "
        "pattern such as '%d/%m/%Y %H:%M'"
    )


def check_tz(tz: str | None) -> str:
    """The IANA zone for an IANA name or WIB/WITA/WIT (default Asia/Jakarta)."""
    try:
        return resolve_tz(tz or "Asia/Jakarta")
    except ValueError as exc:
        raise MappingError(str(exc)) from None


# ----------------------------------------------------------------------------- text parsing


def parse_text(values: pa.Array, spec: str = "auto", order: str | None = None, kind: str | None = None) -> Parsed:
    """Parse an array of (preferably unique) strings. `order` settles numeric dates ('dayfirst' or
    'monthfirst'); with order None and numeric dates present, AmbiguousOrder is raised when the
    data does not settle it. `kind` is the kind of plain numbers when the caller decided it over
    more values than these (number_kind). Empty and unreadable values come back with ok False."""
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    n = len(values)
    out = Parsed.empty(n)
    if n == 0:
        return out
    if spec not in KEYWORDS:
        return _parse_strptime(values, spec)
    todo = pc.fill_null(pc.not_equal(values, ""), False).to_numpy(zero_copy_only=False)
    if spec == "dayfirst" or spec == "monthfirst":
        order = spec
    # The families match disjoint texts; plain numbers (the cheapest pattern) go first, so an
    # epoch or Excel column costs one pattern, not five.
    families = ("number",) if spec in ("excel", "epoch", "epoch_ms") else (
        ("iso",) if spec == "iso" else ("number", *(f for f in FAMILIES if f != "number")))
    for fam in families:
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        sub = values.take(pa.array(idx))
        groups = pc.extract_regex(sub, FAMILIES[fam])
        hit = groups.is_valid().to_numpy(zero_copy_only=False)
        if not hit.any():
            continue
        rows = idx[hit]
        fields = {name: groups.field(name).filter(pa.array(hit)) for name in _group_names(fam)}
        if fam == "number":
            part = numbers(_floats(fields["V"]), spec, kind)
        else:
            part = _dates(fam, fields, order)
        out.us[rows], out.ok[rows], out.aware[rows], out.family[rows] = part.us, part.ok, part.aware, part.family
        todo[rows] = False
    return out


def settle_order(values: pa.Array) -> str | None:
    """'dayfirst' or 'monthfirst' when the numeric dates among `values` settle the order, None when
    there are no numeric dates; AmbiguousOrder when they cannot be told apart or contradict."""
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    groups = pc.extract_regex(values, FAMILIES["numeric"])
    hit = groups.is_valid().to_numpy(zero_copy_only=False)
    if not hit.any():
        return None
    mask = pa.array(hit)
    a = _ints(groups.field("A").filter(mask))
    b = _ints(groups.field("B").filter(mask))
    texts = values.filter(mask).to_numpy(zero_copy_only=False)
    day_first, month_first = a > 12, b > 12
    if day_first.any() and month_first.any():
        raise AmbiguousOrder(True, (str(texts[day_first][0]), str(texts[month_first][0])))
    if day_first.any():
        return "dayfirst"
    if month_first.any():
        return "monthfirst"
    raise AmbiguousOrder(False, tuple(str(t) for t in texts[:3]))


def fast_format(sample: pa.Array, parsed: Parsed) -> str | None:
    """A strptime format that reads (nearly) every value of `sample` exactly as `parse_text` did,
    or None; it lets large batches be read with one C++ call. The sample is all naive or all with
    a UTC offset (`+07:00`, `+0700`, `Z`, mixed offsets alike: Arrow's %z reads each value's own)."""
    fams = set(parsed.family[parsed.ok])
    if len(fams) != 1 or not parsed.ok.all():
        return None
    aware = bool(parsed.aware.all())
    if parsed.aware.any() and not aware:
        return None
    fam = fams.pop()
    for fmt in _FAST.get(fam, ()):
        fmt = fmt + "%z" if aware else fmt
        got = parse_fast(sample, fmt)
        if got.null_count > len(sample) // 100:  # a few 29 Februaries are left to the parser
            continue
        read = got.is_valid().to_numpy(zero_copy_only=False)
        if np.array_equal(pc.drop_null(got).to_numpy(zero_copy_only=False), parsed.us[read]):
            return fmt
    return None


def parse_fast(values: pa.Array, fmt: str) -> pa.Array:
    """Times of `values` read with one fixed format (naive, or UTC with %z); null where it does
    not fit, and for the values outside its strict shape (see _shape): the per-value parser
    judges those."""
    fixed = parse_fixed(values, fmt, MONTHS)  # the values of the format's zero-padded layout, with numpy
    if fixed is None:
        return _parse_general(values, fmt)
    us, ok = fixed
    if not ok.all():
        rest = np.flatnonzero(~ok)
        got = _parse_general(values.take(pa.array(rest)), fmt)
        if got.null_count < len(got):
            us[rest] = pc.fill_null(got, NAT).to_numpy(zero_copy_only=False)
            ok[rest] = got.is_valid().to_numpy(zero_copy_only=False)
    return pa.array(us, pa.int64(), mask=None if ok.all() else ~ok)


def _parse_general(values: pa.Array, fmt: str) -> pa.Array:
    if " %B " in fmt:  # Arrow knows English month names only: '2 Agustus 2024' -> '2/08/2024'
        return parse_fast(_numbered_months(values), fmt.replace(" %B ", "/%m/", 1))
    return _strptime_strict(values, fmt)


def _strptime_strict(values: pa.Array, fmt: str) -> pa.Array:
    got = pc.strptime(values, format=fmt, unit="us", error_is_null=True).cast(pa.int64())
    fits = pc.fill_null(pc.match_substring_regex(values, _shape(fmt)), False)
    if not pc.all(fits).as_py():
        got = pc.if_else(fits, got, pa.scalar(None, pa.int64()))
    return got


def _numbered_months(values: pa.Array) -> pa.Array:
    """'day month-name rest' with the month as its number ('2/08/2024 08:00'), the name looked up
    once per distinct name; null where the value is not of that form or the name is unknown."""
    parts = pc.extract_regex(values, _NAMED_PARTS)
    names = pc.dictionary_encode(pc.utf8_lower(pc.fill_null(parts.field("n"), "")))
    numbers = pa.array([f"{MONTHS[n]:02d}" if n in MONTHS else None for n in names.dictionary.to_pylist()],
                       pa.string())
    month = pc.take(numbers, names.indices)
    return pc.binary_join_element_wise(parts.field("d"), month, parts.field("r"), "/")


def _group_names(fam: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\?P<(\w+)>", FAMILIES[fam]))


def _ints(arr: pa.Array) -> np.ndarray:
    """Integers of a string array; empty strings (groups that did not take part) become -1."""
    filled = pc.if_else(pc.equal(arr, ""), "-1", arr)
    return pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)


def _floats(arr: pa.Array) -> np.ndarray:
    return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    table = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return table[np.clip(m, 0, 12)] + ((m == 2) & leap)


def _dates(fam: str, f: dict[str, pa.Array], order: str | None) -> Parsed:
    y = _ints(f["Y"])
    # two-digit years are 20YY; a year written with four digits (0024) stays what it says
    y = np.where((y >= 0) & (y < 100) & (_ints(pc.utf8_length(f["Y"]).cast(pa.string())) <= 2), 2000 + y, y)
    family = fam
    if fam == "numeric":
        if order is None:
            raise AmbiguousOrder(False, ())  # callers settle the order first
        a, b = _ints(f["A"]), _ints(f["B"])
        d, m = (a, b) if order == "dayfirst" else (b, a)
        family = order
    elif fam == "iso":
        m, d = _ints(f["A"]), _ints(f["B"])
    else:
        d = _ints(f["B"])
        m = _per_distinct(pc.utf8_lower(f["N"]), lambda n: MONTHS.get(n, -1))
    hh, mi, ss = _ints(f["H"]), _ints(f["M"]), _ints(f["S"])
    has_time = hh >= 0
    hh, mi, ss = np.where(has_time, hh, 0), np.where(mi >= 0, mi, 0), np.where(ss >= 0, ss, 0)
    us_frac = _micros(f["F"])
    ampm = pc.utf8_lower(f["P"]).to_numpy(zero_copy_only=False)
    pm, am = ampm == "p", ampm == "a"
    ok = (m >= 1) & (m <= 12) & (d >= 1) & (d <= _days_in_month(y, m)) & (y >= 1) & (mi <= 59) & (ss <= 59)
    ok &= np.where(pm | am, (hh >= 1) & (hh <= 12), hh <= 23)
    hh = np.where(pm & (hh < 12), hh + 12, np.where(am & (hh == 12), 0, hh))
    zone = pc.utf8_lower(f["Z"])
    aware = pc.not_equal(zone, "").to_numpy(zero_copy_only=False)
    offset_min = _per_distinct(zone, _offset_minutes) if aware.any() else np.zeros(len(y), np.int64)
    days = days_from_civil(y, np.clip(m, 1, 12), np.clip(d, 1, 31))
    us = days * US_PER_DAY + ((hh * 60 + mi - offset_min) * 60 + ss) * US_PER_SECOND + us_frac
    return Parsed(np.where(ok, us, NAT), ok, aware & ok, np.where(ok, family, ""))


def _per_distinct(values: pa.Array, func) -> np.ndarray:
    """int64 `func(value)` of every value, calling `func` once per distinct value (a column holds
    a handful of month names or UTC offsets, however many rows)."""
    enc = pc.dictionary_encode(values)
    table = np.array([func(v) for v in enc.dictionary.to_pylist()], np.int64)
    return table[enc.indices.to_numpy(zero_copy_only=False)] if len(table) else np.zeros(len(values), np.int64)


def _micros(frac: pa.Array) -> np.ndarray | int:
    """Microseconds of fractional-second digits ('25' -> 250000, more than 6 digits cut); 0 where
    the value has none."""
    if not pc.any(pc.not_equal(frac, "")).as_py():
        return 0
    six = pc.utf8_slice_codeunits(pc.utf8_rpad(frac, 6, "0"), 0, 6)
    return pc.cast(six, pa.int64()).to_numpy(zero_copy_only=False)


def _offset_minutes(zone: str) -> int:
    if zone == "":
        return 0
    if zone in ZONE_OFFSETS:
        return ZONE_OFFSETS[zone]
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0))


def number_kind(v: np.ndarray, spec: str = "auto") -> str:
    """'excel', 'epoch' or 'epoch_ms' for numeric times: as given, or by the range all values
    share. A column whose numbers fall in several ranges is an error asking for the format."""
    if spec in NUMBER_RANGES:
        return spec
    finite = v[np.isfinite(v)]
    kinds = [k for k, (lo, hi) in NUMBER_RANGES.items() if ((finite >= lo) & (finite <= hi)).any()]
    if len(kinds) > 1:
        raise MappingError(
            f"the time column holds numbers of several kinds ({' and '.join(kinds)}); say which "
            "with time_format: excel, epoch or epoch_ms"
        )
    return kinds[0] if kinds else "excel"


def number_values(values: pa.Array) -> np.ndarray:
    """The float values of the plain numbers among trimmed `values` (the number family)."""
    groups = pc.extract_regex(values, FAMILIES["number"])
    hit = groups.is_valid().to_numpy(zero_copy_only=False)
    return _floats(groups.field("V").filter(pa.array(hit))) if hit.any() else np.empty(0)


def numbers(v: np.ndarray, spec: str, kind: str | None = None) -> Parsed:
    """Times of plain numbers `v`: Excel serial days or epoch seconds/milliseconds, of `kind`
    (or the kind number_kind finds in `v`)."""
    kind = kind or number_kind(v, spec)
    lo, hi = NUMBER_RANGES[kind]
    # An explicit format reads every finite number; auto reads only the plausible range.
    ok = np.isfinite(v) & ((v >= lo) & (v <= hi) if spec not in NUMBER_RANGES else (np.abs(v) < 1e15))
    with np.errstate(invalid="ignore", over="ignore"):
        if kind == "excel":
            # Day 0 is 1899-12-30 (Excel's 1900 leap-year bug makes this right from March 1900);
            # rounded to the millisecond, below the float noise of a day fraction.
            us = np.round((v - 25_569.0) * 86_400_000.0) * 1000.0
        elif kind == "epoch":
            us = np.round(v * 1e6)
        else:
            us = np.round(v) * 1000.0
        us = np.where(ok, us, 0).astype(np.int64)
    # Excel serials and epoch numbers are UTC-free counts: Excel's are local wall-clock times,
    # epoch values are UTC instants.
    aware = np.full(len(v), kind != "excel") & ok
    return Parsed(np.where(ok, us, NAT), ok, aware, np.where(ok, kind, ""))


def _parse_strptime(values: pa.Array, fmt: str) -> Parsed:
    n = len(values)
    if "%b" in fmt or "%B" in fmt:
        # Arrow's %b knows English month names only: translate Indonesian ones first.
        texts = values.to_numpy(zero_copy_only=False)
        pattern = re.compile(r"(?i)\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?")
        texts = np.array([pattern.sub(lambda m: _EN_ABBR[MONTHS[m[1].lower()] - 1], t) if t else t
                          for t in texts], dtype=object)
        values = pa.array(texts, pa.string())
        fmt = fmt.replace("%B", "%b")
    aware = "%z" in fmt or "%Z" in fmt
    got = pc.strptime(values, format=fmt, unit="us", error_is_null=True).cast(pa.int64())
    ok = got.is_valid().to_numpy(zero_copy_only=False)
    us = pc.fill_null(got, NAT).to_numpy(zero_copy_only=False).astype(np.int64)
    return Parsed(us, ok, np.full(n, aware) & ok, np.where(ok, "strptime", ""))


# ----------------------------------------------------------------------------- typed values


def parse_typed(arr: pa.Array, spec: str = "auto") -> Parsed | None:
    """Times of a typed (non-text) column: timestamps, dates or numbers; None for text."""
    t = arr.type
    n = len(arr)
    if pa.types.is_timestamp(t):
        us = arr.cast(pa.timestamp("us", tz=t.tz), safe=False).cast(pa.int64())
        ok = us.is_valid().to_numpy(zero_copy_only=False)
        vals = pc.fill_null(us, NAT).to_numpy(zero_copy_only=False).astype(np.int64)
        return Parsed(vals, ok, np.full(n, t.tz is not None) & ok, np.where(ok, "native", ""))
    if pa.types.is_date(t):
        days = arr.cast(pa.date32()).cast(pa.int32())
        ok = days.is_valid().to_numpy(zero_copy_only=False)
        vals = pc.fill_null(days, 0).to_numpy(zero_copy_only=False).astype(np.int64) * US_PER_DAY
        return Parsed(np.where(ok, vals, NAT), ok, np.zeros(n, bool), np.where(ok, "native", ""))
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        v = pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        return numbers(v, spec if spec in NUMBER_RANGES else "auto")
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return None
    return Parsed.empty(n)


def localise(us: np.ndarray, aware: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray | None]:
    """UTC microseconds of every value: naive values (aware False) are wall-clock times in `tz`.

    Returns (utc_us, gap): `gap` marks naive times that do not exist (or exist twice) in the zone
    because of a daylight-saving change, which become NAT; None when there are none. NAT stays NAT.
    `us` may be reused for the result.
    """
    naive = ~aware
    if not naive.any():
        return us, None
    whole = bool(naive.all())
    local = us if whole else us[naive]
    utc = pd.DatetimeIndex(local.view("datetime64[us]")).tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    vals = utc.asi8 if utc.unit == "us" else utc.as_unit("us").asi8
    lost = (vals == NAT) & (local != NAT)
    if whole:
        out = np.asarray(vals)
    else:
        out = us
        out[naive] = vals
    if not lost.any():
        return out, None
    gap = np.zeros(len(us), bool)
    gap[np.flatnonzero(naive)[lost] if not whole else lost] = True
    return out, gap
