"""A/B of two trees: instructions per operation under callgrind, then wall-clock ratios.

Run (from a tree with this script; ``--new`` defaults to that tree)::

    git worktree add --detach /work/wt/base 5481824      # the baseline, once
    .venv/bin/python bench/ab.py --base /work/wt/base
    .venv/bin/python bench/ab.py --base /work/wt/base --what decide,load_case --rounds 3

For each measure the same driver (``bench/ab_driver.py``, public API only) runs with
``PYTHONPATH=<tree>/src`` for the base tree and the new one:

1. under ``valgrind --tool=callgrind --dump-before=os_getppid``: the driver calls
   ``os.getppid()`` once after its setup and once after each operation, so callgrind
   writes one dump part per operation; the setup (imports, building the inputs, warming
   up) falls in the first part and is not counted, and the marker's own cost (measured
   between two back-to-back markers) is subtracted. The figure is the median of the
   operations' instruction counts, per unit (a case for a replay or a sweep);
2. ``--rounds`` interleaved wall-clock rounds, each the base then the new tree in fresh
   processes; each process reports its median per unit, each round the ratio new/base,
   and the table the median of those ratios. The same for the process's CPU time
   (``time.process_time``): on a shared, loaded machine a long operation (a replay, a
   sweep) is descheduled part of its wall time, which CPU time leaves out.

Measures (``--what``, comma-separated; default all):

- ``decide``: ``Engine.decide`` on the typical case (bench_engine.py's: 10 touchpoints,
  3 promises), warm; ``--ops`` decisions;
- ``decide-synthetic``: the median over ``--cases`` synthetic cases (seed 7), each decided
  once, an hour after its last event, by an engine warmed on other synthetic cases;
- ``fresh`` (``decide-fresh``, ``decide-synthetic-fresh``): the same two, each decision
  given a case object loaded from its document and never asked anything before (what a
  host that loads a case and decides it once does): nothing a case keeps once worked
  out (its last event) is reused from an earlier call;
- ``load_case``: ``load_case`` on the typical case's JSON text (``--ops`` loads), and
  ``load_case-synthetic`` the median over the synthetic documents;
- ``replay``: ``simulate`` serially (no executor) over a JSON Lines file of the synthetic
  documents: instructions and seconds per case, reported as a speed-up;
- ``sweep``: a cold sweep: a new ``Engine`` and ``Engine.sweep`` over ``--cases`` open
  cases (a fortnight's synthetic backlog, seed 11) with no earlier ``next_reviews``, per
  case, reported as a speed-up.

The input documents are written once by the base tree and read by both. The targets
of issue 13 are printed beside each row; the verdict is read from the instruction
ratio. Exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "ab_driver.py"
MEASURES = (
    "decide",
    "decide-synthetic",
    "decide-fresh",
    "decide-synthetic-fresh",
    "load_case",
    "load_case-synthetic",
    "replay",
    "sweep",
)
# --what names: load_case covers the typical and the synthetic documents.
GROUPS = {
    "decide": ("decide",),
    "decide-synthetic": ("decide-synthetic",),
    "fresh": ("decide-fresh", "decide-synthetic-fresh"),
    "load_case": ("load_case", "load_case-synthetic"),
    "replay": ("replay",),
    "sweep": ("sweep",),
}


@dataclass(frozen=True)
class Target:
    """A ratio new/base at most ``limit`` (instructions), or a speed-up at least ``limit``."""

    limit: float
    speedup: bool

    def text(self) -> str:
        return f"≥ {self.limit:g}× speed" if self.speedup else f"≤ {self.limit:g}×"

    def met(self, ratio: float) -> bool:
        return 1 / ratio >= self.limit if self.speedup else ratio <= self.limit


TARGETS = {
    "decide": Target(0.35, speedup=False),
    "decide-synthetic": Target(0.35, speedup=False),
    "decide-fresh": Target(0.35, speedup=False),
    "decide-synthetic-fresh": Target(0.35, speedup=False),
    "load_case": Target(0.6, speedup=False),
    "load_case-synthetic": Target(0.6, speedup=False),
    "replay": Target(2.5, speedup=True),
    "sweep": Target(3.0, speedup=True),
}
LABELS = {
    "decide": "decide(), typical case",
    "decide-synthetic": "decide(), synthetic median",
    "decide-fresh": "decide(), typical case, a new case object each time",
    "decide-synthetic-fresh": "decide(), synthetic median, new case objects",
    "load_case": "load_case, typical document",
    "load_case-synthetic": "load_case, synthetic median",
    "replay": "serial replay, per case",
    "sweep": "cold sweep, per case",
}


@dataclass
class Row:
    measure: str
    ir: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)  # CPU seconds per unit
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)


def python() -> str:
    # The interpreter itself, not a wrapper script (valgrind must run the real binary).
    return os.path.realpath(sys.executable)


def env_for(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree / "src")
    env["PYTHONHASHSEED"] = "0"
    return env


def driver_args(mode: str, docs: Path, measure: str, ops: int, cases: int) -> list[str]:
    if measure in ("replay", "sweep"):
        ops = 1 if mode == "callgrind" else 3
    return [
        str(DRIVER),
        mode,
        str(docs),
        f"--measure={measure}",
        f"--ops={ops}",
        f"--cases={cases}",
    ]


def part_totals(out_dir: Path, pid: int | None = None) -> list[int]:
    """Each dump part's instruction total, in part order (of process ``pid``'s dumps, or of
    every ``cg.*`` dump in ``out_dir``)."""
    totals: dict[int, int] = {}
    for path in out_dir.glob("cg.*" if pid is None else f"cg.{pid}*"):
        part = total = None
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("part:"):
                    part = int(line.split()[1])
                elif line.startswith(("totals:", "summary:")):
                    total = int(line.split()[1])
                    if part is not None:
                        break
        if part is not None and total is not None:
            totals[part] = total
    return [totals[k] for k in sorted(totals)]


def run_callgrind(out: Path, argv: Sequence[str], env: Mapping[str, str]) -> tuple[str, list[int]]:
    """Run the Python command ``argv`` under callgrind with a dump before each
    ``os.getppid()`` call (the drivers' marker), its dumps written to ``out``; return its
    standard output and each dump part's instruction total, in part order. A failing run
    stops the benchmark with its error."""
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--dump-before=os_getppid",
        f"--callgrind-out-file={out}/cg.%p",
        *argv,
    ]
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    (pid,) = {p.name.split(".")[1] for p in out.glob("cg.*")}
    return proc.stdout, part_totals(out, int(pid))


def callgrind(tree: Path, docs: Path, measure: str, ops: int, cases: int) -> float:
    """Median instructions per unit of one measure's operations on one tree."""
    with tempfile.TemporaryDirectory(prefix="ab-cg-") as tmp:
        stdout, parts = run_callgrind(
            Path(tmp),
            [python(), *driver_args("callgrind", docs, measure, ops, cases)],
            env_for(tree),
        )
        report = json.loads(stdout.strip().splitlines()[-1])
        # parts: setup, marker alone, one per operation, then the exit.
        marker = parts[1]
        per_op = [p - marker for p in parts[2 : 2 + report["ops"]]]
        assert len(per_op) == report["ops"], (len(per_op), report)
        return statistics.median(per_op) / report["units"]


def wall(tree: Path, docs: Path, measure: str, ops: int, cases: int) -> tuple[float, float]:
    """Median wall and CPU seconds per unit of one measure's operations, in a fresh
    process."""
    cmd = [python(), *driver_args("wall", docs, measure, ops, cases)]
    proc = subprocess.run(cmd, env=env_for(tree), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed on {tree}:\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    units = report["units"]
    return statistics.median(report["seconds"]) / units, statistics.median(report["cpu"]) / units


def fmt_ir(value: float) -> str:
    return f"{value / 1e3:,.0f} k" if value < 1e7 else f"{value / 1e6:,.1f} M"


def table(rows: Sequence[Row], instructions: bool, rounds: int) -> str:
    lines = [
        "| measure | base Ir | new Ir | Ir new/base | speed-up | target | met "
        f"| base CPU µs | new CPU µs | CPU new/base ({rounds} rounds) | wall new/base |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        target = TARGETS[row.measure]
        cells = [LABELS[row.measure]]
        if instructions:
            ratio = row.ir["new"] / row.ir["base"]
            cells += [
                fmt_ir(row.ir["base"]),
                fmt_ir(row.ir["new"]),
                f"{ratio:.2f}×",
                f"{1 / ratio:.2f}×",
                target.text(),
                "yes" if target.met(ratio) else "**no**",
            ]
        else:
            cells += ["", "", "", "", target.text(), ""]
        if row.ratios:
            base_us = statistics.median(row.seconds["base"]) * 1e6
            new_us = statistics.median(row.seconds["new"]) * 1e6
            wall_ratio = statistics.median(row.ratios)
            cpu_ratio = statistics.median(row.cpu_ratios)
            cells += [
                f"{base_us:,.1f}",
                f"{new_us:,.1f}",
                f"{cpu_ratio:.2f}×",
                f"{wall_ratio:.2f}×",
            ]
        else:
            cells += ["", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the baseline tree")
    parser.add_argument(
        "--new", type=Path, default=HERE.parent, help="the tree under test (default: this one)"
    )
    parser.add_argument(
        "--what",
        default=",".join(GROUPS),
        help=f"comma-separated, of {', '.join(GROUPS)} (default: all)",
    )
    parser.add_argument(
        "--cases", type=int, default=200, help="synthetic cases per measure (default 200)"
    )
    parser.add_argument(
        "--ops", type=int, default=200, help="operations on the typical case (default 200)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved wall-clock rounds (default 5)"
    )
    parser.add_argument("--no-callgrind", action="store_true", help="wall-clock rounds only")
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    for name, tree in trees.items():
        if not (tree / "src" / "cxrecovery" / "__init__.py").is_file():
            parser.error(f"--{name} {tree}: no src/cxrecovery there")
    wanted = [w.strip() for w in args.what.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in GROUPS]
    if unknown:
        parser.error(f"--what: unknown {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    measures = [m for w in wanted for m in GROUPS[w]]
    use_callgrind = not args.no_callgrind
    if use_callgrind and shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (or pass --no-callgrind)")

    rows = [Row(m) for m in measures]
    with tempfile.TemporaryDirectory(prefix="ab-") as tmp:
        docs = Path(tmp) / "docs.json"
        subprocess.run(
            [python(), str(DRIVER), "docs", str(docs), f"--cases={args.cases}"],
            env=env_for(trees["base"]),
            check=True,
        )
        if use_callgrind:
            # Instruction counts do not depend on the machine's load: the two trees run
            # side by side.
            with ThreadPoolExecutor(2) as pool:
                for row in rows:
                    futures = {
                        name: pool.submit(callgrind, tree, docs, row.measure, args.ops, args.cases)
                        for name, tree in trees.items()
                    }
                    row.ir = {name: f.result() for name, f in futures.items()}
                    ratio = row.ir["new"] / row.ir["base"]
                    print(
                        f"callgrind {row.measure}: base {fmt_ir(row.ir['base'])}, "
                        f"new {fmt_ir(row.ir['new'])}, new/base {ratio:.3f}",
                        file=sys.stderr,
                    )
        for row in rows:
            row.seconds = {"base": [], "new": []}
        for r in range(args.rounds):
            for row in rows:
                # base, new, base, new ... each in a fresh process, one after the other.
                b, b_cpu = wall(trees["base"], docs, row.measure, args.ops, args.cases)
                n, n_cpu = wall(trees["new"], docs, row.measure, args.ops, args.cases)
                row.seconds["base"].append(b_cpu)
                row.seconds["new"].append(n_cpu)
                row.ratios.append(n / b)
                row.cpu_ratios.append(n_cpu / b_cpu)
            print(f"wall-clock round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"base: {trees['base']}\nnew:  {trees['new']}")
    print(
        f"python {sys.version.split()[0]}; {args.ops} ops on the typical case; "
        f"{args.cases} synthetic cases; Ir = instructions per operation (per case for "
        "replay and sweep), median, under callgrind"
    )
    print()
    print(table(rows, use_callgrind, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
