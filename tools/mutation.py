"""Mutation testing on demand: does a module's test suite notice when its code is wrong?

A small AST mutator, run by hand (never by the normal test suite). For each module it
makes every single-point mutant of the code below (or a seeded sample of them), runs only
the tests that belong to that module against each one, in a copy of the tree, with a time
limit per mutant, and prints the score and the mutants that survived::

    .venv/bin/python tools/mutation.py money            # a target from TARGETS
    .venv/bin/python tools/mutation.py cells --sample 150 --seed 1
    .venv/bin/python tools/mutation.py --module src/cxrecovery/money.py --tests tests/test_money.py
    .venv/bin/python tools/mutation.py money --list     # the mutants, without running them
    .venv/bin/python tools/mutation.py money --show 3f2a91c0   # one mutant's diff

A mutant is *killed* when its tests fail (or error, or run past the time limit: an
infinite loop is noticed), and *survives* when they pass. Survivors are either gaps in the
tests, or *equivalent* mutants: changes no test could notice because the behaviour is
the same. Those are listed with their reason in ``tools/mutation_equivalent.toml`` and
left out of the score. See ``docs/test-quality.md``.

Mutations (one at a time): comparison operators (``<``/``<=``, ``>``/``>=``, ``==``/``!=``,
``in``/``not in``, ``is``/``is not``); arithmetic (``+``/``-``, ``*``/``/``, ``//``/``*``,
``%``/``*``); ``and``/``or``; dropping ``not`` and unary minus; integer constants +1 and
-1; ``True``/``False``; an ``if`` condition negated; a guard (``raise``, ``return``,
``continue``, ``break``, an augmented assignment or a bare call statement) replaced by
``pass`` (a ``return`` unless it closes its function); ``return x`` to ``return None``;
``break``/``continue`` swapped. Strings, docstrings, annotations and ``__all__`` are
left alone: a message's wording is not behaviour the mutation score is about.

Each mutant has an id that does not depend on line numbers (a hash of the enclosing
function, the kind of change and the source of the changed node, and its occurrence),
so the list of equivalent mutants survives edits elsewhere in the file and moves of the
file itself.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

# pytest, not cxrecovery: the runs fork from this process, and each imports the project
# (mutant included) from the copy. hypothesis would load the project's plugin at import.
os.environ["HYPOTHESIS_NO_PLUGINS"] = "1"
import pytest

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.toml"

# Each target: the modules it mutates and the tests that belong to them.
TARGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "money": (("src/cxrecovery/money.py",), ("tests/test_money.py",)),
    "cells": (
        ("src/cxrecovery/tables/_cells.py", "src/cxrecovery/tables/_literals.py"),
        ("tests/test_tables.py", "tests/test_tables_properties.py", "tests/test_tables_cells.py"),
    ),
    # Every module of the package but the holiday-rule grammar (_rules.py, its own
    # target some day), and every business-time test file: a split or a new module
    # is followed without an edit here.
    "businesstime": (
        tuple(
            f"src/cxrecovery/businesstime/{path.name}"
            for path in sorted((ROOT / "src/cxrecovery/businesstime").glob("_*.py"))
            if path.name not in ("__init__.py", "_rules.py")
        ),
        tuple(
            f"tests/{path.name}" for path in sorted((ROOT / "tests").glob("test_businesstime*.py"))
        ),
    ),
}

_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINARY: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult,
}
_SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.And: "and",
    ast.Or: "or",
}


@dataclass(frozen=True)
class Mutant:
    """One single-point change to a module."""

    id: str
    module: str  # path relative to the repository root
    line: int
    where: str  # the enclosing function or class, dotted
    in_function: bool  # False at module or class level (runs at import)
    description: str
    source: str  # the whole mutated module


class _Points(ast.NodeVisitor):
    """Finds the mutation points of a module, in source order, with their scope."""

    def __init__(self) -> None:
        # node, kind, scope, in a function, choice
        self.points: list[tuple[ast.AST, str, str, bool, int]] = []
        self._scope: list[str] = []
        self._functions = 0

    def _add(self, node: ast.AST, kind: str, choice: int = 0) -> None:
        scope = ".".join(self._scope) or "<module>"
        self.points.append((node, kind, scope, self._functions > 0, choice))

    def _body(self, body: Sequence[ast.stmt], *, function: bool = False) -> None:
        # A docstring is not behaviour. A function's closing return is not a guard.
        start = 1 if body and _is_docstring(body[0]) else 0
        for index, statement in enumerate(body[start:], start):
            self._statement(statement, last=function and index == len(body) - 1)

    def _statement(self, node: ast.stmt, *, last: bool) -> None:
        guard = isinstance(node, ast.Raise | ast.AugAssign | ast.Continue | ast.Break)
        early_return = isinstance(node, ast.Return) and not last
        call = isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        if guard or early_return or call:
            self._add(node, "drop")
        if isinstance(node, ast.Break | ast.Continue):
            self._add(node, "swap")
        if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            self._add(node, "return-none")
        if isinstance(node, ast.If | ast.While):
            self._add(node, "negate")
        self.visit(node)

    # Scopes and statement lists.
    def visit_Module(self, node: ast.Module) -> None:
        self._body(node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._scope.append(node.name)
        self._functions += 1
        self._body(node.body, function=True)
        self._functions -= 1
        self._scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._scope.append(node.name)
        self._body(node.body)
        self._scope.pop()

    def _blocks(self, node: ast.AST, fields: Sequence[str]) -> None:
        for name, value in ast.iter_fields(node):
            if name in fields:
                self._body(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_If(self, node: ast.If) -> None:
        self._blocks(node, ("body", "orelse"))

    def visit_While(self, node: ast.While) -> None:
        self._blocks(node, ("body", "orelse"))

    def visit_For(self, node: ast.For) -> None:
        self._blocks(node, ("body", "orelse"))

    def visit_With(self, node: ast.With) -> None:
        self._blocks(node, ("body",))

    def visit_Try(self, node: ast.Try) -> None:
        self._blocks(node, ("body", "orelse", "finalbody"))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._blocks(node, ("body",))

    def visit_match_case(self, node: ast.match_case) -> None:
        if node.guard is not None:
            self.visit(node.guard)
        self._body(node.body)

    # What is left alone.
    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        return

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return  # message text

    # Expressions.
    def visit_Compare(self, node: ast.Compare) -> None:
        for index, op in enumerate(node.ops):
            if type(op) in _COMPARE:
                self._add(node, "compare", index)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) in _BINARY:
            self._add(node, "binary")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self._add(node, "boolean")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not | ast.USub):
            self._add(node, "unary")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool):
            self._add(node, "flip")
        elif isinstance(node.value, int):
            self._add(node, "number", +1)
            self._add(node, "number", -1)


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _apply(node: ast.AST, kind: str, choice: int) -> tuple[ast.AST, str]:
    """The replacement for ``node`` and a description of the change."""
    new = copy.deepcopy(node)
    if kind == "compare":
        assert isinstance(new, ast.Compare)
        old = type(new.ops[choice])
        new.ops[choice] = _COMPARE[old]()
        return new, f"{_SYMBOL[old]} -> {_SYMBOL[_COMPARE[old]]}"
    if kind == "binary":
        assert isinstance(new, ast.BinOp)
        old_op = type(new.op)
        new.op = _BINARY[old_op]()
        return new, f"{_SYMBOL[old_op]} -> {_SYMBOL[_BINARY[old_op]]}"
    if kind == "boolean":
        assert isinstance(new, ast.BoolOp)
        before = "and" if isinstance(new.op, ast.And) else "or"
        new.op = ast.Or() if isinstance(new.op, ast.And) else ast.And()
        return new, f"{before} -> {'or' if before == 'and' else 'and'}"
    if kind == "unary":
        assert isinstance(new, ast.UnaryOp)
        return new.operand, f"drop {'not' if isinstance(new.op, ast.Not) else 'unary -'}"
    if kind == "flip":
        assert isinstance(new, ast.Constant)
        new.value = not new.value
        return new, f"{not new.value} -> {new.value}"
    if kind == "number":
        assert isinstance(new, ast.Constant)
        before_value = new.value
        assert isinstance(before_value, int)
        new.value = before_value + choice
        return new, f"{before_value} -> {new.value}"
    if kind == "drop":
        return ast.Pass(), "replace with pass"
    if kind == "swap":
        swapped: ast.stmt = ast.Continue() if isinstance(new, ast.Break) else ast.Break()
        return swapped, f"{type(new).__name__.lower()} -> {type(swapped).__name__.lower()}"
    if kind == "return-none":
        assert isinstance(new, ast.Return)
        new.value = ast.Constant(None)
        return new, "return None"
    if kind == "negate":
        assert isinstance(new, ast.If | ast.While)
        new.test = ast.UnaryOp(ast.Not(), new.test)
        return new, "negate the condition"
    raise AssertionError(kind)


def mutants(module: str) -> list[Mutant]:
    """Every mutant of ``module`` (a path relative to the repository root)."""
    text = (ROOT / module).read_text(encoding="utf-8")
    tree = ast.parse(text)
    finder = _Points()
    finder.visit(tree)
    found: list[Mutant] = []
    seen: dict[str, int] = {}
    for node, kind, scope, in_function, choice in finder.points:
        replacement, description = _apply(node, kind, choice)
        mutated = _replace_at(tree, node, replacement)
        snippet = ast.unparse(node).splitlines()[0][:70]
        key = f"{scope}|{kind}|{choice}|{description}|{ast.unparse(node)}"
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{key}|{occurrence}".encode()).hexdigest()[:8]
        found.append(
            Mutant(
                id=digest,
                module=module,
                line=getattr(node, "lineno", 0),
                where=scope,
                in_function=in_function,
                description=f"{description}: {snippet}",
                source=mutated,
            )
        )
    return found


def _replace_at(tree: ast.Module, node: ast.AST, replacement: ast.AST) -> str:
    """The module's source with ``node`` replaced (the tree itself is left as it was)."""
    parents: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for position, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        parents[id(item)] = (parent, name, position)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (parent, name, None)
    parent, name, index = parents[id(node)]
    if index is None:
        setattr(parent, name, replacement)
    else:
        getattr(parent, name)[index] = replacement
    try:
        return ast.unparse(ast.fix_missing_locations(tree))
    finally:
        if index is None:
            setattr(parent, name, node)
        else:
            getattr(parent, name)[index] = node


def load_equivalent() -> dict[str, str]:
    """The ids of mutants recorded as equivalent, with the reason."""
    if not EQUIVALENT_FILE.exists():
        return {}
    data = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    return {entry["id"]: entry["reason"] for entry in data.get("equivalent", [])}


def _run_tests(
    tree: Path,
    tests: Sequence[str],
    timeout: float,
    *,
    quiet: bool = True,
    plugins: Sequence[object] = (),
) -> tuple[str, float]:
    """Run ``tests`` against the copy at ``tree``: ('passed' | 'failed' | 'timeout', seconds).

    Forks this process, which has pytest and hypothesis imported already (but not
    cxrecovery: the child imports it from the copy, mutant included), so a mutant costs
    its tests and their imports, not a new interpreter and pytest's own start-up.
    """
    arguments = ["-x", "-q", "--assert=plain", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.setpgid(0, 0)
            if quiet:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
            import pytest

            code = int(pytest.main(arguments, plugins=[_HypothesisHook(), *plugins]))
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code)
    deadline = started + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - started
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if code == 5:  # no test was collected: nothing ran, so nothing noticed or missed
        return "error", elapsed
    # Any other failure is a kill: failed tests (1), a collection error (2), or pytest
    # unable to start (3, 4) because the mutant breaks the import of the project or
    # of its pytest plugin. The unmutated run passed with the same arguments.
    return ("passed" if code == 0 else "failed"), elapsed


class _HypothesisHook:
    """Runs the project's hypothesis hook, as hypothesis would have at its import, once
    pytest has started (so that pytest still rewrites the project's pytest plugin)."""

    def pytest_configure(self) -> None:
        from cxrecovery.testing._hypothesis_plugin import _hypothesis_setup_hook

        _hypothesis_setup_hook()


def _normal(qualname: str) -> str:
    """A code object's qualified name as the mutant's scope spells it."""
    return qualname.replace(".<locals>", "")


class _Calls:
    """Records, for each test, which functions of the mutated modules it calls, and how
    long it takes: a mutant inside a function then runs only the tests that call it.

    Traced for the whole session, not only while a test runs: a function called at
    import or collection (a calendar built at a test module's top level) or by a
    fixture is recorded as called *outside* any test, and a mutant in it runs every
    test. Only a function no test and no import ever calls is skipped.
    """

    OUTSIDE = "<outside a test>"

    def __init__(self, files: Sequence[Path], out: Path) -> None:
        self.files = {str(f) for f in files}
        self.out = out
        self.current = self.OUTSIDE
        self.calls: dict[str, set[str]] = {}
        self.seconds: dict[str, float] = {}

    def _trace(self, frame: FrameType, event: str, arg: object) -> None:
        # Called once per Python call (returning None traces no lines): cheap.
        code = frame.f_code
        if code.co_filename in self.files:
            name = f"{code.co_filename}|{_normal(code.co_qualname)}"
            self.calls.setdefault(self.current, set()).add(name)

    def pytest_configure(self) -> None:
        sys.settrace(self._trace)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> object:
        self.current = item.nodeid
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds[item.nodeid] = time.perf_counter() - started
            self.current = self.OUTSIDE

    def pytest_sessionfinish(self) -> None:
        sys.settrace(None)
        calls = {k: sorted(v) for k, v in self.calls.items()}
        self.out.write_text(json.dumps({"calls": calls, "seconds": self.seconds}))


class _Select:
    """Keeps only the given tests, fastest first (so a kill comes soon)."""

    def __init__(self, keep: Sequence[str]) -> None:
        self.keep = {nodeid: rank for rank, nodeid in enumerate(keep)}

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        dropped = [i for i in items if i.nodeid not in self.keep]
        items[:] = sorted(
            (i for i in items if i.nodeid in self.keep), key=lambda i: self.keep[i.nodeid]
        )
        if dropped:
            config.hook.pytest_deselected(items=dropped)


def _prepare(tree: Path) -> None:
    """Make this process the parent of the test runs in the copy at ``tree``."""
    if "cxrecovery" in sys.modules:
        raise SystemExit("cxrecovery is imported already; the mutants would not be seen")
    os.environ.pop("HYPOTHESIS_PROFILE", None)  # the quick default profile
    sys.dont_write_bytecode = True  # a mutant's .pyc could outlive it (same size, same second)
    sys.path.insert(0, str(tree / "src"))
    os.chdir(tree)
    import hypothesis  # noqa: F401
    from hypothesis.extra import pytestplugin  # noqa: F401


def _copy_tree(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", destination / "pyproject.toml")


def _tests_for(
    mutant: Mutant, tree: Path, callers: dict[str, list[str]], duration: dict[str, float]
) -> list[str]:
    """The tests that can notice ``mutant``, fastest first.

    A mutant inside a function: the tests that call that function. One at module or
    class level (a constant, a default), or in a function called at import, collection
    or by a fixture, can change what every test sees, so every test.
    """
    nodeids = callers.get(f"{tree / mutant.module}|{mutant.where}", [])
    if not mutant.in_function or _Calls.OUTSIDE in nodeids:
        nodeids = list(duration)
    return sorted(set(nodeids), key=lambda t: duration[t])


def choose(everything: list[Mutant], sample: int | None, seed: int) -> list[Mutant]:
    """The mutants to run: all of them, or ``sample`` of them drawn with ``seed``."""
    if sample is None or sample >= len(everything):
        return everything
    # In the drawn order, not the file's: a run stopped early has still run a sample.
    return random.Random(seed).sample(everything, sample)


def run(
    modules: Sequence[str],
    tests: Sequence[str],
    *,
    sample: int | None,
    seed: int,
    timeout: float | None,
) -> int:
    equivalent = load_equivalent()
    everything = [m for module in modules for m in mutants(module)]
    chosen = choose(everything, sample, seed)
    tests = [t for t in tests if (ROOT / t).exists()]
    print(f"{len(everything)} mutants in {', '.join(modules)}; running {len(chosen)}", end="")
    print(f" (sample, seed {seed})" if len(chosen) < len(everything) else " (all)")
    print(f"tests: {' '.join(tests)}")
    with tempfile.TemporaryDirectory(prefix="cxr-mutation-") as scratch:
        tree = Path(scratch)
        _copy_tree(tree)
        _prepare(tree)
        record = tree / "calls.json"
        calls = _Calls([tree / m for m in modules], record)
        outcome, seconds = _run_tests(tree, tests, 900, plugins=[calls])
        if outcome != "passed":
            print("the tests fail on the unmutated code; fix that first:")
            _run_tests(tree, tests, 900, quiet=False)
            return 2
        measured = json.loads(record.read_text())
        callers: dict[str, list[str]] = {}
        for nodeid, functions in measured["calls"].items():
            for function in functions:
                callers.setdefault(function, []).append(nodeid)
        duration: dict[str, float] = measured["seconds"]
        print(f"unmutated run: {seconds:.1f} s, {len(duration)} tests")
        killed: list[Mutant] = []
        survived: list[Mutant] = []
        excluded: list[Mutant] = []
        errors: list[Mutant] = []
        for number, mutant in enumerate(chosen, 1):
            selected = _tests_for(mutant, tree, callers, duration)
            if not selected:
                outcome = "passed"  # no test calls the function the mutant is in
            else:
                budget = sum(duration[t] for t in selected)
                limit = timeout if timeout is not None else 10.0 + 4 * budget
                target = tree / mutant.module
                original = target.read_text(encoding="utf-8")
                target.write_text(mutant.source, encoding="utf-8")
                try:
                    outcome, _ = _run_tests(tree, tests, limit, plugins=[_Select(selected)])
                finally:
                    target.write_text(original, encoding="utf-8")
            if outcome == "error":
                errors.append(mutant)
                mark = "E"
            elif outcome == "passed" and mutant.id in equivalent:
                excluded.append(mutant)
                mark = "="
            elif outcome == "passed":
                survived.append(mutant)
                mark = "S"
                # Said at once too, so that a run stopped early still names its survivors.
                print(f" [S {mutant.id} {mutant.module}:{mutant.line} {mutant.description}]")
            else:
                killed.append(mutant)
                mark = "t" if outcome == "timeout" else "."
            print(mark, end="\n" if number % 50 == 0 else "", flush=True)
    print()
    counted = len(killed) + len(survived)
    score = 100 * len(killed) / counted if counted else 100.0
    print(
        f"killed {len(killed)}, survived {len(survived)}, equivalent {len(excluded)}"
        f" (of {len(chosen)} run): score {score:.1f} %"
    )
    for mutant in survived:
        print(f"  SURVIVED {mutant.id} {mutant.module}:{mutant.line} [{mutant.where}]")
        print(f"      {mutant.description}")
    for mutant in errors:
        print(f"  NOT RUN (pytest could not run the tests) {mutant.id}: {mutant.description}")
    stale = [
        m for m in killed if m.id in equivalent
    ]  # recorded as equivalent, yet a test kills it: the record is wrong
    for mutant in stale:
        print(f"  KILLED BUT LISTED AS EQUIVALENT {mutant.id}: {mutant.description}")
    return 0


def show(mutant: Mutant) -> str:
    original = ast.unparse(ast.parse((ROOT / mutant.module).read_text(encoding="utf-8")))
    diff = difflib.unified_diff(
        original.splitlines(),
        mutant.source.splitlines(),
        f"{mutant.module} (normalised)",
        f"{mutant.module} mutant {mutant.id}",
        lineterm="",
        n=2,
    )
    return "\n".join(diff)


def _iter_chosen(args: argparse.Namespace) -> Iterator[Mutant]:
    everything = [m for module in args.modules for m in mutants(module)]
    yield from (choose(everything, args.sample, args.seed) if args.list else everything)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", choices=sorted(TARGETS), help="a named target")
    parser.add_argument("--module", action="append", default=[], help="a module path to mutate")
    parser.add_argument("--tests", action="append", default=[], help="a test file to run")
    parser.add_argument("--sample", type=int, help="run this many mutants, chosen with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 3x + 5)")
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument("--show", metavar="ID", help="print one mutant's diff")
    args = parser.parse_args(argv)
    modules: list[str] = list(args.module)
    tests: list[str] = list(args.tests)
    if args.target:
        modules = modules or list(TARGETS[args.target][0])
        tests = tests or list(TARGETS[args.target][1])
    if not modules:
        parser.error("name a target or give --module")
    args.modules = modules
    if args.list or args.show:
        equivalent = load_equivalent()
        for mutant in _iter_chosen(args):
            if args.show and mutant.id == args.show:
                print(show(mutant))
                return 0
            if args.list:
                mark = " (equivalent)" if mutant.id in equivalent else ""
                print(f"{mutant.id} {mutant.module}:{mutant.line} [{mutant.where}]", end=" ")
                print(f"{mutant.description}{mark}")
        if args.show:
            print(f"no mutant {args.show}")
            return 1
        return 0
    if not tests:
        parser.error("give --tests for --module")
    return run(modules, tests, sample=args.sample, seed=args.seed, timeout=args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
