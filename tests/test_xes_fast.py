"""The XES fast path (rustxes) reads exactly what the expat reader reads, or leaves the file to it."""

from __future__ import annotations

import gzip
import re

import pytest

from sopaudit.core.errors import SopAuditError
from sopaudit.ingest.xes import read_xes
from sopaudit.ingest.xes_arrays import read_plain
from sopaudit.ingest.xes_fast import read_xes_fast

from conftest import DATASETS, skip_without_datasets

pytest.importorskip("rustxes", reason="the XES fast path needs the rustxes package")

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
TRACE_GLOBAL = '<global scope="trace"><string key="group" value="UNKNOWN"/></global>\n'


def _log(tmp_path, body: str, head: str = "") -> object:
    path = tmp_path / "log.xes"
    path.write_text(HEAD + head + body + "</log>\n", encoding="utf-8")
    return path


def _event(name: str, time: str = "2024-03-04T08:00:00.000+07:00", extra: str = "") -> str:
    return f'<event><string key="concept:name" value="{name}"/><date key="time:timestamp" value="{time}"/>{extra}</event>'


def test_every_public_xes_reads_as_expat_reads_it():
    logs = sorted(DATASETS.glob("*/*.xes*")) if DATASETS.exists() else []
    if not logs:
        skip_without_datasets(f"public datasets folder {DATASETS} is absent")
    for path in logs:
        fast = read_xes_fast(path)
        assert fast is not None, f"{path.name}: the fast path declined a plain export"
        batch, notes = fast
        ref, ref_notes = read_xes(path)
        # Same rows in file order, same columns in the same order and types, same values.
        assert batch.schema == ref.schema, path.name
        assert batch.equals(ref), path.name
        assert notes == ref_notes == []


def test_trace_defaults_from_global_stay_missing(tmp_path):
    body = ('<trace><string key="concept:name" value="c1"/><string key="group" value="G1"/>' + _event("A") + "</trace>"
            '<trace><string key="concept:name" value="c2"/>' + _event("B") + _event("C") + "</trace>")
    path = _log(tmp_path, body, TRACE_GLOBAL)
    batch, _ = read_xes_fast(path)
    assert batch.column("case:group").to_pylist() == ["G1", None, None]
    assert batch.equals(read_xes(path)[0])


def test_a_file_too_large_for_int32_positions_reads_the_same(monkeypatch):
    # from 2 GiB on, positions stay int64: forced here on the public logs, in one piece and in five
    from sopaudit.ingest import xes_arrays
    from sopaudit.ingest.xes_bytes import read_bytes

    logs = sorted(DATASETS.glob("*/*.xes*")) if DATASETS.exists() else []
    if not logs:
        skip_without_datasets(f"public datasets folder {DATASETS} is absent")
    for path in logs:
        data = read_bytes(path)
        start = data.find(b"<trace")
        for piece_bytes in (_piece_bytes(data, start, 5), 1 << 30):
            monkeypatch.setattr(xes_arrays, "INT32_BYTES", 2**31 - 64)
            small = read_plain(data, start, piece_bytes=piece_bytes)
            monkeypatch.setattr(xes_arrays, "INT32_BYTES", 0)
            large = read_plain(data, start, piece_bytes=piece_bytes)
            assert (small is None) == (large is None), path
            assert small is None or large.equals(small), path


@pytest.mark.parametrize("event", [
    _event("A", extra='<int key="n" value="x"/>'),  # rustxes would read 0
    _event("A", time="2024-03-04T08:00:00"),  # no zone: expat keeps it as text
    _event("A", extra='<boolean key="ok" value="TRUE"/>'),
    _event("A", extra='<float key="f" value="1,5"/>'),
    _event("A", extra='<string key="x" value="1"/><string key="x" value="2"/>'),  # repeated key: expat keeps the last
    _event("A", extra='<list key="items"><values><string key="y" value="1"/></values></list>'),
    _event("A", extra='<string key="note" value="n"><string key="child" value="c"/></string>'),
    _event("A", extra='<string key="n" value="7"/>') + _event("B", extra='<int key="n" value="7"/>'),  # two types
    _event("A", extra='<int key="n" value="7"/>') + _event("B", extra='<float key="n" value="7.5"/>'),
    _event("A", extra="".join(f'<int key="k{i}" value="{i}"/>' for i in range(40)))
    + _event("B", extra='<float key="k39" value="0.5"/>'),  # more keys than are searched one at a time
])
def test_files_that_rustxes_reads_differently_go_to_expat(tmp_path, event):
    path = _log(tmp_path, f'<trace><string key="concept:name" value="c1"/>{event}</trace>')
    fast = read_xes_fast(path)  # None (expat reads it), or read from the bytes exactly as expat reads it
    ref, notes = read_xes(path)
    assert fast is None or (not notes and fast[0].schema == ref.schema and fast[0].equals(ref))
    data = path.read_bytes()
    assert (read_plain(data, data.find(b"<trace")) is not None) == ("TRUE" in event)  # read as expat does


def test_events_outside_traces_and_declarations_go_to_expat(tmp_path):
    orphan = _log(tmp_path, _event("X") + '<trace><string key="concept:name" value="c1"/>' + _event("A") + "</trace>")
    assert read_xes_fast(orphan) is None  # expat notes the orphan; rustxes drops it on stderr
    path = tmp_path / "dtd.xes"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY e "A">]>\n<log><trace>'
                    '<string key="concept:name" value="c1"/>' + _event("&e;") + "</trace></log>", encoding="utf-8")
    assert read_xes_fast(path) is None  # expat refuses it with its message (test_ingest_hostile)


@pytest.mark.parametrize("where", ["header", "log", "traces"])
def test_a_doctype_without_references_is_left_to_expat(tmp_path, where):
    # the plain reader runs before the search for declarations: it must decline a DOCTYPE wherever
    # it stands, so that expat refuses the file with its message
    doctype = '<!DOCTYPE log [<!ELEMENT log ANY>]>'
    trace = '<trace><string key="concept:name" value="c1"/>' + _event("A") + "</trace>"
    head = {"header": '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + "\n<log>",
            "log": '<?xml version="1.0" encoding="UTF-8"?>\n<log>' + doctype}.get(where, '<?xml version="1.0"?>\n<log>')
    path = tmp_path / "doctype.xes"
    path.write_text(head + trace + (doctype if where == "traces" else "") + trace + "</log>\n", encoding="utf-8")
    assert read_xes_fast(path) is None
    with pytest.raises(SopAuditError):
        read_xes(path)


def test_many_typed_keys_read_as_expat_reads_them(tmp_path):
    ints = "".join(f'<int key="k{i}" value="{i}"/>' for i in range(40))
    late = _event("C", extra='<int key="late" value="3"/><float key="f" value="2.5"/>')  # keys first seen at the end
    path = _log(tmp_path, '<trace><string key="concept:name" value="c1"/>' + _event("A", extra=ints)
                + _event("B", extra=ints) + late + "</trace>")
    batch, _ = read_xes_fast(path)
    assert batch.column("late").to_pylist() == [None, None, 3]
    assert batch.equals(read_xes(path)[0])


@pytest.mark.parametrize("time", ["2024-03-04T08:00:00.5-03:30", "2024-03-04T08:00:00Z", "2024-02-29T23:59:59.123456+14:00",
                                  "0000-01-01T00:00:00Z", "2024-01-01T00:00:00+24:00"])
def test_plain_files_are_read_from_their_bytes_as_expat_reads_them(tmp_path, time):
    body = ('<trace><string key="concept:name" value="c1"/><int key="n" value="-7"/>'
            + _event("A", time=time, extra='<float key="f" value="2.5e3"/><boolean key="ok" value="true"/>')
            + '<event/>' + _event("B", extra='<id key="uid" value="x y"/>') + "</trace>"
            '<trace><string key="concept:name" value="c2"/>' + _event("A é", time=time) + "</trace>")
    path = _log(tmp_path, body)
    data = path.read_bytes()
    plain = read_plain(data, data.find(b"<trace"))
    ref, notes = read_xes(path)
    if notes:  # a year 0000 is text for expat (with a note): not a plain file
        assert time.startswith("0000") and plain is None
        return
    assert plain is not None and plain.schema == ref.schema and plain.equals(ref)
    assert plain.column("case:n").to_pylist() == [-7, -7, -7, None]


@pytest.mark.parametrize("event", [
    _event("A &amp; B"),  # a reference: decoded by a parser
    _event("A", extra='<string key="x"  value="1"/>'),  # other spacing
    _event("A", extra="<string key='x' value='1'/>"),
    _event("A", extra="<!-- a comment -->"),
    _event("A", extra='<string key="x" value="tab\there"/>'),
    _event("A\x01"),  # bytes XML allows nowhere: expat refuses the file
    _event("A") + "\x0c",
    _event("A") + "]]>",  # the end of a CDATA section outside one
    _event("A\ufffe"),  # a non-character
    _event("A") + "\uffff",
])
def test_files_outside_the_plain_shape_are_left_to_the_parsers(tmp_path, event):
    path = _log(tmp_path, f'<trace><string key="concept:name" value="c1"/>{event}</trace>')
    data = path.read_bytes()
    assert read_plain(data, data.find(b"<trace")) is None
    fast = read_xes_fast(path)
    if fast is not None:  # rustxes may still read it, exactly as expat does
        assert fast[0].equals(read_xes(path)[0])


@pytest.mark.parametrize("body", [
    '<trace>' + _event("A") + '</trace>' + _event("X") + '<trace>' + _event("B") + '</trace>',  # event outside
    '<trace>' + _event("A")[:-8] + '</trace>',  # an event never closed
    '<trace>' + _event("A") + _event("B").replace("<event>", "<event><event>", 1) + '</trace>',
    '<trace>' + _event("A") + '</trace></trace>',
    '<trace>' + _event("A") + '</trace><string key="late" value="x"/>',  # an attribute outside traces
])
def test_malformed_or_unusual_nesting_is_left_to_the_parsers(tmp_path, body):
    path = _log(tmp_path, body)
    data = path.read_bytes()
    assert read_plain(data, data.find(b"<trace")) is None


def test_a_damaged_head_or_text_after_the_log_is_left_to_the_parsers(tmp_path):
    good = '<trace>' + _event("A") + '</trace>'
    for text in (HEAD + '<global scope="event"><string key="x" value="1"/>' + good + "</log>\n",  # head unclosed
                 HEAD + good + "</log>\n<log/>",
                 HEAD + good):  # truncated
        path = tmp_path / "log.xes"
        path.write_text(text, encoding="utf-8")
        data = path.read_bytes()
        assert read_plain(data, data.find(b"<trace")) is None


def _piece_bytes(data: bytes, start: int, pieces: int) -> int:
    """The piece size that has read_plain cut the traces into `pieces` even shares."""
    return -(-(data.rfind(b"</log") - start) // pieces)


def test_every_public_xes_read_in_pieces_reads_as_expat_reads_it():
    logs = sorted(DATASETS.glob("*/*.xes*")) if DATASETS.exists() else []
    if not logs:
        skip_without_datasets(f"public datasets folder {DATASETS} is absent")
    for path in logs:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        start = data.find(b"<trace")
        ref, _ = read_xes(path)
        for pieces in (2, 7):
            plain = read_plain(data, start, piece_bytes=_piece_bytes(data, start, pieces))
            assert plain is not None and plain.schema == ref.schema and plain.equals(ref), (path.name, pieces)


def test_pieces_are_cut_after_a_trace_at_even_shares(tmp_path):
    from sopaudit.ingest.xes_arrays import _cuts

    data = _log(tmp_path, "".join(_trace(f"c{i}", _event("A")) for i in range(10))).read_bytes()
    start, end = data.find(b"<trace"), data.rfind(b"</log")
    ends = [m.end() for m in re.finditer(b"</trace>", data)]
    assert _cuts(data, start, end, end - start) == [start, end]  # small enough: one piece
    middle = start + (end - start) // 2
    assert _cuts(data, start, end, _piece_bytes(data, start, 2)) == [start, next(e for e in ends if e - 8 >= middle), end]
    assert _cuts(data, start, end, 1) == [start, *ends, end]  # a trace a piece, then the line break before </log>
    # a trace longer than a share: the shares inside it give no cut of their own
    data = _log(tmp_path, _trace("long", *(_event("A") for _ in range(40))) + _trace("c", _event("B"))).read_bytes()
    start, end = data.find(b"<trace"), data.rfind(b"</log")
    ends = [m.end() for m in re.finditer(b"</trace>", data)]
    assert _cuts(data, start, end, _piece_bytes(data, start, 10)) == [start, *ends, end]


def _trace(case: str, *events: str, head: str = "") -> str:
    return f'<trace><string key="concept:name" value="{case}"/>{head}{"".join(events)}</trace>\n'


def test_keys_first_seen_in_the_second_piece_come_last_and_are_missing_before(tmp_path):
    first = "".join(_trace(f"c{i}", _event("A"), _event("B")) for i in range(30))
    second = "".join(_trace(f"d{i}", _event("A", extra='<int key="n" value="3"/>'),
                            head='<string key="office" value="X"/>') for i in range(30))
    path = _log(tmp_path, first + second)
    data = path.read_bytes()
    start = data.find(b"<trace")
    cut = data.find(b"</trace>", start + (data.rfind(b"</log") - start) // 2)
    assert data.find(b"</trace>", cut + 1) < data.find(b"d0")  # the cut falls among the first traces
    plain = read_plain(data, start, piece_bytes=_piece_bytes(data, start, 2))
    ref, _ = read_xes(path)
    assert plain.schema.names == ["concept:name", "time:timestamp", "n", "case:concept:name", "case:office"]
    assert plain.schema == ref.schema and plain.equals(ref)
    assert plain.column("n").to_pylist() == [None] * 60 + [3] * 30


def test_a_key_of_two_types_in_two_pieces_or_a_cut_inside_a_value_is_left_to_the_parsers(tmp_path):
    ints = "".join(_trace(f"c{i}", _event("A", extra='<int key="n" value="3"/>')) for i in range(20))
    floats = "".join(_trace(f"d{i}", _event("A", extra='<float key="n" value="3.5"/>')) for i in range(20))
    data = _log(tmp_path, ints + floats).read_bytes()
    start = data.find(b"<trace")
    assert read_plain(data, start, piece_bytes=_piece_bytes(data, start, 2)) is None  # expat reads `n` as text
    assert read_plain(data, data.find(b"<trace")) is None  # and so does the whole-file scan
    # A value holding `</trace>` in the middle of the file: not plain (a `<` in a value), in pieces or not.
    half = "".join(_trace(f"c{i}", _event("A")) for i in range(20))
    data = _log(tmp_path, half + _trace("x", _event("A</trace>" * 40)) + half).read_bytes()
    start, value = data.find(b"<trace"), data.find(b'"A</trace>')
    cut = data.find(b"</trace>", start + (data.rfind(b"</log") - start) // 2)
    assert value < cut < data.find(b'"', value + 1)  # the cut falls inside the value
    assert read_plain(data, start, piece_bytes=_piece_bytes(data, start, 2)) is None
    assert read_plain(data, data.find(b"<trace")) is None


def test_a_piece_with_no_trace_and_events_without_attributes_read_as_expat_reads_them(tmp_path):
    one = _trace("c1", *(_event(f"A{i}") for i in range(50)))  # its end is the only cut: nothing after it
    for text in (one, one + "\n  \n", '<trace><event/><event/></trace><trace><event/></trace>'):
        path = _log(tmp_path, text)
        data = path.read_bytes()
        ref, _ = read_xes(path)
        for piece_bytes in (1, 1 << 30):
            plain = read_plain(data, data.find(b"<trace"), piece_bytes=piece_bytes)
            assert plain is not None and plain.schema == ref.schema and plain.equals(ref)
    assert ref.num_rows == 0  # events without any attribute: no column, as expat reads them


def test_dates_of_one_length_are_checked_as_the_regular_expression_checks_them():
    # the byte-by-byte check of a column of one width must say what DATE_FORM's regex says
    import random
    import re

    import pyarrow as pa

    from sopaudit.ingest.xes_arrays import DATE_FORM, _dates_in_form

    pattern = re.compile(f"^{DATE_FORM}$", re.ASCII)  # as RE2 reads \\d: 0-9 only
    rng = random.Random(7)
    layouts = ["2024-01-04T10:49:11Z", "2024-01-04T10:49:11+07:00", "2024-01-04T10:49:11.5Z",
               "2024-01-04T10:49:11.1234Z", "2024-01-04T10:49:11.123456-03:30", "2024-01-04T10:49:11.1+00:00",
               "2024-01-04T10:49:11.12345Z", "2024-01-04T10:49:11.1234567Z", "2024-01-04 10:49:11+07:00"]
    noise = "09/-:.TZ+,- \nx٣é"
    for base in layouts:
        for _ in range(40):
            values = [base] * 5
            if rng.random() < 0.7:  # one byte of one value replaced
                i, j = rng.randrange(5), rng.randrange(len(base))
                values[i] = values[i][:j] + rng.choice(noise) + values[i][j + 1:]
            if rng.random() < 0.2:  # a value of another layout of any width
                values[rng.randrange(5)] = rng.choice(layouts)
            arr = pa.array(values)
            expected = all(pattern.fullmatch(v) and not v.endswith("\n") for v in values)
            assert _dates_in_form(arr) == expected, values
            assert _dates_in_form(pa.array(["x", *values])[1:]) == expected, values  # a slice: offset 1
    assert _dates_in_form(pa.array(["2024-01-04T10:49:11Z", None])) is True  # as pc.all: nulls skipped
    assert _dates_in_form(pa.array([], pa.string())) is True
