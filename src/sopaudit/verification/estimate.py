"""Read a filled verification worksheet back: the confirmed share of the findings per kind with a
confidence interval, the estimated rate of deviations the audit missed (from the conforming
sample), and the sample size each needs for a target precision.

Items judged `cannot_tell` and items left empty are not in the shares; they are counted beside
them. A conforming case whose verdict is `not_confirmed` is a deviation the paper file shows and
the audit did not find. The estimates are those of a simple random sample within each kind (the
kinds are reported separately, not pooled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sopaudit.core.kinds import ALL_KINDS
from sopaudit.verification.intervals import METHODS, interval, sample_size
from sopaudit.verification.sample import CONFORMING
from sopaudit.verification.worksheet import read_worksheet

SHARE_COLUMNS = ["kind", "population", "sampled", "judged", "confirmed", "not_confirmed", "cannot_tell",
                 "empty", "share", "low", "high", "suggested_size"]


@dataclass
class VerificationResult:
    """Per kind (and `conforming` for the conforming sample): population, items drawn, verdicts,
    the share confirmed (for `conforming`: the share found deviating, the missed-deviation rate)
    with its interval, and the sample size for +/- `precision`."""

    table: pd.DataFrame
    method: str
    confidence: float
    precision: float
    items: pd.DataFrame

    @property
    def missed(self) -> dict | None:
        """The missed-deviation estimate: rate, interval, and the estimated number of missed
        deviating cases among the conforming ones; None without a conforming sample."""
        row = self.table[self.table["kind"] == CONFORMING]
        if row.empty:
            return None
        r = row.iloc[0]
        pop = int(r["population"])
        return {"judged": int(r["judged"]), "deviating": int(r["not_confirmed"]), "rate": r["share"],
                "low": r["low"], "high": r["high"], "conforming_cases": pop,
                "missed_cases_low": None if pd.isna(r["low"]) else round(r["low"] * pop, 1),
                "missed_cases_high": None if pd.isna(r["high"]) else round(r["high"] * pop, 1)}

    def to_text(self) -> str:
        """The result as the command line prints it."""
        name = "Wilson score" if self.method == "wilson" else "Clopper-Pearson (exact)"
        lines = [f"interval   {name}, {100 * self.confidence:g}% confidence; suggested sizes for "
                 f"+/- {100 * self.precision:g} points"]
        lines.append(f"{'kind':<16}{'population':>11}{'judged':>8}{'confirmed':>10}{'share':>8}"
                     f"{'interval':>18}{'unclear':>9}{'empty':>7}{'suggest':>9}")
        for r in self.table.itertuples(index=False):
            if r.kind == CONFORMING:
                continue
            lines.append(f"{r.kind:<16}{r.population:>11,}{r.judged:>8,}{r.confirmed:>10,}{_pct(r.share):>8}"
                         f"{_range(r.low, r.high):>18}{r.cannot_tell:>9,}{r.empty:>7,}{r.suggested_size:>9,}")
        m = self.missed
        if m is not None:
            r = self.table[self.table["kind"] == CONFORMING].iloc[0]
            lines.append(f"missed     {m['deviating']:,} of {m['judged']:,} conforming cases checked deviate on "
                         f"paper: {_pct(m['rate'])} {_range(m['low'], m['high'])}; of {m['conforming_cases']:,} "
                         f"conforming cases about {_num(m['missed_cases_low'])}-{_num(m['missed_cases_high'])} "
                         f"may deviate (suggested sample {int(r['suggested_size']):,})")
        return "\n".join(lines)


def _pct(v) -> str:
    return "–" if pd.isna(v) else f"{100 * v:.1f}%"


def _range(low, high) -> str:
    return "–" if pd.isna(low) else f"[{100 * low:.1f}%, {100 * high:.1f}%]"


def _num(v) -> str:
    return "–" if v is None else f"{v:g}"


def estimate(items: pd.DataFrame, strata: pd.DataFrame, *, method: str = "wilson", confidence: float = 0.95,
             precision: float = 0.1) -> pd.DataFrame:
    """The table of :class:`VerificationResult` from worksheet items (verdict codes) and strata."""
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
    items = items.assign(kind=items["stratum"].str.split(" | ", regex=False).str[0])
    pop = strata.assign(kind=strata["stratum"].str.split(" | ", regex=False).str[0]).groupby("kind")[
        ["population", "sampled"]].sum()
    order = [k for k in (*ALL_KINDS, CONFORMING) if k in pop.index or k in set(items["kind"])]
    rows = []
    for kind in order:
        v = items.loc[items["kind"] == kind, "verdict"]
        counts = {c: int((v == c).sum()) for c in ("confirmed", "not_confirmed", "cannot_tell")}
        empty = int((v == "").sum())
        judged = counts["confirmed"] + counts["not_confirmed"]
        # for findings the share confirmed; for conforming cases the share found deviating
        hits = counts["not_confirmed"] if kind == CONFORMING else counts["confirmed"]
        share = hits / judged if judged else float("nan")
        low, high = interval(hits, judged, confidence, method)
        population = int(pop["population"].get(kind, 0))
        rows.append({"kind": kind, "population": population, "sampled": int(len(v)), "judged": judged, **counts,
                     "empty": empty, "share": share, "low": low, "high": high,
                     "suggested_size": sample_size(precision, confidence, share if judged else 0.5, population)})
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def read_verification(path: str | Path, *, method: str = "wilson", confidence: float = 0.95,
                      precision: float = 0.1) -> VerificationResult:
    """Read a filled worksheet (written by :meth:`VerificationSample.write`) and estimate.

    `method`: 'wilson' (Wilson score interval, the default) or 'clopper-pearson' (exact).
    `precision`: the half-width wanted, for the suggested sample sizes (0.1 = +/- 10 points).
    """
    items, strata = read_worksheet(path)
    table = estimate(items, strata, method=method, confidence=confidence, precision=precision)
    return VerificationResult(table=table, method=method, confidence=confidence, precision=precision, items=items)
