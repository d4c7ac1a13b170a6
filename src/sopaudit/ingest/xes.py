"""Read XES / XES.gz in one safe pass: expat with DTDs and entities refused, no network.

The events become columns like pm4py's DataFrame: event attributes under their keys, trace
attributes as `case:<key>` (so the trace's concept:name is `case:concept:name`). Values are typed
per key from the XES tags: string and id as text, int, float, boolean, and date as UTC timestamps
(text when a date has no zone or does not read). Nested attributes keep their parent's value (the
children are not columns); list and container attributes have no value and are left out (noted);
`<global>` defaults, extensions and classifiers describe the log and are not data. The row number
of an event is its position in the file.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.core.errors import InputFileError
from sopaudit.ingest.timestamps import parse_text

VALUE_TAGS = {"string", "id", "date", "int", "float", "boolean"}
NO_VALUE_TAGS = {"list", "container", "values"}


class _Refused(Exception):
    pass


class _Columns:
    """Sparse columns: per key the positions that have a value, the values and the XES types."""

    def __init__(self) -> None:
        self.pos: dict[str, list[int]] = {}
        self.val: dict[str, list[str]] = {}
        self.types: dict[str, set[str]] = {}

    def add(self, key: str, tag: str, value: str, at: int) -> None:
        pos = self.pos.get(key)
        if pos is None:
            pos = self.pos[key] = []
            self.val[key] = []
            self.types[key] = set()
        if pos and pos[-1] == at:  # a key repeated in one event: the last value wins (as pm4py)
            self.val[key][-1] = value
        else:
            pos.append(at)
            self.val[key].append(value)
        self.types[key].add(tag)


def read_xes(path: Path) -> tuple[pa.RecordBatch, list[str]]:
    """The events of an XES file as one Arrow batch, and notes on what was left out."""
    events, traces = _Columns(), _Columns()
    event_trace: list[int] = []
    state = {"trace": -1, "event": -1, "attr_depth": 0, "global": 0, "skipped": set(), "orphans": 0}

    def start(name: str, attrs: dict) -> None:
        tag = name.rsplit(":", 1)[-1]
        if state["global"]:
            state["global"] += 1
            return
        if state["attr_depth"]:
            state["attr_depth"] += 1  # children of an attribute: not columns
            return
        if tag in VALUE_TAGS or tag in NO_VALUE_TAGS:
            state["attr_depth"] = 1
            key = attrs.get("key")
            if key is None:
                return
            if tag in NO_VALUE_TAGS:
                state["skipped"].add(key)
                return
            value = attrs.get("value", "")
            if state["event"] >= 0:
                events.add(key, tag, value, state["event"])
            elif state["trace"] >= 0:
                traces.add(key, tag, value, state["trace"])
            return
        if tag == "event" and state["trace"] >= 0:
            state["event"] = len(event_trace)
            event_trace.append(state["trace"])
        elif tag == "event":
            state["orphans"] += 1  # XES puts events in traces; one outside has no case
            state["global"] = 1
        elif tag == "trace":
            state["trace"] = trace_count[0]
            trace_count[0] += 1
        elif tag in ("global", "extension", "classifier"):
            state["global"] = 1  # log metadata, not data

    trace_count = [0]

    def end(name: str) -> None:
        tag = name.rsplit(":", 1)[-1]
        if state["global"]:
            state["global"] -= 1
            return
        if state["attr_depth"]:
            state["attr_depth"] -= 1
            return
        if tag == "event":
            state["event"] = -1
        elif tag == "trace":
            state["trace"] = -1

    def refuse(*_args) -> None:
        raise _Refused()

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Refused:
        raise InputFileError(
            f"{path}: refused to read this XML because it declares a DTD or entities (line "
            f"{parser.CurrentLineNumber}); such constructs can expand without bound or read other "
            "files. Export the file again without a DOCTYPE declaration."
        ) from None
    except expat.ExpatError as exc:
        raise InputFileError(f"{path}: not well-formed XML ({exc}); the file may be truncated") from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise InputFileError(f"{path}, line {parser.CurrentLineNumber}: the XML declaration names an unknown "
                             f"encoding ({exc}); save the file as UTF-8") from None
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path}: cannot read the file ({exc}); a compressed file may be truncated") from None

    n = len(event_trace)
    owner = np.asarray(event_trace, dtype=np.int64)
    names: list[str] = []
    arrays: list[pa.Array] = []
    notes: list[str] = []
    for key in events.pos:
        names.append(key)
        arrays.append(_column(events, key, np.asarray(events.pos[key], dtype=np.int64), n, notes, key))
    for key in traces.pos:
        # broadcast each trace's value to its events
        t_pos = np.asarray(traces.pos[key], dtype=np.int64)
        slot = np.full(max(trace_count[0], 1), -1, dtype=np.int64)
        slot[t_pos] = np.arange(len(t_pos))
        picked = slot[owner] if n else np.empty(0, np.int64)
        has = picked >= 0
        values = np.asarray(traces.val[key], dtype=object)
        sub = _Columns()
        sub.val[key], sub.types[key] = values[picked[has]].tolist(), traces.types[key]
        names.append(f"case:{key}")
        arrays.append(_column(sub, key, np.flatnonzero(has), n, notes, f"case:{key}"))
    if state["orphans"]:
        notes.append(f"{state['orphans']} event(s) outside any trace have no case and were not read")
    if state["skipped"]:
        notes.append(f"list or container attributes are not columns: {', '.join(sorted(state['skipped']))}")
    batch = pa.RecordBatch.from_arrays(arrays, names=names) if names else pa.RecordBatch.from_arrays([], names=[])
    return batch, notes


def _column(cols: _Columns, key: str, pos: np.ndarray, n: int, notes: list[str], name: str) -> pa.Array:
    """One typed column of length n from sparse values."""
    values = pa.array(cols.val[key], pa.string())
    types = cols.types[key]
    kind = next(iter(types)) if len(types) == 1 else "string"
    if len(types) > 1:
        notes.append(f"attribute {name!r} has several XES types ({', '.join(sorted(types))}); read as text")
    typed = typed_values(values, kind)
    if typed is None:
        typed = values
        if kind in ("int", "float", "boolean", "date"):
            notes.append(f"attribute {name!r}: some {kind} values do not read as {kind}; read as text")
    if len(pos) == n:
        return typed
    # scatter into a full-length column with nulls where the event has no value
    index = np.full(n, -1, dtype=np.int64)
    index[pos] = np.arange(len(pos))
    return typed.take(pa.array(index, mask=index < 0))


def typed_values(values: pa.Array, kind: str) -> pa.Array | None:
    """The values converted to the XES type, or None when some do not convert."""
    try:
        if kind == "int":
            return pc.cast(pc.utf8_trim_whitespace(values), pa.int64())
        if kind == "float":
            return pc.cast(pc.utf8_trim_whitespace(values), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if kind == "boolean":
        low = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        if not pc.all(pc.is_in(low, pa.array(["true", "false"]))).as_py():
            return None
        return pc.equal(low, "true")
    if kind == "date":
        enc = pc.dictionary_encode(values)
        parsed = parse_text(enc.dictionary, "iso")
        if not (parsed.ok.all() and parsed.aware.all()):
            return None
        utc = pa.array(parsed.us, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        return utc.take(enc.indices)
    return values
