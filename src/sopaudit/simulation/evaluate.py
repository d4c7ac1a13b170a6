"""How well findings recover a known truth: precision, recall and F1 per kind, and a confusion table.

The truth is a table of known deviations (as written by `sopaudit simulate --truth`), the
findings are `AuditResult.deviations` (or any table with the same columns). Both name a case, a
kind and a step; matching them is a join on a key:

- ``match="step"``: (case_id, kind, step);
- ``match="pair"``: the same, except that `out_of_order` and `duty_conflict` match on the
  unordered set of steps {step} ∪ related, so a swap of S and T matches whichever of the two
  the finding names;
- ``match="case"``: (case_id, kind) only.

Kinds listed in `case_level` (default `late_case` and `incomplete`, whose step is a matter of
convention) always match on (case_id, kind). Rows are matched as multisets: a key found twice
but true once is one true positive and one false positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sopaudit.core.errors import SopAuditError

PAIR_KINDS = ("out_of_order", "duty_conflict")
NONE = "(none)"


@dataclass(frozen=True)
class EvaluationResult:
    """Per-kind scores, the confusion table, and the rows behind every error."""

    per_kind: pd.DataFrame  # kind, truth, found, tp, fp, fn, precision, recall, f1
    confusion: pd.DataFrame  # index: true kind (+ "(none)"), columns: found kind (+ "(none)")
    missed: pd.DataFrame  # truth rows not found
    spurious: pd.DataFrame  # findings not in the truth
    match: str

    def precision(self, kind: str) -> float:
        return float(self._row(kind)["precision"])

    def recall(self, kind: str) -> float:
        return float(self._row(kind)["recall"])

    def f1(self, kind: str) -> float:
        return float(self._row(kind)["f1"])

    def _row(self, kind: str) -> pd.Series:
        rows = self.per_kind[self.per_kind["kind"] == kind]
        if rows.empty:
            raise KeyError(f"no kind '{kind}' in this evaluation; kinds: {', '.join(self.per_kind['kind'])}")
        return rows.iloc[0]

    def __str__(self) -> str:
        pk = self.per_kind.copy()
        for c in ("precision", "recall", "f1"):
            pk[c] = pk[c].map(lambda v: "-" if pd.isna(v) else f"{v:.4f}")
        return (f"match: {self.match}\n{pk.to_string(index=False)}\n\n"
                f"confusion (rows: truth, columns: found)\n{self.confusion.to_string()}")


def _related_set(value) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ()
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


def _prepare(table: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = [c for c in ("case_id", "kind") if c not in table.columns]
    if missing:
        raise SopAuditError(
            f"the {what} table lacks the column(s) {', '.join(missing)}; it has {', '.join(map(str, table.columns))}. "
            "Give the audit's deviations table and a truth file written by `sopaudit simulate --truth`."
        )
    out = pd.DataFrame({
        "case_id": table["case_id"].astype("string").fillna("").astype(str).to_numpy(),
        "kind": table["kind"].astype("string").fillna("").astype(str).to_numpy(),
        "step": (table["step"].astype("string").fillna("").astype(str).to_numpy()
                 if "step" in table.columns else ""),
        "related": table["related"].to_numpy(object) if "related" in table.columns else np.full(len(table), "", object),
    })
    out["_row"] = np.arange(len(out))
    return out


def _keys(t: pd.DataFrame, match: str, case_level: tuple[str, ...]) -> pd.Series:
    steps = [
        "; ".join(sorted({s, *_related_set(r)} - {""})) if k in PAIR_KINDS and match == "pair" else s
        for s, r, k in zip(t["step"], t["related"], t["kind"], strict=True)
    ]
    steps = np.where(np.isin(t["kind"], list(case_level)) | (match == "case"), "", np.array(steps, object))
    return pd.Series(t["case_id"].to_numpy(object) + "\x1f" + t["kind"].to_numpy(object) + "\x1f" + steps,
                     index=t.index)


def compare_findings(findings: pd.DataFrame, truth: pd.DataFrame, match: str = "pair",
                     kinds: tuple[str, ...] | list[str] | None = None,
                     case_level: tuple[str, ...] = ("late_case", "incomplete")) -> EvaluationResult:
    """Score `findings` against `truth`; see the module docstring for how rows are matched.

    `kinds` limits the evaluation to these kinds (rows of other kinds are set aside on both sides);
    by default every kind present in either table is scored.
    """
    if match not in ("step", "pair", "case"):
        raise SopAuditError(f"match must be 'step', 'pair' or 'case', not {match!r}")
    f = _prepare(findings, "findings")
    t = _prepare(truth, "truth")
    if kinds is not None:
        kinds = list(kinds)
        f = f[f["kind"].isin(kinds)].reset_index(drop=True)
        t = t[t["kind"].isin(kinds)].reset_index(drop=True)
    f["key"] = _keys(f, match, tuple(case_level)) if len(f) else pd.Series(dtype=object)
    t["key"] = _keys(t, match, tuple(case_level)) if len(t) else pd.Series(dtype=object)
    # Multiset join: the n-th row of a key on one side matches the n-th row of that key on the other.
    f["n"] = f.groupby("key", sort=False).cumcount() if len(f) else pd.Series(dtype=int)
    t["n"] = t.groupby("key", sort=False).cumcount() if len(t) else pd.Series(dtype=int)
    f["_i"] = np.arange(len(f))
    both = t.merge(f[["key", "n", "_i"]], on=["key", "n"], how="left")
    t["matched"] = both["_i"].notna().to_numpy()
    f_matched = np.zeros(len(f), bool)
    f_matched[both["_i"].dropna().astype(int).to_numpy()] = True
    f["matched"] = f_matched

    all_kinds = kinds if kinds is not None else sorted(set(t["kind"]) | set(f["kind"]))
    rows = []
    for k in all_kinds:
        n_t = int((t["kind"] == k).sum())
        n_f = int((f["kind"] == k).sum())
        tp = int((t["matched"] & (t["kind"] == k)).sum())
        prec = tp / n_f if n_f else np.nan
        rec = tp / n_t if n_t else np.nan
        f1 = 2 * prec * rec / (prec + rec) if n_f and n_t and (prec + rec) > 0 else (0.0 if n_f and n_t else np.nan)
        rows.append({"kind": k, "truth": n_t, "found": n_f, "tp": tp, "fp": n_f - tp, "fn": n_t - tp,
                     "precision": prec, "recall": rec, "f1": f1})
    per_kind = pd.DataFrame(rows, columns=["kind", "truth", "found", "tp", "fp", "fn", "precision", "recall", "f1"])

    confusion = _confusion(t, f, all_kinds)
    missed = truth.iloc[t.loc[~t["matched"], "_row"].to_numpy()].reset_index(drop=True) if len(t) else truth.head(0)
    spurious = findings.iloc[f.loc[~f["matched"], "_row"].to_numpy()].reset_index(drop=True) if len(f) \
        else findings.head(0)
    return EvaluationResult(per_kind, confusion, missed, spurious, match)


def _confusion(t: pd.DataFrame, f: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    labels = list(kinds) + [NONE]
    table = pd.DataFrame(0, index=pd.Index(labels, name="truth"), columns=pd.Index(labels, name="found"))
    for k in kinds:
        table.loc[k, k] = int((t["matched"] & (t["kind"] == k)).sum())
    ut = t[~t["matched"]]
    uf = f[~f["matched"]]
    used_f: set[int] = set()
    if len(ut) and len(uf):
        # An unmatched true deviation and an unmatched finding of the same case that share a step
        # are one deviation found under another kind.
        steps_f = {r: {s, *_related_set(rel)} - {""} for r, s, rel in zip(uf["_row"], uf["step"], uf["related"],
                                                                         strict=True)}
        by_case = {c: g for c, g in uf.groupby("case_id", sort=False)}
        paired_t: set[int] = set()
        for r, c, k, s, rel in zip(ut["_row"], ut["case_id"], ut["kind"], ut["step"], ut["related"], strict=True):
            g = by_case.get(c)
            if g is None:
                continue
            mine = {s, *_related_set(rel)} - {""}
            for fr, fk in zip(g["_row"], g["kind"], strict=True):
                if fr not in used_f and fk != k and (mine & steps_f[fr] or not mine or not steps_f[fr]):
                    used_f.add(fr)
                    paired_t.add(r)
                    table.loc[k, fk] += 1
                    break
        ut = ut[~ut["_row"].isin(paired_t)]
    for k, n in ut["kind"].value_counts().items():
        table.loc[k, NONE] += int(n)
    rest = uf[~uf["_row"].isin(used_f)]
    for k, n in rest["kind"].value_counts().items():
        table.loc[NONE, k] += int(n)
    return table
