"""Instructions spent compiling a policy (``Engine(policy)``), under callgrind.

Run (from a tree with this script; ``--tree`` may be given several times, default this
tree)::

    .venv/bin/python bench/compile_steps.py --tree /work/wt/head1 --tree .   # --ops N
    .venv/bin/python bench/compile_steps.py --step cxrecovery.tables:DecisionTable.from_dict

Builds ``Engine(policy)`` for the default policy (read once, before measuring: the
compile is measured, the TOML reading is not) ``--ops`` times after two to warm up,
each between ``os.getppid()`` markers; callgrind (``--dump-before=os_getppid``) writes
one dump part per marker. The markers' own cost (two back to back) is subtracted; the
median over the compiles is printed. With ``--step module:name`` (a dotted ``name`` for
a method) that function is wrapped where the module looks it up, and its calls inside
the compiles are counted instead: the sum per compile and the number of calls.
``PYTHONHASHSEED=0``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from ab import run_callgrind  # bench/ is the script's own folder, first on sys.path

HERE = Path(__file__).resolve().parent


def _child(ops: int, step: str | None) -> None:
    import cxrecovery as cx

    mark = os.getppid
    on = [False]
    calls = [0]
    if step:
        module, _, name = step.rpartition(":")
        *path, last = name.split(".")
        owner: Any = importlib.import_module(module)
        for part in path:
            owner = getattr(owner, part)
        raw = owner.__dict__.get(last) if isinstance(owner, type) else None
        wrap: Any = type(raw) if isinstance(raw, classmethod | staticmethod) else None
        inner = raw.__func__ if wrap is not None else getattr(owner, last)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not on[0]:
                return inner(*args, **kwargs)
            calls[0] += 1
            mark()
            found = inner(*args, **kwargs)
            mark()
            return found

        setattr(owner, last, wrap(wrapped) if wrap is not None else wrapped)
    policy = cx.default_policy()
    for _ in range(2):
        cx.Engine(policy)
    mark()
    mark()
    on[0] = True
    for _ in range(ops):
        if not step:
            mark()
        cx.Engine(policy)
        if not step:
            mark()
    on[0] = False
    print(calls[0])


def _measure(tree: Path, ops: int, step: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree.resolve() / "src"), PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="compile-steps-") as tmp:
        argv = [os.path.realpath(sys.executable), __file__, "--child", f"--ops={ops}"]
        argv += [f"--step={step}"]
        stdout, parts = run_callgrind(Path(tmp), argv, env)
    # The setup, the two markers, then (before, inside) pairs and the exit.
    marker = parts[1]
    inside = [p - marker for p in parts[3:-1:2]]
    if not step:
        median = statistics.median(inside)
        return f"Engine(policy) ({tree}): {len(inside)} compiles, median {median:,.0f} Ir"
    calls = int(stdout.strip().splitlines()[-1])
    return (
        f"{step} ({tree}): {calls / ops:,.0f} calls a compile, "
        f"{sum(inside) / ops:,.0f} Ir a compile"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, action="append")
    parser.add_argument("--ops", type=int, default=5)
    parser.add_argument("--step", default="")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.ops, args.step or None)
        return 0
    for tree in args.tree or [HERE.parent]:
        print(_measure(tree, args.ops, args.step))
    return 0


if __name__ == "__main__":
    sys.exit(main())
