"""Declarative rules of the SOP checked straight on the log, without alignments.

Each rule kind is a vectorised test over per-case event positions (Declare-style templates):

| kind | steps | holds when |
|---|---|---|
| init | [A] | the case starts with A |
| end | [A] | the case ends with A |
| existence | [A] (count n, default 1) | A occurs at least n times |
| absence | [A] (count n, default 0) | A occurs at most n times |
| exactly | [A] (count n, default 1) | A occurs exactly n times |
| precedence | [A, B] | every B has an A before it |
| response | [A, B] | every A has a B after it |
| coexistence | [A, B] | A occurs if and only if B occurs |
| exclusive_choice | [A, B] | A and B do not both occur |

Separation of duties is checked with the roles (it needs the officers, not only the steps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, POS
from sopaudit.sop.model import SOP, Rule

CHECKED = ("init", "end", "existence", "absence", "exactly", "precedence", "response", "coexistence",
           "exclusive_choice")


def _describe(rule: Rule) -> str:
    a = rule.steps[0] if rule.steps else ""
    b = rule.steps[1] if len(rule.steps) > 1 else ""
    n = rule.count
    return {
        "init": f"the case must start with '{a}'",
        "end": f"the case must end with '{a}'",
        "existence": f"'{a}' must occur at least {n if n is not None else 1} time(s)",
        "absence": f"'{a}' may occur at most {n if n is not None else 0} time(s)",
        "exactly": f"'{a}' must occur exactly {n if n is not None else 1} time(s)",
        "precedence": f"every '{b}' needs an earlier '{a}'",
        "response": f"every '{a}' needs a later '{b}'",
        "coexistence": f"'{a}' and '{b}' occur together or not at all",
        "exclusive_choice": f"'{a}' and '{b}' may not both occur",
    }[rule.kind]


def check_rules(events: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """One row per violation: case_id, rule id, step, event_pos (the offending event, if any),
    detail, and pending (later events could still satisfy the rule).

    `events` is the audit's mapped event log (step ids in concept:name, 0-based `sopaudit:pos`).
    """
    rows = []
    if not any(rule.kind in CHECKED for rule in sop.rules):
        return _violations(rows)  # the pass over every event's case below is for the rules
    cases = events[CASE].astype("string")
    # each row's case as a number (in order of appearance): counted with bincount, not a
    # group-by that hashes every row's case id again for each rule
    case_no, all_cases = pd.factorize(cases)
    all_cases = pd.Index(all_cases)
    acts = events[ACTIVITY].astype("string")
    last_pos = events[POS].groupby(case_no).transform("max").to_numpy()

    def per_case(rows: np.ndarray) -> pd.Series:
        return pd.Series(np.bincount(case_no, weights=rows, minlength=len(all_cases)).astype(np.int64),
                         index=all_cases)
    for rule in sop.rules:
        if rule.kind not in CHECKED:
            continue
        a = rule.steps[0]
        b = rule.steps[1] if len(rule.steps) > 1 else None
        is_a = (acts == a).to_numpy()
        is_b = (acts == b).to_numpy() if b else np.zeros(len(events), bool)
        count_a, count_b = per_case(is_a), per_case(is_b)
        desc = _describe(rule)
        # (case, pos, step, pending): pending violations could still be mended by later events,
        # so they are not reported for cases still under way.
        bad: list[tuple[str, int | None, str, bool]] = []
        if rule.kind in ("init", "end"):
            at = events[POS] == 0 if rule.kind == "init" else events[POS].to_numpy() == last_pos
            ev = events.loc[np.asarray(at)]
            for c, p, s in zip(ev[CASE].astype("string"), ev[POS], ev[ACTIVITY].astype("string"), strict=True):
                if s != a:
                    bad.append((c, int(p), a, rule.kind == "end"))
        elif rule.kind in ("existence", "absence", "exactly"):
            default = {"existence": 1, "absence": 0, "exactly": 1}[rule.kind]
            n = rule.count if rule.count is not None else default
            if rule.kind == "existence":
                viol = count_a[count_a < n]
            elif rule.kind == "absence":
                viol = count_a[count_a > n]
            else:
                viol = count_a[count_a != n]
            bad.extend((c, None, a, bool(k < n)) for c, k in viol.items())
        elif rule.kind == "precedence":
            # First A position per case; a B before it (or with no A at all) violates the rule.
            first_a = events.loc[is_a].groupby(cases[is_a])[POS].min()
            ev = events.loc[is_b]
            fa = cases[is_b].map(first_a)
            viol = ev[fa.isna().to_numpy() | (ev[POS].to_numpy() < fa.fillna(-1).to_numpy())]
            bad.extend((c, int(p), b, False) for c, p in zip(viol[CASE].astype("string"), viol[POS], strict=True))
        elif rule.kind == "response":
            last_b = events.loc[is_b].groupby(cases[is_b])[POS].max()
            ev = events.loc[is_a]
            lb = cases[is_a].map(last_b)
            viol = ev[lb.isna().to_numpy() | (ev[POS].to_numpy() > lb.fillna(-1).to_numpy())]
            bad.extend((c, int(p), a, True) for c, p in zip(viol[CASE].astype("string"), viol[POS], strict=True))
        elif rule.kind == "coexistence":
            viol = all_cases[((count_a > 0) != (count_b > 0)).to_numpy()]
            for c in viol:
                bad.append((c, None, a if count_a[c] == 0 else b, True))
        elif rule.kind == "exclusive_choice":
            viol = all_cases[((count_a > 0) & (count_b > 0)).to_numpy()]
            bad.extend((c, None, b, False) for c in viol)
        for c, p, s, pending in bad:
            rows.append((c, rule.id, s, p, f"rule {rule.id} broken: {desc}"
                         + (f" ({rule.description})" if rule.description else ""), pending))
    return _violations(rows)


def _violations(rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["case_id", "rule", "step", "event_pos", "detail", "pending"])
    out["event_pos"] = out["event_pos"].astype("Int64")
    return out.sort_values(["case_id", "rule", "event_pos"], kind="mergesort").reset_index(drop=True)
