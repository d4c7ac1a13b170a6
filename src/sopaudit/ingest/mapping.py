"""Which source column holds what: the column mapping, from flags or a mapping YAML file.

A mapping names the case id, the activity, the time (one timestamp, or start and end, or a
timestamp plus a lifecycle column), optionally the resource and a sequence column, and the case
and event attributes to keep; plus how to read the times (format, zone), a label table, and the
duplicate-row policy. The file format is documented in docs/mapping.md. Nothing is inferred from
the data here: a missing required column is an error that points at `sopaudit ingest --suggest`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE, START, TIME
from sopaudit.core.errors import MappingError
from sopaudit.core.yamlguard import check_yaml
from sopaudit.ingest.timestamps import check_format, check_tz

# Column names taken without asking: pm4py's own and the plain English ones.
DEFAULT_COLUMNS = {
    "case": (CASE, "case_id"),
    "activity": (ACTIVITY, "activity"),
    "time": (TIME, "timestamp"),
    "resource": (RESOURCE, "resource"),
    "start": (START,),  # pm4py's interval logs
}
DEFAULT_LIFECYCLE = {"start": ("start", "mulai", "begin", "started"),
                     "complete": ("complete", "completed", "selesai", "end", "finish", "finished", "done")}
DUPLICATE_POLICIES = ("keep", "drop")
DEFAULT_PLAUSIBLE_START = dt.date(2000, 1, 1)
LAYOUTS = ("long", "wide")


@dataclass(frozen=True)
class Milestone:
    """One step of a wide (one row per application) export: the column with its date (or date and
    time), optionally the column with its time of day and the column with its officer."""

    step: str
    date: str
    time: str | None = None
    resource: str | None = None


@dataclass(frozen=True)
class Mapping:
    """How to turn a source table into events. None means "not given"."""

    case: str | None = None
    activity: str | None = None
    time: str | tuple[str, str] | None = None  # the event time (or its date and time columns); with `start`, the end
    start: str | None = None
    lifecycle: str | None = None
    resource: str | None = None
    sequence: str | None = None  # orders events with the same time in a case
    case_attributes: dict[str, str] | None = None  # source column -> name in the log
    event_attributes: dict[str, str] | None = None
    time_format: str | None = None
    tz: str | None = None
    sheet: str | None = None
    query: str | None = None
    labels: dict[str, str] | None = None  # recorded label -> activity (e.g. the SOP step)
    lifecycle_values: dict[str, tuple[str, ...]] | None = None  # start/complete -> values
    duplicates: str | None = None  # keep | drop
    plausible_start: dt.date | None = None
    layout: str | None = None  # long (one row per event) or wide (one row per application)
    milestones: tuple[Milestone, ...] | None = None  # wide: the steps' columns, in SOP order
    header_row: int | None = None  # XLSX: sheet row of the header (found under a title block when None)
    sheets: str | tuple[str, ...] | None = None  # XLSX: 'all' or sheet names read as one log
    source: str = ""  # the mapping file, for messages

    @property
    def wide(self) -> bool:
        return self.layout == "wide" or (self.layout is None and bool(self.milestones))

    def merged(self, **overrides: Any) -> Mapping:
        """A copy with the given (non-None) values replacing this mapping's: flags beat the file."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)

_KEYS = {f.name for f in fields(Mapping)} - {"source"}
_KEY_ALIASES = {"timestamp": "time", "end": "time", "case_id": "case", "step": "activity",
                "timezone": "tz", "time_zone": "tz", "label_table": "labels"}


def _read_text(path: Path, what: str, which_path: str = "") -> str:
    """The UTF-8 text (BOM removed) of the `what` file; MappingError if missing or unreadable."""
    if not path.is_file():
        raise MappingError(f"{path}: the {what} does not exist; check the path{which_path}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise MappingError(f"{path}: cannot read the {what} as UTF-8 text ({exc})") from None


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping YAML file; every problem names the file and line and says how to fix it."""
    path = Path(path)
    text = _read_text(path, "mapping file", " given to --mapping")
    try:
        check_yaml(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from None
    if root is None:
        raise MappingError(f"{path}: the mapping file is empty; write at least case, activity and timestamp")
    if not isinstance(root, yaml.MappingNode):
        raise MappingError(f"{path}, line {root.start_mark.line + 1}: expected 'key: value' lines such as 'case: no_permohonan'")
    values: dict[str, Any] = {}
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        key = str(key_node.value)
        name = _KEY_ALIASES.get(key, key)
        if name not in _KEYS:
            raise MappingError(
                f"{path}, line {line}: unknown key '{key}'. Known keys: "
                f"{', '.join(sorted(_KEYS | set(_KEY_ALIASES)))}"
            )
        if name in values:
            raise MappingError(f"{path}, line {line}: '{key}' is given twice")
        try:
            value = yaml.safe_load(yaml.serialize(value_node))
        except yaml.YAMLError as exc:  # e.g. a !!python/object tag: never constructed
            raise MappingError(f"{path}, line {line}: the value of '{key}' cannot be read "
                               f"({getattr(exc, 'problem', None) or exc}); write plain text, numbers or lists, "
                               "without YAML tags (!!...)") from None
        values[name] = _check_value(path, line, name, value)
    return Mapping(source=str(path), **values)


def mapping_from_dict(values: dict[str, Any], source: str = "", base: Path | None = None) -> Mapping:
    """A Mapping from plain values (the parsed YAML, or keyword arguments)."""
    values = {(_KEY_ALIASES.get(k, k)): v for k, v in values.items() if v is not None}
    unknown = set(values) - _KEYS
    if unknown:
        raise MappingError(f"{source or 'mapping'}: unknown key(s) {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k in ("case_attributes", "event_attributes"):
            out[k] = _attribute_map(source, k, v)
        elif k == "labels":
            out[k] = load_labels(v, base) if isinstance(v, str | Path) else _label_dict(source, v)
        elif k == "lifecycle_values":
            out[k] = _lifecycle_values(source, v)
        elif k == "time_format":
            out[k] = check_format(v)
        elif k == "tz":
            out[k] = check_tz(str(v))
        elif k == "duplicates":
            if str(v) not in DUPLICATE_POLICIES:
                raise MappingError(f"{source or 'mapping'}: duplicates must be 'keep' or 'drop', not {v!r}")
            out[k] = str(v)
        elif k == "plausible_start":
            out[k] = _date(source, v)
        elif k == "time":
            out[k] = _time_columns(source, v)
        elif k == "milestones":
            out[k] = _milestones(source, v)
        elif k == "header_row":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise MappingError(f"{source or 'mapping'}: header_row must be the sheet row number of the header (1, 2, ...), not {v!r}")
            out[k] = v
        elif k == "sheets":
            if isinstance(v, str) and v.strip().lower() == "all":
                out[k] = "all"
            elif isinstance(v, list) and v and all(isinstance(x, str | int) for x in v):
                out[k] = tuple(str(x) for x in v)
            else:
                raise MappingError(f"{source or 'mapping'}: sheets must be 'all' or a list of sheet names, not {v!r}")
        elif k == "layout":
            if str(v) not in LAYOUTS:
                raise MappingError(f"{source or 'mapping'}: layout must be 'long' (one row per event) or 'wide' (one row per application), not {v!r}")
            out[k] = str(v)
        else:
            out[k] = str(v)
    return Mapping(source=source, **out)


def _time_columns(source: str, value: Any) -> str | tuple[str, str]:
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(x, str | int) for x in value):
            return (str(value[0]), str(value[1]))
        raise MappingError(f"{source or 'mapping'}: time must be one column, or two: [date column, time column], not {value!r}")
    return str(value)


def _milestones(source: str, value: Any) -> tuple[Milestone, ...]:
    where = source or "mapping"
    if not isinstance(value, list) or not value:
        raise MappingError(f"{where}: milestones must be a list such as '- {{step: wawancara, date: Tgl Wawancara, time: Jam Wawancara}}'")
    out = []
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not {"step", "date"} <= set(item):
            raise MappingError(f"{where}: milestone {i} needs at least 'step' (the SOP step) and 'date' (its date column), e.g. "
                               "'{step: wawancara, date: Tgl Wawancara}'")
        extra = set(item) - {"step", "date", "time", "resource"}
        if extra:
            raise MappingError(f"{where}: milestone {i} has unknown key(s) {', '.join(sorted(extra))}; use step, date, time, resource")
        if any(item.get(k) is None and k in item for k in ("step", "date")):
            raise MappingError(f"{where}: milestone {i} has an empty step or date")
        out.append(Milestone(str(item["step"]), str(item["date"]),
                             None if item.get("time") is None else str(item["time"]),
                             None if item.get("resource") is None else str(item["resource"])))
    steps = [m.step for m in out]
    dup = sorted({s for s in steps if steps.count(s) > 1})
    if dup:
        raise MappingError(f"{where}: the step {dup[0]!r} has two milestones; give each step one date column")
    return tuple(out)


def _check_value(path: Path, line: int, name: str, value: Any) -> Any:
    if value is None:
        raise MappingError(f"{path}, line {line}: '{name}' has no value; give one or remove the line")
    try:
        return mapping_from_dict({name: value}, source=f"{path}, line {line}", base=path.parent).__getattribute__(name)
    except MappingError as exc:
        msg = str(exc)
        prefix = f"{path}, line {line}"
        raise MappingError(msg if msg.startswith(prefix) else f"{prefix}: {msg}") from None


def _attribute_map(source: str, key: str, value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return {str(v): str(v) for v in value}
    if isinstance(value, dict):
        return {str(k): str(v if v is not None else k) for k, v in value.items()}
    raise MappingError(
        f"{source or 'mapping'}: {key} must be a list of column names or a mapping "
        "'column: name in the log'"
    )


def _label_dict(source: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise MappingError(
            f"{source or 'mapping'}: labels must map recorded labels to activities "
            "('PERIKSA_BERKAS: pemeriksaan_berkas') or name a CSV file with columns label,activity"
        )
    return {str(k).strip(): str(v).strip() for k, v in value.items()}


def load_labels(path: str | Path, base: Path | None = None) -> dict[str, str]:
    """A label table from a CSV file with the columns `label,activity` (or `from,to`)."""
    import csv

    p = Path(path)
    if not p.is_absolute() and base is not None:
        p = base / p
    text = _read_text(p, "label table")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise MappingError(f"{p}: the label table is empty; write a header 'label,activity' and one row per label")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    pairs = [("label", "activity"), ("from", "to"), ("label", "step")]
    cols = next(((header.index(a), header.index(b)) for a, b in pairs if a in header and b in header), None)
    if cols is None:
        raise MappingError(f"{p}, line 1: the header must name the columns 'label' and 'activity' (found: {', '.join(header)})")
    table: dict[str, str] = {}
    for number, row in enumerate(reader, start=2):
        if len(row) <= max(cols):
            raise MappingError(f"{p}, line {number}: expected a label and an activity, found {len(row)} field(s)")
        label, target = row[cols[0]].strip(), row[cols[1]].strip()
        if label in table and table[label] != target:
            raise MappingError(f"{p}, line {number}: the label {label!r} is mapped twice, to {table[label]!r} and {target!r}")
        table[label] = target
    return table


def _lifecycle_values(source: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not set(value) <= {"start", "complete"} or not value:
        raise MappingError(
            f"{source or 'mapping'}: lifecycle_values must look like "
            "'{start: [mulai], complete: [selesai]}'"
        )
    out = dict(DEFAULT_LIFECYCLE)
    for k, v in value.items():
        items = [v] if isinstance(v, str) else list(v or [])
        out[k] = tuple(str(x).strip().lower() for x in items)
    return out


def _date(source: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise MappingError(f"{source or 'mapping'}: plausible_start {value!r} is not a date; write YYYY-MM-DD") from None


@dataclass(frozen=True)
class Resolved:
    """A mapping checked against the columns of a source: every role names an existing column."""

    case: str
    activity: str
    time: str
    start: str | None
    lifecycle: str | None
    resource: str | None
    sequence: str | None
    case_attributes: dict[str, str]
    event_attributes: dict[str, str]
    keep_all: bool  # no attribute lists given: keep every other column under its own name
    time_format: str
    tz: str
    labels: dict[str, str] | None
    lifecycle_values: dict[str, tuple[str, ...]]
    duplicates: str
    plausible_start: dt.date
    unused: tuple[str, ...] = field(default=())

    @property
    def roles(self) -> dict[str, str]:
        """role -> source column, for the roles that are mapped."""
        names = ("case", "activity", "time", "start", "lifecycle", "resource", "sequence")
        return {r: getattr(self, r) for r in names if getattr(self, r)}

    def attribute_columns(self, columns: list[str]) -> dict[str, str]:
        """source column -> output name of every attribute kept."""
        if self.keep_all:
            used = set(self.roles.values())
            return {c: c for c in columns if c not in used}
        return {**self.event_attributes, **self.case_attributes}


def resolve(mapping: Mapping, columns: list[str], where: str) -> Resolved:
    """Check `mapping` against the source's columns and fill the defaults (pm4py or plain names)."""
    cols = list(columns)
    role: dict[str, str | None] = {}
    for name in ("case", "activity", "time", "start", "lifecycle", "resource", "sequence"):
        col = getattr(mapping, name)
        if col is not None and col not in cols:
            flag = {"time": "time", "start": "start"}.get(name, name)
            raise MappingError(
                f"{where}: the {name} column '{col}' does not exist. The file has the columns: "
                f"{', '.join(cols)}. Pass the right name with --{flag}"
                + (f" or fix it in {mapping.source}" if mapping.source else "") + "."
            )
        if col is None and name in DEFAULT_COLUMNS and not (name == "start" and mapping.lifecycle):
            col = next((c for c in DEFAULT_COLUMNS[name] if c in cols), None)
        role[name] = col
    missing = [r for r in ("case", "activity", "time") if role[r] is None]
    if missing:
        flags = " ".join(f"--{r} COLUMN" for r in missing)
        raise MappingError(
            f"{where}: cannot tell which column holds the {', '.join(missing)}. The file has the "
            f"columns: {', '.join(cols)}. Name them with {flags}, or in a mapping file "
            "(`sopaudit ingest FILE --suggest` proposes one)."
        )
    if mapping.start and mapping.lifecycle:
        raise MappingError(
            f"{where}: give either start and end time columns or a lifecycle column, not both"
        )
    used = [c for c in role.values() if c]
    dup = sorted({c for c in used if used.count(c) > 1})
    if dup:
        raise MappingError(f"{where}: the column '{dup[0]}' is mapped to two roles; each role needs its own column")
    case_attrs = dict(mapping.case_attributes or {})
    event_attrs = dict(mapping.event_attributes or {})
    for kind, attrs in (("case_attributes", case_attrs), ("event_attributes", event_attrs)):
        for c in attrs:
            if c not in cols:
                raise MappingError(
                    f"{where}: the {kind} column '{c}' does not exist. The file has the columns: {', '.join(cols)}."
                )
    both = sorted(set(case_attrs) & set(event_attrs))
    if both:
        raise MappingError(f"{where}: the column '{both[0]}' is listed both as a case and as an event attribute")
    keep_all = mapping.case_attributes is None and mapping.event_attributes is None
    unused = () if keep_all else tuple(c for c in cols if c not in used and c not in case_attrs and c not in event_attrs)
    return Resolved(
        case=role["case"], activity=role["activity"], time=role["time"], start=role["start"],
        lifecycle=role["lifecycle"], resource=role["resource"], sequence=role["sequence"],
        case_attributes=case_attrs, event_attributes=event_attrs, keep_all=keep_all,
        time_format=mapping.time_format or "auto", tz=mapping.tz or "Asia/Jakarta",
        labels=mapping.labels, lifecycle_values=mapping.lifecycle_values or dict(DEFAULT_LIFECYCLE),
        duplicates=mapping.duplicates or "keep",
        plausible_start=mapping.plausible_start or DEFAULT_PLAUSIBLE_START, unused=unused,
    )
