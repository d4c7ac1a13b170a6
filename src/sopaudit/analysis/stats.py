"""The statistics of a reform evaluation, from scipy and statsmodels (no hand-written tests).

- Rates (shares of cases): Fisher's exact test for the p-value (exact at any sample size, so no
  rule of thumb decides when a normal approximation may be used) and Newcombe's hybrid score
  interval for the difference of the two proportions; Wilson's interval for a single share.
- Times (service days): the Mann-Whitney U test (two-sided) for the p-value, and a percentile
  bootstrap interval (seeded, so the report is reproducible) for the difference of medians.
- Many comparisons at once: Holm's step-down correction of the p-values (controls the
  family-wise error rate without assuming independence between the measures).
"""

from __future__ import annotations

import math

import numpy as np

# scipy and statsmodels are imported inside the functions: they take about a second to import,
# and an audit imports this module (through segments) whether or not it asks for segments.

RATE_TEST = "Fisher's exact test; Newcombe (hybrid score) interval for the difference"
TIME_TEST = "Mann-Whitney U test; percentile bootstrap interval for the difference of medians"
CORRECTION = "holm"
BOOTSTRAP_RESAMPLES = 999
BOOTSTRAP_SEED = 20240101


def wilson(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of the share count / n; (nan, nan) when n is 0."""
    if n <= 0:
        return math.nan, math.nan
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def rate_change(x_before: int, n_before: int, x_after: int, n_after: int, alpha: float = 0.05) -> dict:
    """Before and after shares, their difference (after - before), its interval and p-value."""
    before = x_before / n_before if n_before else math.nan
    after = x_after / n_after if n_after else math.nan
    out = {"before": before, "after": after, "change": after - before, "n_before": n_before,
           "n_after": n_after, "count_before": x_before, "count_after": x_after, "test": RATE_TEST,
           "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    if not n_before or not n_after:
        out["test"] = "not tested: no case in one of the periods"  # the step was never required in it
        return out
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    table = [[x_after, n_after - x_after], [x_before, n_before - x_before]]
    out["p_value"] = float(stats.fisher_exact(table).pvalue)
    low, high = confint_proportions_2indep(x_after, n_after, x_before, n_before, method="newcomb",
                                           compare="diff", alpha=alpha)
    out["ci_low"], out["ci_high"] = float(low), float(high)
    return out


def median_change(before: np.ndarray, after: np.ndarray, alpha: float = 0.05) -> dict:
    """Medians before and after, their difference (after - before), its bootstrap interval and
    the Mann-Whitney p-value; NaN values are left out."""
    a = np.asarray(before, dtype=float)
    b = np.asarray(after, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    out = {"before": float(np.median(a)) if a.size else math.nan,
           "after": float(np.median(b)) if b.size else math.nan,
           "n_before": int(a.size), "n_after": int(b.size), "count_before": math.nan, "count_after": math.nan,
           "test": TIME_TEST, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    out["change"] = out["after"] - out["before"]
    if a.size < 2 or b.size < 2:
        return out
    from scipy import stats

    out["p_value"] = float(stats.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    res = stats.bootstrap((b, a), lambda x, y, axis=-1: np.median(x, axis=axis) - np.median(y, axis=axis),
                          n_resamples=BOOTSTRAP_RESAMPLES, confidence_level=1 - alpha, method="percentile",
                          vectorized=True, rng=np.random.default_rng(BOOTSTRAP_SEED))
    out["ci_low"], out["ci_high"] = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return out


def adjust(p_values: list[float], alpha: float = 0.05) -> tuple[list[float], list[bool]]:
    """Holm-adjusted p-values and whether each is significant at `alpha`; NaN stays NaN and
    is not significant (a measure that could not be tested does not count as a comparison)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        from statsmodels.stats.multitest import multipletests

        reject, p_adj, _, _ = multipletests(p[ok], alpha=alpha, method=CORRECTION)
        adjusted[ok] = p_adj
    significant = [bool(ok[i] and adjusted[i] <= alpha) for i in range(p.size)]
    return [float(v) for v in adjusted], significant


def fisher_p(x_in: int, n_in: int, x_out: int, n_out: int) -> float:
    """Fisher's exact p-value of a segment's share against the rest."""
    if n_in <= 0 or n_out <= 0:
        return math.nan
    from scipy import stats

    return float(stats.fisher_exact([[x_in, n_in - x_in], [x_out, n_out - x_out]]).pvalue)
