"""Pair lifecycle start/complete rows into one event with a start and an end time.

Within each (case, activity), rows are taken in time order (file order for equal times) and each
complete is matched with the oldest open start (first in, first out). A complete with no open
start and a start that is never completed are "unmatched halves": they stay in the log as events
whose start time equals their end time, and are listed in the quality report. Vectorised: the
number of unmatched completes up to a row is the running maximum of (completes - starts), so no
Python loop runs over the events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

START, COMPLETE = 0, 1


@dataclass
class Pairs:
    """Positions (into the input arrays) of the events after pairing."""

    end: np.ndarray  # the row giving the event its end time (the complete, or a lone start)
    start: np.ndarray  # the row giving its start time (the start, or the same row for halves)
    unmatched_start: np.ndarray  # positions of starts never completed
    unmatched_complete: np.ndarray  # positions of completes without a start


def pair(case: np.ndarray, activity: np.ndarray, time: np.ndarray, kind: np.ndarray) -> Pairs:
    """Pair starts and completes; all inputs are equal-length arrays of the accepted rows."""
    n = len(case)
    if n == 0:
        empty = np.empty(0, np.int64)
        return Pairs(empty, empty, empty, empty)
    pos = np.arange(n)
    order = np.lexsort((pos, time, activity, case))
    c_s, a_s, k_s = case[order], activity[order], kind[order]
    new_group = np.ones(n, bool)
    new_group[1:] = (c_s[1:] != c_s[:-1]) | (a_s[1:] != a_s[:-1])
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    is_start = (k_s == START).astype(np.int64)
    is_complete = (k_s == COMPLETE).astype(np.int64)
    starts = _grouped_cumsum(is_start, group, first)
    completes = _grouped_cumsum(is_complete, group, first)
    # unmatched completes so far = max(0, running max within the group of completes - starts)
    diff = completes - starts
    big = 2 * n + 2
    unmatched = np.maximum(np.maximum.accumulate(diff + group * big) - group * big, 0)
    prev = np.where(new_group, 0, np.roll(unmatched, 1))
    complete_unmatched = (is_complete == 1) & (unmatched > prev)
    complete_matched = (is_complete == 1) & ~complete_unmatched
    matched_rank = completes - unmatched  # k-th matched complete of its group takes the k-th start
    # position (in sorted order) of every start, by group and rank
    start_sorted = np.flatnonzero(is_start)
    starts_before_group = np.concatenate([[0], np.cumsum(np.bincount(group, weights=is_start, minlength=len(first)))])[:-1].astype(np.int64)
    take = starts_before_group[group[complete_matched]] + matched_rank[complete_matched] - 1
    start_of_complete = order[start_sorted[take]]
    # starts beyond the number of matched completes of their group are never completed
    matched_total = np.zeros(len(first), np.int64)
    np.add.at(matched_total, group[complete_matched], 1)
    lone_start = (is_start == 1) & (starts > matched_total[group])
    end = np.concatenate([order[complete_matched], order[complete_unmatched], order[lone_start]])
    start = np.concatenate([start_of_complete, order[complete_unmatched], order[lone_start]])
    keep = np.argsort(end, kind="stable")
    return Pairs(end[keep], start[keep], np.sort(order[lone_start]), np.sort(order[complete_unmatched]))


def _grouped_cumsum(x: np.ndarray, group: np.ndarray, first: np.ndarray) -> np.ndarray:
    total = np.cumsum(x)
    before = total[first] - x[first]
    return total - before[group]
