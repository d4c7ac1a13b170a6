"""Per-group order, distinct keys and quantiles over integer group codes, in linear time where
numpy's general tools sort: the process map's edges over millions of events (mining.py)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def group_order(group: np.ndarray, n_groups: int) -> np.ndarray:
    """The positions by group, in position order within a group (a stable sort: radix sort for
    group numbers that fit 16 bits, linear time)."""
    dtype = np.uint16 if n_groups <= 1 << 16 else np.int64
    return np.argsort(group.astype(dtype, copy=False), kind="stable")


def group_quantiles(
    group: np.ndarray, values: np.ndarray, n_groups: int, qs: Iterable[float]
) -> list[np.ndarray]:
    """Per-group quantiles (NaN for a group without values): linear interpolation computed as
    pandas' groupby quantile computes it, to the last bit."""
    out = [np.full(n_groups, np.nan) for _ in qs]
    if len(values) == 0:
        return out
    by_value = np.argsort(values)  # not stable: equal values need no order, and it is twice as fast
    order = by_value[group_order(group[by_value], n_groups)]  # by group, then value
    v = values[order]
    counts = np.bincount(group, minlength=n_groups)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    for res, q in zip(out, qs, strict=True):
        pos = q * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        frac = pos - lo
        base = first[has]
        low = v[base + lo]
        res[has] = low + (v[base + hi] - low) * frac
    return out


def distinct(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True, return_counts=True) for keys in [0, n_keys): counted
    in one pass when the range is small (the pairs of a few hundred activities), not sorted."""
    if n_keys > max(1 << 22, 4 * len(keys)):
        return np.unique(keys, return_inverse=True, return_counts=True)
    counts = np.bincount(keys, minlength=n_keys)
    present = np.flatnonzero(counts)
    number = np.zeros(n_keys, dtype=np.int64)
    number[present] = np.arange(len(present))
    return present, number[keys], counts[present]
