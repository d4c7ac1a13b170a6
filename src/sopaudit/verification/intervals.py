"""Binomial confidence intervals and sample sizes for a verification sample.

Wilson score interval (the default: it keeps its coverage for small samples and shares near 0
or 1, where the normal approximation fails) and the exact Clopper-Pearson interval (wider, never
below its confidence). Both from scipy's normal and beta quantiles.
"""

from __future__ import annotations

import math

from scipy.stats import beta, norm

METHODS = ("wilson", "clopper-pearson")


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence} must be between 0 and 1 (e.g. 0.95)")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (nan, nan) when n is 0."""
    if n == 0:
        return (math.nan, math.nan)
    z = _z(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 and k = n the bound is exactly 0 or 1 (the formula gives it up to rounding)
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval from beta quantiles; (nan, nan) when n is 0."""
    if n == 0:
        return (math.nan, math.nan)
    a = 1 - confidence
    if not 0 < a < 1:
        raise ValueError(f"confidence {confidence} must be between 0 and 1 (e.g. 0.95)")
    low = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return (low, high)


def interval(k: int, n: int, confidence: float = 0.95, method: str = "wilson") -> tuple[float, float]:
    """The interval of `method` ('wilson' or 'clopper-pearson')."""
    if method == "wilson":
        return wilson(k, n, confidence)
    if method == "clopper-pearson":
        return clopper_pearson(k, n, confidence)
    raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")


def sample_size(half_width: float, confidence: float = 0.95, share: float = 0.5,
                population: int | None = None) -> int:
    """Items to check so that a share's interval is about +/- `half_width` (normal approximation,
    n = z^2 p (1-p) / h^2, p = 0.5 when nothing is known yet), reduced for a finite population
    (n / (1 + (n - 1) / N)) and never more than the population."""
    if not 0 < half_width < 1:
        raise ValueError(f"precision {half_width} must be a share between 0 and 1 (e.g. 0.1 for +/- 10 points)")
    z = _z(confidence)
    p = min(max(share, 0.0), 1.0)
    p = p if 0 < p < 1 else 0.5  # an observed 0% or 100% says nothing about the spread yet
    n = z * z * p * (1 - p) / (half_width * half_width)
    if population is not None:
        if population <= 0:
            return 0
        n = n / (1 + (n - 1) / population)
        return int(min(population, math.ceil(n - 1e-9)))
    return int(math.ceil(n - 1e-9))
