"""XES at native speed: pm4py's Rust importer (rustxes), taken only where it reads exactly what
the expat reader (xes.py) reads.

rustxes is fast but not strict: it would expand nothing dangerous itself, yet it reads an int
that does not parse as 0, keeps the first of a key repeated in an event (expat keeps the last),
reads a date without a zone as UTC, writes list attributes and mixed types as debug text, and
drops events outside traces with a message on stderr. So a cheap scan of the file (C-level
regular expressions over the bytes, a few hundred MB/s) decides first; the file goes to rustxes
only when it has

- no DOCTYPE and no entity declaration (such a file goes to the expat reader, which refuses it
  with the message users know), and no XML declaration of an encoding other than UTF-8 (expat
  decodes or refuses it; rustxes would read the bytes as UTF-8 whatever the file says);
- after the log header, no list or container attribute, no nested attribute, no trace
  without events, and every int, float, boolean and date value in the one form both readers
  read alike (dates with a zone, at most microseconds);
- one XES type per attribute key, and no reference, tab or line break in a key (expat decodes
  or turns it into a space, rustxes keeps it);
- the whole file well-formed XML, checked by expat without handlers (C speed): rustxes reads
  many files that are not XML at all (a damaged attribute name, a stray quote, a control byte);
- and, once rustxes has read it, every attribute after the header exactly once in its output
  (in its event, or in the first event of its trace: this catches events outside traces, keys
  repeated in an event or trace, defaults filled in) and no raw tab or line break in a text
  value (expat turns those into spaces).

Otherwise `read_xes_fast` returns None and the caller reads the file with expat. The result is
the same Arrow batch as `xes.read_xes` gives: the same rows in file order, columns, types (UTC
timestamps in microseconds) and values (tests/test_xes_fast.py checks every public dataset).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.ingest import ahead
from sopaudit.ingest.xes_arrays import DATE_FORM, read_plain, well_formed
from sopaudit.ingest.xes_bytes import read_bytes

TAGS = rb"(?:string|date|int|float|boolean|id)"
_UNSAFE_DECL = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_VALUE_TAGS = (b"string", b"date", b"int", b"float", b"boolean", b"id")
_TRACE_HEAD = re.compile(rb"<trace>\s*((?:<" + TAGS + rb"\s+key=\"[^\"]*\"[^>]*/>\s*)*)")
_KEY = re.compile(rb"key=\"([^\"]*)\"")
_EVENT_START = re.compile(rb"<event[\s>/]")
_TRACE_OR_EVENT = re.compile(rb"<(?:trace|event)[\s>/]")
_BREAK = re.compile(r"[\t\r\n]")
_NESTED = re.compile(rb"</" + TAGS + rb">")  # a closing value tag: the attribute has children
# A reference, tab or line break in a key: expat decodes it or turns it into a space, rustxes
# keeps it (and the columns' file order is found from the keys as written).
_ODD_KEY = re.compile(rb'key="[^"&\t\r\n]*[&\t\r\n]')
# Per XES type present: a value not in the one form both readers read alike.
_BAD_VALUE = {
    b"int": re.compile(rb"<int\s[^>]*value=\"(?![-+]?\d{1,18}\")"),
    b"float": re.compile(rb"<float\s[^>]*value=\"(?![-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\")"),
    b"boolean": re.compile(rb"<boolean\s[^>]*value=\"(?!(?:true|false)\")"),
    b"date": re.compile(rb"<date\s[^>]*value=\"(?!" + DATE_FORM.encode() + rb"\")"),
}
def _utf8_declared(data: bytes) -> bool:
    """Whether the XML declaration, if any, declares UTF-8 (another encoding is left to expat)."""
    declared = _ENCODING.match(data[:200])
    return not (declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"))


def _declarations_ok(data: bytes) -> bool:
    """No DOCTYPE or entity declaration (expat refuses those with its message), and UTF-8."""
    return not _UNSAFE_DECL.search(data) and _utf8_declared(data)


def _eligible(data: bytes, start: int) -> tuple[int, int, np.ndarray, list | None] | None:
    """When rustxes reads this file (declarations checked, `start`: its first `<trace`) as expat
    does: the number of attributes after the log header, the number of events, the row of the
    first event of every trace (in file order) and, when the header has trace defaults, every
    trace's position and keys."""
    if data.find(b"<event", 0, start) >= 0:
        return None  # an event before the first trace (outside any)
    n_attrs = data.count(b"key=", start)
    per_tag = {t: data.count(b"<" + t + b" key=", start) for t in _VALUE_TAGS}
    if sum(per_tag.values()) != n_attrs:
        return None  # lists, or an attribute in another form (value first, other spacing, a prefix)
    present = {t for t, n in per_tag.items() if n}
    if _NESTED.search(data, start):
        return None  # an attribute with children (nested attributes)
    if _ODD_KEY.search(data, start):
        return None
    # One XES type per key: expat reads a key of several types as text (noted), rustxes as debug
    # text. Only keys of a tag other than string need listing (string is the rest).
    tags: dict[bytes, bytes] = {}
    for tag in present - {b"string"}:
        keys = _keys(data, start, tag, per_tag[tag])
        if keys is None:
            return None
        for key in keys:
            if tags.setdefault(key, tag) != tag:
                return None
    if b"string" in present and any(data.find(b'<string key="' + k + b'"', start) >= 0 for k in tags):
        return None
    if any(_BAD_VALUE[t].search(data, start) for t in present if t in _BAD_VALUE):
        return None
    # Traces and events in file order: which trace each event belongs to.
    marks = _TRACE_OR_EVENT.findall(data, start)
    is_trace = np.frombuffer(b"".join(m[1:2] for m in marks), dtype=np.uint8) == ord("t")
    trace_of_event = (np.cumsum(is_trace) - 1)[~is_trace]
    if len(trace_of_event) and trace_of_event[0] < 0:
        return None
    first_rows = np.flatnonzero(np.diff(trace_of_event, prepend=-1) != 0)
    if len(first_rows) != int(is_trace.sum()):
        return None  # a trace without events: its attributes are in the file, not in any event
    # Last (it reads the whole file, though at C speed): rustxes reads many files that are not XML
    # (a damaged attribute, a control byte, a stray quote); expat refuses them with its message.
    if not well_formed(data):
        return None
    heads = None
    if b'scope="trace"' in data[:start]:
        heads = [(m.start(), _KEY.findall(m.group(1))) for m in _TRACE_HEAD.finditer(data, start)]
        if len(heads) != len(first_rows):
            return None
    return n_attrs, len(trace_of_event), first_rows, heads


def _keys(data: bytes, start: int, tag: bytes, total: int) -> list[bytes] | None:
    """The distinct keys of one XES type after `start`: found one at a time (a search that skips
    the keys already found, stopping at the first new one), counted, until the counts add up to
    the tag's `total` (a findall of every attribute would build millions of tuples)."""
    prefix = b"<" + tag + b' key="'
    found: dict[bytes, int] = {}
    while sum(found.values()) < total:
        if len(found) == 32:  # many keys of one type: one findall is cheaper than a search per key
            return list(set(re.compile(re.escape(prefix) + rb'([^"]*)"').findall(data, start)))
        known = b"|".join(re.escape(k) + b'"' for k in found)
        skip = rb"(?!(?:" + known + rb"))" if found else b""
        m = re.compile(re.escape(prefix) + skip + rb'([^"]*)"').search(data, start)
        if m is None:
            return None
        found[m.group(1)] = data.count(prefix + m.group(1) + b'"', start)
    return list(found)


def read_xes_fast(path: Path) -> tuple[pa.RecordBatch, list[str]] | None:
    """The events of an XES file read by rustxes, as `xes.read_xes` gives them; None when the
    file needs the expat reader (see the module text)."""
    data = ahead.take(path)  # `sopaudit audit` may have begun reading it
    if data is ahead.MISSING:
        data = read_bytes(path)
    if data is None:
        return None
    start = data.find(b"<trace")
    if start < 0 or not _utf8_declared(data):
        return None  # no trace, another encoding: expat reads or refuses it
    # The plain reader refuses a DOCTYPE in the header and any `<` after it that is not a trace,
    # event or attribute tag, so the search of the whole text for declarations (0.05 s on a
    # 173 MB file) is only needed before rustxes.
    plain = read_plain(data, start)
    if plain is not None:
        return plain, []
    if not _declarations_ok(data):
        return None  # a DTD or entity: expat refuses it with its message
    if not isinstance(data, bytes):
        data = data[:]  # a memory map (inflate.py) has no `count`, which the checks below use
    checked = _eligible(data, start)
    if checked is None:
        return None
    n_attrs, events, first_rows, heads = checked
    try:
        import rustxes
    except ImportError:
        return None
    try:
        df, _meta = rustxes.import_xes(str(path))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - rustxes panics (a BaseException) on malformed XML:
        return None  # any failure of the fast path leaves the file to expat, which says where
    if df.height != events:
        return None
    table = df.to_arrow()
    event_cols = [c for c in table.column_names if not c.startswith("case:")]
    case_cols = [c for c in table.column_names if c.startswith("case:")]
    if heads is not None:
        table = _without_trace_defaults(heads, first_rows, table, case_cols)
    # Every attribute after the header is in rustxes' output once: in its event, or in the first
    # event of its trace. Otherwise something was dropped or doubled (a key repeated in an event
    # or trace, a default filled in, ...): leave the file to expat.
    starts = pa.array(first_rows)
    found = sum(len(table[c]) - table[c].null_count for c in event_cols)
    found += sum(len(starts) - table[c].take(starts).null_count for c in case_cols)
    if found != n_attrs:
        return None
    # expat turns a raw tab or line break in an attribute value into a space; rustxes keeps it
    text = [c for c in table.column_names if _is_text(table[c].type)]
    if any(pc.any(pc.match_substring_regex(table[c].cast(pa.string()), _BREAK.pattern)).as_py() for c in text):
        return None
    names = _file_order(data, event_cols, table, trace=False) + _file_order(data, case_cols, table, trace=True)
    arrays = []
    for name in names:
        arr = _typed(table[name].combine_chunks())
        if arr is None:
            return None
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=names), []


def _file_order(data: bytes, cols: list[str], table: pa.Table, trace: bool) -> list[str]:
    """Columns in the order expat gives them: by the first event with a value, and within that
    event (or its trace, for trace attributes) in the order of the file."""
    first = {c: _first_valid(table[c]) for c in cols}
    rows = sorted(set(first.values()))
    starts = {}
    if rows:
        wanted = set(rows)
        for i, m in enumerate(_EVENT_START.finditer(data)):
            if i in wanted:
                starts[i] = m.start()
                if len(starts) == len(wanted):
                    break
    rank: dict[tuple[int, str], int] = {}
    for r, pos in starts.items():
        if trace:
            pos = data.rfind(b"<trace", 0, pos)
            head = _TRACE_HEAD.match(data, pos)
            block = head.group(1) if head else b""
        else:
            block = data[pos:data.find(b"</event>", pos)]
        for i, key in enumerate(_KEY.findall(block)):
            rank.setdefault((r, ("case:" if trace else "") + key.decode("utf-8", "replace")), i)
    return sorted(cols, key=lambda c: (first[c], rank.get((first[c], c), 1 << 30), c))


def _without_trace_defaults(heads: list, first_rows: np.ndarray, table: pa.Table, case_cols: list[str]) -> pa.Table:
    """rustxes fills a trace attribute a trace lacks with its `<global scope="trace">` default;
    expat reads it as missing (defaults describe the log, they are not data). Blank them again."""
    per_trace = np.diff(np.append(first_rows, table.num_rows))
    for col in case_cols:
        key = col[5:].encode("utf-8")
        has = np.fromiter((key in keys for _, keys in heads), dtype=bool, count=len(heads))
        if has.all():
            continue
        keep = np.repeat(has, per_trace)
        arr = table[col].combine_chunks()
        table = table.set_column(table.column_names.index(col), col,
                                 pc.if_else(pa.array(keep), arr, pa.nulls(len(arr), arr.type)))
    return table


def _first_valid(col: pa.ChunkedArray) -> int:
    valid = pc.is_valid(col).combine_chunks()
    idx = pc.index(valid, True).as_py()
    return idx if idx >= 0 else len(col)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _typed(arr: pa.Array) -> pa.Array | None:
    """rustxes' column in the types of xes.read_xes; None for a type that reader never gives."""
    t = arr.type
    if pa.types.is_timestamp(t):
        # rustxes gives UTC wall-clock times without a zone, in nanoseconds.
        return arr.cast(pa.timestamp("ns")).cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    if _is_text(t):
        return arr.cast(pa.string())
    if pa.types.is_int64(t) or pa.types.is_float64(t) or pa.types.is_boolean(t):
        return arr
    return None
