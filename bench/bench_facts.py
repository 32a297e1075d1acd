"""``derive_facts`` of this tree against another tree's, in one process.

Run::

    .venv/bin/python bench/bench_facts.py --base /work/wt/head0            # CPU-time rounds
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/bench_facts.py --base /work/wt/head0 --only new --ops 200
    # ... and again with --ops 0; (Ir with 200 - Ir with 0) / (200 × cases) per call

Both trees' ``facts/_derive.py`` are loaded into this process over this tree's package
(the rest of the code is the same), so the two differ only in how facts are derived.
Inputs: the typical case of ``bench_engine.py`` and 200 synthetic cases (seed 13), each
two hours after its last event; both versions warm, the garbage collector frozen after
the setup. ``--only`` runs one version ``--ops`` times (for callgrind); without it,
``--rounds`` interleaved rounds report the median CPU-time ratio new/base.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import typical_case  # noqa: E402

import cxrecovery as cx  # noqa: E402

Derive = Callable[..., object]


def _load(tree: Path, name: str) -> Derive:
    path = tree / "src" / "cxrecovery" / "facts" / "_derive.py"
    module = types.ModuleType(f"cxrecovery.facts.{name}")
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module.derive_facts  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--cases", choices=("typical", "synthetic"), default="typical")
    parser.add_argument("--only", choices=("base", "new"))
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    versions = {"base": _load(args.base, "base"), "new": _load(HERE.parent, "new")}
    settings = cx.Engine(cx.default_policy())._settings
    cases = [typical_case()] if args.cases == "typical" else list(cx.synthetic_cases(200, seed=13))
    pairs = [
        (c, (c.touchpoints[-1].at if c.touchpoints else c.opened_at) + timedelta(hours=2))
        for c in cases
    ]
    for derive in versions.values():
        for case, at in pairs:
            derive(case, at, settings)
    gc.collect()
    gc.freeze()
    if args.only is not None:
        derive = versions[args.only]
        for _ in range(args.ops):
            for case, at in pairs:
                derive(case, at, settings)
        return
    ratios = []
    reps = max(1, 1000 // len(pairs))
    for _ in range(args.rounds):
        times = []
        for derive in versions.values():
            start = time.process_time()
            for _ in range(reps):
                for case, at in pairs:
                    derive(case, at, settings)
            times.append(time.process_time() - start)
        ratios.append(times[1] / times[0])
    print(
        f"{args.cases}: CPU time new/base, median of {args.rounds} interleaved rounds: "
        f"{statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
