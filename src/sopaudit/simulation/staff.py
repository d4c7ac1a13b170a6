"""Who did each step: one officer per role and case, drawn from the office's pool.

An officer handles all steps of their role in a case (the counter officer who checks the
documents also checks the travel-ban list). Separation-of-duties rules are honoured in every
case unless a `duty_conflict` is injected; a `wrong_role` puts an officer of the office who
holds none of the step's roles on one event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopaudit.simulation.inject import TruthRows, pick_cases, pick_one
from sopaudit.simulation.resolve import Setup


@dataclass
class Staffing:
    roles: list[str]  # role index -> role id (roles that do steps)
    case_officer: np.ndarray  # (cases, roles) officer codes
    step_override: dict[int, np.ndarray]  # step code -> per-case officer (second step of a same-role rule)


def _other(pool: np.ndarray, current: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly drawn officer of `pool` other than `current` (pool of at least two)."""
    pos = np.searchsorted(np.sort(pool), current)
    order = np.sort(pool)
    shift = rng.integers(1, len(pool), len(current)) if len(pool) > 1 else np.zeros(len(current), np.int64)
    return order[(pos + shift) % len(pool)]


def assign_officers(setup: Setup, office: np.ndarray, rng: np.random.Generator) -> Staffing:
    """Draw the officer of every role for every case, honouring separation of duties."""
    roles = sorted({r for r in setup.step_role if r})
    ridx = {r: i for i, r in enumerate(roles)}
    n = len(office)
    officer = np.zeros((n, len(roles)), np.int32)
    for o in setup.offices:
        at = np.flatnonzero(office == o.index)
        for r in roles:
            pool = o.pools.get(r)
            if pool is None or not len(pool):
                officer[at, ridx[r]] = setup.role_placeholder.get(r, 0)
            else:
                officer[at, ridx[r]] = pool[rng.integers(0, len(pool), len(at))]
    # Four-eyes rules: a pair within one role gets a second officer of that role for its second
    # step; across two roles, a person drawn for both (who holds both roles) is replaced. Fixing
    # one rule can touch another, so the rules are checked again until none clashes.
    override: dict[int, np.ndarray] = {}
    for _ in range(10):
        changed = False
        for a, b in setup.sod_pairs:
            ra, rb = setup.step_role[a], setup.step_role[b]
            if not ra or not rb:
                continue
            if ra == rb and b not in override:
                override[b] = officer[:, ridx[rb]].copy()
            va = override.get(a, officer[:, ridx[ra]])
            vb = override.get(b, officer[:, ridx[rb]])
            clash = np.flatnonzero(va == vb)
            for o in setup.offices:
                at = clash[office[clash] == o.index]
                pool_b, pool_a = o.pools.get(rb), o.pools.get(ra)
                if not len(at):
                    continue
                if ra == rb and pool_b is not None and len(pool_b) > 1:
                    override[b][at] = _other(pool_b, va[at], rng)
                elif ra != rb and pool_b is not None and len(pool_b) > 1:
                    officer[at, ridx[rb]] = _other(pool_b, officer[at, ridx[rb]], rng)
                elif ra != rb and pool_a is not None and len(pool_a) > 1:
                    officer[at, ridx[ra]] = _other(pool_a, officer[at, ridx[ra]], rng)
                else:
                    continue  # cannot be helped (the resolver refuses such pools)
                changed = True
        if not changed:
            break
    return Staffing(roles, officer, override)


def token_resources(setup: Setup, staff: Staffing, case: np.ndarray, code: np.ndarray, office: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """The officer code of every event."""
    ridx = {r: i for i, r in enumerate(staff.roles)}
    step_ridx = np.array([ridx.get(r, -1) for r in setup.step_role] + [-1] * (len(setup.labels) - setup.n_steps),
                         np.int64)
    r = step_ridx[code]
    res = np.zeros(len(code), np.int32)
    has_role = r >= 0
    res[has_role] = staff.case_officer[case[has_role], r[has_role]]
    for step, per_case in staff.step_override.items():
        m = code == step
        res[m] = per_case[case[m]]
    # Activities outside the SOP (and steps without a role) are done by anyone of the office.
    for o in setup.offices:
        m = ~has_role & (office[case] == o.index)
        if m.any() and len(o.staff):
            res[m] = o.staff[rng.integers(0, len(o.staff), int(m.sum()))]
    return res


def inject_staff_deviations(setup: Setup, staff: Staffing, case: np.ndarray, code: np.ndarray, res: np.ndarray,
                            n_cases: int, office: np.ndarray, open_case: np.ndarray, probs: dict[str, np.ndarray],
                            pref_officer: dict[str, np.ndarray], rngs: dict[str, np.random.Generator],
                            truth: TruthRows) -> None:
    """Duty conflicts, then wrong roles, written into `res` in place, with their truth rows."""
    names = np.array(setup.plan.step_ids, object)
    claimed = np.zeros(len(code), bool)
    sod_steps = sorted({s for pair in setup.sod_pairs for s in pair})
    count, first = {}, {}
    for s_ in sod_steps:  # per case: how often the step was done, and its first event
        idx = np.flatnonzero(code == s_)
        count[s_] = np.bincount(case[idx], minlength=n_cases)
        f = np.full(n_cases, -1, np.int64)
        f[case[idx[::-1]]] = idx[::-1]
        first[s_] = f

    # --- duty_conflict: both steps of a separated pair done once in the case, by one person
    if setup.sod_pairs:
        cand_case, cand_pair = [], []
        for i, (a, b) in enumerate(setup.sod_pairs):
            ok = (count[a] == 1) & (count[b] == 1) & ~open_case
            cand_case.append(np.flatnonzero(ok))
            cand_pair.append(np.full(int(ok.sum()), i))
        cc = np.concatenate(cand_case)
        cp = np.concatenate(cand_pair)
        order = np.argsort(cc, kind="stable")
        cc, cp = cc[order], cp[order]
        has = np.zeros(n_cases, bool)
        has[cc] = True
        rng = rngs["duty_conflict"]
        wanted = pick_cases(probs["duty_conflict"], has, rng, "duty_conflict")
        pref_off = pref_officer["duty_conflict"]
        want = np.zeros(n_cases, bool)
        want[wanted] = True
        keep = want[cc]
        cc, cp = cc[keep], cp[keep]
        sel = pick_one(cc, _holds_both(setup, pref_off[cc], cp), wanted, n_cases, rng)
        c, p = cc[sel], cp[sel]
        pairs = np.array(setup.sod_pairs, np.int64)
        a, b = pairs[p, 0], pairs[p, 1]
        ta = np.array([first[int(x)][y] for x, y in zip(a, c, strict=True)], np.int64) if len(c) else a
        tb = np.array([first[int(x)][y] for x, y in zip(b, c, strict=True)], np.int64) if len(c) else b
        person = res[ta].copy()
        consequence = np.ones(len(c), bool)
        for o in setup.offices:
            for i, (sa, sb) in enumerate(setup.sod_pairs):
                m = (office[c] == o.index) & (p == i)
                holders = _both_holders(setup, o, sa, sb)
                if not m.any() or not len(holders):
                    continue
                # Someone who holds both roles did both steps: a conflict, but no wrong role.
                chosen = holders[rng.integers(0, len(holders), int(m.sum()))]
                pref = pref_off[c[m]]
                person[m] = np.where(np.isin(pref, holders), pref, chosen)
                consequence[m] = False
        res[ta] = person
        res[tb] = person
        claimed[ta] = claimed[tb] = True
        # The finding sits on the later of the two events; `related` names the other step.
        later_b = tb > ta
        t_late = np.where(later_b, tb, ta)
        s_late, s_early = np.where(later_b, b, a), np.where(later_b, a, b)
        truth.add(c, "duty_conflict", "duty_conflict", names[s_late], names[s_early], token=t_late)
        # Nobody in the office may do both steps: the second step is also done outside its role.
        cons = np.flatnonzero(consequence)
        truth.add(c[cons], "wrong_role", "duty_conflict", names[b[cons]], token=tb[cons], origin="consequence")

    # --- wrong_role: one event done by an officer of the office who holds none of its roles
    n_codes = len(setup.labels)
    wrong_lists = {}
    can = np.zeros((len(setup.offices), n_codes), bool)
    for o in setup.offices:
        for s_ in range(setup.n_steps):
            held = set(setup.step_roles[s_])
            lst = np.array([x for x in o.staff if not (setup.officer_roles.get(int(x), set()) & held)], np.int32)
            wrong_lists[o.index, s_] = lst
            # Steps of a role without officers (the applicant's own steps) are not checked by the
            # audit's role check, so a wrong officer there would be a deviation nobody can see.
            pool = o.pools.get(setup.step_role[s_])
            can[o.index, s_] = bool(setup.step_role[s_]) and len(lst) > 0 and pool is not None and len(pool) > 0
    ok = can[office[case], code] & ~claimed & ~open_case[case]
    idx = np.flatnonzero(ok)
    del ok
    has = np.zeros(n_cases, bool)
    has[case[idx]] = True
    rng = rngs["wrong_role"]
    wanted = pick_cases(probs["wrong_role"], has, rng, "wrong_role")
    want = np.zeros(n_cases, bool)
    want[wanted] = True
    idx = idx[want[case[idx]]]  # only the events of the chosen cases from here on
    pref_off = pref_officer["wrong_role"]
    po = pref_off[case[idx]]
    pref = np.zeros(len(idx), bool)
    for (oi, s_), lst in wrong_lists.items():
        m = (po >= 0) & (code[idx] == s_) & (office[case[idx]] == oi)
        if m.any():
            pref[m] = np.isin(po[m], lst)
    sel = idx[pick_one(case[idx], pref, wanted, n_cases, rng)]
    partners: dict[int, list[int]] = {}
    for a, b in setup.sod_pairs:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    chosen = np.zeros(len(sel), np.int32)
    for (oi, s_), lst in wrong_lists.items():
        m = np.flatnonzero((office[case[sel]] == oi) & (code[sel] == s_))
        if not len(m) or not len(lst):
            continue
        start = rng.integers(0, len(lst), len(m))
        pick = lst[start]
        po_m = pref_off[case[sel[m]]]
        pick = np.where(np.isin(po_m, lst), po_m, pick)
        # Not the officer of a step this one is separated from: that would add a duty conflict.
        for k in range(len(lst)):
            clash = np.zeros(len(m), bool)
            for q in partners.get(s_, []):
                tq = first[q][case[sel[m]]]
                clash |= (tq >= 0) & (res[np.maximum(tq, 0)] == pick)
            if not clash.any():
                break
            pick = np.where(clash, lst[(start + k + 1) % len(lst)], pick)
        chosen[m] = pick
    res[sel] = chosen
    truth.add(case[sel], "wrong_role", "wrong_role", names[code[sel]], token=sel)


def _both_holders(setup: Setup, office, a: int, b: int) -> np.ndarray:
    ra, rb = set(setup.step_roles[a]), set(setup.step_roles[b])
    return np.array([x for x in office.staff
                     if setup.officer_roles.get(int(x), set()) & ra and setup.officer_roles.get(int(x), set()) & rb],
                    np.int32)


def _holds_both(setup: Setup, officers: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """Per candidate: the officer (-1: none) holds a role of both steps of separation pair `pair`."""
    n_off = len(setup.officers)
    table = np.zeros((len(setup.sod_pairs), n_off + 1), bool)  # last column: no officer
    for i, (a, b) in enumerate(setup.sod_pairs):
        ra, rb = set(setup.step_roles[a]), set(setup.step_roles[b])
        for off in range(n_off):
            held = setup.officer_roles.get(off, set())
            table[i, off] = bool(held & ra) and bool(held & rb)
    return table[pair, np.where(officers >= 0, officers, n_off)]
