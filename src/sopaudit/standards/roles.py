"""Who may do a step: role assignments of officers, `wrong_role` and the four-eyes rule.

An SOP names the role (*pelaksana*) of each step; the office decides, usually in a decree (*SK
penetapan*), which officer holds which role and from when to when. `load_role_assignments` reads
that list from a CSV or YAML file; `check_roles` flags events whose officer did not hold a role
the step allows on the event's local date; `check_separation_of_duties` flags one person doing
both steps of a `separation_of_duties` rule in the same case. `role_coverage` says, per step,
how many events could be checked and why the others could not, so nothing is skipped silently.

Officer names are matched after trimming spaces and ignoring case ("Rina " = "rina"). Roles may
be written as the SOP's role id or its name. See docs/time-and-roles.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sopaudit.calendar.workdays import parse_date_text, resolve_tz
from sopaudit.core.columns import RESOURCE, ROW, TIME
from sopaudit.core.errors import InputFileError
from sopaudit.core.textfile import csv_table, read_small_table_text, yaml_list
from sopaudit.sop.model import SOP
from sopaudit.standards.ordered import OrderedLog, combine_findings, finding_frame, ordered_log

logger = logging.getLogger(__name__)

ASSIGNMENT_COLUMNS = ["officer", "role", "valid_from", "valid_to", "line"]
COVERAGE_COLUMNS = ["step", "step_name", "roles", "events", "checked", "no_officer",
                    "not_covered", "unknown_officer", "wrong_role", "role_not_valid"]

_HEADERS = {
    "officer": ("officer", "petugas", "pegawai", "nama"),
    "role": ("role", "peran"),
    "valid_from": ("valid_from", "berlaku_dari", "berlaku_mulai", "mulai"),
    "valid_to": ("valid_to", "berlaku_sampai", "sampai", "selesai"),
}
_DATE_HINT = "write dates as YYYY-MM-DD (2024-05-02) or DD/MM/YYYY (02/05/2024), or leave it empty"

# Event status codes of the role check.
_OK, _NO_OFFICER, _NOT_COVERED, _UNKNOWN, _WRONG, _NOT_VALID, _NO_ROLE = range(7)


# --------------------------------------------------------------------- the assignments file


def load_role_assignments(path: str | Path, sop: SOP | None = None) -> pd.DataFrame:
    """Read officer-role assignments (officer, role, valid_from, valid_to) from CSV or YAML.

    CSV: a header with `officer` (or `petugas`) and `role` (or `peran`), optional `valid_from`
    / `valid_to` (or `berlaku_dari` / `berlaku_sampai`); comma or semicolon; '#' lines ignored.
    YAML: a list of mappings with the same keys, optionally under `assignments:`; `role` may be
    a list. Dates are inclusive local dates; empty means open-ended. With `sop`, roles must be
    the SOP's role ids or names and are returned as ids. Returns a DataFrame with columns
    officer, role, valid_from, valid_to (datetime64, NaT = open) and line (source line).
    Any bad row raises InputFileError naming the file, the line and the fix.
    """
    path = Path(path)
    suffix, text = read_small_table_text(path, "role assignments")
    items = _yaml_items(path, text) if suffix in (".yaml", ".yml") else _csv_items(path, text)
    if not items:
        raise InputFileError(
            f"{path}: no assignments found; add one row per officer and role, e.g. 'Rina,petugas_loket'"
        )
    role_ids = _role_lookup(sop) if sop is not None else None
    rows = []
    for line, officer, role, raw_from, raw_to in items:
        officer, role = officer.strip(), role.strip()
        if not officer:
            raise InputFileError(f"{path}, line {line}: the officer is empty; give the officer's name or NIP")
        if not role:
            raise InputFileError(f"{path}, line {line}: the role of {officer!r} is empty; give an SOP role id")
        if role_ids is not None:
            found = role_ids.get(role.casefold())
            if found is None:
                raise InputFileError(
                    f"{path}, line {line}: {role!r} is not a role of the SOP {sop.header.code}; "
                    f"use one of: {', '.join(r.id for r in sop.roles)}"
                )
            role = found
        start, end = _date(path, line, raw_from, "valid_from"), _date(path, line, raw_to, "valid_to")
        if start is not None and end is not None and end < start:
            raise InputFileError(
                f"{path}, line {line}: valid_to {end} is before valid_from {start}; swap or correct the dates"
            )
        rows.append((officer, role, start, end, line))
    frame = pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
    for col in ("valid_from", "valid_to"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame["line"] = frame["line"].astype(np.int64)
    return frame.sort_values(["officer", "role", "valid_from", "line"], kind="mergesort",
                             na_position="first").reset_index(drop=True)


def _date(path: Path, line: int, raw: str | None, what: str) -> dt.date | None:
    if raw is None or not str(raw).strip():
        return None
    day = parse_date_text(str(raw))
    if day is None:
        raise InputFileError(f"{path}, line {line}: {what} {raw!r} is not a date; {_DATE_HINT}")
    return day


def _role_lookup(sop: SOP) -> dict[str, str]:
    out = {r.name.strip().casefold(): r.id for r in sop.roles}
    out.update({r.id.casefold(): r.id for r in sop.roles})  # ids win over names
    return out


def _csv_items(path: Path, text: str) -> list[tuple[int, str, str, str | None, str | None]]:
    header_line, header, delimiter, rows = csv_table(
        path, text, "'officer,role,valid_from,valid_to' and one row per officer and role"
    )
    cols = {key: next((header.index(n) for n in names if n in header), None)
            for key, names in _HEADERS.items()}
    if cols["officer"] is None or cols["role"] is None:
        raise InputFileError(
            f"{path}, line {header_line}: the header must have an 'officer' and a 'role' column "
            f"(found: {', '.join(header) or 'nothing'}); e.g. 'officer,role,valid_from,valid_to'"
        )
    needed = max(c for c in cols.values() if c is not None)
    items = []
    for line, row in rows:
        if len(row) <= max(cols["officer"], cols["role"]):
            raise InputFileError(
                f"{path}, line {line}: expected {len(header)} '{delimiter}'-separated fields, found "
                f"{len(row)}; give at least an officer and a role on every row"
            )
        row = row + [""] * (needed + 1 - len(row))
        items.append((line, row[cols["officer"]], row[cols["role"]],
                      row[cols["valid_from"]] if cols["valid_from"] is not None else None,
                      row[cols["valid_to"]] if cols["valid_to"] is not None else None))
    return items


def _yaml_items(path: Path, text: str) -> list[tuple[int, str, str, str | None, str | None]]:
    root = yaml_list(path, text, "assignments",
                     "- {officer: Rina, role: petugas_loket, valid_from: 2024-01-02}")
    if root is None:
        return []
    items = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise InputFileError(
                f"{path}, line {line}: each assignment is a mapping, e.g. "
                "'- {officer: Rina, role: petugas_loket}'"
            )
        fields: dict[str, yaml.Node] = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        unknown = sorted(set(fields) - set(_HEADERS))
        if unknown:
            raise InputFileError(
                f"{path}, line {line}: unknown key(s) {', '.join(unknown)}; use officer, role, "
                "valid_from, valid_to"
            )
        if "officer" not in fields or "role" not in fields:
            raise InputFileError(
                f"{path}, line {line}: each assignment needs 'officer' and 'role', e.g. "
                "'- {officer: Rina, role: petugas_loket}'"
            )
        texts = {}
        for key, value in fields.items():
            if key == "role" and isinstance(value, yaml.SequenceNode):
                continue
            if not isinstance(value, yaml.ScalarNode):
                raise InputFileError(f"{path}, line {value.start_mark.line + 1}: '{key}' must be a single value")
            texts[key] = "" if value.tag.endswith(":null") else value.value
        role_node = fields["role"]
        roles = ([(n.start_mark.line + 1, n) for n in role_node.value]
                 if isinstance(role_node, yaml.SequenceNode) else [(line, role_node)])
        for role_line, r in roles:
            if not isinstance(r, yaml.ScalarNode):
                raise InputFileError(f"{path}, line {role_line}: a role must be a single value")
            items.append((role_line, texts["officer"], r.value, texts.get("valid_from"),
                          texts.get("valid_to")))
    return items


# --------------------------------------------------------------------- checking roles


def _officer_key(value: object) -> str:
    """How officer names are compared: trimmed and case-insensitive ("Rina " = "rina")."""
    return "" if value is None or pd.isna(value) else str(value).strip().casefold()


def _officer_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Per row the code of the officer's key (-1 when none is recorded) and the keys by code.

    Keys are computed once per distinct recorded name, not per event: a log has few officers.
    """
    codes, uniques = pd.factorize(values)  # missing values get -1
    keys = [_officer_key(u) for u in uniques]
    names = sorted({k for k in keys if k})
    index = {k: i for i, k in enumerate(names)}
    remap = np.array([index.get(k, -1) for k in keys] + [-1], dtype=np.int64)
    return remap[codes], names


def _as_assignments(assignments: pd.DataFrame | str | Path, sop: SOP) -> pd.DataFrame:
    if isinstance(assignments, str | Path):
        return load_role_assignments(assignments, sop)
    missing = [c for c in ("officer", "role") if c not in assignments.columns]
    if missing:
        raise ValueError(f"the role assignments lack the column(s) {', '.join(missing)}; "
                         "load them with load_role_assignments")
    frame = assignments.copy()
    for col in ("valid_from", "valid_to"):
        frame[col] = (_date_column(frame[col], col) if col in frame.columns
                      else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
    lookup = _role_lookup(sop)
    raw = frame["role"].astype(str).str.strip()
    frame["role"] = raw.str.casefold().map(lookup).fillna(raw)
    unknown = sorted(set(frame["role"]) - {r.id for r in sop.roles})
    if unknown:
        logger.warning("role assignments name role(s) the SOP does not have: %s", ", ".join(unknown))
    return frame


def _date_column(values: pd.Series, what: str) -> pd.Series:
    """Dates of a hand-built table; text is read like the file (ISO or day-first, never US)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")

    def one(v):
        if v is None or pd.isna(v) or (isinstance(v, str) and not v.strip()):
            return pd.NaT
        if isinstance(v, str):
            day = parse_date_text(v)
            if day is None:
                raise ValueError(f"role assignments: {what} {v!r} is not a date; {_DATE_HINT}")
            return pd.Timestamp(day)
        return pd.Timestamp(v).normalize()

    return pd.Series([one(v) for v in values], index=values.index, dtype="datetime64[ns]")


def _role_status(events: pd.DataFrame | OrderedLog, sop: SOP, assignments, tz: str | None
                 ) -> tuple[OrderedLog, np.ndarray, np.ndarray]:
    """Per event of the ordered log: a status code and the local date of the event."""
    log = ordered_log(events, sop)
    table = assignments  # already normalised by _as_assignments
    role_ids = [r.id for r in sop.roles]
    extra = sorted(set(table["role"]) - set(role_ids))
    roles = role_ids + extra  # roles not in the SOP can be held but never allow a step
    role_index = {r: i for i, r in enumerate(roles)}
    allowed = np.zeros((len(sop.steps), len(roles)), bool)
    for i, s in enumerate(sop.steps):
        for r in s.roles:
            allowed[i, role_index[r]] = True
    held_any = np.zeros(len(roles), bool)
    held_any[[role_index[r] for r in table["role"]]] = True
    covered = (allowed & held_any).any(axis=1)  # someone in the file holds a role of the step

    status = np.full(log.n, _OK, np.int8)
    days = _event_days(log, tz)
    in_scope = log.step >= 0
    in_scope[in_scope] = allowed.any(axis=1)[log.step[in_scope]]  # the step names a role
    status[~in_scope] = _NO_ROLE
    if RESOURCE in log.frame.columns:
        officer, names = _officer_codes(log.frame[RESOURCE])
    else:
        officer, names = np.full(log.n, -1, np.int64), []
    no_officer = officer < 0
    status[in_scope & no_officer] = _NO_OFFICER
    not_covered = in_scope & ~no_officer & ~covered[np.maximum(log.step, 0)]
    status[not_covered] = _NOT_COVERED
    check = np.flatnonzero(in_scope & ~no_officer & ~not_covered)
    if not check.size:
        return log, status, days

    # Officers as integer codes shared by the log and the file (-2: in the file, not in the
    # log); the file sorted by officer so each event finds its officer's rows as one slice.
    index = {k: i for i, k in enumerate(names)}
    t_off = np.array([index.get(_officer_key(o), -2) for o in table["officer"]], dtype=np.int64)
    e_off = officer[check]
    order = np.argsort(t_off, kind="stable")
    t_off = t_off[order]
    t_role = np.array([role_index[r] for r in table["role"]], np.int64)[order]
    t_from = table["valid_from"].to_numpy().astype("datetime64[D]")[order]
    t_to = table["valid_to"].to_numpy().astype("datetime64[D]")[order]
    lo = np.searchsorted(t_off, e_off, "left")
    hi = np.searchsorted(t_off, e_off, "right")
    step = log.step[check]
    day = days[check]
    ok = np.zeros(check.size, bool)
    ever = np.zeros(check.size, bool)  # holds an allowed role at some other date
    for j in range(int((hi - lo).max(initial=0))):  # loops over an officer's rows, not events
        idx = lo + j
        has = idx < hi
        at = np.minimum(idx, len(t_off) - 1)
        fits = has & allowed[step, t_role[at]]
        valid = (np.isnat(t_from[at]) | (t_from[at] <= day)) & (np.isnat(t_to[at]) | (day <= t_to[at]))
        ok |= fits & valid
        ever |= fits
    known = hi > lo
    status[check[~known]] = _UNKNOWN
    status[check[known & ~ok & ever]] = _NOT_VALID
    status[check[known & ~ok & ~ever]] = _WRONG
    return log, status, days


def _event_days(log: OrderedLog, tz: str | None) -> np.ndarray:
    """Local date of each event: in `tz`, or in the zone the log's times are written in."""
    times = log.frame[TIME]
    if tz is not None:
        times = times.dt.tz_convert(resolve_tz(tz))
    return times.dt.tz_localize(None).to_numpy().astype("datetime64[D]")


def check_roles(
    events: pd.DataFrame | OrderedLog, sop: SOP, assignments: pd.DataFrame | str | Path, *, tz: str | None = None
) -> pd.DataFrame:
    """`wrong_role` findings: the officer did not hold a role the step allows on that date.

    detail_code `wrong_role` (no allowed role held then), `role_not_valid` (an allowed role, but
    not valid on the event's local date) or `unknown_officer` (the officer is not in the file: no
    proof of authority, itself a finding). Events without an officer, and steps whose roles
    nobody in the file holds (e.g. the applicant's own steps), are not checked; `role_coverage`
    counts them. `assignments` is a loaded table or a file path. Validity dates are compared with
    the event's local date in `tz` (default: the zone of the log's times, i.e. the office's).
    """
    table = _as_assignments(assignments, sop)
    log, status, days = _role_status(events, sop, table, tz)
    rows = np.flatnonzero(np.isin(status, (_UNKNOWN, _WRONG, _NOT_VALID)))
    if not rows.size:
        return combine_findings([], log)
    held = _held_roles(table)
    # Texts depend only on (status, officer, step, date): built once per distinct combination,
    # which keeps a badly matching file over millions of events fast.
    combo = pd.DataFrame({
        "status": status[rows],
        "officer": log.frame[RESOURCE].iloc[rows].astype("string").str.strip().to_numpy(dtype=object),
        "step": log.step[rows],
        "day": days[rows],
    })
    group = combo.groupby(list(combo.columns), sort=False, dropna=False).ngroup().to_numpy()
    distinct = combo.drop_duplicates()
    texts = [_role_finding_text(st, officer, sop.steps[k], day.astype("datetime64[D]").astype(object), held)
             for st, officer, k, day in zip(distinct["status"], distinct["officer"], distinct["step"],
                                            distinct["day"].to_numpy(), strict=True)]
    code, detail, related = (np.array([t[i] for t in texts], dtype=object)[group] for i in range(3))
    found = finding_frame(log, rows, kind="wrong_role", detail=detail, detail_code=code,
                          related=related)
    return combine_findings([found], log)


def _role_finding_text(status: int, officer: str, step, day: dt.date, held) -> tuple[str, str, str]:
    """(detail_code, detail, related) of one wrong_role finding."""
    allowed = ", ".join(step.roles)
    if status == _UNKNOWN:
        return ("unknown_officer", f"done by '{officer}', who is not in the role assignments; the "
                f"SOP assigns this step to: {allowed}", "")
    mine = held.get(_officer_key(officer), ())
    now = [role for role, a, b in mine if _within(day, a, b)]
    if status == _NOT_VALID:
        periods = "; ".join(f"{role} {_period(a, b)}" for role, a, b in mine if role in step.roles)
        return ("role_not_valid", f"done by '{officer}' on {day}, outside the validity of the "
                f"role(s) that allow this step ({periods})", "; ".join(now))
    return ("wrong_role", f"done by '{officer}', whose role(s) on {day} ({', '.join(now) or 'none valid'}) "
            f"may not do this step; the SOP assigns it to: {allowed}", "; ".join(now))


def _held_roles(table: pd.DataFrame) -> dict[str, list[tuple[str, dt.date | None, dt.date | None]]]:
    out: dict[str, list] = {}
    for officer, role, a, b in zip(table["officer"], table["role"], table["valid_from"],
                                   table["valid_to"], strict=True):
        out.setdefault(_officer_key(officer), []).append(
            (role, None if pd.isna(a) else a.date(), None if pd.isna(b) else b.date()))
    return out


def _within(day: dt.date, a: dt.date | None, b: dt.date | None) -> bool:
    return (a is None or a <= day) and (b is None or day <= b)


def _period(a: dt.date | None, b: dt.date | None) -> str:
    if a is None and b is None:
        return "always"
    if a is None:
        return f"until {b}"
    if b is None:
        return f"from {a}"
    return f"{a} to {b}"


def role_coverage(
    events: pd.DataFrame | OrderedLog, sop: SOP, assignments: pd.DataFrame | str | Path, *, tz: str | None = None
) -> pd.DataFrame:
    """Per SOP step with roles: events, how many were checked, and why the others were not.

    Columns: step, step_name, roles, events, checked, no_officer (no officer recorded),
    not_covered (nobody in the file holds a role of the step), unknown_officer, wrong_role,
    role_not_valid. A data-quality table: what the role check could and could not see.
    """
    log, status, _ = _role_status(events, sop, _as_assignments(assignments, sop), tz)
    n_steps = len(sop.steps)
    counts = np.zeros((n_steps, 7), np.int64)
    mask = log.step >= 0
    np.add.at(counts, (log.step[mask], status[mask]), 1)
    rows = []
    for i, s in enumerate(sop.steps):
        if not s.roles:
            continue
        c = counts[i]
        rows.append({
            "step": s.id, "step_name": s.name, "roles": ", ".join(s.roles),
            "events": int(c.sum()),
            "checked": int(c[_OK] + c[_UNKNOWN] + c[_WRONG] + c[_NOT_VALID]),
            "no_officer": int(c[_NO_OFFICER]), "not_covered": int(c[_NOT_COVERED]),
            "unknown_officer": int(c[_UNKNOWN]), "wrong_role": int(c[_WRONG]),
            "role_not_valid": int(c[_NOT_VALID]),
        })
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


# --------------------------------------------------------------------- separation of duties


def check_separation_of_duties(events: pd.DataFrame | OrderedLog, sop: SOP) -> pd.DataFrame:
    """`duty_conflict` findings: one officer did two steps of a separation_of_duties rule.

    Within one case; one finding per conflicting event pair's later event and other step
    (several earlier executions by the same officer are listed together in evidence_rows),
    related = the other step. Events without an officer are never in conflict.
    """
    log = ordered_log(events, sop)
    rules = [r for r in sop.rules if r.kind == "separation_of_duties" and len(set(r.steps)) >= 2]
    if not rules or RESOURCE not in log.frame.columns:
        return combine_findings([], log)
    index = {sid: i for i, sid in enumerate(log.step_ids)}
    officer, _ = _officer_codes(log.frame[RESOURCE])  # -1 where no officer is recorded
    row_numbers = log.frame[ROW].to_numpy()
    pieces = []
    for rule in rules:
        steps = sorted({index[s] for s in rule.steps})
        rows = np.flatnonzero(np.isin(log.step, steps) & (officer >= 0))
        if rows.size < 2:
            continue
        sub = pd.DataFrame({"case": log.case[rows], "officer": officer[rows], "row": rows,
                            "step": log.step[rows]})
        pairs = sub.merge(sub, on=["case", "officer"], suffixes=("_early", "_late"))
        pairs = pairs[(pairs["row_early"] < pairs["row_late"]) & (pairs["step_early"] != pairs["step_late"])]
        if pairs.empty:
            continue
        pairs = pairs.assign(evidence=row_numbers[pairs["row_early"].to_numpy()])
        grouped = pairs.groupby(["row_late", "step_early"], sort=True)["evidence"].agg(
            lambda r: "; ".join(str(x) for x in sorted(r)))
        late = grouped.index.get_level_values(0).to_numpy(np.int64)
        other = [log.step_ids[k] for k in grouped.index.get_level_values(1)]
        officers = log.frame[RESOURCE].iloc[late].astype("string").str.strip().tolist()
        names = [log.step_names[o] for o in other]
        rule_text = f" ({rule.description})" if rule.description else ""
        detail = [f"done by '{o}', who also did '{n}' ({'rows' if ';' in e else 'row'} {e}) in "
                  "this case; the SOP requires "
                  f"different people{rule_text}"
                  for o, n, e in zip(officers, names, grouped.to_numpy(), strict=True)]
        pieces.append(finding_frame(log, late, kind="duty_conflict", detail=detail,
                                    detail_code="duty_conflict", related=other,
                                    evidence_rows=list(grouped.to_numpy())))
    found = combine_findings(pieces, log)
    # Two rules over the same pair of steps would report the same conflict twice.
    return found.drop_duplicates(["case_id", "event_pos", "related"]).reset_index(drop=True)
