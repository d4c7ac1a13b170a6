"""The alignment driver starts a process pool only when the work pays for it, and the pool gives
the same alignments as one process."""

from __future__ import annotations

import random

import pytest

import sopaudit as sa
from sopaudit.conform import align
from sopaudit.core import cores
from sopaudit.sop import compile_sop

from conftest import PASSPORT_SOP


@pytest.fixture(scope="module")
def work():
    sop = sa.load_sop(PASSPORT_SOP)
    steps = [s.id for s in sop.steps]
    rng = random.Random(3)
    variants = set()
    while len(variants) < 240:
        t = list(steps[:12])
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(t))
            if rng.random() < 0.5:
                del t[i]
            else:
                t.insert(i, rng.choice(steps))
        variants.add(tuple(t))
    return sorted(variants), compile_sop(sop)


def test_no_pool_for_little_work(work, monkeypatch):
    class NoPool:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a process pool was started for less than a second of work")

    # an idle 2-core machine: the cores allow a pool, so only the measured work decides
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cores.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    n, aligner, (sampled, _) = align._pool_size(work[0], work[1], 2)
    assert n == 1 and 10 <= len(sampled) < 240  # one process goes on from the sample's alignments
    monkeypatch.setattr(align, "ProcessPoolExecutor", NoPool)
    alone = align.align_variants(work[0], work[1], processes=1)
    from_sample = align.align_variants(work[0], work[1], processes=2)
    assert from_sample == alone and list(from_sample) == list(alone) == work[0]


def test_pool_gives_the_same_alignments(work, monkeypatch):
    monkeypatch.setattr(align, "_pool_size", lambda variants, net, processes, *rest: (processes, None, ([], {})))  # as if it paid
    pooled = align.align_variants(work[0], work[1], processes=2)
    alone = align.align_variants(work[0], work[1], processes=1)
    assert pooled == alone and len(pooled) == 240


def test_no_pool_when_the_cores_are_busy(work, monkeypatch):
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cores.os, "getloadavg", lambda: (2.5, 2.0, 2.0))  # both cores taken
    assert align._pool_size(work[0], work[1], 2)[0] == 1


@pytest.mark.parametrize(("load", "most", "expected"), [
    ((0.3, 0, 0), 2, 2),  # a quiet 2-core machine: this worker and one more
    ((0.9, 0, 0), 4, 2),  # one core and a bit idle: one more, never a fraction
    ((1.2, 0, 0), 2, 2),  # one busy process just over a core: the other core is mostly free
    ((1.5, 0, 0), 2, 2),  # half a core idle counts
    ((1.6, 0, 0), 2, 1),  # less than half a core idle
    ((7.0, 0, 0), 2, 1),  # overloaded: never below one
    (None, 8, 2),  # no load average on this system: every core counts
])
def test_workers_count_only_idle_cores(monkeypatch, load, most, expected):
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)

    def loadavg():
        if load is None:
            raise OSError("no load average")
        return load

    monkeypatch.setattr(cores.os, "getloadavg", loadavg)
    assert cores.workers(most) == expected
