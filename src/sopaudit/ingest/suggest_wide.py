"""Propose the wide mapping of a rekap export: one row per application, a date column per step.

A table is taken for a rekap when it has at least two date columns and a column whose values are
unique per row (the application number): an event log repeats its case id over rows. Each date
column becomes a milestone, in column order; a time-of-day column beside it (or named like it:
Tgl Wawancara / Jam Wawancara) is its time; an officer column named after the step (Petugas
Wawancara) or standing right after the step's columns is its officer. The step of a date column is
guessed from its name against the SOP's step ids, names and aliases when they are given, else taken
from the name itself. Every guess is marked for the user to check.
"""

from __future__ import annotations

import re

import pyarrow as pa

from sopaudit.ingest.daytime import read_time_of_day

DATE_WORDS = {"tgl", "tanggal", "waktu", "date", "time", "jam", "pukul", "tg", "hari", "datetime", "timestamp"}
TIME_WORDS = {"jam", "pukul", "pkl", "time", "waktu"}
OFFICER_WORDS = {"petugas", "operator", "pegawai", "officer", "pelaksana", "pejabat", "nama_petugas", "user", "staff"}
STOP_WORDS = {"di", "dan", "oleh", "ke", "dari", "untuk", "yang", "the", "of", "and", "by", "to", "a"}
CASE_TOKENS = ("permohonan", "registrasi", "berkas", "booking", "aplikasi", "case", "application", "register")
TIME_SHARE = 0.9
PLAIN_COUNTERS = ("no", "nomor", "no_urut", "nomor_urut", "urut")


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t and t not in STOP_WORDS]


def step_words(name: str) -> list[str]:
    """The words of a milestone column's name without the date/time/officer words."""
    return [t for t in tokens(name) if t not in DATE_WORDS and t not in OFFICER_WORDS]


def step_label(name: str) -> str:
    """A date column's name without its date words, as written: 'Tgl Hand over' -> 'Hand over'."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w and w.lower() not in DATE_WORDS]
    return " ".join(words) or name


def is_wide(facts: list, table: pa.Table | None) -> bool:
    """At least two date columns and a column unique per row (the application number)."""
    if table is None or table.num_rows < 2:
        return False
    dates = [f for f in facts if _is_date(f)]
    return len(dates) >= 2 and _case(facts) is not None


def _is_date(f) -> bool:
    # a column named as a date may hold a few unreadable values (they will be listed as rejected)
    named = any(t in {"tgl", "tanggal", "date"} for t in tokens(f.name))
    return f.present > 0 and f.time_share >= (0.5 if named else TIME_SHARE)


def _is_counter(f, table: pa.Table) -> bool:
    """A row counter (No, 1, 2, 3 ...): unique per row, but no application number."""
    arr = table.column(f.name)
    return f.key in PLAIN_COUNTERS or (pa.types.is_integer(arr.type) and f.distinct == f.present)


def _case(facts: list):
    unique = [f for f in facts if f.present >= 2 and f.distinct == f.present and not _is_date(f)]

    def score(f) -> int:
        named = any(t in f.key for t in CASE_TOKENS)
        plain = f.key in PLAIN_COUNTERS
        return 10 * named + (2 if f.text else 0) - 5 * plain
    return max(unique, key=score, default=None)


def match_step(name: str, steps: list[tuple[str, list[str]]]) -> tuple[str, str] | None:
    """The SOP step whose id, name or alias is closest to a column name, with the label matched;
    None when no word is shared."""
    words = step_words(name)
    if not words:
        return None
    joined = "_".join(words)
    best, best_score = None, 0.0
    for step, labels in steps:
        for label in [step, *labels]:
            lw = [t for t in tokens(label) if t not in DATE_WORDS]
            if not lw:
                continue
            if "_".join(lw) == joined:
                score = 100.0
            else:
                hits = sum(1 for w in words if w in lw or any(len(x) >= 4 and (x in w or w in x) for x in lw))
                score = 10.0 * hits / len(words) - 0.1 * len(lw)
            if score > best_score:
                best, best_score = (step, label), score
    return best if best_score > 0 else None


def propose(facts: list, table: pa.Table, steps: list[tuple[str, list[str]]] | None) -> tuple[dict, dict, list[str], list]:
    """(mapping, reasons, notes, milestone reasons) of a rekap table."""
    mapping: dict = {"layout": "wide"}
    reasons: dict = {"layout": "one row per application: several date columns and a column unique per row"}
    notes: list[str] = []
    case = _case(facts)
    mapping["case"] = case.name
    reasons["case"] = f"unique in every row ({case.distinct:,} values), e.g. {', '.join(case.examples)}"
    dates = [f for f in facts if _is_date(f) and f is not case]
    tods = {f.name: f for f in facts if f not in dates and f is not case and _is_time_of_day(f, table)}
    officers = [f for f in facts if f not in dates and f.name not in tods and f is not case
                and any(t in OFFICER_WORDS for t in tokens(f.name)) and f.text]
    position = {f.name: i for i, f in enumerate(facts)}
    milestones, item_reasons, used = [], [], {case.name}
    for d in dates:
        item: dict = {"step": None, "date": d.name}
        why: list[str] = []
        guess = match_step(d.name, steps) if steps else None
        if guess:
            item["step"] = guess[0]
            why.append(f"GUESS: step '{guess[0]}' from the name '{d.name}' ~ '{guess[1]}'")
        else:
            item["step"] = step_label(d.name)
            why.append("GUESS: no SOP step matches the name; set the SOP step id" if steps else
                       "GUESS: the step is the column name; give --sop to match SOP steps, or map it with labels:")
        used.add(d.name)
        t = _time_beside(d, facts, tods, position, used, [step_words(x.name) for x in dates])
        if t is not None:
            item["time"] = t.name
            used.add(t.name)
            why.append(f"time of day in '{t.name}' (beside it or named like it)")
        milestones.append(item)
        item_reasons.append(why)
    for o in officers:
        k, how = _officer_step(o, dates, milestones, position)
        if k is None or "resource" in milestones[k]:
            continue
        milestones[k]["resource"] = o.name
        item_reasons[k].append(f"GUESS: officer in '{o.name}' ({how})")
        used.add(o.name)
    steps_seen = [m["step"] for m in milestones]
    for i, m in enumerate(milestones):
        if steps_seen.count(m["step"]) > 1:
            m["step"] = f"{m['step']}_{i + 1}"
            item_reasons[i].append("CHECK: two date columns matched the same step")
    mapping["milestones"] = milestones
    rest = [f.name for f in facts if f.name not in used and f.name not in tods and not _is_counter(f, table)]
    counters = [f.name for f in facts if f.name not in used and _is_counter(f, table)]
    mapping["case_attributes"] = rest
    reasons["case_attributes"] = "the other columns: one value per application"
    if counters:
        notes.append(f"not read: {', '.join(counters)} (a row counter)")
    left = [n for n in tods if n not in used]
    if left:
        notes.append(f"time-of-day column(s) {', '.join(left)} belong to no date column; name them as a milestone's time:")
    return mapping, reasons, notes, item_reasons


def _is_time_of_day(f, table: pa.Table) -> bool:
    col = table.column(f.name)
    tod = read_time_of_day(col)
    present = int(tod.present.sum())
    return present > 0 and tod.ok.sum() >= TIME_SHARE * present and not pa.types.is_integer(col.type)


def _time_beside(d, facts: list, tods: dict, position: dict, used: set, date_words: list):
    """The time-of-day column of a date column: named like it (Jam Wawancara for Tgl Wawancara),
    or the column right after it when that one names no other step."""
    words = step_words(d.name)
    for name, f in tods.items():
        if name not in used and words and step_words(name) == words:
            return f
    i = position[d.name] + 1
    if i < len(facts):
        nxt = facts[i].name
        if nxt in tods and nxt not in used and (not step_words(nxt) or step_words(nxt) not in date_words):
            return tods[nxt]
    return None


def _officer_step(o, dates: list, milestones: list, position: dict) -> tuple[int | None, str]:
    words = set(step_words(o.name))
    for k, d in enumerate(dates):
        if words and (words & set(step_words(d.name)) or words & set(step_words(milestones[k]["step"]))):
            return k, "named after the step"
    before = [k for k, d in enumerate(dates) if position[d.name] < position[o.name]]
    if before and not words:
        return before[-1], "it follows the step's columns"
    return None, ""
