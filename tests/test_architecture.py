"""The import contract: imports point down the layers, and no module reads another package's
private names. docs/architecture.md explains the layers; this file enforces them.

Every ``import`` in ``src/cxrecovery`` counts, including those under ``TYPE_CHECKING``
and inside functions: an upward import is a design smell to fix, not to hide.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT = "cxrecovery"

# The layers, bottom first. A unit is a top-level module or package of cxrecovery; it may
# import units of lower layers only (and itself). Units in one layer are independent.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "errors"),
    ("limits",),
    ("_validation",),
    ("money", "businesstime"),
    ("formats",),
    ("model",),
    ("transitions", "documents"),
    ("tables",),
    ("facts", "policy", "plan"),
    ("engine",),
    ("analysis", "metrics"),
    ("replay", "ledger"),
    ("testing", "_cli_policy"),
    ("cli",),
)

# Known exceptions, each with the reason it is still here. Keep these short.
ALLOWED: dict[tuple[str, str], str] = {}
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}

LAYER_OF = {unit: number for number, units in enumerate(LAYERS) for unit in units}


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _is_package(parts: list[str]) -> bool:
    return (SRC.joinpath(*parts) / "__init__.py").is_file()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(module: str, is_package: bool, tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every ``cxrecovery`` name a module imports, dotted in full, with its line."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What breaks the contract in ``source``, the text of the module called ``module``."""
    found: list[str] = []
    own = module.split(".")
    package = own if is_package else own[:-1]
    unit = own[1] if len(own) > 1 else ""
    if unit and unit not in LAYER_OF:
        return [f"{module}: not in the layer table of tests/test_architecture.py"]
    for line, target in _targets(module, is_package, ast.parse(source)):
        parts = target.split(".")
        if parts[0] != ROOT or len(parts) < 2 or not unit:
            continue
        where = f"{module}:{line} imports {target}"
        if (module, ".".join(parts[:-1])) in ALLOWED or (module, target) in ALLOWED:
            continue
        # A private name belongs to the package holding it (a module's private name, to
        # the module's package), and is open to every module inside that package.
        for i, part in enumerate(parts[1:], start=1):
            owner = parts[:i] if _is_package(parts[:i]) else parts[: i - 1]
            if _is_private(part) and package[: len(owner)] != owner:
                found.append(f"{where}: {part} is private to {'.'.join(owner)}")
                break
        other = parts[1]
        if other == unit:
            continue
        if other not in LAYER_OF:
            found.append(f"{where}: {other} is not in the layer table")
        elif LAYER_OF[other] >= LAYER_OF[unit]:
            direction = "up" if LAYER_OF[other] > LAYER_OF[unit] else "across"
            found.append(f"{where}: {unit} may not import {other} ({direction} the layers)")
    return found


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((SRC / ROOT).rglob("*.py")):
        yield _module_name(path), path


def test_every_import_points_down_and_reads_no_other_package_s_private_names() -> None:
    found: list[str] = []
    for module, path in _modules():
        if module == ROOT:
            continue  # the facade re-exports every layer's public names
        found += violations(
            module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
        )
    assert [] == found


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        if module == ROOT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = graph.setdefault(module, set())
        for _, target in _targets(module, path.name == "__init__.py", tree):
            name = target if target in modules else target.rpartition(".")[0]
            if name in modules and name not in (module, ROOT):
                edges.add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (one per strongly connected component)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert [] == [c for c in cycles(_graph()) if tuple(c) not in ALLOWED_CYCLES]


# The check itself, shown failing on what it must catch.


def test_an_upward_import_fails_the_contract() -> None:
    source = "from cxrecovery.engine import Engine\n"
    assert [
        "cxrecovery.model._case:1 imports cxrecovery.engine.Engine: "
        "model may not import engine (up the layers)"
    ] == violations("cxrecovery.model._case", source)


def test_an_upward_import_hidden_under_type_checking_or_in_a_function_fails_too() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from cxrecovery.policy import Policy\n"
        "def f():\n"
        "    import cxrecovery.replay\n"
    )
    assert 2 == len(violations("cxrecovery.tables._cells", source))


def test_an_import_across_one_layer_fails() -> None:
    source = "from cxrecovery.businesstime import BusinessCalendar\n"
    assert ["money may not import businesstime (across the layers)"] == [
        v.split(": ", 1)[1] for v in violations("cxrecovery.money", source)
    ]


@pytest.mark.parametrize(
    "source",
    [
        "from cxrecovery.businesstime._time import instant_us\n",
        "from cxrecovery.engine import _authority\n",
        "import cxrecovery.businesstime._time\n",
    ],
)
def test_reading_another_package_s_private_name_fails(source: str) -> None:
    assert 1 == len(violations("cxrecovery.ledger._desk", source))


def test_a_package_s_private_names_are_open_to_its_own_modules() -> None:
    source = (
        "from cxrecovery.ledger._records import CaseRecord\n"
        "from cxrecovery import _validation\n"
        "from ._errors import LedgerError\n"
        "from cxrecovery.model import Case\n"
    )
    assert [] == violations("cxrecovery.ledger._desk", source)


def test_a_relative_import_is_read_as_the_absolute_one() -> None:
    source = "from ..engine._support import instant\n"
    assert ["_support is private to cxrecovery.engine"] == [
        v.rsplit(": ", 1)[1] for v in violations("cxrecovery.ledger._desk", source)
    ]


def test_a_module_missing_from_the_table_fails() -> None:
    assert ["cxrecovery.novel: not in the layer table of tests/test_architecture.py"] == (
        violations("cxrecovery.novel", "")
    )


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [["a", "b", "c"]] == cycles(graph)
