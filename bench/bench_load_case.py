"""``load_case`` in this tree against another tree: instructions and wall clock.

    python bench/bench_load_case.py --other /tmp/base          # A/B against another tree
    python bench/bench_load_case.py --other /tmp/base --rounds 5 --no-callgrind

Make the other tree with ``git worktree add --detach /tmp/base <commit>``. The documents
come from this tree and are the same for both: the typical case of ``bench_engine.py``
(10 touchpoints, 3 promises) and 200 synthetic cases (:func:`cxrecovery.synthetic_cases`,
seed 11), as JSON text without the ``format`` key (so that a tree reading only format 1
reads them too). Each tree's code runs in its own interpreter (``PYTHONPATH=<tree>/src``)
through the public ``cxrecovery.load_case`` only.

- Instructions: ``valgrind --tool=callgrind`` counts the instructions of a run that loads
  each document once (after a warm-up round) and of one that loads them ``N`` more times;
  the difference over ``N`` is the cost of one ``load_case``. ``PYTHONHASHSEED=0`` keeps
  the counts the same from run to run.
- Wall clock: rounds that time both trees one after the other (best of 5 ``timeit``
  repeats each), the ratio taken per round; the median ratio is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, timeit
import cxrecovery
texts = json.load(open(sys.argv[1]))[sys.argv[2]]
load = cxrecovery.load_case
for text in texts:
    load(text)
if sys.argv[3] == "time":
    def run():
        for text in texts:
            load(text)
    best = min(timeit.repeat(run, number=max(1, 2000 // len(texts)), repeat=5))
    print(best / (max(1, 2000 // len(texts)) * len(texts)))
else:
    for _ in range(int(sys.argv[3])):
        for text in texts:
            load(text)
"""


def _documents(path: Path) -> None:
    sys.path.insert(0, str(HERE / "src"))
    sys.path.insert(0, str(HERE / "bench"))
    from bench_engine import typical_case

    import cxrecovery as cx
    from cxrecovery.replay import synthetic_cases

    def text(case: cx.Case) -> str:
        document = cx.dump(case)
        document.pop("format", None)
        return json.dumps(document)

    texts = {
        "typical": [text(typical_case())],
        "synthetic": [text(case) for case in synthetic_cases(200, seed=11)],
    }
    path.write_text(json.dumps(texts), "utf-8")


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONHASHSEED": "0"}


def _instructions(tree: Path, docs: Path, which: str, times: int) -> int:
    def run(n: int) -> int:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-c",
                _CHILD,
                str(docs),
                which,
                str(n),
            ],
            env=_env(tree),
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(x for x in out.stderr.splitlines() if "Collected" in x)
        return int(line.split()[-1])

    count = len(json.loads(docs.read_text("utf-8"))[which])
    return (run(times) - run(0)) // (times * count)


def _seconds(tree: Path, docs: Path, which: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(docs), which, "time"],
        env=_env(tree),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, required=True, help="the tree to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="wall-clock rounds")
    parser.add_argument("--no-callgrind", action="store_true", help="wall clock only")
    args = parser.parse_args()
    trees = {"this": HERE, "other": args.other.resolve()}
    with tempfile.TemporaryDirectory() as scratch:
        docs = Path(scratch) / "documents.json"
        _documents(docs)
        for which, times in (("typical", 20), ("synthetic", 2)):
            print(f"== {which}")
            if not args.no_callgrind:
                counts = {
                    name: _instructions(tree, docs, which, times) for name, tree in trees.items()
                }
                ratio = counts["this"] / counts["other"]
                print(
                    f"instructions per load_case: this {counts['this']:,}, "
                    f"other {counts['other']:,}, ratio {ratio:.2f}"
                )
            ratios = []
            for _ in range(args.rounds):
                this, other = (
                    _seconds(trees["this"], docs, which),
                    _seconds(trees["other"], docs, which),
                )
                ratios.append(this / other)
                print(f"  round: this {this * 1e6:.0f} µs, other {other * 1e6:.0f} µs")
            median = statistics.median(ratios)
            print(f"wall clock ratio (median of {args.rounds} rounds): {median:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
