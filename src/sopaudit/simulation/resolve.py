"""Check a scenario against its SOP and turn it into arrays the simulator indexes by code.

Every mismatch (a decision, loop, step, role or officer the SOP does not know, an activity
outside the SOP that is in fact an SOP label, a four-eyes rule the officer pools cannot honour)
is reported at once with the place in the scenario file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.simulation.playout import loop_table
from sopaudit.simulation.scenario import KINDS, Scenario, ScenarioError, Span
from sopaudit.simulation.structure import CHOICE, END, LOOP, OPTIONAL, Plan
from sopaudit.sop.problems import did_you_mean

DEFAULT_END_RATE = 0.02  # P(the branch that ends the case) when the scenario says nothing
DEFAULT_P_YES = 0.5


@dataclass
class OfficeSetup:
    index: int
    name: str
    code: str
    share: float
    calendar: WorkingCalendar
    day_seconds: int  # length of the office day
    opening: int  # seconds after midnight
    days: np.ndarray  # datetime64[D]: working days around the period (margins before and after)
    first_day: int  # index in `days` of the first working day of the period
    period_days: int  # working days in the period
    pools: dict[str, np.ndarray]  # role -> officer codes (empty: the role id is the resource)
    staff: np.ndarray  # officer codes of everyone in the office


@dataclass
class Setup:
    plan: Plan
    scenario: Scenario
    labels: list[str]  # activity label per code: SOP steps first, then unexpected activities
    n_steps: int
    attributes: list[tuple[str, tuple[str, ...], np.ndarray]]  # name, values, probabilities
    offices: list[OfficeSetup]
    officers: list[str]  # officer code -> name (role ids of officer-less roles included)
    officer_roles: dict[int, set[str]]  # officer code -> roles held (any office)
    step_role: list[str]  # step code -> the role that does it ("" = none)
    step_roles: list[tuple[str, ...]]
    role_placeholder: dict[str, int]  # role without officers -> code of the role id as a resource
    p_yes: dict[int, float]
    conditions: dict[int, tuple[str, tuple[str, ...], bool]]  # choice -> attribute, values, negate
    loop_runs: dict[int, tuple[np.ndarray, np.ndarray]]
    timing: dict[str, np.ndarray]  # per office x code arrays (seconds): dur, dur_sigma, wait, wait_sigma
    std_duration: list[Span | None]  # per step code: the SOP's duration standard
    std_wait: list[Span | None]
    wait_factors: list[tuple[str, dict[str, float]]]
    rates: dict[str, float]
    concentrations: list[dict]
    sod_pairs: list[tuple[int, int]]  # separation of duties: pairs of step codes


def resolve(scenario: Scenario, plan: Plan) -> Setup:
    """Validate `scenario` against the SOP of `plan` and precompute what the simulator needs."""
    problems: list[str] = []
    sop = plan.sop
    sc = scenario

    def bad(msg: str, *path) -> None:
        problems.append(f"{sc.where(*path)}: {msg}")

    step_code = {s: i for i, s in enumerate(plan.step_ids)}
    labels = []
    for s in sop.steps:
        if sc.labels == "alias" and s.aliases:
            labels.append(s.aliases[0])
        elif sc.labels == "name":
            labels.append(s.name)
        else:
            labels.append(s.id)
    known = sop.alias_map()
    for act in sc.unexpected:
        if act in known:
            bad(f"unexpected activity '{act}' is a label of SOP step '{known[act]}'; an unexpected "
                "activity must be something the SOP does not know", "unexpected_activities")
    labels += list(sc.unexpected)

    # --- decisions, ends, optionals, loops
    choices = plan.of_kind(CHOICE)
    names = _names(choices)
    p_yes: dict[int, float] = {}
    conditions: dict[int, tuple[str, tuple[str, ...], bool]] = {}
    for pn in choices:
        c = pn.node.condition
        if c is not None:
            conditions[pn.id] = (c.attribute, tuple(c.values), c.negate)
            continue
        yes_ends = plan.nodes[pn.children[0]].min_cont is None
        no_ends = plan.nodes[pn.children[1]].min_cont is None
        if yes_ends != no_ends:
            p_yes[pn.id] = DEFAULT_END_RATE if yes_ends else 1 - DEFAULT_END_RATE
        else:
            p_yes[pn.id] = DEFAULT_P_YES
    for key, p in sc.choices:
        nid = names.get(key)
        if nid is None:
            bad(f"no decision '{key}' in the SOP{did_you_mean(key, names)}; name a decision by its id, its "
                f"question or its place ({', '.join(pn.key for pn in choices) or 'the SOP has none'})",
                "flow", "choices", key)
        elif nid in conditions:
            bad(f"decision '{key}' follows the case attribute '{conditions[nid][0]}'; it has no "
                "probability (give the attribute's distribution under attributes:)", "flow", "choices", key)
        else:
            p_yes[nid] = p
    end_choice = {}
    for pn in plan.of_kind(END):
        up, child = pn.parent, pn.id
        while up != -1 and plan.nodes[up].kind != CHOICE:
            up, child = plan.nodes[up].parent, up
        end_choice[pn.node.id] = (up, child)
    set_by_end: dict[int, str] = {}
    for key, p in sc.ends:
        if key not in end_choice:
            bad(f"no end '{key}' in the SOP{did_you_mean(key, end_choice)}; ends: {', '.join(end_choice) or 'none'}",
                "flow", "ends", key)
            continue
        up, child = end_choice[key]
        if up == -1:
            bad(f"end '{key}' is not inside a decision, so it has no rate", "flow", "ends", key)
        elif up in conditions:
            bad(f"end '{key}' follows the case attribute '{conditions[up][0]}'; it has no rate", "flow", "ends", key)
        elif up in set_by_end or any(names.get(k) == up for k, _ in sc.choices):
            bad(f"the decision holding end '{key}' already has a probability; give it once", "flow", "ends", key)
        else:
            set_by_end[up] = key
            p_yes[up] = p if child == plan.nodes[up].children[0] else 1 - p
    opt_names: dict[str, int] = {}
    for pn in plan.of_kind(OPTIONAL):
        opt_names[pn.key] = pn.id
        first = plan.first_step(pn.children[0])
        if first:
            opt_names.setdefault(first, pn.id)
        p_yes[pn.id] = DEFAULT_P_YES
    for key, p in sc.optionals:
        if key not in opt_names:
            bad(f"no optional block '{key}'{did_you_mean(key, opt_names)}; name it by its first step or its "
                f"place ({', '.join(opt_names) or 'the SOP has none'})", "flow", "optionals", key)
        else:
            p_yes[opt_names[key]] = p
    loops = plan.of_kind(LOOP)
    loop_names = _names(loops)
    default_loop = loop_table(0.1, 5, ())
    loop_runs = {pn.id: default_loop for pn in loops}
    for key, setting in sc.loops:
        if key not in loop_names:
            bad(f"no loop '{key}'{did_you_mean(key, loop_names)}; name a loop by its id, its question or its "
                f"place ({', '.join(pn.key for pn in loops) or 'the SOP has none'})", "flow", "loops", key)
        else:
            loop_runs[loop_names[key]] = loop_table(setting.again, setting.max_runs, setting.runs)

    # --- case attributes
    attributes = []
    for name, dist in sc.attributes:
        if not dist:
            bad(f"attribute '{name}' has no values", "attributes", name)
            continue
        values = tuple(v for v, _ in dist)
        probs = np.array([p for _, p in dist], float)
        attributes.append((name, values, probs / probs.sum()))
    attr_names = {a[0] for a in attributes} | {"kantor"}
    for nid, (attr, _, _) in sorted(conditions.items()):
        if attr not in attr_names:
            bad(f"the SOP decision '{plan.nodes[nid].node.question}' depends on the case attribute "
                f"'{attr}'; give its values and probabilities under attributes: {attr}: {{...}}", "attributes")
    wait_factors = []
    for attr, values in sc.wait_factors:
        if attr not in attr_names:
            if ("timing", "wait_factors") in sc.locs:
                bad(f"wait factor attribute '{attr}' is not a case attribute of the scenario", "timing",
                    "wait_factors", attr)
            continue
        wait_factors.append((attr, dict(values)))

    # --- offices and officers
    if not sc.offices:
        bad("the scenario has no office; add offices: [{name: ..., officers: {...}}]", "offices")
    role_ids = [r.id for r in sop.roles]
    for s in sop.steps:
        role_ids += [r for r in s.roles if r not in role_ids]
    step_role = [s.roles[0] if s.roles else "" for s in sop.steps]
    used_roles = sorted({r for r in step_role if r})
    officers: list[str] = []
    officer_code: dict[str, int] = {}
    officer_roles: dict[int, set[str]] = {}

    def code_of(name: str) -> int:
        if name not in officer_code:
            officer_code[name] = len(officers)
            officers.append(name)
        return officer_code[name]

    role_placeholder = {}
    offices = []
    first, last = sc.period
    for i, office in enumerate(sc.offices):
        pools = {}
        given = dict(office.officers)
        for role in given:
            if role not in role_ids:
                bad(f"office '{office.name}' lists officers for role '{role}' that the SOP does not have"
                    f"{did_you_mean(role, role_ids)}; roles: {', '.join(role_ids)}", "offices", i, "officers", role)
        for role in used_roles:
            if role not in given:
                bad(f"office '{office.name}' has no officers for role '{role}'; list them, or write "
                    f"'{role}: []' to record the role name itself as the resource (e.g. the applicant)",
                    "offices", i, "officers")
                continue
            pools[role] = np.array([code_of(n) for n in given[role]], np.int32)
            if not given[role]:
                role_placeholder.setdefault(role, code_of(role))
            for n in given[role]:
                officer_roles.setdefault(officer_code[n], set()).add(role)
        staff = np.array(sorted({int(c) for r, p in pools.items() for c in p}), np.int32)
        cal = WorkingCalendar(tz=office.tz, office_hours=office.office_hours,
                              cuti_bersama_working=office.cuti_bersama_working, closures=office.closures)
        dates = np.arange(np.datetime64(first, "D") - 400, np.datetime64(last, "D") + 400)
        days = dates[np.asarray(cal.is_working_day(dates))]
        first_day = int(np.searchsorted(days, np.datetime64(first, "D")))
        period_days = int(np.searchsorted(days, np.datetime64(last, "D"), side="right")) - first_day
        if period_days == 0:
            bad(f"office '{office.name}' has no working day in the period {first} to {last}", "period")
        opening, closing = (_seconds(t) for t in cal.office_hours)
        offices.append(OfficeSetup(i, office.name, office.code, office.share, cal, closing - opening, opening,
                                   days, first_day, period_days, pools, staff))
    if not officers:  # an SOP without roles: someone still records the events
        code_of("petugas")
        for o in offices:
            o.staff = np.array([0], np.int32)
    for code in role_placeholder.values():
        officer_roles.setdefault(code, set())

    # --- separation of duties must be possible with the pools
    sod_pairs = []
    for rule in sop.rules:
        if rule.kind != "separation_of_duties":
            continue
        codes = [step_code[s] for s in rule.steps if s in step_code]
        for a in range(len(codes)):
            for b in range(a + 1, len(codes)):
                sod_pairs.append((codes[a], codes[b]))
                ra, rb = step_role[codes[a]], step_role[codes[b]]
                for o in offices:
                    pa, pb = o.pools.get(ra), o.pools.get(rb)
                    if pa is None or pb is None or not len(pa) or not len(pb):
                        continue
                    if set(pa.tolist()) | set(pb.tolist()) == {int(pa[0])} or (ra == rb and len(pa) < 2):
                        bad(f"office '{o.name}': the SOP rule '{rule.id}' needs different officers for "
                            f"'{plan.step_ids[codes[a]]}' and '{plan.step_ids[codes[b]]}', but one officer "
                            f"holds both roles alone; add another officer", "offices", o.index, "officers")

    # --- timing
    timing_by_step = dict(sc.step_timing)
    for sid in timing_by_step:
        if sid not in step_code:
            bad(f"timing names step '{sid}' that the SOP does not have{did_you_mean(sid, step_code)}",
                "timing", "steps", sid)
    n_codes = len(labels)
    t = {k: np.zeros((max(len(offices), 1), n_codes)) for k in ("dur", "dur_sigma", "wait", "wait_sigma")}
    std_duration = [_std(s.time.duration) for s in sop.steps]
    std_wait = [_std(s.time.wait) for s in sop.steps]
    d = sc.default_timing
    for o in offices:
        for code in range(n_codes):
            st = timing_by_step.get(labels_id(plan, code))
            dur = (st.duration if st and st.duration else None)
            wait = (st.wait if st and st.wait else None)
            sigma = st.sigma if st and st.sigma is not None else d.sigma
            if dur is None:
                std = std_duration[code] if code < len(std_duration) else None
                dur = Span(std.value * 0.6, std.unit) if std else d.duration
            if wait is None:
                std = std_wait[code] if code < len(std_wait) else None
                wait = Span(std.value * 0.5, std.unit) if std else d.wait
            t["dur"][o.index, code] = max(dur.seconds(o.day_seconds), 1.0)
            t["wait"][o.index, code] = wait.seconds(o.day_seconds)
            t["dur_sigma"][o.index, code] = sigma
            t["wait_sigma"][o.index, code] = sigma

    # --- rates and concentrations
    rates = dict(sc.rates)
    concentrations = []
    office_names = {o.name: o.index for o in offices}
    for i, c in enumerate(sc.concentrations):
        entry = {"kinds": set(c.kinds), "factor": c.factor, "officer": -1, "office": -1, "period": c.period,
                 "attributes": {}}
        if c.officer:
            if c.officer not in officer_code or c.officer in role_placeholder:
                bad(f"concentration on officer '{c.officer}', who is in no office's officer list"
                    f"{did_you_mean(c.officer, officer_code)}", "concentrations", i, "officer")
            else:
                entry["officer"] = officer_code[c.officer]
        if c.office:
            if c.office not in office_names:
                bad(f"concentration on office '{c.office}' that the scenario does not have"
                    f"{did_you_mean(c.office, office_names)}", "concentrations", i, "office")
            else:
                entry["office"] = office_names[c.office]
        for attr, values in c.attributes:
            if attr not in attr_names:
                bad(f"concentration on attribute '{attr}' that the scenario does not define", "concentrations",
                    i, "attributes")
            entry["attributes"][attr] = set(values)
        if c.period and c.period[1] < c.period[0]:
            bad("the concentration period ends before it starts", "concentrations", i, "period")
        unknown = entry["kinds"] - set(KINDS)
        if unknown:
            bad(f"unknown kinds {sorted(unknown)}", "concentrations", i, "kinds")
        concentrations.append(entry)

    if problems:
        raise ScenarioError(sc.source or "(default scenario)", sorted(set(problems)))
    return Setup(plan, sc, labels, len(sop.steps), attributes, offices, officers, officer_roles, step_role,
                 [tuple(s.roles) for s in sop.steps], role_placeholder, p_yes, conditions, loop_runs, t,
                 std_duration, std_wait, wait_factors, rates, concentrations, sod_pairs)


def _names(nodes) -> dict[str, int]:
    """What a scenario may call each decision or loop (its place key, its id, its question) ->
    its plan node id; the first node to claim a name keeps it."""
    names: dict[str, int] = {}
    for pn in nodes:
        for key in (pn.key, pn.node.id, pn.node.question):
            if key:
                names.setdefault(key, pn.id)
    return names


def labels_id(plan: Plan, code: int) -> str:
    return plan.step_ids[code] if code < len(plan.step_ids) else ""


def _std(d) -> Span | None:
    return Span(float(d.value), d.unit) if d is not None and d.value > 0 else None


def _seconds(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


def period_dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> (weekday 0=Mon, month 1-12) arrays."""
    weekday = (days.astype("datetime64[D]").astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return weekday, month
