"""Propose a column mapping from the column names and the values of the first rows.

`sopaudit ingest FILE --suggest` prints the proposal as a mapping YAML, each line with the
reason it was chosen; nothing is applied. Indonesian and English export names are recognised
(no_permohonan, tahapan, status, waktu, tanggal, petugas, loket, jenis_layanan; case_id,
activity, timestamp, resource), and the values must fit the role: times must read as times, a
case id must repeat, an activity must have few distinct values. Where the data cannot settle a
question (the day/month order, the time zone), the proposal says so instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.ingest.columns import is_text
from sopaudit.ingest.mapping import DEFAULT_LIFECYCLE
from sopaudit.ingest.readers import open_source
from sopaudit.ingest.suggest_wide import is_wide
from sopaudit.ingest.suggest_wide import propose as propose_wide
from sopaudit.ingest.timestamps import (
    FAMILY_LABELS,
    AmbiguousOrder,
    parse_text,
    parse_typed,
    settle_order,
)

SAMPLE_ROWS = 50_000

NAMES = {
    "case": {"no_permohonan", "nomor_permohonan", "nopermohonan", "id_permohonan", "kode_permohonan",
             "no_registrasi", "nomor_registrasi", "no_berkas", "nomor_berkas", "kode_booking",
             "no_aplikasi", "case_id", "caseid", "case", "case_concept_name", "application_id",
             "application_number", "id_case", "nomor", "no"},
    "activity": {"tahapan", "tahap", "nama_tahapan", "kode_tahapan", "status", "status_permohonan",
                 "aktivitas", "kegiatan", "langkah", "proses", "activity", "step", "event", "task",
                 "concept_name", "action"},
    "time": {"waktu", "tanggal", "tgl", "waktu_proses", "tanggal_proses", "tgl_proses", "jam",
             "timestamp", "time", "datetime", "date", "time_timestamp", "created_at", "event_time"},
    "start": {"waktu_mulai", "mulai", "jam_mulai", "tanggal_mulai", "tgl_mulai", "start",
              "start_time", "start_timestamp", "started_at", "begin"},
    "end": {"waktu_selesai", "selesai", "jam_selesai", "tanggal_selesai", "tgl_selesai", "end",
            "end_time", "complete_time", "completed_at", "finished_at"},
    "resource": {"petugas", "nama_petugas", "operator", "pegawai", "nip", "pejabat", "pelaksana",
                 "officer", "user", "username", "resource", "org_resource", "staff", "employee"},
    "lifecycle": {"lifecycle", "lifecycle_transition", "transisi", "transition", "event_type",
                  "jenis_event", "status_tahap"},
    "sequence": {"urutan", "no_urut", "nomor_urut", "sequence", "seq", "step_no", "event_no"},
}
TOKENS = {
    "case": ("permohonan", "registrasi", "berkas", "booking", "case", "application"),
    "activity": ("tahap", "aktivitas", "kegiatan", "activity", "status", "step"),
    "time": ("waktu", "tanggal", "tgl", "time", "date", "jam"),
    "resource": ("petugas", "operator", "pegawai", "officer", "user", "resource"),
}
LIFECYCLE_WORDS = {w for words in DEFAULT_LIFECYCLE.values() for w in words} | {
    "schedule", "suspend", "resume", "abort", "withdraw", "assign"}


def normalise(name: str) -> str:
    """Lower case, runs of non-alphanumerics as one underscore: 'No. Permohonan' -> 'no_permohonan'."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


@dataclass
class ColumnFacts:
    name: str
    key: str
    rows: int
    distinct: int
    present: int
    text: bool
    time_share: float = 0.0
    time_label: str = ""
    time_order: str | None = None
    ambiguous: bool = False
    lifecycle_like: bool = False
    constant_in_case: bool = False
    examples: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    """The proposed mapping (plain values) and a reason per key."""

    mapping: dict
    reasons: dict
    notes: list[str]
    source: str
    rows: int
    item_reasons: dict = field(default_factory=dict)  # key -> one reason per list item (milestones)

    def to_yaml(self) -> str:
        """The proposal as a commented mapping YAML file."""
        lines = [
            f"# Mapping proposed by `sopaudit ingest {self.source} --suggest` from the column names and",
            f"# the first {self.rows:,} rows. Nothing was applied: check every line, fix what is wrong,",
            "# save it (e.g. as mapping.yaml) and read with --mapping mapping.yaml.",
        ]
        for note in self.notes:
            lines.append(f"# NOTE: {note}")
        for key, value in self.mapping.items():
            if key in self.item_reasons:
                lines.append(f"{key}:" + (f"    # {self.reasons[key]}" if self.reasons.get(key) else ""))
                for item, why in zip(value, self.item_reasons[key], strict=True):
                    lines.append(f"  - {_yaml_value(item)}" + (f"    # {'; '.join(why)}" if why else ""))
                continue
            text = _yaml_value(value)
            reason = self.reasons.get(key, "")
            lines.append(f"{key}: {text}" + (f"    # {reason}" if reason else ""))
        return "\n".join(lines) + "\n"


def _yaml_value(value) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000, sort_keys=False).strip().removesuffix("...").strip()


def suggest_mapping(path: str | Path, *, sheet: str | None = None, query: str | None = None,
                    rows: int = SAMPLE_ROWS, steps: list[tuple[str, list[str]]] | None = None) -> Suggestion:
    """Look at the columns and the first `rows` rows of `path` and propose a mapping. `steps`
    ((step id, [name, aliases...]) of the SOP) let the steps of a rekap's date columns be guessed."""
    from sopaudit.ingest.csvfile import BLOCK_SIZE

    # blocks that hold the longest record: a first look is never read twice
    source = open_source(path, sheet=sheet, query=query, block_size=BLOCK_SIZE)
    batches, n = [], 0
    try:
        for b in source.batches:
            batches.append(b)
            n += b.num_rows
            if n >= rows:
                break
    finally:
        close = getattr(source.batches, "close", None)
        if close is not None:
            close()
    table = pa.Table.from_batches(batches, schema=batches[0].schema) if batches else None
    if table is not None and table.num_rows > rows:
        table = table.slice(0, rows)
    facts = [_facts(name, table.column(name) if table is not None else pa.array([], pa.string()))
             for name in source.columns]
    n = table.num_rows if table is not None else 0
    if is_wide(facts, table):
        return _propose_wide(facts, source, table, n, steps)
    suggestion = _propose(facts, source, table, n)
    suggestion.notes[:0] = _source_notes(source)
    return suggestion


def _source_notes(source) -> list[str]:
    """What the reader found about the workbook: title rows above the header, several sheets."""
    notes = []
    d = source.details
    for sheet, title in d.get("title", {}).items():
        row = d.get("header_row", {}).get(sheet)
        notes.append(f"sheet {sheet!r}: the header is sheet row {row}; the title rows above it are "
                     f"kept in the quality report: {' / '.join(title)}")
    if d.get("sheets"):
        notes.append(f"the sheets {', '.join(map(repr, d['sheets']))} have the same header and are read as one log")
    notes.extend(n for n in d.get("notes", []) if "another header" in n)
    return notes


def _propose_wide(facts, source, table, n: int, steps) -> Suggestion:
    mapping, reasons, notes, items = propose_wide(facts, table, steps)
    dates = [m["date"] for m in mapping["milestones"]]
    fmt = _joint_order(table, dates, notes)
    if fmt:
        mapping["time_format"], reasons["time_format"] = fmt
    mapping["tz"] = "Asia/Jakarta"
    reasons["tz"] = "not in the data: set the office's zone (WIB = Asia/Jakarta, WITA, WIT, or an IANA name)"
    mapping["duplicates"] = "keep"
    reasons["duplicates"] = "exact duplicate rows are kept and listed; 'drop' removes them (listed as rejected)"
    reasons["milestones"] = "one per date column, in column order (same-day steps without a time keep this order)"
    return Suggestion(mapping, reasons, _source_notes(source) + notes, str(source.where), n,
                      item_reasons={"milestones": items})


def _facts(name: str, col) -> ColumnFacts:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    text = is_text(arr.type)
    present = len(arr) - arr.null_count
    uniq = pc.drop_null(pc.unique(arr))
    f = ColumnFacts(name, normalise(name), len(arr), len(uniq), present, text)
    f.examples = [str(v) for v in uniq[:3].to_pylist()]
    typed = None if text else parse_typed(arr)
    if typed is not None:
        f.time_share = float(typed.ok.sum()) / max(present, 1)
        fams = set(typed.family[typed.ok])
        f.time_label = ", ".join(FAMILY_LABELS.get(x, x) for x in sorted(fams))
        return f
    values = pc.utf8_trim_whitespace(uniq.cast(pa.string()))
    values = values.filter(pc.not_equal(values, ""))
    if len(values) == 0:
        return f
    lowered = set(pc.utf8_lower(values).to_pylist())
    f.lifecycle_like = len(lowered) <= 8 and lowered <= LIFECYCLE_WORDS
    try:
        order = settle_order(values)
    except AmbiguousOrder as exc:
        order = "dayfirst"  # only to measure how many values are times at all
        f.ambiguous = not exc.conflict
    parsed = parse_text(values, "auto", order)
    f.time_share = float(parsed.ok.mean())
    f.time_order = order if any(x in ("dayfirst", "monthfirst") for x in parsed.family[parsed.ok]) else None
    fams = sorted(set(parsed.family[parsed.ok]))
    f.time_label = ", ".join(FAMILY_LABELS.get(x, x) for x in fams)
    if "excel" in fams or "epoch" in fams or "epoch_ms" in fams:
        # plain numbers read as dates are weak evidence: a count or an amount would too
        f.time_share *= 0.5 if not (f.key in NAMES["time"] or any(t in f.key for t in TOKENS["time"])) else 1.0
    return f


def _name_score(f: ColumnFacts, role: str) -> int:
    if f.key in NAMES.get(role, ()):
        return 3
    if any(t in f.key for t in TOKENS.get(role, ())):
        return 1
    return 0


def _propose(facts: list[ColumnFacts], source, table, rows: int) -> Suggestion:
    mapping: dict = {}
    reasons: dict = {}
    notes: list[str] = []
    taken: set[str] = set()

    def pick(role: str, ok, score) -> ColumnFacts | None:
        best = max((f for f in facts if f.name not in taken and ok(f)), key=score, default=None)
        if best is not None and score(best) > 0:
            taken.add(best.name)
            return best
        return None

    def is_time(f: ColumnFacts) -> bool:
        # a column named like a time may hold some unreadable values (they will be listed)
        named = any(_name_score(f, r) for r in ("time", "start", "end"))
        return f.present > 0 and f.time_share >= (0.5 if named else 0.9)

    start = pick("start", is_time, lambda f: _name_score(f, "start"))
    end = pick("end", is_time, lambda f: _name_score(f, "end")) if start else None
    if start and end:
        mapping["start"], reasons["start"] = start.name, _time_reason(start)
        mapping["timestamp"], reasons["timestamp"] = end.name, "the end time; " + _time_reason(end)
        times = [start, end]
    else:
        if start:
            taken.discard(start.name)
        t = pick("time", is_time, lambda f: _name_score(f, "time") * 10 + _name_score(f, "end") * 5 + 1)
        times = [t] if t else []
        if t:
            mapping["timestamp"], reasons["timestamp"] = t.name, _time_reason(t)
        else:
            notes.append("no column reads as times in these rows; name it with timestamp: and set time_format")
    case = pick("case", lambda f: f.present > 0 and 1 < f.distinct < f.present,
                lambda f: _name_score(f, "case") * 10 + (2 if 0.001 < f.distinct / max(f.present, 1) < 0.9 else 0))
    if case:
        mapping["case"] = case.name
        reasons["case"] = (f"{_why(case, 'case')}; {case.distinct:,} distinct values, "
                           f"{case.present / max(case.distinct, 1):.1f} rows each")
    else:
        notes.append("no column looks like a case id (an application number that repeats over rows); name it with case:")
    life = pick("lifecycle", lambda f: f.text and f.lifecycle_like, lambda f: 1 + _name_score(f, "lifecycle"))
    act = pick("activity", lambda f: f.text and 1 < f.distinct <= 1000 and not f.lifecycle_like,
               lambda f: _name_score(f, "activity") * 10 + (1 if f.distinct <= 200 else 0))
    if act:
        mapping["activity"] = act.name
        reasons["activity"] = f"{_why(act, 'activity')}; {act.distinct:,} distinct values, e.g. {', '.join(act.examples)}"
    else:
        notes.append("no column looks like the step or status name; name it with activity:")
    if life and "start" not in mapping:
        mapping["lifecycle"] = life.name
        reasons["lifecycle"] = f"its values are lifecycle words: {', '.join(life.examples)}"
    elif life:
        taken.discard(life.name)
    res = pick("resource", lambda f: f.text and 1 < f.distinct <= 20_000, lambda f: _name_score(f, "resource"))
    if res:
        mapping["resource"], reasons["resource"] = res.name, f"{_why(res, 'resource')}; {res.distinct:,} distinct values"
    seq = pick("sequence", lambda f: True, lambda f: _name_score(f, "sequence"))
    if seq:
        mapping["sequence"], reasons["sequence"] = seq.name, "orders events with equal times (name)"
    fmt = _time_format(times, notes)
    if fmt:
        mapping["time_format"], reasons["time_format"] = fmt
    mapping["tz"] = "Asia/Jakarta"
    reasons["tz"] = "not in the data: set the office's zone (WIB = Asia/Jakarta, WITA, WIT, or an IANA name)"
    rest = [f for f in facts if f.name not in taken]
    if case and table is not None and rest:
        _mark_case_constant(table, case.name, rest)
        case_attrs = [f.name for f in rest if f.constant_in_case]
        event_attrs = [f.name for f in rest if not f.constant_in_case]
        if case_attrs:
            mapping["case_attributes"] = case_attrs
            reasons["case_attributes"] = "one value per case in these rows"
        if event_attrs:
            mapping["event_attributes"] = event_attrs
            reasons["event_attributes"] = "values change within a case"
    mapping["duplicates"] = "keep"
    reasons["duplicates"] = "exact duplicate rows are kept and listed; 'drop' removes them (listed as rejected)"
    return Suggestion(mapping, reasons, notes, str(source.where), rows)


def _why(f: ColumnFacts, role: str) -> str:
    return f"name '{f.name}'" if _name_score(f, role) else "by its values"


def _time_reason(f: ColumnFacts) -> str:
    return f"{100 * f.time_share:.0f}% of the values read as {f.time_label or 'times'}"


def _joint_order(table, dates: list[str], notes: list[str]) -> tuple[str, str] | None:
    """The day/month order of a rekap's date columns, settled over all of them as the reader does."""
    texts = [pc.drop_null(pc.unique(table.column(d))) for d in dates if is_text(table.column(d).type)]
    if not texts:
        return None
    values = pa.concat_arrays([t.combine_chunks() if isinstance(t, pa.ChunkedArray) else t for t in texts])
    try:
        order = settle_order(values)
    except AmbiguousOrder as exc:
        if exc.conflict:
            notes.append(f"the dates contradict each other ('{exc.examples[0]}' is day-first, '{exc.examples[1]}' "
                         "month-first): time_format below is a placeholder you must confirm")
        else:
            notes.append(f"no date in the columns {', '.join(dates)} has a number above 12 (e.g. '{exc.examples[0]}'), "
                         "so day-first and month-first cannot be told apart: time_format below is a placeholder you must confirm")
        return "dayfirst", "REQUIRED: confirm dayfirst or change it to monthfirst (the data cannot tell)"
    if order is None:
        return None
    return order, "the data has numbers above 12 in the " + ("first" if order == "dayfirst" else "second") + " place"


def _time_format(times: list[ColumnFacts], notes: list[str]) -> tuple[str, str] | None:
    ambiguous = [t for t in times if t.ambiguous]
    if ambiguous:
        ex = ambiguous[0].examples[0] if ambiguous[0].examples else ""
        notes.append(
            f"the dates in '{ambiguous[0].name}' (e.g. '{ex}') have no number above 12, so day-first "
            "and month-first cannot be told apart: time_format below is a placeholder you must confirm"
        )
        return "dayfirst", "REQUIRED: confirm dayfirst or change it to monthfirst (the data cannot tell)"
    orders = {t.time_order for t in times if t.time_order}
    if len(orders) == 1:
        order = orders.pop()
        return order, "the data has numbers above 12 in the " + ("first" if order == "dayfirst" else "second") + " place"
    return None


def _mark_case_constant(table: pa.Table, case: str, rest: list[ColumnFacts]) -> None:
    frame = table.select([case] + [f.name for f in rest]).to_pandas()
    grouped = frame.groupby(case, sort=False, dropna=True)
    counts = grouped.size()
    repeated = counts[counts > 1].index
    if len(repeated) == 0:
        return
    sub = frame[frame[case].isin(repeated)]
    nunique = sub.groupby(case, sort=False).nunique(dropna=False).max()
    for f in rest:
        f.constant_in_case = bool(nunique.get(f.name, 2) <= 1) and f.distinct > 1
