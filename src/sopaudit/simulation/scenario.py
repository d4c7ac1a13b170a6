"""Simulation scenarios: who works where, how cases arrive and flow, and which deviations to inject.

The data of a scenario and its defaults; `scenario_file.py` reads one from YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from sopaudit.core.errors import ProblemListError
from sopaudit.sop.load import DURATION_UNITS

CF_KINDS = ("skipped", "out_of_order", "repeated", "unexpected", "wrong_branch")
KINDS = CF_KINDS + ("wrong_role", "duty_conflict", "late_step", "late_case", "incomplete")
# Injection mechanisms: the rate keys of `deviations:`; each produces findings of one kind.
MECHANISMS = {
    "skipped": "skipped", "swap": "out_of_order", "move": "out_of_order", "repeated": "repeated",
    "unexpected": "unexpected", "wrong_branch": "wrong_branch", "wrong_role": "wrong_role",
    "duty_conflict": "duty_conflict", "late_step": "late_step", "late_case": "late_case",
    "incomplete": "incomplete",
}
DEFAULT_RATES = {
    "skipped": 0.03, "swap": 0.02, "move": 0.01, "repeated": 0.02, "unexpected": 0.02,
    "wrong_branch": 0.02, "wrong_role": 0.02, "duty_conflict": 0.01, "late_step": 0.03,
    "late_case": 0.03, "incomplete": 0.01,
}
DEFAULT_UNEXPECTED = ("titip_berkas", "konsultasi_petugas", "cetak_ulang_tanda_terima")
LABELS = ("id", "alias", "name")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Scenario times take the SOP's units and also seconds, because a simulated step may be that
# short while an SOP time standard never is. The unit must be letters (no folding of spaces).
UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds", "detik": "seconds",
    **DURATION_UNITS,
}
DURATION_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z_ ]+?)\s*$")
HHMM_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScenarioError(ProblemListError):
    """A scenario file (or a scenario that does not fit its SOP) is invalid; lists every problem."""

    noun = "scenario"


@dataclass(frozen=True)
class Span:
    """A time amount as written: value and unit (seconds, minutes, hours, working_days, days)."""

    value: float
    unit: str

    def seconds(self, day_seconds: int) -> float:
        """In seconds of office time; a working day is one office day, a calendar day 5/7 of it."""
        per = {"seconds": 1, "minutes": 60, "hours": 3600, "working_days": day_seconds,
               "days": day_seconds * 5 / 7}[self.unit]
        return self.value * per

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class StepTiming:
    """Median duration of a step and median wait before it, with the spread (lognormal sigma)."""

    duration: Span | None = None
    wait: Span | None = None
    sigma: float | None = None


@dataclass(frozen=True)
class Office:
    name: str
    code: str = ""
    share: float = 1.0
    tz: str = "Asia/Jakarta"
    office_hours: tuple[str, str] = ("08:00", "16:00")
    cuti_bersama_working: bool = False
    closures: tuple[dt.date, ...] = ()
    officers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (role id, officer names)

    def pool(self, role: str) -> tuple[str, ...]:
        return dict(self.officers).get(role, ())


@dataclass(frozen=True)
class Concentration:
    """Multiply the rates of some deviation kinds for chosen officers, offices, periods or case
    attributes; every condition given must hold."""

    kinds: tuple[str, ...]
    factor: float
    officer: str = ""
    office: str = ""
    period: tuple[dt.date, dt.date] | None = None
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class LoopSetting:
    """How often a loop body runs: P(going back after each pass), or a table of run counts."""

    again: float = 0.1
    max_runs: int = 5
    runs: tuple[tuple[int, float], ...] = ()  # (number of runs, probability)


@dataclass(frozen=True)
class Scenario:
    """Everything a simulation needs besides the SOP, the number of cases and the seed."""

    name: str = "default"
    description: str = ""
    sop: str = ""  # SOP file named by the scenario (resolved against the scenario's folder)
    cases: int | None = None
    seed: int | None = None
    period: tuple[dt.date, dt.date] = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    case_prefix: str = "SIM"
    labels: str = "id"
    offices: tuple[Office, ...] = ()
    attributes: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
        ("jenis_layanan", (("reguler", 0.9), ("percepatan", 0.1))),
        ("kategori_pemohon", (("dewasa", 0.78), ("anak", 0.15), ("lansia", 0.07))),
        ("kanal", (("m_paspor", 0.85), ("walk_in", 0.15))),
    )
    weekday_weights: tuple[float, ...] = (1.15, 1.0, 1.0, 1.0, 0.85, 1.0, 1.0)
    month_weights: tuple[float, ...] = (1.0,) * 12
    arrival_hours: tuple[str, str] = ("08:00", "14:00")
    choices: tuple[tuple[str, float], ...] = ()  # key -> P(yes)
    ends: tuple[tuple[str, float], ...] = ()  # end id -> P(the branch holding it)
    optionals: tuple[tuple[str, float], ...] = ()  # key -> P(done)
    loops: tuple[tuple[str, LoopSetting], ...] = ()
    default_timing: StepTiming = StepTiming(Span(5, "minutes"), Span(10, "minutes"), 0.5)
    step_timing: tuple[tuple[str, StepTiming], ...] = ()
    wait_factors: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
        ("jenis_layanan", (("percepatan", 0.05),)),
    )
    rates: tuple[tuple[str, float], ...] = tuple(DEFAULT_RATES.items())
    concentrations: tuple[Concentration, ...] = ()
    unexpected: tuple[str, ...] = DEFAULT_UNEXPECTED
    source: str = ""  # the file it was read from ("" for the default scenario)
    locs: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def rate(self, mechanism: str) -> float:
        return dict(self.rates).get(mechanism, 0.0)

    def with_rates(self, **rates: float) -> Scenario:
        """A copy whose deviation rates are exactly these (every other one 0); keys are the
        `deviations:` names, with `swap` and `move` for the two kinds of out_of_order."""
        unknown = sorted(set(rates) - set(MECHANISMS))
        if unknown:
            raise ValueError(f"unknown deviation rate(s) {unknown}; use {', '.join(MECHANISMS)}")
        return replace(self, rates=tuple((m, float(rates.get(m, 0.0))) for m in MECHANISMS))

    def where(self, *path) -> str:
        """'file:line:col' of a key of the scenario file, for error messages."""
        loc = None
        for n in range(len(path), 0, -1):
            loc = self.locs.get(tuple(path[:n]))
            if loc:
                break
        src = self.source or "the scenario"
        return f"{src}:{loc[0]}:{loc[1]}" if loc else src


def default_scenario(sop=None) -> Scenario:
    """The scenario used without a file: one office open 08:00-16:00 WIB for the year of the SOP's
    effective date (2024 when it has none), three officers per role, moderate deviation rates."""
    year = sop.header.effective.year if sop is not None and sop.header.effective else 2024
    roles = [r.id for r in sop.roles] if sop is not None else []
    if sop is not None:
        for s in sop.steps:
            roles += [r for r in s.roles if r not in roles]
    pools = {r: [f"{r}_{i}" for i in (1, 2, 3)] for r in roles}
    if sop is not None:
        # For each four-eyes rule across two roles, one officer holds both (as in a small office
        # where the section head also adjudicates): a duty conflict then needs no wrong role.
        first_role = {s.id: s.roles[0] for s in sop.steps if s.roles}
        for rule in sop.rules:
            if rule.kind == "separation_of_duties":
                rs = [first_role[x] for x in rule.steps if x in first_role]
                for a, b in zip(rs, rs[1:], strict=False):
                    if a != b and pools[a][0] not in pools[b]:
                        pools[b].append(pools[a][0])
    officers = tuple((r, tuple(names)) for r, names in pools.items())
    office = Office(name="Kantor Contoh", code="KC", officers=officers)
    return Scenario(period=(dt.date(year, 1, 1), dt.date(year, 12, 31)), offices=(office,))
