"""Reading a simulation scenario file (format in docs/simulation.md) into a `Scenario`.

Every problem is reported with its file:line:column and what to write instead, all at once, like
the SOP loader does. Whatever the file leaves out takes the value of the default scenario, except
`deviations`: a scenario file that names no deviation describes an office that follows its SOP.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import replace
from pathlib import Path

import yaml

from sopaudit.simulation.scenario import (
    DURATION_RE,
    HHMM_RE,
    KINDS,
    LABELS,
    MECHANISMS,
    UNITS,
    WEEKDAYS,
    Concentration,
    LoopSetting,
    Office,
    Scenario,
    ScenarioError,
    Span,
    StepTiming,
    default_scenario,
)
from sopaudit.sop.problems import did_you_mean
from sopaudit.sop.yamlsrc import LocDict, load_yaml


class _Reader:
    """Turns the located YAML tree into a Scenario, collecting problems with their place."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[tuple[int, int, str]] = []
        self.locs: dict[tuple, tuple[int, int]] = {}

    def problem(self, loc, message: str) -> None:
        line, col = loc or (1, 1)
        self.problems.append((line, col, message))

    def loc(self, parent, key):
        """Where the value of parent[key] stands."""
        if isinstance(parent, LocDict):
            return parent.key_locs.get(key, parent.loc)
        return None

    def mapping(self, parent, key, allowed: set[str], what: str, path: tuple) -> LocDict | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, LocDict):
            self.problem(self.loc(parent, key), f"'{key}' must be a mapping ({what})")
            return None
        self.record(value, path)
        if allowed:
            for k in value:
                if k not in allowed:
                    self.problem(value.key_pos[k], f"unknown key '{k}' in {key}{did_you_mean(k, allowed)}; "
                                                    f"allowed: {', '.join(sorted(allowed))}")
        return value

    def record(self, d: LocDict, path: tuple) -> None:
        for k, loc in d.key_pos.items():
            self.locs[path + (k,)] = loc

    def number(self, parent, key, *, lo=None, hi=None, integer=False, default=None):
        value = parent.get(key) if isinstance(parent, dict) else None
        if value is None:
            return default
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer:
            ok = float(value) == int(value)
        if ok and lo is not None:
            ok = value >= lo
        if ok and hi is not None:
            ok = value <= hi
        if not ok:
            rng = f" from {lo} to {hi}" if lo is not None and hi is not None else (
                f" of at least {lo}" if lo is not None else "")
            self.problem(self.loc(parent, key),
                         f"'{key}: {value}' must be {'a whole number' if integer else 'a number'}{rng}")
            return default
        return int(value) if integer else float(value)

    def rate(self, parent, key) -> float | None:
        return self.number(parent, key, lo=0, hi=1)

    def text(self, parent, key, default: str = "") -> str:
        value = parent.get(key)
        if value is None:
            return default
        if isinstance(value, dict | list):
            self.problem(self.loc(parent, key), f"'{key}' must be text")
            return default
        return str(value).strip()

    def date(self, parent, key, value=None) -> dt.date | None:
        value = parent.get(key) if value is None else value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(self.loc(parent, key), f"'{key}: {value}' is not a date; write YYYY-MM-DD")
            return None

    def span(self, parent, key) -> Span | None:
        value = parent.get(key)
        if value is None:
            return None
        m = DURATION_RE.match(str(value))
        unit = UNITS.get(m.group(2).strip().lower()) if m else None
        if not m or unit is None:
            self.problem(self.loc(parent, key),
                         f"cannot read the time '{value}'; write a number and a unit, e.g. '15 min', "
                         "'2 hours', '1 working day' or '3 days'")
            return None
        return Span(float(m.group(1).replace(",", ".")), unit)

    def hhmm(self, parent, key, default: tuple[str, str]) -> tuple[str, str]:
        value = parent.get(key)
        if value is None:
            return default
        if not (isinstance(value, list) and len(value) == 2):
            self.problem(self.loc(parent, key), f"'{key}' takes two times, e.g. [\"08:00\", \"16:00\"]")
            return default
        out = []
        for v in value:
            m = HHMM_RE.match(str(v).strip())
            if not m or int(m[1]) > 24 or int(m[2]) > 59:
                self.problem(self.loc(parent, key), f"'{v}' is not a time; write HH:MM in quotes, e.g. \"08:00\"")
                return default
            out.append(f"{int(m[1]):02d}:{m[2]}")
        if out[0] >= out[1]:
            self.problem(self.loc(parent, key), f"'{key}': the first time must be before the second")
            return default
        return out[0], out[1]

    def distribution(self, parent, key, path: tuple) -> tuple[tuple[str, float], ...]:
        d = self.mapping(parent, key, set(), "value: probability", path)
        if d is None:
            return ()
        out = []
        for value in d:
            prob = self.number(d, value, lo=0)
            if prob is not None:
                out.append((str(value), prob))
        total = sum(p for _, p in out)
        if out and abs(total - 1.0) > 1e-6:
            self.problem(self.loc(parent, key),
                         f"the probabilities of '{key}' add up to {total:g}; make them add up to 1")
        return tuple(out)


_TOP = {"scenario", "sop", "cases", "seed", "period", "case_id", "labels", "offices", "attributes",
        "arrivals", "flow", "timing", "deviations", "concentrations", "unexpected_activities"}


def load_scenario(path: str | Path, sop=None) -> Scenario:
    """Read a scenario YAML file; raises ScenarioError listing every problem with file:line:col.

    With `sop`, the scenario is also checked against that SOP (decisions, ends, loops, steps,
    roles and officers it names), and all problems of both kinds are reported together."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), [f"{path}: the scenario file does not exist; check the path of --scenario"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [f"{path}: not UTF-8 text ({exc}); save the file as UTF-8"]) from None
    try:
        doc = load_yaml(path, text, dates_as_text=True)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ScenarioError(str(path), [f"{where}: YAML syntax: {exc.problem or exc}; check indentation and quotes"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [f"{path}: YAML syntax: {exc}"]) from None
    if not isinstance(doc, LocDict):
        raise ScenarioError(str(path), [f"{path}:1:1: a scenario is a mapping (scenario:, cases:, period:, ...)"])
    reader = _Reader(str(path))
    scenario = _read(doc, reader)
    problems = [(ln, col, f"{path}:{ln}:{col}: {msg}") for ln, col, msg in reader.problems]
    if sop is not None:
        from sopaudit.simulation.resolve import resolve
        from sopaudit.simulation.structure import build_plan

        try:
            resolve(scenario, build_plan(sop))
        except ScenarioError as exc:
            for p in exc.problems:
                m = re.match(r"^.*?:(\d+):(\d+): ", p)
                problems.append((int(m[1]), int(m[2]), p) if m else (0, 0, p))
    if problems:
        raise ScenarioError(str(path), [p for _, _, p in sorted(set(problems))])
    return scenario


def _read(doc: LocDict, r: _Reader) -> Scenario:
    r.record(doc, ())
    for k in doc:
        if k not in _TOP:
            r.problem(doc.key_pos[k], f"unknown key '{k}'{did_you_mean(k, _TOP)}; allowed: {', '.join(sorted(_TOP))}")
    base = default_scenario()
    out: dict = {"source": r.path}

    head = r.mapping(doc, "scenario", {"name", "description"}, "name and description", ("scenario",))
    if head is not None:
        out["name"] = r.text(head, "name", base.name)
        out["description"] = r.text(head, "description")
    if "sop" in doc:
        out["sop"] = r.text(doc, "sop")
    out["cases"] = r.number(doc, "cases", lo=1, integer=True)
    out["seed"] = r.number(doc, "seed", lo=0, integer=True)
    period = r.mapping(doc, "period", {"from", "to"}, "from and to dates", ("period",))
    if period is not None:
        start, end = r.date(period, "from"), r.date(period, "to")
        if start and end:
            if end < start:
                r.problem(period.loc, "the period ends before it starts; swap 'from' and 'to'")
            else:
                out["period"] = (start, end)
    cid = r.mapping(doc, "case_id", {"prefix"}, "prefix", ("case_id",))
    if cid is not None:
        out["case_prefix"] = r.text(cid, "prefix", base.case_prefix)
    if "labels" in doc:
        labels = r.text(doc, "labels")
        if labels not in LABELS:
            r.problem(r.loc(doc, "labels"), f"'labels: {labels}' must be one of {', '.join(LABELS)} "
                                             "(what the log records as the activity)")
        else:
            out["labels"] = labels
    if "offices" in doc:
        out["offices"] = _offices(doc, r)
    if "attributes" in doc:
        attrs = r.mapping(doc, "attributes", set(), "attribute: {value: probability}", ("attributes",))
        if attrs is not None:
            out["attributes"] = tuple((name, r.distribution(attrs, name, ("attributes", name)))
                                      for name in attrs)
    arr = r.mapping(doc, "arrivals", {"weekdays", "months", "hours"}, "weekdays, months, hours", ("arrivals",))
    if arr is not None:
        _arrivals(arr, r, out)
    flow = r.mapping(doc, "flow", {"choices", "ends", "optionals", "loops"},
                     "choices, ends, optionals, loops", ("flow",))
    if flow is not None:
        _flow(flow, r, out)
    timing = r.mapping(doc, "timing", {"default", "steps", "wait_factors"}, "default, steps, wait_factors",
                       ("timing",))
    if timing is not None:
        _timing(timing, r, out, base)
    out["rates"] = _rates(doc, r)
    if "concentrations" in doc:
        out["concentrations"] = _concentrations(doc, r)
    if "unexpected_activities" in doc:
        acts = doc["unexpected_activities"]
        if not isinstance(acts, list) or not acts or any(isinstance(a, dict | list) for a in acts):
            r.problem(r.loc(doc, "unexpected_activities"),
                      "'unexpected_activities' takes a list of activity names that are not SOP steps")
        else:
            out["unexpected"] = tuple(str(a).strip() for a in acts)
    return replace(base, locs=dict(r.locs), **out)


def _offices(doc, r: _Reader) -> tuple[Office, ...]:
    raw = doc["offices"]
    if isinstance(raw, LocDict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        r.problem(r.loc(doc, "offices"), "'offices' takes a list of offices, each with name and officers")
        return ()
    allowed = {"name", "code", "share", "tz", "office_hours", "cuti_bersama_working", "closures", "officers"}
    offices = []
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            r.problem(r.loc(doc, "offices"), "each office is a mapping with name, tz and officers")
            continue
        r.record(item, ("offices", i))
        for k in item:
            if k not in allowed:
                r.problem(item.key_pos[k], f"unknown key '{k}' in an office{did_you_mean(k, allowed)}; "
                                            f"allowed: {', '.join(sorted(allowed))}")
        name = r.text(item, "name")
        if not name:
            r.problem(item.loc, "an office needs a 'name:'")
        tz = r.text(item, "tz", "Asia/Jakarta")
        tz = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}.get(tz.upper(), tz)
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            r.problem(r.loc(item, "tz"), f"unknown time zone '{tz}'; use an IANA name such as "
                                         "Asia/Pontianak, or WIB, WITA, WIT")
            tz = "Asia/Jakarta"
        cb = item.get("cuti_bersama_working", False)
        if not isinstance(cb, bool):
            r.problem(r.loc(item, "cuti_bersama_working"), "'cuti_bersama_working' must be true or false")
            cb = False
        closures = []
        raw_closures = item.get("closures") or []
        if not isinstance(raw_closures, list):
            r.problem(r.loc(item, "closures"), "'closures' takes a list of dates (YYYY-MM-DD) or {date, reason}")
            raw_closures = []
        for c in raw_closures:
            day = r.date(item, "closures", c.get("date", "") if isinstance(c, dict) else c)
            if day is not None:
                closures.append(day)
        officers = []
        pools = item.get("officers")
        if pools is not None and not isinstance(pools, LocDict):
            r.problem(r.loc(item, "officers"), "'officers' maps each role id to a list of officer names")
        elif pools is not None:
            r.record(pools, ("offices", i, "officers"))
            for role, names in pools.items():
                if names is None:
                    names = []
                if not isinstance(names, list) or any(isinstance(n, dict | list) for n in names):
                    r.problem(pools.key_pos[role], f"officers of role '{role}' must be a list of names")
                    continue
                clean = tuple(str(n).strip() for n in names)
                dup = sorted({n for n in clean if clean.count(n) > 1})
                if dup:
                    r.problem(pools.key_pos[role], f"officer(s) {', '.join(dup)} listed twice for role '{role}'")
                officers.append((str(role), clean))
        offices.append(Office(
            name=name, code=r.text(item, "code") or _code(name),
            share=r.number(item, "share", lo=0, default=1.0), tz=tz,
            office_hours=r.hhmm(item, "office_hours", ("08:00", "16:00")),
            cuti_bersama_working=cb, closures=tuple(sorted(set(closures))), officers=tuple(officers),
        ))
    names = [o.name for o in offices]
    for n in sorted({n for n in names if names.count(n) > 1}):
        r.problem(r.loc(doc, "offices"), f"two offices are named '{n}'; give each its own name")
    if offices and sum(o.share for o in offices) <= 0:
        r.problem(r.loc(doc, "offices"), "the office shares add up to 0; give at least one office a share")
    return tuple(offices)


def _code(name: str) -> str:
    letters = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", name)).upper()
    return letters[:6] or "KANTOR"


def _arrivals(arr, r: _Reader, out: dict) -> None:
    wd = arr.get("weekdays")
    if wd is not None:
        if not isinstance(wd, LocDict) or any(k not in WEEKDAYS for k in wd):
            r.problem(r.loc(arr, "weekdays"), "'weekdays' maps mon, tue, wed, thu, fri, sat, sun to a weight")
        else:
            weights = [1.0] * 7
            for k in wd:
                w = r.number(wd, k, lo=0)
                if w is not None:
                    weights[WEEKDAYS.index(k)] = w
            out["weekday_weights"] = tuple(weights)
    months = arr.get("months")
    if months is not None:
        if not isinstance(months, LocDict) or any(not str(k).isdigit() or not 1 <= int(k) <= 12 for k in months):
            r.problem(r.loc(arr, "months"), "'months' maps month numbers 1-12 to a weight, e.g. {6: 1.3}")
        else:
            weights = [1.0] * 12
            for k in months:
                w = r.number(months, k, lo=0)
                if w is not None:
                    weights[int(k) - 1] = w
            out["month_weights"] = tuple(weights)
    if "hours" in arr:
        out["arrival_hours"] = r.hhmm(arr, "hours", ("08:00", "14:00"))


def _flow(flow, r: _Reader, out: dict) -> None:
    for key, field_name in (("choices", "choices"), ("ends", "ends"), ("optionals", "optionals")):
        d = r.mapping(flow, key, set(), "name: probability", ("flow", key))
        if d is not None:
            out[field_name] = tuple((str(k), p) for k in d if (p := r.rate(d, k)) is not None)
    loops = r.mapping(flow, "loops", set(), "name: {again, max_runs} or {runs}", ("flow", "loops"))
    if loops is not None:
        items = []
        for k, v in loops.items():
            if not isinstance(v, LocDict):
                r.problem(loops.key_pos[k], f"loop '{k}' takes {{again: P, max_runs: N}} or {{runs: {{1: P, 2: P}}}}")
                continue
            r.record(v, ("flow", "loops", k))
            bad = [x for x in v if x not in ("again", "max_runs", "runs")]
            for x in bad:
                r.problem(v.key_pos[x], f"unknown key '{x}' in loop '{k}'; allowed: again, max_runs, runs")
            setting = LoopSetting(again=r.number(v, "again", lo=0, hi=0.95, default=0.1),
                                  max_runs=r.number(v, "max_runs", lo=1, integer=True, default=5))
            if "runs" in v:
                runs = r.distribution(v, "runs", ("flow", "loops", k, "runs"))
                parsed = []
                for n, p in runs:
                    if not n.isdigit() or int(n) < 1:
                        r.problem(v.key_pos["runs"], f"loop '{k}': run counts are whole numbers from 1, not '{n}'")
                    else:
                        parsed.append((int(n), p))
                setting = replace(setting, runs=tuple(sorted(parsed)))
            items.append((str(k), setting))
        out["loops"] = tuple(items)


def _timing(timing, r: _Reader, out: dict, base: Scenario) -> None:
    default = r.mapping(timing, "default", {"duration", "wait", "sigma"}, "duration, wait, sigma",
                        ("timing", "default"))
    if default is not None:
        d = base.default_timing
        out["default_timing"] = StepTiming(r.span(default, "duration") or d.duration,
                                           r.span(default, "wait") or d.wait,
                                           r.number(default, "sigma", lo=0, hi=3, default=d.sigma))
    steps = r.mapping(timing, "steps", set(), "step id: {duration, wait, sigma}", ("timing", "steps"))
    if steps is not None:
        items = []
        for sid, v in steps.items():
            if not isinstance(v, LocDict):
                r.problem(steps.key_pos[sid], f"timing of step '{sid}' takes {{duration: ..., wait: ..., sigma: ...}}")
                continue
            r.record(v, ("timing", "steps", sid))
            for x in v:
                if x not in ("duration", "wait", "sigma"):
                    r.problem(v.key_pos[x], f"unknown key '{x}' in the timing of '{sid}'; allowed: duration, wait, sigma")
            items.append((str(sid), StepTiming(r.span(v, "duration"), r.span(v, "wait"),
                                               r.number(v, "sigma", lo=0, hi=3))))
        out["step_timing"] = tuple(items)
    wf = r.mapping(timing, "wait_factors", set(), "attribute: {value: factor}", ("timing", "wait_factors"))
    if wf is not None:
        items = []
        for attr, values in wf.items():
            if not isinstance(values, LocDict):
                r.problem(wf.key_pos[attr], f"wait factors of '{attr}' map values to factors, e.g. {{percepatan: 0.05}}")
                continue
            items.append((str(attr), tuple((str(v), f) for v in values
                                           if (f := r.number(values, v, lo=0)) is not None)))
        out["wait_factors"] = tuple(items)


def _rates(doc, r: _Reader) -> tuple[tuple[str, float], ...]:
    allowed = {"skipped", "out_of_order", "repeated", "unexpected", "wrong_branch", "wrong_role",
               "duty_conflict", "late_step", "late_case", "incomplete"}
    dev = r.mapping(doc, "deviations", allowed, "kind: rate", ("deviations",))
    rates = dict.fromkeys(MECHANISMS, 0.0)
    if dev is None:
        return tuple(rates.items())
    for kind in dev:
        if kind == "out_of_order":
            ooo = dev[kind]
            if not isinstance(ooo, LocDict) or any(k not in ("swap", "move") for k in ooo):
                r.problem(dev.key_pos[kind], "'out_of_order' takes {swap: RATE, move: RATE} (adjacent "
                                              "swaps and moves of a step over two or more steps)")
                continue
            r.record(ooo, ("deviations", "out_of_order"))
            for k in ooo:
                rates[k] = r.rate(ooo, k) or 0.0
        elif kind in allowed:
            rates[kind] = r.rate(dev, kind) or 0.0
    return tuple(rates.items())


def _concentrations(doc, r: _Reader) -> tuple[Concentration, ...]:
    raw = doc["concentrations"]
    if not isinstance(raw, list):
        r.problem(r.loc(doc, "concentrations"), "'concentrations' takes a list of {kinds, factor, officer|office|period|attributes}")
        return ()
    allowed = {"kinds", "factor", "officer", "office", "period", "attributes"}
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, LocDict):
            r.problem(r.loc(doc, "concentrations"), f"concentration {i + 1} must be a mapping")
            continue
        r.record(item, ("concentrations", i))
        for k in item:
            if k not in allowed:
                r.problem(item.key_pos[k], f"unknown key '{k}' in a concentration{did_you_mean(k, allowed)}; "
                                            f"allowed: {', '.join(sorted(allowed))}")
        kinds = item.get("kinds", "all")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(kinds, list) or any(k != "all" and k not in KINDS for k in kinds):
            r.problem(r.loc(item, "kinds"), f"'kinds' lists deviation kinds ({', '.join(KINDS)}) or is 'all'")
            kinds = []
        kinds = KINDS if "all" in kinds else tuple(str(k) for k in kinds)
        factor = r.number(item, "factor", lo=0)
        if factor is None:
            r.problem(item.loc, "a concentration needs 'factor:' (how many times the rate)")
            factor = 1.0
        period = None
        if "period" in item:
            p = r.mapping(item, "period", {"from", "to"}, "from and to dates", ("concentrations", i, "period"))
            if p is not None:
                a, b = r.date(p, "from"), r.date(p, "to")
                period = (a, b) if a and b else None
        attrs = []
        if "attributes" in item:
            a = r.mapping(item, "attributes", set(), "attribute: [values]", ("concentrations", i, "attributes"))
            for name, values in (a or {}).items():
                values = values if isinstance(values, list) else [values]
                attrs.append((str(name), tuple(str(v) for v in values)))
        conc = Concentration(tuple(kinds), factor, r.text(item, "officer"), r.text(item, "office"),
                             period, tuple(attrs))
        if not (conc.officer or conc.office or conc.period or conc.attributes):
            r.problem(item.loc, "a concentration needs at least one of officer, office, period or attributes")
        out.append(conc)
    return tuple(out)
