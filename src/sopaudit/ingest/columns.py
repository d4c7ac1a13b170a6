"""Collect the columns of a log batch by batch, in compact form.

A large export is read in batches of a few MiB so that memory stays near the size of the final
log: text columns with few distinct values become integer codes as they arrive, text columns with
many (the case id) are kept as Arrow text and encoded once at the end, typed columns stay Arrow
arrays, and the time column is parsed per batch (one strptime call when a fixed format was
verified on the first batch; the remaining values by their unique values at the end).
Text values are trimmed of surrounding spaces; an empty value counts as missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.core.errors import MappingError
from sopaudit.ingest.fixedtimes import plain_integers
from sopaudit.ingest.timestamps import (
    FAMILIES,
    FAMILY_LABELS,
    NAT,
    NUMBER_RANGES,
    AmbiguousOrder,
    fast_format,
    number_kind,
    number_values,
    numbers,
    parse_fast,
    parse_text,
    parse_typed,
    settle_order,
)

# A text column whose first batch has more distinct values than this share is kept as text and
# encoded at the end (one hash pass) instead of per batch.
HIGH_CARDINALITY = 0.2
SAMPLE_VALUES = 5000
CHOOSE_BATCHES = 16  # batches looked at to choose a fixed time format (1 MiB each from a CSV)


def is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or (
        pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)))


def as_text(arr: pa.Array) -> pa.Array:
    """Text of a typed column used as case id, activity or resource (2024001.0 -> '2024001')."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_floating(arr.type):
        vals = arr.to_numpy(zero_copy_only=False)
        finite = vals[np.isfinite(vals)]
        if finite.size == 0 or np.all(finite == np.round(finite)):
            arr = pc.cast(arr, pa.int64(), safe=False)
    return pc.cast(arr, pa.string())


def _plain_text(arr: pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr.cast(pa.string()) if pa.types.is_large_string(arr.type) else arr


def small_int(n_values: int) -> type:
    """The smallest signed integer type holding codes 0..n_values-1 and -1."""
    return np.int8 if n_values < 127 else np.int16 if n_values < 32767 else np.int32


@dataclass
class Codes:
    """A text column as codes into its distinct values; -1 marks a missing (or empty) value."""

    codes: np.ndarray  # smallest signed int type
    values: pa.Array  # the distinct values, sorted (string)
    trimmed: int = 0  # rows whose value had surrounding spaces

    def text(self, pos: np.ndarray | None = None) -> np.ndarray:
        """The values at `pos` (all rows by default) as an object array, None where missing."""
        codes = self.codes if pos is None else self.codes[pos]
        vals = np.asarray(self.values.to_numpy(zero_copy_only=False), dtype=object)
        out = np.empty(len(codes), dtype=object)
        ok = codes >= 0
        out[ok] = vals[codes[ok]]
        return out

    def value_list(self) -> list[str]:
        return self.values.to_pylist()


def _sorted_codes(codes: np.ndarray, values: pa.Array, trimmed: int) -> Codes:
    """Codes re-numbered so that the values are in sorted order (deterministic categories); an
    empty value (a cell of spaces) counts as missing."""
    values = values.cast(pa.string())
    if len(values) == 0:
        return Codes(codes.astype(np.int8), values, trimmed)
    order = np.asarray(pc.sort_indices(values))
    empty = np.flatnonzero(np.asarray(pc.equal(values, "").fill_null(False)))
    keep = order[~np.isin(order, empty)] if empty.size else order
    dtype = small_int(len(keep))
    remap = np.full(len(values) + 1, -1, dtype)  # the last entry maps code -1 to -1
    remap[keep] = np.arange(len(keep), dtype=dtype)
    return Codes(remap[codes], values.take(pa.array(keep)), trimmed)


class TextColumn:
    """Text values, encoded per batch when they repeat a lot, else at the end."""

    def __init__(self) -> None:
        self.mode: str | None = None  # "codes" or "strings"
        self.lookup: dict[str, int] = {}
        self.values: list[str] = []
        self.chunks: list = []
        self.trimmed = 0

    def add(self, arr: pa.Array) -> None:
        # a dictionary-encoded batch (CSV) names its distinct values: nothing to decode
        enc = None if self.mode == "strings" else \
            arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(_plain_text(arr))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        if self.mode is None:
            distinct = len(enc.dictionary) if len(arr) else 0
            self.mode = "strings" if len(arr) and distinct > HIGH_CARDINALITY * len(arr) and distinct > 1000 else "codes"
        if self.mode == "strings":
            self.chunks.append(_plain_text(arr))  # trimmed at the end, once per distinct value
            return
        words = enc.dictionary.cast(pa.string()).to_pylist()
        remap = np.empty(len(words) + 1, np.int64)
        remap[-1] = -1
        counts = None
        for i, w in enumerate(words):
            t = w.strip() if w is not None else ""
            if t != w and w is not None and w.strip() != "":
                if counts is None:
                    present = pc.drop_null(enc.indices).to_numpy(zero_copy_only=False)
                    counts = np.bincount(present, minlength=len(words))
                self.trimmed += int(counts[i])
            if not t:
                remap[i] = -1
                continue
            code = self.lookup.get(t)
            if code is None:
                code = self.lookup[t] = len(self.values)
                self.values.append(t)
            remap[i] = code
        indices = enc.indices
        idx = (indices if indices.null_count == 0 else pc.fill_null(indices, -1)).to_numpy(zero_copy_only=False)
        # Store each chunk in the smallest type that holds the codes so far: memory stays near
        # one byte per row for the usual step, officer and service-type columns.
        self.chunks.append(remap.astype(small_int(len(self.values)))[idx])

    def finish(self) -> Codes:
        if self.mode == "strings":
            # One hash pass over all chunks; the chunks share the dictionary, so no combined copy
            # of the text is ever made.
            enc = pc.dictionary_encode(pa.chunked_array(self.chunks, pa.string()))
            self.chunks = []
            dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], pa.string())
            parts = [pc.fill_null(ch.indices, -1).to_numpy(zero_copy_only=False) for ch in enc.chunks]
            del enc
            codes = np.concatenate(parts) if parts else np.empty(0, np.int32)
            del parts
            trimmed = pc.utf8_trim_whitespace(dictionary)
            changed = np.asarray(pc.not_equal(pc.utf8_length(dictionary), pc.utf8_length(trimmed)))
            if changed.any():
                # 'A ' and 'A' are one value: re-encode the trimmed distinct values
                counts = np.bincount(codes[codes >= 0], minlength=len(dictionary))
                self.trimmed += int(counts[changed].sum())
                again = pc.dictionary_encode(trimmed)
                remap = np.append(again.indices.to_numpy(zero_copy_only=False), -1).astype(codes.dtype)
                codes = remap[codes]
                dictionary = again.dictionary
            return _sorted_codes(codes, dictionary, self.trimmed)
        dtype = small_int(len(self.values))
        codes = np.concatenate(self.chunks).astype(dtype, copy=False) if self.chunks else np.empty(0, dtype)
        self.chunks = []
        return _sorted_codes(codes, pa.array(self.values, pa.string()), self.trimmed)


class TypedColumn:
    """A non-text column (numbers, timestamps, booleans), kept as Arrow chunks."""

    def __init__(self) -> None:
        self.chunks: list[pa.Array] = []

    def add(self, arr: pa.Array) -> None:
        self.chunks.append(arr)

    def finish(self) -> pa.Array:
        if not self.chunks:
            return pa.array([], pa.null())
        types = {c.type for c in self.chunks}
        if len(types) > 1:
            # Batches typed differently (a column empty in one SQL chunk): unify as text.
            return pa.chunked_array([c.cast(pa.string()) for c in self.chunks]).combine_chunks()
        return pa.chunked_array(self.chunks).combine_chunks()


@dataclass
class Times:
    """The times of one column: microseconds (naive wall clock or UTC), and per-row notes."""

    us: np.ndarray  # int64, NAT where missing or unreadable
    aware: np.ndarray  # bool: value carried its own zone (us is UTC)
    conflict: np.ndarray  # bool: numeric date that reads only in the order the column does not use
    formats: Counter  # family label -> rows
    order: str | None  # 'dayfirst' / 'monthfirst' when numeric dates were read


class TimeColumn:
    """Parse one time column batch by batch; see the module docstring."""

    def __init__(self, name: str, spec: str, where: str) -> None:
        self.name, self.spec, self.where = name, spec, where
        self.started = False  # the fast path is chosen (or known not to apply)
        self.tries = 0
        self.fmt: str | None = None  # verified fast strptime format
        self.order: str | None = {"dayfirst": "dayfirst", "monthfirst": "monthfirst"}.get(spec)
        self.fast_family: str | None = None
        self.fast_aware = False  # the fixed format reads a UTC offset (%z)
        self.first_text: pa.Array | None = None  # the first batch, when it settled the date order
        self.first_base = 0
        self.us_chunks: list[np.ndarray] = []
        self.typed_aware: list[np.ndarray] = []
        self.typed_formats: Counter = Counter()
        self.text_chunks: list[pa.Array] = []  # values still to parse, with their positions
        self.text_pos: list[np.ndarray] = []
        # epoch or Excel numbers written as plain digits: kept as numbers (with their positions)
        # until their kind is decided over the whole column
        self.numeric = spec in NUMBER_RANGES
        self.num_values: list[np.ndarray] = []
        self.num_pos: list[np.ndarray] = []
        self.n = 0
        self.fast_rows = 0

    def add(self, arr: pa.Array) -> None:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        typed = None if is_text(arr.type) else parse_typed(arr, self.spec)
        if typed is not None:
            if not self.typed_aware and self.n:  # text batches came first: no zones there
                self.typed_aware.append(np.zeros(self.n, bool))
            self.us_chunks.append(typed.us)
            self.typed_aware.append(typed.aware)
            # as text (a copy only when the labels are objects), of the values read
            fam = typed.family.astype(str, copy=False)
            fam = fam if typed.ok.all() else fam[typed.ok]
            if len(fam) and (fam == fam[0]).all():  # one family (a typed column's usual case): no sort
                fams, counts = fam[:1], np.array([len(fam)])
            else:
                fams, counts = np.unique(fam, return_counts=True)
            self.typed_formats.update(dict(zip(fams.tolist(), counts.tolist(), strict=True)))
            self.n += len(arr)
            return
        text = _plain_text(arr)
        if not self.started:
            self._choose_fast(text)
        base = self.n
        self.n += len(text)
        if self.numeric:
            vals, plain = plain_integers(text)
            self._text_aware(np.zeros(len(text), bool))  # set at the end with the kind
            self.us_chunks.append(np.full(len(text), NAT, np.int64))
            self.num_values.append(vals[plain])
            self.num_pos.append(np.flatnonzero(plain) + base)
            rest = ~plain & text.is_valid().to_numpy(zero_copy_only=False)
            if rest.any():
                idx = np.flatnonzero(rest)
                self.text_chunks.append(text.take(pa.array(idx)))
                self.text_pos.append(idx + base)
            return
        if self.fmt is not None:
            got = parse_fast(text, self.fmt)
            if got.null_count == 0:  # the usual case: every value read by the fixed format
                self.us_chunks.append(got.to_numpy(zero_copy_only=False))
                self._text_aware(np.full(len(text), self.fast_aware))
                self.fast_rows += len(text)
                return
            us = pc.fill_null(got, NAT).to_numpy(zero_copy_only=False)
            missing = us == NAT
            self._text_aware(~missing if self.fast_aware else np.zeros(len(text), bool))
            rest = missing & text.is_valid().to_numpy(zero_copy_only=False)
            self.fast_rows += int(len(text) - np.count_nonzero(missing))
            self.us_chunks.append(us)
            if rest.any():
                idx = np.flatnonzero(rest)
                self.text_chunks.append(text.take(pa.array(idx)))
                self.text_pos.append(idx + base)
            return
        self._text_aware(np.zeros(len(text), bool))
        self.us_chunks.append(np.full(len(text), NAT, np.int64))
        self.text_chunks.append(text)
        self.text_pos.append(np.arange(base, base + len(text)))

    def _text_aware(self, flags: np.ndarray) -> None:
        """Zone flags of a text batch: kept once any batch had aware values (typed timestamps or
        times read with a UTC offset by the fixed format); the slow path sets its own at the end."""
        if self.typed_aware or flags.any():
            if not self.typed_aware and self.n > len(flags):  # earlier batches: no zones yet
                self.typed_aware.append(np.zeros(self.n - len(flags), bool))
            self.typed_aware.append(flags)

    def _choose_fast(self, text: pa.Array) -> None:
        # A batch without times, or one whose dates leave the day/month order open (a log sorted
        # by time opens with days 1-12), leaves the choice to the next batches (up to
        # CHOOSE_BATCHES); the values of such batches are parsed once per distinct value.
        self.tries += 1
        self.started = True
        if self.spec not in ("auto", "iso", "dayfirst", "monthfirst"):
            return
        sample = pc.utf8_trim_whitespace(pc.drop_null(pc.unique(text)))
        sample = sample.filter(pc.not_equal(sample, ""))[:SAMPLE_VALUES]
        if len(sample) == 0:
            self.started = self.tries >= CHOOSE_BATCHES
            return
        order = self.order
        if order is None:
            try:
                order = settle_order(sample)
            except AmbiguousOrder as exc:
                if exc.conflict:
                    return  # reported with rows at the end
                try:  # the sample may be a few days of January: settle on the whole batch
                    order = settle_order(pc.unique(text))
                except AmbiguousOrder as again:
                    self.started = again.conflict or self.tries >= CHOOSE_BATCHES
                    return  # else decided on all values at the end
        try:
            parsed = parse_text(sample, self.spec, order)
        except (AmbiguousOrder, MappingError):
            return
        if parsed.ok.all() and set(parsed.family) <= set(NUMBER_RANGES):
            self.numeric = True  # plain numbers: read as numbers, their kind decided at the end
            return
        fmt = fast_format(sample, parsed)
        if fmt is not None:
            self.fmt, self.fast_family, self.fast_aware = fmt, parsed.family[0], fmt.endswith("%z")
            if order is not None and self.fast_family in ("dayfirst", "monthfirst"):
                if self.order is None:  # read from the data: kept to name it if later rows disagree
                    self.first_text, self.first_base = text, self.n
                self.order = order

    def finish(self, rows: np.ndarray) -> Times:
        """Parse what is left; `rows` (source row numbers) name examples in error messages."""
        us = np.concatenate(self.us_chunks) if self.us_chunks else np.empty(0, np.int64)
        self.us_chunks = []
        # text batches carry no per-row zone flags until parsed: only typed batches add theirs
        aware = np.concatenate(self.typed_aware) if self.typed_aware else np.zeros(len(us), bool)
        conflict = np.zeros(len(us), bool)
        formats = Counter(self.typed_formats)
        if self.fast_rows:
            formats[self.fast_family] += self.fast_rows
        self.us_chunks = []
        if self.text_chunks and all(c.null_count == len(c) for c in self.text_chunks):
            self.text_chunks, self.text_pos = [], []  # a column of blanks only: nothing to read
        uniq = None
        if self.text_chunks:
            text = pa.chunked_array(self.text_chunks, pa.string()).combine_chunks()
            pos = np.concatenate(self.text_pos)
            self.text_chunks, self.text_pos = [], []
            enc = pc.dictionary_encode(pc.utf8_trim_whitespace(text))
            uniq = enc.dictionary
            idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        kind = None
        if self.num_values:
            # the kind (Excel, epoch s or ms) from every number of the column, as if all were
            # parsed together; several kinds are the usual error
            values = np.concatenate(self.num_values)
            at = np.concatenate(self.num_pos)
            self.num_values, self.num_pos = [], []
            others = number_values(uniq) if uniq is not None else np.empty(0)
            kind = number_kind(np.concatenate([values, others]), self.spec)
            part = numbers(values, self.spec, kind)
            us[at], aware[at] = part.us, part.aware
            if part.ok.any():
                formats[kind] += int(np.count_nonzero(part.ok))
            del values, at, part
        if uniq is not None:
            order = self.order
            if order is None and self.spec in ("auto", "iso"):
                try:
                    order = settle_order(uniq)
                except AmbiguousOrder as exc:
                    raise self._order_error(exc, uniq, idx, pos, rows) from None
            parsed = parse_text(uniq, self.spec, order, kind)
            if order is not None:
                other = "monthfirst" if order == "dayfirst" else "dayfirst"
                failed = np.flatnonzero(~parsed.ok)
                if failed.size:
                    again = parse_text(uniq.take(pa.array(failed)), "auto", other)
                    bad = np.zeros(len(uniq), bool)
                    bad[failed[again.ok & np.isin(again.family, [other])]] = True
                    conflict[pos] = np.where(idx >= 0, bad[np.maximum(idx, 0)], False)
                    self._check_settled_order(conflict, uniq, idx, pos, rows)
            hit = idx >= 0
            vals = np.where(hit, parsed.us[np.maximum(idx, 0)], NAT)
            us[pos] = vals
            aware[pos] = hit & parsed.aware[np.maximum(idx, 0)]
            counts = np.bincount(idx[hit], minlength=len(uniq))
            for fam in set(parsed.family[parsed.ok]):
                formats[fam] += int(counts[parsed.family == fam].sum())
            self.order = order
        labels = Counter({FAMILY_LABELS.get(k, k): v for k, v in formats.items() if k})
        return Times(us, aware, conflict, labels, self.order if any(
            k in ("dayfirst", "monthfirst") for k in formats) else None)

    def _contradiction(self, a: str, row_a: int, b: str, row_b: int) -> MappingError:
        """`a` can only be day-first, `b` only month-first."""
        return MappingError(
            f"{self.where}: the dates in column '{self.name}' contradict each other: "
            f"'{a}' (row {row_a}) can only be day-first, '{b}' (row {row_b}) only "
            "month-first. Say which order the export uses with --time-format "
            "dayfirst|monthfirst (or time_format in the mapping); the rows that do not fit "
            "will be listed as rejected."
        )

    def _check_settled_order(self, conflict: np.ndarray, uniq: pa.Array, idx: np.ndarray, pos: np.ndarray,
                             rows: np.ndarray) -> None:
        """The order was read from the first batch: a later date that reads only the other way
        contradicts it, an error as when all values are settled together."""
        if self.first_text is None or not conflict.any():
            return
        groups = pc.extract_regex(pc.utf8_trim_whitespace(self.first_text), FAMILIES["numeric"])
        field = groups.field("A" if self.order == "dayfirst" else "B")
        number = pc.cast(pc.fill_null(pc.if_else(pc.equal(field, ""), "0", field), "0"), pa.int64())
        k = int(np.flatnonzero(number.to_numpy(zero_copy_only=False) > 12)[0])
        evidence = (self.first_text[k].as_py().strip(), int(rows[self.first_base + k]))
        j = int(np.flatnonzero(conflict[pos])[0])
        other = (uniq[int(idx[j])].as_py(), int(rows[pos[j]]))
        day_first, month_first = (evidence, other) if self.order == "dayfirst" else (other, evidence)
        raise self._contradiction(*day_first, *month_first)

    def _order_error(self, exc: AmbiguousOrder, uniq: pa.Array, idx: np.ndarray, pos: np.ndarray,
                     rows: np.ndarray) -> MappingError:
        def row_of(value: str) -> int:
            k = uniq.index(value).as_py()
            return int(rows[pos[np.flatnonzero(idx == k)[0]]])

        if exc.conflict:
            a, b = exc.examples
            return self._contradiction(a, row_of(a), b, row_of(b))
        # No day above 12 anywhere: the order cannot be read from the data.
        texts = uniq.to_pylist()
        import re

        example = next((t for t in texts if re.match(r"^\s*\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", t or "")), texts[0])
        return MappingError(
            f"{self.where}: the dates in column '{self.name}' are ambiguous: in '{example}' (row "
            f"{row_of(example)}) and every other date, both numbers are 12 or less, so day-first "
            "and month-first read differently. Say which order the export uses with "
            "--time-format dayfirst or --time-format monthfirst (or time_format in the mapping); "
            "sopaudit does not guess."
        )
