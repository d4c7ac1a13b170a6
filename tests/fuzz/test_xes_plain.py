"""The XES fast paths against the expat reader on hostile mutations of a plain file and on drawn
logs: read from its bytes (xes_arrays.read_plain, whole or in two pieces) or by rustxes
(xes_fast.read_xes_fast), a file gives exactly the batch the expat reader gives, or the fast
path declines and leaves it to the expat reader; never a different table."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")

from harness import XES_SEED, files  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sopaudit.core.errors import SopAuditError  # noqa: E402
from sopaudit.ingest.xes import read_xes  # noqa: E402
from sopaudit.ingest.xes_arrays import read_plain  # noqa: E402
from sopaudit.ingest.xes_fast import _utf8_declared, read_xes_fast  # noqa: E402

EXAMPLES = int(os.environ.get("SOPAUDIT_FUZZ_EXAMPLES", "80"))


def _differences(data: bytes, piece_bytes: int) -> list[str]:
    """How the fast paths' tables differ from the expat reader's on `data` (empty: they do not):
    the plain reader as read_xes_fast calls it, and read_xes_fast itself (plain or rustxes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.xes"
        path.write_bytes(data)
        start = data.find(b"<trace")
        read = {"read_xes_fast": read_xes_fast(path)}
        if start >= 0 and _utf8_declared(data):  # read_xes_fast's own guard before the plain reader
            read["read_plain"] = read_plain(data, start, piece_bytes=piece_bytes)
        read = {name: (r[0] if isinstance(r, tuple) else r) for name, r in read.items() if r is not None}
        if not read:
            return []
        try:
            ref, notes = read_xes(path)
        except SopAuditError as exc:
            return [f"{name} read a file the expat reader refuses: {exc}" for name in read]
    out = []
    for name, batch in read.items():
        if notes:
            out.append(f"{name} read a file the expat reader reads with notes: {notes}")
        elif batch.schema != ref.schema:
            out.append(f"{name}: columns differ: {batch.schema} != {ref.schema}")
        elif not batch.equals(ref):
            out.append(f"{name}: values differ")
    return out


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files(XES_SEED),
       st.sampled_from([1, 1 << 30]))
def test_the_fast_path_reads_what_expat_reads_or_declines(data, piece_bytes):
    assert _differences(data, piece_bytes) == []


def test_the_seed_is_read_by_the_fast_path_in_one_piece_and_in_two():
    for piece_bytes in (1, 1 << 30):
        assert read_plain(XES_SEED, XES_SEED.find(b"<trace"), piece_bytes=piece_bytes) is not None
        assert _differences(XES_SEED, piece_bytes) == []


_ODD = st.text(st.characters(codec="utf-8", exclude_characters="\ud800"), max_size=6)  # anything
_WORDS = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=8)
_GOOD = {"string": _WORDS, "id": _WORDS, "int": st.integers(-10**18, 10**18).map(str),
         "float": st.floats(allow_nan=False, allow_infinity=False).map(repr),
         "boolean": st.sampled_from(["true", "false"]),
         "date": st.sampled_from(["2024-03-04T08:00:00+07:00", "2024-03-04T08:00:00.123456Z", "2024-02-29T23:59:59-03:30"])}
_KEYS = {"concept:name": "string", "n": "int", "x": "float", "ok": "boolean", "t": "date", "uid": "id", "é k": "string"}
_SPACE = st.sampled_from(["", " ", "\n", "\n  ", "\t"])
_ODD_SPACE = st.sampled_from(["x", "]]>", "\x01", "\ufffe", ">", "\r\n"])  # text expat reads or refuses


@st.composite
def plain_logs(draw) -> bytes:
    """An XES log of a few traces, mostly in the plain shape (keys of one type, values that read),
    with now and then anything: another type for a key, any text as a value or key, odd text
    between the tags; written as drawn, unescaped, so some files are not XML at all."""
    def attr(key: str) -> str:
        tag = _KEYS[key] if draw(st.integers(0, 49)) else draw(st.sampled_from(sorted(_GOOD)))
        value = draw(_GOOD[tag]) if draw(st.integers(0, 29)) else draw(_ODD)
        if not draw(st.integers(0, 49)):
            key = draw(_ODD)
        return f'<{tag} key="{key}" value="{value}"/>'

    def attrs(most: int) -> str:  # distinct keys (a key repeated in one event is declined)
        keys = draw(st.permutations(sorted(_KEYS)))[:draw(st.integers(0, most))]
        return "".join(attr(k) + space() for k in keys)

    def space() -> str:
        return draw(_SPACE) if draw(st.integers(0, 39)) else draw(_ODD_SPACE)

    traces = []
    for _ in range(draw(st.integers(1, 4))):
        events = "".join(f"<event>{attrs(4)}</event>{space()}" for _ in range(draw(st.integers(1, 3))))
        traces.append(f"<trace>{space()}{attrs(2)}{events}</trace>{space()}")
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
            + "".join(traces).encode("utf-8", "surrogatepass") + b"</log>\n")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plain_logs(), st.sampled_from([1, 1 << 30]))
def test_logs_with_any_keys_values_and_text_between_tags_read_as_expat_reads_them(data, piece_bytes):
    assert _differences(data, piece_bytes) == []
