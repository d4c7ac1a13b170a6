"""The longer fuzzing run of every reader (not part of the suite; run by hand):

    .venv/bin/python tests/fuzz/run_long.py --examples 200 [--reader csv] [--seed 1]

For each reader, `--examples` hostile files (mutations of a valid seed, or random bytes) are
read under a time limit and a 3 GiB address-space limit. Prints per reader how many loaded, how
many were refused with a located SopAuditError, and the smallest failing input of any other
outcome (an exception of another class, a message not naming the file, a hang).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import files, readers  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402


def run(reader, examples: int, random_seed: int) -> tuple[Counter, str | None, float]:
    tally: Counter = Counter()

    @seed(random_seed)
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(files(reader.seed))
    def one(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            tally[reader.check(Path(tmp) / f"input{reader.suffix}", data)] += 1

    started = time.perf_counter()
    failure = None
    try:
        one()
    except BaseException as exc:  # noqa: BLE001 - every outcome is reported
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    return tally, failure, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--reader", default=None, help="only this reader (csv, xlsx, parquet, xes, bpmn, ...)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    limit = 3 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print(f"{'reader':<11} {'examples':>8} {'loaded':>7} {'refused':>8} {'seconds':>8}  outcome")
    for reader in readers():
        if args.reader and reader.name != args.reader:
            continue
        tally, failure, seconds = run(reader, args.examples, args.seed)
        print(f"{reader.name:<11} {sum(tally.values()):>8} {tally['ok']:>7} {tally['error']:>8} {seconds:>8.1f}  "
              f"{failure or 'every input loaded or was refused with a located SopAuditError'}", flush=True)


if __name__ == "__main__":
    main()
