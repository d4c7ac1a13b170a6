"""PLAN.yaml: the audits of a batch, validated with the line and column of every problem.

A plan has `defaults:` (any audit key but `name`) and `audits:`, a list of audits with at least
`name`, `log` and `sop` (docs/batch.md). Relative paths are relative to the plan file. The
result is a list of `AuditJob`s: plain, picklable values a pool or Dask worker runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from sopaudit import __version__
from sopaudit.core.errors import ProblemListError
from sopaudit.ingest.readers import is_sql_url
from sopaudit.ingest.source import sha256_file
from sopaudit.sop.problems import did_you_mean
from sopaudit.sop.yamlsrc import LocDict, LocList, load_yaml

TOP_KEYS = {"defaults", "audits", "title"}
PATH_KEYS = ("log", "sop", "mapping", "roles", "closures", "accepted")
TEXT_KEYS = ("case", "activity", "time", "resource", "tz", "query", "office")
FLAG_KEYS = ("precision", "cuti_bersama_working")
AUDIT_KEYS = {"name", *PATH_KEYS, *TEXT_KEYS, *FLAG_KEYS, "lang", "filter", "formats", "open_days", "partitions"}
FILTER_KEYS = {"from", "to", "attribute", "values"}
LANGS = ("id", "en")
FORMATS = ("html", "xlsx", "csv", "json")
# Files the batch itself writes into OUT: no audit may be named like them.
RESERVED = {"index.html", "index.xlsx", "batch.json", "history.sqlite"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class PlanError(ProblemListError):
    """A batch plan that cannot be run as written; lists every problem with its place."""

    noun = "batch plan"


@dataclass(frozen=True)
class AuditJob:
    """One audit of a plan, with absolute paths and every parameter resolved."""

    name: str
    log: str  # a file path or an SQLAlchemy URL (then `query` is set)
    sop: str
    where: str  # "PLAN.yaml:12:5", for messages
    query: str | None = None
    case: str | None = None
    activity: str | None = None
    time: str | None = None
    resource: str | None = None
    mapping: str | None = None
    tz: str | None = None
    lang: str = "id"
    formats: tuple[str, ...] = FORMATS
    roles: str | None = None
    closures: str | None = None
    accepted: str | None = None
    open_days: float | None = None  # None: still-open cases are judged from the data (docs/deviations.md)
    precision: bool = False
    cuti_bersama_working: bool = False
    office: str | None = None
    filter: dict = field(default_factory=dict)  # from, to (ISO dates), attribute, values (list)
    partitions: int = 1

    def parameters(self) -> dict:
        """Everything that decides the audit's result except the contents of its input files."""
        params = asdict(self)
        params.pop("where")
        params["formats"] = list(self.formats)
        return params

    def input_files(self) -> dict[str, str]:
        """role -> path of every input file (the log only when it is a file, not a database)."""
        files = {key: getattr(self, key) for key in PATH_KEYS if getattr(self, key)}
        if self.query is not None:
            files.pop("log")
        return files


@dataclass(frozen=True)
class Plan:
    path: Path
    title: str
    lang: str
    jobs: list[AuditJob]


def fingerprint(job: AuditJob) -> str | None:
    """sha256 of the parameters, the input files' sha256 and the sopaudit version; None when
    an input cannot be hashed (a database query, or a file that is missing: the audit then runs
    and fails with the reader's message)."""
    if job.query is not None:
        return None
    try:
        hashes = {role: sha256_file(path) for role, path in sorted(job.input_files().items())}
    except OSError:
        return None
    text = json.dumps({"version": __version__, "parameters": job.parameters(), "inputs": hashes},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.items: list[tuple[int, int, str]] = []

    def add(self, loc, message: str) -> None:
        line, col = loc or (1, 1)
        self.items.append((line, col, message))


def _loc(d: LocDict, key: str):
    return d.key_locs.get(key, d.loc)


def _key_loc(d: LocDict, key: str):
    return d.key_pos.get(key) or d.key_locs.get(key) or d.loc


def load_plan(path: str | Path) -> Plan:
    """Read and validate PLAN.yaml; raises PlanError listing every problem found."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise PlanError(shown, [f"{shown}: the file does not exist; check the path of the plan"])
    try:
        doc = load_yaml(path)
    except UnicodeDecodeError as exc:
        raise PlanError(shown, [f"{shown}: not UTF-8 text ({exc}); save the file as UTF-8"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise PlanError(shown, [f"{where}: YAML syntax: {exc.problem or exc}; check indentation and quotes"]) from None
    except yaml.YAMLError as exc:
        raise PlanError(shown, [f"{shown}: YAML syntax: {exc}"]) from None
    if not isinstance(doc, LocDict):
        raise PlanError(shown, [f"{shown}:1:1: the plan must be a mapping with 'defaults:' and 'audits:'"])
    problems = _Problems(shown)
    for key in doc:
        if key not in TOP_KEYS:
            problems.add(_key_loc(doc, key), f"unknown key '{key}'{did_you_mean(key, TOP_KEYS)}; "
                                             f"allowed: {', '.join(sorted(TOP_KEYS))}")
    base = path.resolve().parent
    defaults = doc.get("defaults") or LocDict()
    if not isinstance(defaults, LocDict):
        problems.add(_loc(doc, "defaults"), "'defaults:' must be a mapping of audit keys (e.g. sop: sop.yaml)")
        defaults = LocDict()
    else:
        if "name" in defaults:
            problems.add(_key_loc(defaults, "name"), "'name' cannot be a default: every audit has its own name")
        _check_keys(defaults, problems, "defaults")
    audits = doc.get("audits")
    jobs: list[AuditJob] = []
    if not isinstance(audits, LocList) or not audits:
        problems.add(_loc(doc, "audits") if "audits" in doc else doc.loc,
                     "missing or empty 'audits:'; list the audits, each with name, log and sop")
        audits = LocList()
    seen: dict[str, int] = {}
    for i, entry in enumerate(audits):
        loc = audits.item_locs[i]
        if not isinstance(entry, LocDict):
            problems.add(loc, f"audit {i + 1} must be a mapping with name, log and sop")
            continue
        _check_keys(entry, problems, f"audit {i + 1}")
        name = entry.get("name")
        if isinstance(name, str | int | float) and not isinstance(name, bool):
            first = seen.setdefault(str(name).strip().lower(), loc[0])
            if first != loc[0]:
                problems.add(_loc(entry, "name"), f"the audit name '{name}' is used twice (first at line {first}); "
                                                  "each audit writes its own folder OUT/<name>")
        job = _job(entry, defaults, base, problems, shown, i)
        if job is not None:
            jobs.append(job)
    title = doc.get("title")
    if title is not None and not isinstance(title, str | int | float):
        problems.add(_loc(doc, "title"), "'title:' must be text")
    lang = defaults.get("lang", "id")
    if problems.items:
        items = sorted(set(problems.items))
        raise PlanError(shown, [f"{shown}:{ln}:{col}: {msg}" for ln, col, msg in items])
    return Plan(path, str(title) if title is not None else path.stem, lang if lang in LANGS else "id", jobs)


def _check_keys(d: LocDict, problems: _Problems, what: str) -> None:
    for key in d:
        if key not in AUDIT_KEYS:
            problems.add(_key_loc(d, key), f"unknown key '{key}' in {what}{did_you_mean(key, AUDIT_KEYS)}; "
                                           f"allowed: {', '.join(sorted(AUDIT_KEYS))}")


def _job(entry: LocDict, defaults: LocDict, base: Path, problems: _Problems, shown: str, i: int) -> AuditJob | None:
    def get(key):
        """(value, the mapping it came from) with the audit's own value first."""
        if key in entry:
            return entry[key], entry
        if key in defaults:
            return defaults[key], defaults
        return None, None

    def text(key):
        value, src = get(key)
        if value is None:
            return None
        if isinstance(value, LocDict | LocList) or (isinstance(value, str) and not value.strip()):
            problems.add(_loc(src, key), f"'{key}:' must be non-empty text")
            return None
        return str(value).strip()

    n_before = len(problems.items)
    name = text("name")
    if name is None:
        problems.add(entry.loc, f"audit {i + 1} has no 'name:'; give each audit a short folder name, e.g. jakarta-2025-s1")
    elif not NAME_RE.match(name) or name.lower() in RESERVED:
        problems.add(_loc(entry, "name"), f"the audit name '{name}' cannot be a folder name; use letters, digits, "
                                          "'.', '-' and '_' (not starting with '.' or '-'), and not "
                                          + ", ".join(sorted(RESERVED)))
    values: dict = {}
    for key in TEXT_KEYS:
        values[key] = text(key)
    for key in PATH_KEYS:
        value = text(key)
        if value is None:
            if key in ("log", "sop"):
                problems.add(entry.loc, f"audit '{name or i + 1}' has no '{key}:' (here or in defaults)")
            continue
        if key == "log" and is_sql_url(value):
            if values["query"] is None:
                problems.add(_loc(get(key)[1], key), f"the log '{value}' is a database URL: add 'query:' with the "
                                                     "SQL that selects the events")
            values[key] = value
            continue
        values[key] = str((base / Path(value).expanduser()).resolve())
    if values["query"] is not None and values.get("log") and not is_sql_url(values["log"]):
        problems.add(_loc(get("query")[1], "query"), "'query:' is only for a log read from a database URL "
                                                     "(e.g. postgresql://host/db); remove it or give such a URL")
    lang, src = get("lang")
    if lang is not None and lang not in LANGS:
        problems.add(_loc(src, "lang"), f"unknown report language '{lang}'; use id or en")
    for key in FLAG_KEYS:
        value, src = get(key)
        if value is not None and not isinstance(value, bool):
            problems.add(_loc(src, key), f"'{key}:' must be true or false")
    open_days, src = get("open_days")
    if open_days is not None and (isinstance(open_days, bool) or not isinstance(open_days, int | float) or open_days < 0):
        problems.add(_loc(src, "open_days"), "'open_days:' must be a number of days, 0 or more")
    partitions, src = get("partitions")
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int)
                                   or not 1 <= partitions <= 1024):
        problems.add(_loc(src, "partitions"), "'partitions:' must be a whole number from 1 to 1024")
    if (partitions or 1) > 1 and get("precision")[0] is True:
        problems.add(_loc(get("precision")[1], "precision"), "'precision: true' needs the whole log in one audit; "
                                                             "set 'partitions: 1' or 'precision: false'")
    formats = _formats(get("formats"), problems)
    filt = _filter(get("filter"), problems)
    if len(problems.items) > n_before or name is None:
        return None
    line, col = entry.loc
    return AuditJob(
        name=name, log=values["log"], sop=values["sop"], where=f"{shown}:{line}:{col}", query=values["query"],
        case=values["case"], activity=values["activity"], time=values["time"], resource=values["resource"],
        mapping=values.get("mapping"), tz=values["tz"], lang=lang or "id", formats=formats,
        roles=values.get("roles"), closures=values.get("closures"), accepted=values.get("accepted"),
        open_days=float(open_days) if open_days is not None else None,
        precision=bool(get("precision")[0]), cuti_bersama_working=bool(get("cuti_bersama_working")[0]),
        office=values["office"], filter=filt, partitions=int(partitions or 1),
    )


def _formats(found, problems: _Problems) -> tuple[str, ...]:
    value, src = found
    if value is None:
        return FORMATS
    items = [str(v).strip().lower() for v in (value.split(",") if isinstance(value, str) else
                                              value if isinstance(value, list) else [value])]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        problems.add(_loc(src, "formats"), f"unknown report format(s) {', '.join(map(repr, bad)) or '(none)'}; "
                                           f"choose from {', '.join(FORMATS)}")
        return FORMATS
    # The batch reads each audit's summary.json for the index and the history: always written.
    return tuple(f for f in FORMATS if f in items or f == "json")


def _filter(found, problems: _Problems) -> dict:
    value, src = found
    if value is None:
        return {}
    if not isinstance(value, LocDict):
        problems.add(_loc(src, "filter"), "'filter:' must be a mapping with from, to, attribute and values")
        return {}
    out: dict = {}
    for key in value:
        if key not in FILTER_KEYS:
            problems.add(_key_loc(value, key), f"unknown key '{key}' in filter{did_you_mean(key, FILTER_KEYS)}; "
                                               f"allowed: {', '.join(sorted(FILTER_KEYS))}")
    for key in ("from", "to"):
        if value.get(key) is None:
            continue
        day = value[key]
        if isinstance(day, dt.datetime):
            day = day.date()
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day.strip())
            except ValueError:
                day = None
        if not isinstance(day, dt.date):
            problems.add(_loc(value, key), f"filter '{key}:' must be a date written YYYY-MM-DD")
            continue
        out[key] = day.isoformat()
    if "from" in out and "to" in out and out["to"] <= out["from"]:
        problems.add(_loc(value, "to"), f"filter 'to: {out['to']}' is not after 'from: {out['from']}'; the period would be empty")
    attribute, values = value.get("attribute"), value.get("values")
    if (attribute is None) != (values is None):
        problems.add(value.loc, "filter 'attribute:' and 'values:' go together: the column and the values to keep")
    elif attribute is not None:
        listed = list(values) if isinstance(values, list) else [values]
        if not str(attribute).strip() or not listed or any(isinstance(v, dict | list) or v is None for v in listed):
            problems.add(_loc(value, "values"), "filter 'values:' must be one value or a list of values")
        else:
            out["attribute"] = str(attribute).strip()
            out["values"] = [str(v) for v in listed]
    return out
