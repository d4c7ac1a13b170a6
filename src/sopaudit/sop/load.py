"""Read an SOP file (YAML table, PNML or BPMN) into a validated `SOP`.

Every problem in a YAML file is collected with its file:line:column and what to write instead,
and all of them are raised together, so an auditor fixes a file in one pass.

The checks are written by hand over the line-keeping YAML tree rather than through a schema
library: a schema library reports a recursive, key-discriminated flow (`choice:`, `loop:` ...) as
one error per union member, cannot phrase "what to write instead", and stops at structure,
while most SOP mistakes are about meaning (an unknown step, a loop that cannot come back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml

from sopaudit.core.errors import SopError
from sopaudit.sop.flow_read import FlowReader
from sopaudit.sop.model import (
    SOP,
    Duration,
    Header,
    Node,
    Role,
    Rule,
    Sequence,
    ServiceStandard,
    Step,
    StepRef,
    TimeStandard,
    walk,
)
from sopaudit.sop.problems import (
    Problems,
    check_attribute,
    check_id,
    did_you_mean,
    text_field,
    text_list,
    unknown_keys,
    value_loc,
)
from sopaudit.sop.yamlsrc import LocDict, LocList, load_yaml

# Time units an SOP may use, as written -> Duration.unit (simulate/scenario.py adds seconds).
DURATION_UNITS = {
    "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "menit": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours", "jam": "hours",
    "wd": "working_days", "working day": "working_days", "working days": "working_days",
    "working_day": "working_days", "working_days": "working_days", "hari kerja": "working_days",
    "day": "days", "days": "days", "hari": "days",
}
_DURATION_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([^\d\s].*?)?\s*$")
# Rule kinds and how many steps each takes (min, max); None = no upper bound.
RULE_STEPS = {
    "separation_of_duties": (2, None),
    "precedence": (2, 2), "response": (2, 2), "coexistence": (2, 2), "exclusive_choice": (2, 2),
    "init": (1, 1), "end": (1, 1), "existence": (1, 1), "absence": (1, 1), "exactly": (1, 1),
}
_COUNTED = {"existence", "absence", "exactly"}
_TOP_KEYS = {"sop", "roles", "steps", "flow", "service_standard", "rules"}
_HEADER_KEYS = {"code", "title", "unit", "service", "version", "issued", "effective", "approver",
                "legal_basis", "notes"}
_STEP_KEYS = {"id", "name", "role", "roles", "aliases", "time", "inputs", "output", "notes"}


def parse_duration(text: object) -> Duration:
    """Parse '15 min', '2 hours', '4 working days' or '1 hari kerja' into a Duration."""
    m = _DURATION_RE.match(str(text))
    if not m or not m.group(2):
        raise ValueError(
            f"cannot read the time '{text}'; write a number and a unit, e.g. '15 min', "
            "'2 hours' or '4 working days'"
        )
    word = " ".join(m.group(2).lower().split())
    unit = DURATION_UNITS.get(word)
    if unit is None:
        raise ValueError(
            f"unknown time unit '{m.group(2).strip()}' in '{str(text).strip()}'{did_you_mean(word, DURATION_UNITS)}; "
            "units: min/menit, hours/jam, working days/hari kerja, days/hari"
        )
    return Duration(float(m.group(1).replace(",", ".")), unit)


def load_sop(path: str | Path) -> SOP:
    """Load an SOP reference model from YAML, PNML or BPMN, validated."""
    path = Path(path)
    if not path.is_file():
        raise SopError(str(path), [f"{path}: the file does not exist; check the path of --sop"])
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return sop_from_yaml(data, str(path), sha)
    if suffix in (".pnml", ".bpmn", ".xml"):
        from sopaudit.sop.imported import load_net_model

        return load_net_model(path, sha)
    raise SopError(
        str(path),
        [f"{path}: unknown SOP file type '{suffix}'; use a .yaml SOP table, a .pnml or a .bpmn file"],
    )


def sop_from_yaml(data: bytes | str, path: str = "<text>", sha: str = "") -> SOP:
    """Validate the text of a YAML SOP table; `path` is only used in messages and provenance."""
    problems = Problems(path)
    if isinstance(data, bytes):
        sha = sha or hashlib.sha256(data).hexdigest()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SopError(path, [f"{path}: not UTF-8 text ({exc}); save the file as UTF-8"]) from None
    else:
        text = data
        sha = sha or hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        doc = load_yaml(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        hint = "check indentation and quotes"
        if "got '?'" in str(exc.problem):
            # A question mark inside { } starts a YAML "complex key": the usual SOP question
            # written in flow style trips on it.
            hint = "inside { } a value ending in '?' must be quoted, e.g. {question: \"Lengkap?\"}"
        raise SopError(path, [f"{where}: YAML syntax: {exc.problem or exc}; {hint}"]) from None
    except yaml.YAMLError as exc:
        raise SopError(path, [f"{path}: YAML syntax: {exc}"]) from None
    if not isinstance(doc, LocDict):
        raise SopError(path, [f"{path}:1:1: the file must be a mapping with sop, roles, steps and flow"])

    unknown_keys(doc, _TOP_KEYS, problems)
    header = _header(doc, problems)
    roles = _roles(doc, problems)
    steps = _steps(doc, {r.id for r in roles}, problems)
    step_ids = {s.id for s in steps}
    if "flow" not in doc:
        problems.add(doc.loc, "missing 'flow:'; list the steps in the order the SOP prescribes")
        flow: Node = Sequence(())
    else:
        flow = FlowReader(step_ids, problems).read_list(doc["flow"], doc, "flow")
        used = {n.step for n in walk(flow) if isinstance(n, StepRef)}
        for s in steps:
            if s.id and s.id not in used:
                problems.add(
                    _step_loc(doc, s.id),
                    f"step '{s.id}' is defined but never used in the flow; add it to the flow or delete it",
                )
    standards = _service_standards(doc, step_ids, problems)
    rules = _rules(doc, step_ids, problems)
    problems.raise_if_any()
    return SOP(header, tuple(roles), tuple(steps), flow, tuple(standards), tuple(rules), path, sha)


def _date(d: LocDict, key: str, problems: Problems) -> dt.date | None:
    value = d.get(key)
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.add(value_loc(d, key), f"'{key}: {value}' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-02")
        return None


def _header(doc: LocDict, problems: Problems) -> Header:
    h = doc.get("sop")
    if not isinstance(h, LocDict):
        problems.add(value_loc(doc, "sop") if "sop" in doc else doc.loc,
                     "missing 'sop:' header mapping with at least code and title")
        return Header(code="", title="")
    unknown_keys(h, _HEADER_KEYS, problems, "the sop header")
    return Header(
        code=text_field(h, "code", problems, required=True, what="the sop header"),
        title=text_field(h, "title", problems, required=True, what="the sop header"),
        unit=text_field(h, "unit", problems),
        service=text_field(h, "service", problems),
        version=text_field(h, "version", problems),
        issued=_date(h, "issued", problems),
        effective=_date(h, "effective", problems),
        approver=text_field(h, "approver", problems),
        legal_basis=text_list(h, "legal_basis", problems),
        notes=text_field(h, "notes", problems),
    )


def _roles(doc: LocDict, problems: Problems) -> list[Role]:
    raw = doc.get("roles")
    if raw is None:
        return []
    if not isinstance(raw, LocList):
        problems.add(value_loc(doc, "roles"), "'roles' must be a list of {id, name}")
        return []
    roles, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(value_loc(raw, i), "each role must be a mapping with id and name, e.g. {id: penyelia, name: Penyelia}")
            continue
        unknown_keys(item, {"id", "name"}, problems, "a role")
        rid = text_field(item, "id", problems, required=True, what="a role")
        check_id(rid, value_loc(item, "id"), "role id", problems)
        if rid and rid in seen:
            problems.add(value_loc(item, "id"), f"duplicate role id '{rid}'; give each role its own id")
        seen.add(rid)
        roles.append(Role(rid, text_field(item, "name", problems) or rid))
    return roles


def _time_standard(item: LocDict, problems: Problems) -> TimeStandard:
    raw = item.get("time")
    if raw is None:
        return TimeStandard()
    if not isinstance(raw, LocDict):
        try:
            return TimeStandard(duration=parse_duration(raw))
        except ValueError as exc:
            problems.add(value_loc(item, "time"), str(exc))
            return TimeStandard()
    unknown_keys(raw, {"duration", "wait", "inferred"}, problems, "a time standard")
    out = {}
    for key in ("duration", "wait"):
        if raw.get(key) is not None:
            try:
                out[key] = parse_duration(raw[key])
            except ValueError as exc:
                problems.add(value_loc(raw, key), str(exc))
    inferred = raw.get("inferred", False)
    if not isinstance(inferred, bool):
        problems.add(value_loc(raw, "inferred"), f"'inferred: {inferred}' must be true or false")
        inferred = False
    return TimeStandard(inferred=inferred, **out)


def _steps(doc: LocDict, role_ids: set[str], problems: Problems) -> list[Step]:
    raw = doc.get("steps")
    if not isinstance(raw, LocList) or not raw:
        problems.add(value_loc(doc, "steps") if "steps" in doc else doc.loc,
                     "missing 'steps:'; list each step with id, name and role")
        return []
    steps, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(value_loc(raw, i), "each step must be a mapping with id, name and role")
            continue
        unknown_keys(item, _STEP_KEYS, problems, "a step")
        sid = text_field(item, "id", problems, required=True, what="a step")
        check_id(sid, value_loc(item, "id"), "step id", problems)
        if sid and sid in seen:
            problems.add(value_loc(item, "id"), f"duplicate step id '{sid}'; give each step its own id")
        seen.add(sid)
        roles = text_list(item, "roles", problems) + text_list(item, "role", problems)
        for key in ("roles", "role"):
            for r in text_list(item, key, Problems("")):
                if role_ids and r not in role_ids:
                    problems.add(value_loc(item, key), f"step '{sid}' names unknown role '{r}'{did_you_mean(r, role_ids)}; "
                                                  f"known roles: {', '.join(sorted(role_ids))}")
                elif not role_ids:
                    problems.add(value_loc(item, key), f"step '{sid}' names role '{r}', but the file has no "
                                                  "'roles:' list; add roles: [{id: ..., name: ...}]")
        steps.append(Step(
            id=sid,
            name=text_field(item, "name", problems) or sid,
            roles=roles,
            aliases=text_list(item, "aliases", problems),
            time=_time_standard(item, problems),
            inputs=text_list(item, "inputs", problems),
            output=text_field(item, "output", problems),
            notes=text_field(item, "notes", problems),
        ))
    return steps


def _step_loc(doc: LocDict, step_id: str) -> tuple[int, int] | None:
    for i, item in enumerate(doc.get("steps") or []):
        if isinstance(item, LocDict) and str(item.get("id")).strip() == step_id:
            return value_loc(doc["steps"], i)
    return None


# --- service standard and rules ---------------------------------------------------------------


def _known_step(sid: str, loc, what: str, step_ids: set[str], problems: Problems) -> None:
    if sid and step_ids and sid not in step_ids:
        problems.add(loc, f"{what} names unknown step '{sid}'{did_you_mean(sid, step_ids)}; use a step id "
                          "from steps:")


def _service_standards(doc: LocDict, step_ids: set[str], problems: Problems) -> list[ServiceStandard]:
    raw = doc.get("service_standard")
    if raw is None:
        return []
    items = raw if isinstance(raw, LocList) else LocList([raw])
    if not isinstance(raw, LocList):
        items.loc, items.item_locs = value_loc(doc, "service_standard"), [value_loc(doc, "service_standard")]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, LocDict):
            problems.add(value_loc(items, i), "a service standard is a mapping with limit, from and to")
            continue
        unknown_keys(item, {"limit", "from", "to", "start_at", "attribute", "per_value", "pauses"},
                      problems, "a service standard")
        for key in ("from", "to"):
            sid = text_field(item, key, problems, required=True, what="a service standard")
            _known_step(sid, value_loc(item, key), f"service standard '{key}:'", step_ids, problems)
        if item.get("limit") is None:
            problems.add(item.loc, "missing 'limit:' in a service standard, e.g. limit: 4 working days")
            limit = Duration(0, "working_days")
        else:
            try:
                limit = parse_duration(item.get("limit"))
            except ValueError as exc:
                problems.add(value_loc(item, "limit"), str(exc))
                limit = Duration(0, "working_days")
        attribute = text_field(item, "attribute", problems)
        check_attribute(attribute, value_loc(item, "attribute"), problems)
        per_value = []
        pv = item.get("per_value")
        if pv is not None and not isinstance(pv, LocDict):
            problems.add(value_loc(item, "per_value"), "'per_value' is a mapping of attribute value to limit, "
                                                  "e.g. per_value: {percepatan: 0 working days}")
        elif isinstance(pv, LocDict):
            if not attribute:
                problems.add(value_loc(item, "per_value"), "'per_value' needs 'attribute:' naming the case attribute "
                                                      "whose values it lists, e.g. attribute: jenis_layanan")
            for value, lim in pv.items():
                try:
                    per_value.append((value, parse_duration(lim)))
                except ValueError as exc:
                    problems.add(value_loc(pv, value), str(exc))
        pauses = []
        raw_pauses = item.get("pauses")
        if raw_pauses is not None and not isinstance(raw_pauses, LocList):
            problems.add(value_loc(item, "pauses"), "'pauses' is a list of {from: STEP, to: STEP}")
            raw_pauses = None
        for j, p in enumerate(raw_pauses or []):
            if not isinstance(p, LocDict) or "from" not in p or "to" not in p:
                problems.add(value_loc(raw_pauses, j), "a pause is {from: STEP, to: STEP}")
                continue
            unknown_keys(p, {"from", "to"}, problems, "a pause")
            for key in ("from", "to"):
                _known_step(str(p[key]).strip(), value_loc(p, key), f"pause '{key}:'", step_ids, problems)
            pauses.append((str(p["from"]).strip(), str(p["to"]).strip()))
        start_at = text_field(item, "start_at", problems) or "end"
        if start_at not in ("start", "end"):
            problems.add(value_loc(item, "start_at"), f"'start_at: {start_at}' must be 'start' or 'end' (of the from step)")
        out.append(ServiceStandard(limit, text_field(item, "from", problems), text_field(item, "to", problems),
                                   attribute, tuple(per_value), tuple(pauses), start_at))
    return out


def _rules(doc: LocDict, step_ids: set[str], problems: Problems) -> list[Rule]:
    raw = doc.get("rules")
    if raw is None:
        return []
    if not isinstance(raw, LocList):
        problems.add(value_loc(doc, "rules"), "'rules' must be a list of {kind, steps}")
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(value_loc(raw, i), "a rule is a mapping with kind and steps")
            continue
        unknown_keys(item, {"id", "kind", "steps", "description", "count"}, problems, "a rule")
        kind = text_field(item, "kind", problems, required=True, what="a rule")
        if kind and kind not in RULE_STEPS:
            problems.add(value_loc(item, "kind"), f"unknown rule kind '{kind}'{did_you_mean(kind, RULE_STEPS)}; "
                                             f"kinds: {', '.join(sorted(RULE_STEPS))}")
        steps = text_list(item, "steps", problems)
        for s in steps:
            _known_step(s, value_loc(item, "steps"), "a rule", step_ids, problems)
        if kind in RULE_STEPS:
            lo, hi = RULE_STEPS[kind]
            if len(steps) < lo or (hi is not None and len(steps) > hi):
                want = f"exactly {lo}" if lo == hi else f"at least {lo}"
                problems.add(value_loc(item, "steps") if "steps" in item else item.loc,
                             f"a '{kind}' rule takes {want} step(s) in 'steps:'; it has {len(steps)}")
        count = item.get("count")
        if count is not None:
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                problems.add(value_loc(item, "count"), f"'count: {count}' must be a whole number 0 or more")
                count = None
            elif kind and kind not in _COUNTED:
                problems.add(value_loc(item, "count"), f"'count' applies only to {', '.join(sorted(_COUNTED))} rules")
        rid = text_field(item, "id", problems) or f"rule{i + 1}"
        if rid in seen:
            problems.add(value_loc(item, "id"), f"duplicate rule id '{rid}'; give each rule its own id")
        seen.add(rid)
        out.append(Rule(kind, steps, rid, text_field(item, "description", problems), count))
    return out
