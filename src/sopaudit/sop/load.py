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
import difflib
import hashlib
import re
from pathlib import Path

import yaml

from sopaudit.core.errors import SopError
from sopaudit.sop.model import (
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
ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")
# Rule kinds and how many steps each takes (min, max); None = no upper bound.
RULE_STEPS = {
    "separation_of_duties": (2, None),
    "precedence": (2, 2), "response": (2, 2), "coexistence": (2, 2), "exclusive_choice": (2, 2),
    "init": (1, 1), "end": (1, 1), "existence": (1, 1), "absence": (1, 1), "exactly": (1, 1),
}
_COUNTED = {"existence", "absence", "exactly"}
_FLOW_KEYS = ("step", "optional", "choice", "parallel", "loop", "end")
_TOP_KEYS = {"sop", "roles", "steps", "flow", "service_standard", "rules"}
_HEADER_KEYS = {"code", "title", "unit", "service", "version", "issued", "effective", "approver",
                "legal_basis", "notes"}
_STEP_KEYS = {"id", "name", "role", "roles", "aliases", "time", "inputs", "output", "notes"}
RESERVED_END = "complete"  # the id of the normal end of the flow (see compile.COMPLETE_END)


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
            items = sorted(set(self.items))
            raise SopError(self.path, [f"{self.path}:{ln}:{col}: {msg}" for ln, col, msg in items])


def _loc(parent, key) -> tuple[int, int] | None:
    """Where the value of `parent[key]` stands."""
    if isinstance(parent, LocDict):
        return parent.key_locs.get(key, parent.loc)
    if isinstance(parent, LocList):
        return parent.item_locs[key] if 0 <= key < len(parent.item_locs) else parent.loc
    return None


def _key_loc(parent: LocDict, key: str) -> tuple[int, int]:
    """Where the key itself stands."""
    return getattr(parent, "key_pos", {}).get(key) or parent.key_locs.get(key) or parent.loc


def did_you_mean(word: str, choices) -> str:
    """" (did you mean 'x'?)" when a known word is close to `word`, else ""."""
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
    problems = _Problems(path)
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

    _unknown_keys(doc, _TOP_KEYS, problems)
    header = _header(doc, problems)
    roles = _roles(doc, problems)
    steps = _steps(doc, {r.id for r in roles}, problems)
    step_ids = {s.id for s in steps}
    if "flow" not in doc:
        problems.add(doc.loc, "missing 'flow:'; list the steps in the order the SOP prescribes")
        flow: Node = Sequence(())
    else:
        flow = _FlowReader(step_ids, problems).read_list(doc["flow"], doc, "flow")
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


def _unknown_keys(d: LocDict, allowed: set[str], problems: _Problems, what: str = "") -> None:
    for key in d:
        if key not in allowed:
            where = f" in {what}" if what else ""
            problems.add(_key_loc(d, key), f"unknown key '{key}'{where}{did_you_mean(key, allowed)}; "
                                           f"allowed: {', '.join(sorted(allowed))}")


def _text(d: LocDict, key: str, problems: _Problems, required: bool = False, what: str = "") -> str:
    value = d.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            where = f" in {what}" if what else ""
            problems.add(d.loc, f"missing '{key}:'{where}")
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
        out = []
        for i, v in enumerate(value):
            if isinstance(v, LocDict | LocList):
                problems.add(_loc(value, i), f"each item of '{key}' must be text, not a list or mapping")
            elif v is not None:
                out.append(str(v).strip())
        return tuple(out)
    if isinstance(value, LocDict):
        problems.add(_loc(d, key), f"'{key}' must be a list of texts, e.g. {key}: [a, b]")
        return ()
    return (str(value).strip(),)


def _date(d: LocDict, key: str, problems: _Problems) -> dt.date | None:
    value = d.get(key)
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.add(_loc(d, key), f"'{key}: {value}' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-02")
        return None


def _header(doc: LocDict, problems: _Problems) -> Header:
    h = doc.get("sop")
    if not isinstance(h, LocDict):
        problems.add(_loc(doc, "sop") if "sop" in doc else doc.loc,
                     "missing 'sop:' header mapping with at least code and title")
        return Header(code="", title="")
    _unknown_keys(h, _HEADER_KEYS, problems, "the sop header")
    return Header(
        code=_text(h, "code", problems, required=True, what="the sop header"),
        title=_text(h, "title", problems, required=True, what="the sop header"),
        unit=_text(h, "unit", problems),
        service=_text(h, "service", problems),
        version=_text(h, "version", problems),
        issued=_date(h, "issued", problems),
        effective=_date(h, "effective", problems),
        approver=_text(h, "approver", problems),
        legal_basis=_texts(h, "legal_basis", problems),
        notes=_text(h, "notes", problems),
    )


def _fixed_name(value: str, bad: str, empty: str, prefix: str) -> str:
    """A well-formed name to suggest for `value`: runs of `bad` characters become '_', an empty
    result becomes `empty`, and `prefix` goes before a result that does not start with a letter or _."""
    fixed = re.sub(bad, "_", value).strip("_") or empty
    return fixed if re.match(r"[A-Za-z_]", fixed) else f"{prefix}{fixed}"


def _check_id(value: str, loc, what: str, problems: _Problems) -> None:
    if value and not ID_RE.match(value):
        fixed = _fixed_name(value, r"[^A-Za-z0-9_.-]+", "x", "s")
        problems.add(loc, f"{what} '{value}' must start with a letter and use only letters, digits, "
                          f"_ . - (e.g. '{fixed}')")


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
            problems.add(_loc(raw, i), "each role must be a mapping with id and name, e.g. {id: penyelia, name: Penyelia}")
            continue
        _unknown_keys(item, {"id", "name"}, problems, "a role")
        rid = _text(item, "id", problems, required=True, what="a role")
        _check_id(rid, _loc(item, "id"), "role id", problems)
        if rid and rid in seen:
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
        problems.add(_loc(raw, "inferred"), f"'inferred: {inferred}' must be true or false")
        inferred = False
    return TimeStandard(inferred=inferred, **out)


def _steps(doc: LocDict, role_ids: set[str], problems: _Problems) -> list[Step]:
    raw = doc.get("steps")
    if not isinstance(raw, LocList) or not raw:
        problems.add(_loc(doc, "steps") if "steps" in doc else doc.loc,
                     "missing 'steps:'; list each step with id, name and role")
        return []
    steps, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(_loc(raw, i), "each step must be a mapping with id, name and role")
            continue
        _unknown_keys(item, _STEP_KEYS, problems, "a step")
        sid = _text(item, "id", problems, required=True, what="a step")
        _check_id(sid, _loc(item, "id"), "step id", problems)
        if sid and sid in seen:
            problems.add(_loc(item, "id"), f"duplicate step id '{sid}'; give each step its own id")
        seen.add(sid)
        roles = _texts(item, "roles", problems) + _texts(item, "role", problems)
        for key in ("roles", "role"):
            for r in _texts(item, key, _Problems("")):
                if role_ids and r not in role_ids:
                    problems.add(_loc(item, key), f"step '{sid}' names unknown role '{r}'{did_you_mean(r, role_ids)}; "
                                                  f"known roles: {', '.join(sorted(role_ids))}")
                elif not role_ids:
                    problems.add(_loc(item, key), f"step '{sid}' names role '{r}', but the file has no "
                                                  "'roles:' list; add roles: [{id: ..., name: ...}]")
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
        if isinstance(item, LocDict) and str(item.get("id")).strip() == step_id:
            return _loc(doc["steps"], i)
    return None


# --- flow -------------------------------------------------------------------------------------


def always_ends(node: Node) -> bool:
    """True if every path through `node` reaches a legitimate end (nothing after it can run)."""
    if isinstance(node, End):
        return True
    if isinstance(node, Sequence):
        return any(always_ends(n) for n in node.items)
    if isinstance(node, Choice):
        return always_ends(node.yes) and always_ends(node.no)
    if isinstance(node, Loop):
        return always_ends(node.body)
    return False  # steps, optional blocks (may be skipped) and parallel blocks (no ends inside)


def may_end(node: Node) -> bool:
    """True if some path through `node` reaches a legitimate end."""
    return any(isinstance(n, End) for n in walk(node))


def nullable(node: Node) -> bool:
    """True if a path through `node` does no step at all and does not end."""
    if isinstance(node, StepRef | End):
        return False
    if isinstance(node, Sequence):
        return all(nullable(n) for n in node.items)
    if isinstance(node, Optional_):
        return True
    if isinstance(node, Choice):
        return nullable(node.yes) or nullable(node.no)
    if isinstance(node, Parallel):
        return all(nullable(b) for b in node.branches)
    if isinstance(node, Loop):
        return nullable(node.body)
    raise TypeError(node)


class _FlowReader:
    """Reads the flow list into flow nodes, checking step ids, ids of decisions and loops, where
    ends may stand and whether every loop can come back to its question."""

    def __init__(self, step_ids: set[str], problems: _Problems):
        self.step_ids = step_ids
        self.problems = problems
        self.block_ids: dict[str, tuple[int, int] | None] = {}

    def read_list(self, raw, parent, key) -> Node:
        """A flow list is a sequence; a single item stands for itself."""
        if raw is None:
            return Sequence(())
        if not isinstance(raw, LocList):
            return self.item(raw, _loc(parent, key))
        items: list[Node] = []
        for i, item in enumerate(raw):
            node = self.item(item, _loc(raw, i))
            if items and isinstance(items[-1], End):
                self.problems.add(_loc(raw, i), "nothing can follow an 'end' in the same list; "
                                                "move it into a choice branch")
            elif items and always_ends(items[-1]):
                self.problems.add(_loc(raw, i), "this item can never be reached: every path through the "
                                                "item above ends the service; move it into a branch "
                                                "that does not end")
            items.append(node)
        return items[0] if len(items) == 1 else Sequence(tuple(items))

    def step_ref(self, value, loc) -> Node:
        sid = "" if value is None else str(value).strip()
        if not sid:
            self.problems.add(loc, "empty flow item; write a step id, e.g. - pemeriksaan_berkas")
        elif sid not in self.step_ids and self.step_ids:  # no steps at all: reported once above
            known = f"; known steps: {', '.join(sorted(self.step_ids))}" if self.step_ids else ""
            self.problems.add(loc, f"the flow names unknown step '{sid}'{did_you_mean(sid, self.step_ids)}; "
                                   f"define it under steps: or fix the id{known}")
        return StepRef(sid)

    def block_id(self, d: LocDict, what: str) -> str:
        bid = _text(d, "id", self.problems)
        if bid:
            _check_id(bid, _loc(d, "id"), f"{what} id", self.problems)
            if bid in self.block_ids:
                first = self.block_ids[bid]
                at = f" (first used at line {first[0]})" if first else ""
                self.problems.add(_loc(d, "id"), f"duplicate id '{bid}'{at}; give each choice and loop its own id")
            else:
                self.block_ids[bid] = _loc(d, "id")
        return bid

    def item(self, item, loc) -> Node:
        if not isinstance(item, LocDict | LocList):
            return self.step_ref(item, loc)
        if isinstance(item, LocList):
            self.problems.add(loc, "a flow item cannot be a bare list; use parallel:, choice: or loop:")
            return Sequence(())
        keys = [k for k in item if k in _FLOW_KEYS]
        if len(keys) != 1:
            found = f"found {', '.join(keys)}" if keys else f"found {', '.join(item) or 'nothing'}"
            self.problems.add(item.loc, f"each flow item is a step id or a mapping with exactly one of: "
                                        f"{', '.join(_FLOW_KEYS)} ({found})")
            return Sequence(())
        kind = keys[0]
        return getattr(self, f"_{kind}")(item, item[kind], _loc(item, kind))

    def _step(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"step"}, self.problems, "a flow step")
        return self.step_ref(value, vloc)

    def _optional(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"optional"}, self.problems, "an optional block")
        body = self.read_list(value, item, "optional")
        if not any(isinstance(n, StepRef) for n in walk(body)):
            self.problems.add(vloc, "an optional block needs at least one step, e.g. optional: [step_id]")
        return Optional_(body)

    def _end(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"end", "name"}, self.problems, "an end")
        if isinstance(value, LocDict):
            _unknown_keys(value, {"id", "name"}, self.problems, "an end")
            eid, name, loc = _text(value, "id", self.problems), _text(value, "name", self.problems), _loc(value, "id")
        elif isinstance(value, LocList):
            self.problems.add(vloc, "'end' takes an id (end: ditolak) or {id, name}, not a list")
            return End("")
        else:
            eid, name, loc = ("" if value is None else str(value).strip()), _text(item, "name", self.problems), vloc
        if not eid:
            self.problems.add(vloc, "an end needs an id saying why the service stops, e.g. end: ditolak")
        elif eid == RESERVED_END:
            self.problems.add(loc, f"'{RESERVED_END}' is reserved for the normal end of the flow; "
                                   "name this end by why the service stops, e.g. end: ditolak")
        else:
            _check_id(eid, loc, "end id", self.problems)
        return End(eid, name)

    def _parallel(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"parallel"}, self.problems, "a parallel block")
        if not isinstance(value, LocList) or len(value) < 2:
            self.problems.add(vloc, "'parallel' takes a list of at least two branches, e.g. parallel: [[a], [b]]")
            if not isinstance(value, LocList):
                return Sequence(())
        branches = tuple(self.read_list(b, value, i) for i, b in enumerate(value))
        for i, b in enumerate(branches):
            if may_end(b):
                self.problems.add(_loc(value, i), "an 'end' cannot stand inside a parallel branch; "
                                                  "end after the block")
        return Parallel(branches)

    def _choice(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"choice"}, self.problems, "a choice")
        if not isinstance(value, LocDict):
            self.problems.add(vloc, "'choice' takes a mapping with question, yes and no")
            return Sequence(())
        _unknown_keys(value, {"id", "question", "yes", "no", "condition"}, self.problems, "a choice")
        if "yes" not in value and "no" not in value:
            self.problems.add(value.loc, "a choice needs a 'yes:' and/or a 'no:' branch")
        question = _text(value, "question", self.problems, required=True, what="a choice")
        cid = self.block_id(value, "choice")
        yes = self.read_list(value.get("yes"), value, "yes")
        no = self.read_list(value.get("no"), value, "no")
        if ("yes" in value or "no" in value) and _empty(yes) and _empty(no):
            self.problems.add(value.loc, "both branches of this choice are empty, so it decides nothing; "
                                         "put the steps of one answer under yes: or no:, or delete the choice")
        return Choice(question=question, yes=yes, no=no, condition=self.condition(value), id=cid)

    def condition(self, choice: LocDict) -> Condition | None:
        raw = choice.get("condition")
        if raw is None:
            return None
        loc = _loc(choice, "condition")
        if not isinstance(raw, LocDict):
            self.problems.add(loc, "'condition' takes {attribute: NAME, in: [values]} or "
                                   "{attribute: NAME, not_in: [values]}")
            return None
        _unknown_keys(raw, {"attribute", "in", "not_in"}, self.problems, "a condition")
        attr = _text(raw, "attribute", self.problems, required=True, what="a condition")
        _check_attribute(attr, _loc(raw, "attribute"), self.problems)
        if ("in" in raw) == ("not_in" in raw):
            self.problems.add(raw.loc, "a condition needs exactly one of 'in:' or 'not_in:' with a list of values")
            return None
        key = "in" if "in" in raw else "not_in"
        values = _texts(raw, key, self.problems)
        if not values:
            self.problems.add(_loc(raw, key), f"'{key}:' needs at least one value, e.g. {key}: [hilang, rusak]")
        return Condition(attr, values, negate=(key == "not_in"))

    def _loop(self, item: LocDict, value, vloc) -> Node:
        _unknown_keys(item, {"loop"}, self.problems, "a loop")
        if not isinstance(value, LocDict) or "body" not in value:
            self.problems.add(vloc, "'loop' takes a mapping with body (the steps repeated), question and "
                                    "optionally redo (the steps before going back)")
            return Sequence(())
        _unknown_keys(value, {"id", "body", "redo", "question"}, self.problems, "a loop")
        question = _text(value, "question", self.problems, required=True, what="a loop")
        lid = self.block_id(value, "loop")
        body = self.read_list(value["body"], value, "body")
        redo = self.read_list(value["redo"], value, "redo") if value.get("redo") is not None else None
        if always_ends(body):
            self.problems.add(_loc(value, "body"), "loop without exit: every path through the loop body "
                                                   "reaches an 'end', so the loop's question is never asked; "
                                                   "leave one branch of the body without an 'end'")
        if redo is not None and may_end(redo):
            self.problems.add(_loc(value, "redo"), "an 'end' cannot stand in a loop's redo steps; put the "
                                                   "choice that ends the service in the body")
        if nullable(body) and (redo is None or nullable(redo)):
            self.problems.add(_loc(value, "body"), "this loop can go round without doing any step, so it "
                                                   "repeats nothing; make at least one step of the body "
                                                   "(or of redo) required")
        return Loop(body, redo, question, lid)


def _empty(node: Node) -> bool:
    return isinstance(node, Sequence) and not node.items


def _check_attribute(attr: str, loc, problems: _Problems) -> None:
    if attr and not ATTR_RE.match(attr):
        fixed = _fixed_name(attr, r"[^A-Za-z0-9_:.-]+", "attribute", "_")
        problems.add(loc, f"attribute name '{attr}' is malformed; write it like the case attribute's "
                          f"column name, with letters, digits, _ : . - only (e.g. '{fixed}')")


# --- service standard and rules ---------------------------------------------------------------


def _known_step(sid: str, loc, what: str, step_ids: set[str], problems: _Problems) -> None:
    if sid and step_ids and sid not in step_ids:
        problems.add(loc, f"{what} names unknown step '{sid}'{did_you_mean(sid, step_ids)}; use a step id "
                          "from steps:")


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
            sid = _text(item, key, problems, required=True, what="a service standard")
            _known_step(sid, _loc(item, key), f"service standard '{key}:'", step_ids, problems)
        if item.get("limit") is None:
            problems.add(item.loc, "missing 'limit:' in a service standard, e.g. limit: 4 working days")
            limit = Duration(0, "working_days")
        else:
            try:
                limit = parse_duration(item.get("limit"))
            except ValueError as exc:
                problems.add(_loc(item, "limit"), str(exc))
                limit = Duration(0, "working_days")
        attribute = _text(item, "attribute", problems)
        _check_attribute(attribute, _loc(item, "attribute"), problems)
        per_value = []
        pv = item.get("per_value")
        if pv is not None and not isinstance(pv, LocDict):
            problems.add(_loc(item, "per_value"), "'per_value' is a mapping of attribute value to limit, "
                                                  "e.g. per_value: {percepatan: 0 working days}")
        elif isinstance(pv, LocDict):
            if not attribute:
                problems.add(_loc(item, "per_value"), "'per_value' needs 'attribute:' naming the case attribute "
                                                      "whose values it lists, e.g. attribute: jenis_layanan")
            for value, lim in pv.items():
                try:
                    per_value.append((value, parse_duration(lim)))
                except ValueError as exc:
                    problems.add(_loc(pv, value), str(exc))
        pauses = []
        raw_pauses = item.get("pauses")
        if raw_pauses is not None and not isinstance(raw_pauses, LocList):
            problems.add(_loc(item, "pauses"), "'pauses' is a list of {from: STEP, to: STEP}")
            raw_pauses = None
        for j, p in enumerate(raw_pauses or []):
            if not isinstance(p, LocDict) or "from" not in p or "to" not in p:
                problems.add(_loc(raw_pauses, j), "a pause is {from: STEP, to: STEP}")
                continue
            _unknown_keys(p, {"from", "to"}, problems, "a pause")
            for key in ("from", "to"):
                _known_step(str(p[key]).strip(), _loc(p, key), f"pause '{key}:'", step_ids, problems)
            pauses.append((str(p["from"]).strip(), str(p["to"]).strip()))
        start_at = _text(item, "start_at", problems) or "end"
        if start_at not in ("start", "end"):
            problems.add(_loc(item, "start_at"), f"'start_at: {start_at}' must be 'start' or 'end' (of the from step)")
        out.append(ServiceStandard(limit, _text(item, "from", problems), _text(item, "to", problems),
                                   attribute, tuple(per_value), tuple(pauses), start_at))
    return out


def _rules(doc: LocDict, step_ids: set[str], problems: _Problems) -> list[Rule]:
    raw = doc.get("rules")
    if raw is None:
        return []
    if not isinstance(raw, LocList):
        problems.add(_loc(doc, "rules"), "'rules' must be a list of {kind, steps}")
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            problems.add(_loc(raw, i), "a rule is a mapping with kind and steps")
            continue
        _unknown_keys(item, {"id", "kind", "steps", "description", "count"}, problems, "a rule")
        kind = _text(item, "kind", problems, required=True, what="a rule")
        if kind and kind not in RULE_STEPS:
            problems.add(_loc(item, "kind"), f"unknown rule kind '{kind}'{did_you_mean(kind, RULE_STEPS)}; "
                                             f"kinds: {', '.join(sorted(RULE_STEPS))}")
        steps = _texts(item, "steps", problems)
        for s in steps:
            _known_step(s, _loc(item, "steps"), "a rule", step_ids, problems)
        if kind in RULE_STEPS:
            lo, hi = RULE_STEPS[kind]
            if len(steps) < lo or (hi is not None and len(steps) > hi):
                want = f"exactly {lo}" if lo == hi else f"at least {lo}"
                problems.add(_loc(item, "steps") if "steps" in item else item.loc,
                             f"a '{kind}' rule takes {want} step(s) in 'steps:'; it has {len(steps)}")
        count = item.get("count")
        if count is not None:
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                problems.add(_loc(item, "count"), f"'count: {count}' must be a whole number 0 or more")
                count = None
            elif kind and kind not in _COUNTED:
                problems.add(_loc(item, "count"), f"'count' applies only to {', '.join(sorted(_COUNTED))} rules")
        rid = _text(item, "id", problems) or f"rule{i + 1}"
        if rid in seen:
            problems.add(_loc(item, "id"), f"duplicate rule id '{rid}'; give each rule its own id")
        seen.add(rid)
        out.append(Rule(kind, steps, rid, _text(item, "description", problems), count))
    return out
