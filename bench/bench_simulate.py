"""How fast a replay runs, on one process, on two, and through Dask; and its peak memory.

Run: ``.venv/bin/python bench/bench_simulate.py --cases 20000`` (``--quick`` for a smoke
run). Writes ``--cases`` synthetic cases (seed 1) to a JSON Lines file in a temporary
directory, then replays it with the bundled default policy:

- serially, in this process (peak resident memory reported from ``getrusage``, which
  covers the whole process: interpreter, library and replay);
- with a ``ProcessPoolExecutor`` of one worker and of two (spawn), reporting the ratio;
- through a Dask ``LocalCluster`` of two workers when ``distributed`` is installed.

Targets from the issue: 20,000 cases/s per core; two workers at least 1.7x one; peak
memory under 300 MB for 1,000,000 cases. The script prints the figures and exits 0.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from cxrecovery.documents import dump
from cxrecovery.policy import default_policy
from cxrecovery.replay import simulate, synthetic_cases


def _write(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for case in synthetic_cases(count, seed=1):
            out.write(json.dumps(dump(case), separators=(",", ":")) + "\n")


def _rate(path: Path, count: int, executor: Executor | None) -> float:
    policy = default_policy()
    start = time.perf_counter()
    summary = simulate(policy, path, executor=executor, chunk_size=500)
    elapsed = time.perf_counter() - start
    assert summary.cases == count, summary.errors
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 cases")
    parser.add_argument("--serial-only", action="store_true", help="skip the executors")
    args = parser.parse_args()
    count = 2_000 if args.quick else args.cases
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        start = time.perf_counter()
        _write(path, count)
        size = path.stat().st_size / 1e6
        print(f"wrote {count:,} cases ({size:,.0f} MB) in {time.perf_counter() - start:.1f} s")
        serial = _rate(path, count, None)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"serial        {serial:>9,.0f} cases/s   peak RSS {peak:,.0f} MB")
        if args.serial_only:
            return 0
        spawn = multiprocessing.get_context("spawn")
        rates = {}
        for workers in (1, 2):
            with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
                rates[workers] = _rate(path, count, pool)
            print(f"{workers} process(es) {rates[workers]:>9,.0f} cases/s")
        print(f"two / one     {rates[2] / rates[1]:.2f}x (target 1.7x)")
        try:
            import distributed
        except ImportError:
            print("dask          not installed (pip install distributed)")
            return 0
        with (
            distributed.LocalCluster(n_workers=2, threads_per_worker=1) as cluster,
            distributed.Client(cluster) as client,
        ):
            dask_rate = _rate(path, count, client.get_executor())
        print(f"dask 2 workers {dask_rate:>8,.0f} cases/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
