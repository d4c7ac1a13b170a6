"""XES read from its bytes with numpy and Arrow, for the plain files the fast path's scan passed.

An exported XES log is millions of lines of one shape: `<event>`, then `<string key="K"
value="V"/>`-like attributes, then `</event>`. Here the tags are found as positions in the bytes
(every `<` and every `"`), each attribute's key and value become spans of the file's own buffer
(an Arrow string array over it, without copying a value), and the columns are gathered with
`take`, typed by the expat reader's own conversion (`xes.typed_values`). About four times faster than
rustxes on a 150,000-case log, and the same batch as `xes.read_xes`.

`read_plain` returns None, and the caller goes on to rustxes or expat, for anything outside that
shape: an attribute in another form (other spacing or order, single quotes), an entity or
character reference, a tab or line break or `<` inside a key or value, a comment, CDATA or
processing instruction among the traces, a key repeated in an event or trace, an attribute
outside events and trace heads, bytes that are not UTF-8 or that XML allows nowhere (a control
byte, `]]>`, U+FFFE or U+FFFF), or a value its type does not read. tests/fuzz/test_xes_plain.py
holds it to the expat reader on thousands of mutated and drawn files.
"""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.ingest.xes import typed_values

_TAIL = re.compile(rb"</log\s*>\s*")
_XML_SPACE = np.zeros(256, dtype=bool)
_XML_SPACE[[9, 10, 13]] = True  # the only bytes under 0x20 that XML allows
_TAGS = (b"string", b"date", b"int", b"float", b"boolean", b"id")
# The one form of date both this reader and rustxes read as the expat reader does: a zone, at
# most microseconds.
DATE_FORM = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)"


def _words(data: bytes) -> np.ndarray:
    """The 8 bytes at every position of `data` as little-endian integers: an overlapping view of
    the buffer (stride 1), so reading the bytes after millions of positions is one gather."""
    return np.ndarray(shape=(max(len(data) - 7, 0),), dtype="<u8", buffer=data, strides=(1,))


def _positions(arr: np.ndarray, start: int, end: int, dtype, step: int = 1 << 22) -> tuple[np.ndarray, np.ndarray] | None:
    """Where `<` and where `"` occur in arr[start:end], as `dtype` positions: a slice at a time,
    compared into one reused buffer (fresh memory is what costs most here: each new page is a
    fault); None when the slice holds what XML forbids (`_forbidden`)."""
    found: tuple[list, list] = ([], [])
    buf = np.empty(min(step, max(end - start, 0)), dtype=bool)
    for lo in range(start, end, step):
        chunk = arr[lo:min(lo + step, end)]
        same = buf[:len(chunk)]
        for byte, into in ((ord("<"), found[0]), (ord('"'), found[1])):
            np.equal(chunk, byte, out=same)
            into.append((np.flatnonzero(same) + lo).astype(dtype, copy=False))
        if _forbidden(arr, lo, chunk, same):
            return None
    return tuple(np.concatenate(f) if f else np.empty(0, dtype=dtype) for f in found)


def _forbidden(arr: np.ndarray, lo: int, chunk: np.ndarray, same: np.ndarray) -> bool:
    """Whether chunk (arr[lo:...]) holds what XML allows nowhere and expat refuses: a byte under
    0x20 other than a tab or line break, `]]>` outside a CDATA section, the non-characters
    U+FFFE and U+FFFF. `same`: a buffer of the chunk's length."""
    np.less(chunk, 0x20, out=same)
    if not _XML_SPACE[chunk[np.flatnonzero(same)]].all():
        return True
    second, third = _next_two(arr, lo, chunk, same, ord("]"))
    if ((second == ord("]")) & (third == ord(">"))).any():
        return True
    second, third = _next_two(arr, lo, chunk, same, 0xEF)  # the lead byte of U+F000 to U+FFFF
    return bool(((second == 0xBF) & ((third == 0xBE) | (third == 0xBF))).any())


def _next_two(arr: np.ndarray, lo: int, chunk: np.ndarray, same: np.ndarray, byte: int) -> tuple[np.ndarray, np.ndarray]:
    """The two bytes after each `byte` of chunk (arr[lo:...]), read in the file: they may lie
    past the chunk."""
    np.equal(chunk, byte, out=same)
    at = np.flatnonzero(same) + lo
    at = at[at + 2 < len(arr)]
    return arr[at + 1], arr[at + 2]


def _utf8(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] is UTF-8 (Arrow's check, a few GB/s), text between the tags included."""
    text = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([start, end], dtype=np.int64)),
                                            pa.py_buffer(data))
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _special(text: np.ndarray, step: int = 1 << 22) -> bool:
    """Whether `text` holds a tab, line break, other control byte or `<` (compared a slice at a
    time into one buffer)."""
    buf = np.empty(min(step, len(text)), dtype=bool)
    for lo in range(0, len(text), step):
        chunk = text[lo:lo + step]
        same = buf[:len(chunk)]
        if np.less(chunk, 0x20, out=same).any() or np.equal(chunk, ord("<"), out=same).any():
            return True
    return False


def _text_bytes(x: pa.StringArray) -> np.ndarray:
    """The bytes of all values of a string array (offset 0, as `take` makes it)."""
    if not len(x):
        return np.empty(0, dtype=np.uint8)
    end = int(np.frombuffer(x.buffers()[1], dtype=np.int32)[len(x)])
    return np.frombuffer(x.buffers()[2], dtype=np.uint8)[:end]


def _is(word: np.ndarray, text: bytes, scratch: np.ndarray | None = None) -> np.ndarray:
    """Whether each word starts with `text` (`scratch`: a buffer like `word` for the masked words)."""
    value = np.uint64(int.from_bytes(text, "little"))
    if len(text) == 8:
        return word == value
    return np.bitwise_and(word, np.uint64((1 << (8 * len(text))) - 1), out=scratch) == value


def _dates_in_form(values: pa.StringArray) -> bool:
    """Whether every value is in DATE_FORM. Values of one length in one layout (an export writes
    its times alike) are checked by their bytes at fixed places with numpy, several times faster
    than the regular expression, which decides every other case."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    width = int(offsets[1] - offsets[0]) if len(values) else 0
    if len(values) and not values.null_count and (np.diff(offsets) == width).all():
        chars = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width)
        if any(_fixed_form(chars, fraction, zone) for fraction, zone in _layouts(width)):
            return True
    return pc.all(pc.match_substring_regex(values, f"^{DATE_FORM}$"), min_count=0).as_py()


def _layouts(width: int) -> list[tuple[int, str]]:
    """The (fraction digits, zone: Z or an offset) a DATE_FORM value of this many bytes can have."""
    return [(f, zone) for f in range(7) for zone, tail in (("Z", 1), ("+", 6))
            if 19 + (f + 1 if f else 0) + tail == width]


def _fixed_form(chars: np.ndarray, fraction: int, zone: str) -> bool:
    """Whether every row of `chars` (one value per row) is DATE_FORM with that fraction and zone:
    each byte within its column's range ("0"-"9", or one character), a block of rows at a time."""
    lo, span = _date_template(chars.shape[1], fraction, zone)
    for first in range(0, len(chars), 1 << 15):
        block = chars[first:first + (1 << 15)]
        if not ((block - lo) <= span).all():  # uint8: a byte below its range wraps to a large one
            return False
    return zone == "Z" or bool(np.isin(chars[:, -6], np.frombuffer(b"+-", dtype=np.uint8)).all())


@functools.cache
def _date_template(width: int, fraction: int, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Per byte of a DATE_FORM value of that layout: the lowest byte allowed and the span above it
    (the offset's sign is "+" to "-" here, which lets "," through: checked apart)."""
    text = "0000-00-00T00:00:00" + ("." + "0" * fraction if fraction else "") + ("Z" if zone == "Z" else "+00:00")
    assert len(text) == width
    lo = np.frombuffer(text.encode(), dtype=np.uint8).copy()
    span = np.where(lo == ord("0"), 9, 0).astype(np.uint8)
    if zone != "Z":
        span[-6] = ord("-") - ord("+")
    return lo, span


def _typed_fast(values: pa.Array, kind: str) -> pa.Array | None:
    """`xes.typed_values`, with dates in `DATE_FORM` (`2024-03-04T08:00:00.5+07:00`; None when one is
    not) cast by Arrow's ISO 8601 parser: the same instants (tests/test_xes_fast.py), without a
    parse per distinct value. Arrow refuses what that parser reads (an offset of +24:00) and
    reads a year 0000 that it refuses: those go to it."""
    if kind == "date":
        if not _dates_in_form(values):
            return None
        try:
            utc = pc.cast(values, pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return typed_values(values, kind)
        return typed_values(values, kind) if pc.any(pc.starts_with(values, "0000")).as_py() else utc
    return typed_values(values, kind)


def well_formed(text: bytes) -> bool:
    """Whether expat reads `text` as well-formed XML with no DOCTYPE or entity declaration: no
    handler but the refusals, so it runs at C speed (about 230 MB/s here)."""
    parser = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise ValueError("declaration")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, ValueError, LookupError):
        return False
    return True


# A file is scanned in pieces of about this size, two at a time. Small pieces keep every array of
# the scan a few MB, so the memory one piece frees is reused by the next (malloc keeps it in its
# heap; a larger array is mapped afresh and each of its new pages is a fault): on the 181 MB XML
# of a 150,000-case log, 8,000 page faults instead of 55,000 and a third less time.
PIECE_BYTES = 8 << 20
INT32_BYTES = 2**31 - 64  # a smaller file's positions (a few bytes past any tag included) fit int32


def read_plain(data: bytes, start: int, piece_bytes: int = PIECE_BYTES) -> pa.RecordBatch | None:
    """The events of an XES file (`start`: its first `<trace`), as `xes.read_xes` gives them; None
    when the file is not in the plain shape (module text).

    A file larger than `piece_bytes` is scanned in pieces cut after a `</trace>`, two at a time
    (numpy and Arrow release the GIL for their loops over the bytes); each piece is checked as the
    whole file would be, so a cut that is not a real trace end (inside a value) makes a piece
    fail."""
    arr = np.frombuffer(data, dtype=np.uint8)
    end = data.rfind(b"</log")
    if (end < start or data.find(b"&", start) >= 0 or not _TAIL.fullmatch(data, end)
            or data.find(b"<event", 0, start) >= 0 or not well_formed(data[:start] + b"</log>")):
        return None  # references, a truncated file, text after the log, an event before the traces
    words = _words(data)
    bounds = _cuts(data, start, end, piece_bytes)
    if len(bounds) == 2:
        pieces = [_scan(data, arr, words, start, end)]
    else:
        with ThreadPoolExecutor(2, thread_name_prefix="sopaudit-xes") as pool:
            pieces = list(pool.map(lambda r: _scan(data, arr, words, *r), zip(bounds[:-1], bounds[1:], strict=True)))
    if any(p is None for p in pieces):
        return None
    return _joined(pieces)


def _cuts(data: bytes, start: int, end: int, piece_bytes: int) -> list[int]:
    """The bounds of the pieces of data[start:end], start and end included: each cut just after
    the first `</trace>` at or past an even share of the bytes (none when the whole is at most
    piece_bytes; fewer when traces are longer than a share)."""
    n = -(-(end - start) // piece_bytes)
    bounds = [start]
    for k in range(1, n):
        cut = data.find(b"</trace>", max(bounds[-1], start + k * (end - start) // n), end)
        if cut < 0 or cut + len(b"</trace>") >= end:
            break
        bounds.append(cut + len(b"</trace>"))
    return [*bounds, end]


def _scan(data: bytes, arr: np.ndarray, words: np.ndarray, start: int, end: int) -> tuple[int, list, list] | None:
    """The traces in data[start:end]: its number of events, its event columns and its trace (case)
    columns, each a list of (key, XES tag, typed values per event) in the order of the keys' first
    appearance; None when the piece is not in the plain shape."""
    # positions as int32 where they fit: half the fresh memory of every array of positions below
    small = len(data) < INT32_BYTES
    found = _positions(arr, start, end, np.int32 if small else np.int64)
    if found is None or not _utf8(data, start, end):
        return None  # bytes expat refuses, between the tags or in a value
    lt, quotes = found
    w = words[lt + 1]
    scratch = np.empty_like(w)
    delim = arr[lt + 6]
    after_name = np.isin(delim, np.frombuffer(b" \t\n\r>/", dtype=np.uint8))
    trace_open = _is(w, b"trace", scratch) & after_name
    event_open = _is(w, b"event", scratch) & after_name
    self_closed = event_open & (delim == ord("/"))
    event_close = _is(w, b"/event>", scratch) | self_closed
    trace_close = _is(w, b"/trace>", scratch)
    del scratch
    kind = np.full(len(lt), -1, dtype=np.int8)
    for k, tag in enumerate(_TAGS):
        kind[_is(w, (tag + b' key="')[:8])] = k
    attr = kind >= 0
    if not (trace_open | event_open | event_close | trace_close | attr).all():
        return None  # a comment, CDATA, processing instruction or other element among the traces
    # The tags nest as XES does: traces in the log, events in traces, attributes in either.
    t_step = trace_open.astype(np.int8) - trace_close
    e_step = event_open.astype(np.int8) - event_close
    t_depth, e_depth = np.cumsum(t_step, dtype=np.int32), np.cumsum(e_step, dtype=np.int32)
    markers = event_open | event_close
    if (t_depth.min(initial=0) < 0 or t_depth.max(initial=0) > 1 or e_depth.min(initial=0) < 0
            or e_depth.max(initial=0) > 1 or (len(lt) and (t_depth[-1] or e_depth[-1]))
            or (e_depth - e_step)[event_open].any() or not (t_depth[markers] == 1).all()
            or e_depth[trace_open | trace_close].any() or not (t_depth[attr] == 1).all()):
        return None
    a = np.flatnonzero(attr)
    a_event = e_depth[a] == 1
    ev_open_n = np.cumsum(event_open, dtype=np.int32)
    n_events = int(ev_open_n[-1]) if len(lt) else 0
    event_row = ev_open_n[a] - 1
    traces_open = np.cumsum(trace_open, dtype=np.int32) - 1
    trace_row = traces_open[a]
    event_trace = traces_open[event_open]
    del ev_open_n, traces_open, t_depth, e_depth, t_step, e_step
    # Spans: key from after `key="` to the next quote, then exactly ` value="`, the value to the
    # next quote, then `/>`.
    tag_len = np.array([len(t) for t in _TAGS], dtype=lt.dtype)[kind[a]]
    pos = lt[a]
    ks = pos + 1 + tag_len + len(' key="')
    qi = np.searchsorted(quotes, ks)
    if (qi + 2 >= len(quotes)).any():
        return None
    ke = quotes[qi]
    vs = ke + 1 + len(' value="')
    ve = quotes[qi + 2]
    ok = (quotes[qi + 1] == vs - 1) & _is(words[ke + 1], b' value="') & _is(words[ve + 1], b"/>")
    ok &= _is(words[pos + 1 + tag_len], b' key="')  # the tag name is followed by exactly ` key="`
    if not ok.all():
        return None
    del quotes, qi, lt, w, ok  # the largest arrays of the scan: free them before the columns
    if not len(a):
        return n_events, [], []  # events without attributes (or a piece of whitespace): no column
    # One string array over the file's buffer: [key, gap, value, gap, key, ...]
    offsets = np.empty(4 * len(a), dtype=ks.dtype)
    offsets[0::4], offsets[1::4], offsets[2::4], offsets[3::4] = ks, ke, vs, ve
    spans = (pa.StringArray if small else pa.LargeStringArray).from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        keys, values = (spans.take(pa.array(np.arange(i, len(offsets), 4))).cast(pa.string()) for i in (0, 2))
    except pa.ArrowInvalid:
        return None  # more than 2 GiB of values in this piece
    del spans, offsets
    # expat turns a tab or line break in a value into a space and refuses a `<` in one
    if any(_special(_text_bytes(x)) for x in (keys, values)):
        return None
    enc = pc.dictionary_encode(keys)
    key_of = enc.indices.to_numpy()
    names = enc.dictionary.to_pylist()
    tags = {}
    for k in np.unique(key_of):
        sel = kind[a][key_of == k]
        if (sel != sel[0]).any():
            return None  # the scan let no key have two types; be sure
        tags[int(k)] = _TAGS[sel[0]].decode()
    n_traces = int(trace_open.sum())
    levels: tuple[int, list, list] = (n_events, [], [])
    for cols, level, rows, n, trace in ((levels[1], a_event, event_row, n_events, False),
                                        (levels[2], ~a_event, trace_row, n_traces, True)):
        order, first = np.unique(key_of[level], return_index=True)
        for k in order[np.argsort(first)]:
            sel = level & (key_of == k)
            at = rows[sel]
            if (np.diff(at) <= 0).any():
                return None  # a key repeated in one event or trace: expat keeps the last
            typed = _typed_fast(values.filter(pa.array(sel)), tags[int(k)])
            if typed is None:
                return None
            index = np.full(n, -1, dtype=np.int64)
            index[at] = np.arange(len(at))
            if trace:
                index = index[event_trace]
            column = typed if (index >= 0).all() and (np.diff(index) == 1).all() else \
                typed.take(pa.array(index, mask=index < 0))
            cols.append((names[int(k)], tags[int(k)], column))
    return levels


def _joined(pieces: list[tuple[int, list, list]]) -> pa.RecordBatch | None:
    """The pieces' columns as one batch: event columns, then `case:` columns, each in the order of
    first appearance in the file (a key first seen in a later piece comes after the earlier
    pieces' keys), missing where a piece lacks the key. None when a key has two XES types (read
    apart, the pieces could not see it)."""
    lengths = [p[0] for p in pieces]
    names, arrays = [], []
    for level, prefix in ((1, ""), (2, "case:")):
        tags: dict[str, str] = {}
        for piece in pieces:
            for key, tag, _ in piece[level]:
                if tags.setdefault(key, tag) != tag:
                    return None
        for key in tags:
            found = [next((c for k, _, c in piece[level] if k == key), None) for piece in pieces]
            kind = next(c.type for c in found if c is not None)
            parts = [c if c is not None else pa.nulls(n, kind) for c, n in zip(found, lengths, strict=True)]
            names.append(prefix + key)
            arrays.append(parts[0] if len(parts) == 1 else pa.concat_arrays(parts))
    return pa.RecordBatch.from_arrays(arrays, names=names)
