"""Fuzzing harness for every reader of sopaudit: a valid seed file per reader, hostile mutations
of it, and the property every reader must keep: any input either loads or raises the project's
own error (a SopAuditError subclass) whose message names the file; never another exception, never
a hang (each call is bounded in time).

Used by tests/fuzz/test_fuzz_readers.py (a short run in the suite) and tests/fuzz/run_long.py
(a longer run, by hand)."""

from __future__ import annotations

import contextlib
import io
import signal
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECONDS = 10.0  # one read of a small file never takes this long

# Tokens that break parsers: quotes, line ends, NUL, YAML anchors/aliases/tags, XML entities and
# DTDs, odd dates and numbers, formula starts, a BOM, a latin-1 byte.
TOKENS = ['"', "'", "\n", "\r", "\r\n", "\x00", "\t", ",", ";", "|", ": ", "- ", "? ", "&a ", "*a", "!!python/object:os.system ",
          "{", "}", "[", "]", "<", ">", "&", "&amp;", "&e;", "<!DOCTYPE x [<!ENTITY e 'x'>]>", "<![CDATA[", "]]>", "\ufeff",
          "0024-03-04", "2300-01-01 10:00", "9999-99-99", "31/02/2024", "NaN", "1e309", "-0", "=HYPERLINK(1)",
          "\u202e", "\U0001f600", ' encoding="TF-8"', "<?xml version='1.0' encoding='x'?>", "x" * 300, "[" * 200, "#", "%", "\\", "é"]


class Hang(BaseException):  # noqa: N818 - a BaseException so no reader's `except Exception` hides it
    """A read took longer than SECONDS."""


@contextlib.contextmanager
def time_limit(seconds: float = SECONDS):
    def on_alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@st.composite
def mutated(draw, seed: bytes, max_ops: int = 6) -> bytes:
    """The seed after a few edits: a hostile token inserted, a range deleted, duplicated or
    replaced by random bytes, or the file cut."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["insert", "insert", "insert", "delete", "duplicate", "bytes", "cut"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            token = draw(st.sampled_from(TOKENS))
            enc = draw(st.sampled_from(["utf-8", "utf-8", "latin-1"]))
            data[at:at] = token.encode(enc, errors="replace")
        elif op == "delete":
            data[at:at + draw(st.integers(1, 40))] = b""
        elif op == "duplicate":
            n = draw(st.integers(1, 200))
            data[at:at] = data[at:at + n] * draw(st.integers(1, 5))
        elif op == "bytes":
            data[at:at + draw(st.integers(0, 8))] = draw(st.binary(min_size=1, max_size=16))
        elif op == "cut" and len(data) > 10:
            del data[at:]
    return bytes(data)


def files(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mostly mutations of the seed, sometimes arbitrary bytes."""
    return st.one_of(mutated(seed), mutated(seed), mutated(seed), st.binary(max_size=2000))


@dataclass(frozen=True)
class Reader:
    name: str
    suffix: str
    seed: bytes
    call: object  # (path) -> None

    def check(self, path: Path, data: bytes) -> str:
        """Write `data` to `path`, read it; 'ok' or 'error' (a located SopAuditError). Anything
        else raises."""
        from sopaudit.core.errors import SopAuditError

        path.write_bytes(data)
        try:
            with time_limit():
                self.call(path)
        except SopAuditError as exc:
            message = str(exc)
            assert path.name in message, f"{self.name}: the message does not name the file: {message!r}"
            return "error"
        return "ok"


# ------------------------------------------------------------------------------------ seeds

CSV_SEED = ("case_id,activity,timestamp,resource,note\n"
            + "".join(f"P{i // 3},{['Daftar', 'Verifikasi', 'Serah'][i % 3]},2024-03-0{1 + i % 5} 0{8 + i % 2}:1{i % 6}"
                      f",petugas{i % 4},\"catatan {i}, ok\"\n" for i in range(30))).encode()

XES_SEED = b"""<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace><string key="concept:name" value="1"/>
    <event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-03-04T08:00:00.000+07:00"/>
      <string key="org:resource" value="Rina"/></event>
    <event><string key="concept:name" value="c"/><date key="time:timestamp" value="2024-03-04T09:00:00.000+07:00"/>
      <int key="n" value="3"/><float key="x" value="1.5"/><boolean key="b" value="true"/></event>
  </trace>
  <trace><string key="concept:name" value="2"/>
    <event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-03-05T08:00:00.000+07:00"/></event>
  </trace>
</log>
"""

MAPPING_SEED = b"""# mapping for an export
case: no_permohonan
activity: tahapan
timestamp: waktu
resource: petugas
time_format: dayfirst
tz: WITA
case_attributes: [jenis_layanan]
event_attributes: [loket]
duplicates: drop
labels: {DAFTAR: pendaftaran, VERIF: verifikasi}
"""

ACCEPTED_SEED = b"""accepted:
  - kind: skipped
    step: b
    condition: {attribute: kanal, in: [online]}
    valid_from: 2024-01-01
    valid_to: 2024-12-31
    reason: Printing outsourced in 2024
    approved_by: Kepala Kantor
  - kind: unexpected
    reason: test
    approved_by: Kasi
"""


def _xlsx_seed() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["case_id", "activity", "timestamp", "resource"])
    import datetime as dt

    for i in range(12):
        ws.append([f"P{i // 3}", ["Daftar", "Verifikasi", "Serah"][i % 3], dt.datetime(2024, 3, 1 + i % 5, 8, i), f"r{i % 2}"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parquet_seed() -> bytes:
    import pandas as pd

    df = pd.DataFrame({"case_id": [f"P{i // 3}" for i in range(12)],
                       "activity": [["Daftar", "Verifikasi", "Serah"][i % 3] for i in range(12)],
                       "timestamp": pd.date_range("2024-03-01 08:00", periods=12, freq="37min", tz="Asia/Jakarta")})
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _pnml_seed() -> bytes:
    from sopaudit.sop import compile_sop, load_sop
    from sopaudit.sop.pnml import write_pnml

    return write_pnml(compile_sop(load_sop(FIXTURES / "mini_sop.yaml")), "mini").encode()


# ---------------------------------------------------------------------------------- readers

def _read_log(path: Path) -> None:
    import sopaudit as sa

    sa.read_log(path)


def _load_and_compile(path: Path) -> None:
    from sopaudit.sop import compile_sop, load_sop

    compile_sop(load_sop(path))


def _mapping(path: Path) -> None:
    from sopaudit.ingest.mapping import load_mapping

    load_mapping(path)


def _roles(path: Path) -> None:
    from sopaudit.standards.roles import load_role_assignments

    load_role_assignments(path)


def _accepted(path: Path) -> None:
    from sopaudit.conform.accept import load_allow_list

    load_allow_list(path)


def readers() -> list[Reader]:
    """Every reader with its seed file."""
    return [
        Reader("csv", ".csv", CSV_SEED, _read_log),
        Reader("xlsx", ".xlsx", _xlsx_seed(), _read_log),
        Reader("parquet", ".parquet", _parquet_seed(), _read_log),
        Reader("xes", ".xes", XES_SEED, _read_log),
        Reader("bpmn", ".bpmn", (FIXTURES / "sop_bpmn" / "bpmnio_gateways.bpmn").read_bytes(), _load_and_compile),
        Reader("pnml", ".pnml", _pnml_seed(), _load_and_compile),
        Reader("sop_yaml", ".yaml", (FIXTURES / "mini_sop.yaml").read_bytes(), _load_and_compile),
        Reader("mapping", ".yaml", MAPPING_SEED, _mapping),
        Reader("roles_csv", ".csv", (FIXTURES / "roles" / "assignments.csv").read_bytes(), _roles),
        Reader("roles_yaml", ".yaml", (FIXTURES / "roles" / "assignments.yaml").read_bytes(), _roles),
        Reader("accepted", ".yaml", ACCEPTED_SEED, _accepted),
    ]
