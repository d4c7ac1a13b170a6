"""Read an SOP file (YAML table, PNML or BPMN) into a validated `SOP`.

Every problem in a YAML file is collected with its file:line:column and a hint, and all of them
are raised together, so an auditor fixes a file in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml

from ..errors import SopError
from .model import (
    SOP,
    Choice,
    Condition,
    Duration,
    End,
    Header,
    Loop,
    Node,
    Optional_,
    Parallel,
    Role,
    Rule,
    Sequence,
    ServiceStandard,
    Step,
    StepRef,
    TimeStandard,
    walk,
)
from .yamlsrc import LocDict, LocList, load_yaml

_UNITS = {
    "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "menit": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours", "jam": "hours",
    "wd": "working_days", "working day": "working_days", "working days": "working_days",
    "working_day": "working_days", "working_days": "working_days", "hari kerja": "working_days",
    "day": "days", "days": "days", "hari": "days",
}
_DURATION_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z_ ]+?)\s*$")
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RULE_KINDS = {
    "separation_of_duties", "precedence", "response", "existence", "absence", "exactly",
    "coexistence", "exclusive_choice", "init", "end",
}
_FLOW_KEYS = {"step", "optional", "choice", "parallel", "loop", "end"}


class _Problems:
    """Collects located problems of one file."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[tuple[int, int, str]] = []

    def add(self, loc: tuple[int, int] | None, message: str) -> None:
        line, col = loc or (1, 1)
        self.items.append((line, col, message))

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort()
            raise SopError(self.path, [f"{self.path}:{ln}:{col}: {msg}" for ln, col, msg in self.items])


def _loc(parent, key) -> tuple[int, int] | None:
    if isinstance(parent, LocDict):
        return parent.key_locs.get(key, parent.loc)
    if isinstance(parent, LocList):
        return parent.item_locs[key] if 0 <= key < len(parent.item_locs) else parent.loc
    return None


def parse_duration(text: object) -> Duration:
    """Parse '15 min', '2 hours', '4 working days' or '1 hari kerja' into a Duration."""
    m = _DURATION_RE.match(str(text))
    unit = _UNITS.get(m.group(2).strip().lower()) if m else None
    if not m or unit is None:
        raise ValueError(
            f"cannot read the time '{text}'; write a number and a unit, e.g. '15 min', "
            "'2 hours' or '4 working days' (units: minutes, hours, working days, days)"
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
        return _from_yaml(str(path), data, sha)
    if suffix in (".pnml", ".bpmn"):
        from .imported import load_net_model

        return load_net_model(path, sha)
    raise SopError(
        str(path),
        [f"{path}: unknown SOP file type '{suffix}'; use a .yaml SOP table, a .pnml or a .bpmn file"],
    )


def _from_yaml(path: str, data: bytes, sha: str) -> SOP:
    problems = _Problems(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SopError(path, [f"{path}: not UTF-8 text ({exc}); save the file as UTF-8"]) from None
    try:
        doc = load_yaml(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise SopError(path, [f"{where}: YAML syntax: {exc.problem or exc}; check indentation and quotes"]) from None
    except yaml.YAMLError as exc:
        raise SopError(path, [f"{path}: YAML syntax: {exc}"]) from None
    if not isinstance(doc, LocDict):
        raise SopError(path, [f"{path}:1:1: the file must be a mapping with sop, roles, steps and flow"])

    _unknown_keys(doc, {"sop", "roles", "steps", "flow", "service_standard", "rules"}, problems)
    header = _header(doc, problems)
    roles = _roles(doc, problems)
    steps = _steps(doc, {r.id for r in roles}, problems)
    step_ids = {s.id for s in steps}
    if "flow" not in doc:
        problems.add(doc.loc, "missing 'flow:'; list the steps in the order the SOP prescribes")
        flow: Node = Sequence(())
    else:
        flow = _flow_list(doc["flow"], doc, "flow", step_ids, problems)
        used = {n.step for n in walk(flow) if isinstance(n, StepRef)}
        for s in steps:
            if s.id not in used:
                problems.add(
                    _step_loc(doc, s.id),
                    f"step '{s.id}' is defined but never used in the flow; add it to the flow or delete it",
                )
    standards = _service_standards(doc, step_ids, problems)
    rules = _rules(doc, step_ids, problems)
    problems.raise_if_any()
    return SOP(header, tuple(roles), tuple(steps), flow, tuple(standards), tuple(rules), path, sha)


def _unknown_keys(d: LocDict, allowed: set[str], problems: _Problems, what: str = "") -> None:
    for key in d:
        if key not in allowed:
            where = f" in {what}" if what else ""
            problems.add(
                d.key_locs.get(key), f"unknown key '{key}'{where}; allowed: {', '.join(sorted(allowed))}"
            )


def _text(d: LocDict, key: str, problems: _Problems, required: bool = False) -> str:
    value = d.get(key)
    if value is None:
        if required:
            problems.add(d.loc, f"missing '{key}:'")
        return ""
    if isinstance(value, LocDict | LocList):
        problems.add(_loc(d, key), f"'{key}' must be text, not a list or mapping")
        return ""
    return str(value).strip()


def _texts(d: LocDict, key: str, problems: _Problems) -> tuple[str, ...]:
    value = d.get(key)
    if value is None:
        return ()
    if isinstance(value, LocList):
        return tuple(str(v).strip() for v in value if not isinstance(v, LocDict | LocList))
    if isinstance(value, LocDict):
        problems.add(_loc(d, key), f"'{key}' must be a list of texts")
        return ()
    return (str(value).strip(),)


def _date(d: LocDict, key: str, problems: _Problems) -> dt.date | None:
    value = d.get(key)
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.add(_loc(d, key), f"'{key}: {value}' is not a date; write it as YYYY-MM-DD")
        return None


def _header(doc: LocDict, problems: _Problems) -> Header:
    h = doc.get("sop")
    if not isinstance(h, LocDict):
        problems.add(_loc(doc, "sop") if "sop" in doc else doc.loc,
                     "missing 'sop:' header mapping with at least code and title")
        return Header(code="", title="")
    allowed = {"code", "title", "unit", "service", "version", "issued", "effective", "approver",
               "legal_basis", "notes"}
    _unknown_keys(h, allowed, problems, "the sop header")
    return Header(
        code=_text(h, "code", problems, required=True),
        title=_text(h, "title", problems, required=True),
        unit=_text(h, "unit", problems),
        service=_text(h, "service", problems),
        version=_text(h, "version", problems),
        issued=_date(h, "issued", problems),
        effective=_date(h, "effective", problems),
        approver=_text(h, "approver", problems),
        legal_basis=_texts(h, "legal_basis", problems),
        notes=_text(h, "notes", problems),
    )


def _roles(doc: LocDict, problems: _Problems) -> list[Role]:
    raw = doc.get("roles")
    if raw is None:
        return []
    if not isinstance(raw, LocList):
        problems.add(_loc(doc, "roles"), "'roles' must be a list of {id, name}")
        return []
    roles, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(_loc(raw, i), "each role must be a mapping with id and name")
            continue
        _unknown_keys(item, {"id", "name"}, problems, "a role")
        rid = _text(item, "id", problems, required=True)
        if rid in seen:
            problems.add(_loc(item, "id"), f"duplicate role id '{rid}'; give each role its own id")
        seen.add(rid)
        roles.append(Role(rid, _text(item, "name", problems) or rid))
    return roles


def _time_standard(item: LocDict, problems: _Problems) -> TimeStandard:
    raw = item.get("time")
    if raw is None:
        return TimeStandard()
    if not isinstance(raw, LocDict):
        try:
            return TimeStandard(duration=parse_duration(raw))
        except ValueError as exc:
            problems.add(_loc(item, "time"), str(exc))
            return TimeStandard()
    _unknown_keys(raw, {"duration", "wait", "inferred"}, problems, "a time standard")
    out = {}
    for key in ("duration", "wait"):
        if raw.get(key) is not None:
            try:
                out[key] = parse_duration(raw[key])
            except ValueError as exc:
                problems.add(_loc(raw, key), str(exc))
    inferred = raw.get("inferred", False)
    if not isinstance(inferred, bool):
        problems.add(_loc(raw, "inferred"), "'inferred' must be true or false")
        inferred = False
    return TimeStandard(inferred=inferred, **out)


def _steps(doc: LocDict, role_ids: set[str], problems: _Problems) -> list[Step]:
    raw = doc.get("steps")
    if not isinstance(raw, LocList) or not raw:
        problems.add(_loc(doc, "steps") if "steps" in doc else doc.loc,
                     "missing 'steps:'; list each step with id, name and role")
        return []
    steps, seen = [], set()
    allowed = {"id", "name", "role", "roles", "aliases", "time", "inputs", "output", "notes"}
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(_loc(raw, i), "each step must be a mapping with id, name and role")
            continue
        _unknown_keys(item, allowed, problems, "a step")
        sid = _text(item, "id", problems, required=True)
        if sid and not _ID_RE.match(sid):
            problems.add(_loc(item, "id"),
                         f"step id '{sid}' must start with a letter and use only letters, digits, _ . -")
        if sid in seen:
            problems.add(_loc(item, "id"), f"duplicate step id '{sid}'; give each step its own id")
        seen.add(sid)
        roles = _texts(item, "roles", problems) + _texts(item, "role", problems)
        if role_ids:
            for r in roles:
                if r not in role_ids:
                    key = "roles" if "roles" in item else "role"
                    problems.add(_loc(item, key),
                                 f"step '{sid}' names unknown role '{r}'; known roles: {', '.join(sorted(role_ids))}")
        steps.append(Step(
            id=sid,
            name=_text(item, "name", problems) or sid,
            roles=roles,
            aliases=_texts(item, "aliases", problems),
            time=_time_standard(item, problems),
            inputs=_texts(item, "inputs", problems),
            output=_text(item, "output", problems),
            notes=_text(item, "notes", problems),
        ))
    return steps


def _step_loc(doc: LocDict, step_id: str) -> tuple[int, int] | None:
    for i, item in enumerate(doc.get("steps") or []):
        if isinstance(item, LocDict) and str(item.get("id")) == step_id:
            return _loc(doc["steps"], i)
    return None


def _flow_list(raw, parent, key, step_ids: set[str], problems: _Problems) -> Node:
    """A flow list is a sequence; a single item stands for itself."""
    if raw is None:
        return Sequence(())
    if not isinstance(raw, LocList):
        return _flow_item(raw, _loc(parent, key), step_ids, problems)
    items = []
    for i, item in enumerate(raw):
        node = _flow_item(item, _loc(raw, i), step_ids, problems)
        if items and isinstance(items[-1], End):
            problems.add(_loc(raw, i), "nothing can follow an 'end' in the same list; move it into a choice branch")
        items.append(node)
    return items[0] if len(items) == 1 else Sequence(tuple(items))


def _step_ref(value, loc, step_ids: set[str], problems: _Problems) -> Node:
    sid = str(value).strip()
    if sid not in step_ids:
        hint = f"; known steps: {', '.join(sorted(step_ids))}" if step_ids else ""
        problems.add(loc, f"the flow names unknown step '{sid}'{hint}")
    return StepRef(sid)


def _flow_item(item, loc, step_ids: set[str], problems: _Problems) -> Node:
    if not isinstance(item, LocDict | LocList):
        return _step_ref(item, loc, step_ids, problems)
    if isinstance(item, LocList):
        problems.add(loc, "a flow item cannot be a bare list; use parallel:, choice: or loop:")
        return Sequence(())
    keys = [k for k in item if k in _FLOW_KEYS]
    if len(keys) != 1:
        problems.add(item.loc, "each flow item is a step id or one of: " + ", ".join(sorted(_FLOW_KEYS)))
        return Sequence(())
    kind = keys[0]
    value = item[kind]
    vloc = _loc(item, kind)
    if kind == "step":
        _unknown_keys(item, {"step"}, problems, "a flow step")
        return _step_ref(value, vloc, step_ids, problems)
    if kind == "optional":
        _unknown_keys(item, {"optional"}, problems, "an optional block")
        return Optional_(_flow_list(value, item, kind, step_ids, problems))
    if kind == "end":
        _unknown_keys(item, {"end", "name"}, problems, "an end")
        if isinstance(value, LocDict):
            return End(_text(value, "id", problems, required=True), _text(value, "name", problems))
        return End(str(value).strip(), _text(item, "name", problems))
    if kind == "parallel":
        _unknown_keys(item, {"parallel"}, problems, "a parallel block")
        if not isinstance(value, LocList) or len(value) < 2:
            problems.add(vloc, "'parallel' takes a list of at least two branches")
            return Sequence(())
        branches = tuple(_flow_list(b, value, i, step_ids, problems) for i, b in enumerate(value))
        for i, b in enumerate(branches):
            if any(isinstance(n, End) for n in walk(b)):
                problems.add(_loc(value, i), "an 'end' cannot stand inside a parallel branch; end after the block")
        return Parallel(branches)
    if kind == "choice":
        _unknown_keys(item, {"choice"}, problems, "a choice")
        if not isinstance(value, LocDict):
            problems.add(vloc, "'choice' takes a mapping with question, yes and no")
            return Sequence(())
        _unknown_keys(value, {"id", "question", "yes", "no", "condition"}, problems, "a choice")
        if "yes" not in value and "no" not in value:
            problems.add(value.loc, "a choice needs a 'yes:' and/or a 'no:' branch")
        return Choice(
            question=_text(value, "question", problems, required=True),
            yes=_flow_list(value.get("yes"), value, "yes", step_ids, problems),
            no=_flow_list(value.get("no"), value, "no", step_ids, problems),
            condition=_condition(value, problems),
            id=_text(value, "id", problems),
        )
    # loop
    _unknown_keys(item, {"loop"}, problems, "a loop")
    if not isinstance(value, LocDict) or "body" not in value:
        problems.add(vloc, "'loop' takes a mapping with body (the steps repeated) and a question")
        return Sequence(())
    _unknown_keys(value, {"id", "body", "redo", "question"}, problems, "a loop")
    body = _flow_list(value["body"], value, "body", step_ids, problems)
    redo = _flow_list(value["redo"], value, "redo", step_ids, problems) if "redo" in value else None
    if not any(isinstance(n, StepRef) for n in walk(body)):
        problems.add(_loc(value, "body"), "a loop body needs at least one step")
    for part in (body, redo):
        if part is not None and any(isinstance(n, End) for n in walk(part)):
            problems.add(value.loc, "an 'end' cannot stand inside a loop; leave the loop first")
    return Loop(body, redo, _text(value, "question", problems), _text(value, "id", problems))


_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")


def _condition(choice: LocDict, problems: _Problems) -> Condition | None:
    raw = choice.get("condition")
    if raw is None:
        return None
    loc = _loc(choice, "condition")
    if not isinstance(raw, LocDict):
        problems.add(loc, "'condition' takes {attribute: NAME, in: [values]} or {attribute: NAME, not_in: [values]}")
        return None
    _unknown_keys(raw, {"attribute", "in", "not_in"}, problems, "a condition")
    attr = _text(raw, "attribute", problems, required=True)
    if attr and not _ATTR_RE.match(attr):
        problems.add(_loc(raw, "attribute"),
                     f"attribute name '{attr}' is malformed; use letters, digits, _ : . - (e.g. service_type)")
    if ("in" in raw) == ("not_in" in raw):
        problems.add(raw.loc, "a condition needs exactly one of 'in:' or 'not_in:' with a list of values")
        return None
    key = "in" if "in" in raw else "not_in"
    return Condition(attr, _texts(raw, key, problems), negate=(key == "not_in"))


def _service_standards(doc: LocDict, step_ids: set[str], problems: _Problems) -> list[ServiceStandard]:
    raw = doc.get("service_standard")
    if raw is None:
        return []
    items = raw if isinstance(raw, LocList) else LocList([raw])
    if not isinstance(raw, LocList):
        items.loc, items.item_locs = _loc(doc, "service_standard"), [_loc(doc, "service_standard")]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, LocDict):
            problems.add(_loc(items, i), "a service standard is a mapping with limit, from and to")
            continue
        _unknown_keys(item, {"limit", "from", "to", "start_at", "attribute", "per_value", "pauses"},
                      problems, "a service standard")
        for key in ("from", "to"):
            sid = _text(item, key, problems, required=True)
            if sid and sid not in step_ids:
                problems.add(_loc(item, key), f"service standard '{key}: {sid}' is not a step id")
        try:
            limit = parse_duration(item.get("limit"))
        except ValueError as exc:
            problems.add(_loc(item, "limit"), str(exc))
            limit = Duration(0, "working_days")
        per_value = []
        pv = item.get("per_value")
        if isinstance(pv, LocDict):
            for value, lim in pv.items():
                try:
                    per_value.append((value, parse_duration(lim)))
                except ValueError as exc:
                    problems.add(_loc(pv, value), str(exc))
        pauses = []
        for j, p in enumerate(item.get("pauses") or []):
            if not isinstance(p, LocDict) or "from" not in p or "to" not in p:
                problems.add(_loc(item["pauses"], j), "a pause is {from: STEP, to: STEP}")
                continue
            pauses.append((str(p["from"]), str(p["to"])))
        start_at = _text(item, "start_at", problems) or "end"
        if start_at not in ("start", "end"):
            problems.add(_loc(item, "start_at"), "'start_at' is 'start' or 'end' (of the from step)")
        out.append(ServiceStandard(limit, _text(item, "from", problems), _text(item, "to", problems),
                                   _text(item, "attribute", problems), tuple(per_value), tuple(pauses),
                                   start_at))
    return out


def _rules(doc: LocDict, step_ids: set[str], problems: _Problems) -> list[Rule]:
    raw = doc.get("rules")
    if raw is None:
        return []
    if not isinstance(raw, LocList):
        problems.add(_loc(doc, "rules"), "'rules' must be a list")
        return []
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(_loc(raw, i), "a rule is a mapping with kind and steps")
            continue
        _unknown_keys(item, {"id", "kind", "steps", "description", "count"}, problems, "a rule")
        kind = _text(item, "kind", problems, required=True)
        if kind and kind not in _RULE_KINDS:
            problems.add(_loc(item, "kind"), f"unknown rule kind '{kind}'; use one of {', '.join(sorted(_RULE_KINDS))}")
        steps = _texts(item, "steps", problems)
        for s in steps:
            if s not in step_ids:
                problems.add(_loc(item, "steps"), f"rule names unknown step '{s}'")
        count = item.get("count")
        out.append(Rule(kind, steps, _text(item, "id", problems) or f"rule{i + 1}",
                        _text(item, "description", problems), int(count) if count is not None else None))
    return out
