"""Size limits: no module over 500 lines, no function or method over 80 lines.

The rule, as this test counts it (with ``ast``, over every module under
``src/cxrecovery``):

- A module's size is the number of lines of its file, less the lines of any module-level
  constant listed in ``DATA_TABLES`` (a literal table: a dict, list, tuple or set display
  assigned to a name at module level). Each such entry is explicit and says why.
- A function's size runs from its first decorator (its ``def`` line when it has none) to
  its last line: decorators, signature, docstring, comments and blank lines inside all
  count. Methods and nested functions count on their own (``Class.method``,
  ``outer.inner``); a nested function's lines count toward the function holding it too.

``ALLOWLIST`` names today's offenders, one line each (``"path"`` for a module,
``"path:qualname"`` for a function, paths relative to ``src/cxrecovery``), with the
reason and who owns it. The test fails on an offender that is not listed, and on a
listed entry that no longer offends, so the list only shrinks: whoever splits a module
or a function deletes its line in the same commit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cxrecovery"

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

# Today's offenders, each with its reason and owner. Delete a line when you split it.
ALLOWLIST: dict[str, str] = {}

# Literal tables whose lines do not count toward their module: "path:NAME": why.
DATA_TABLES: dict[str, str] = {}


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """Every function under ``node`` with its qualified name and its size in lines."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            assert child.end_lineno is not None
            yield name, child.end_lineno - _first_line(child) + 1
            yield from _functions(child, name + ".")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, prefix + child.name + ".")
        else:
            yield from _functions(child, prefix)


def _table_lines(tree: ast.Module, name: str) -> int | None:
    """The lines of the module-level literal table ``name``, or None when there is none."""
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        literal = isinstance(
            getattr(node, "value", None), ast.Dict | ast.List | ast.Tuple | ast.Set
        )
        if literal and any(isinstance(t, ast.Name) and t.id == name for t in targets):
            assert node.end_lineno is not None
            return node.end_lineno - node.lineno + 1
    return None


def sizes(
    path: str, source: str, tables: Mapping[str, str] = DATA_TABLES
) -> tuple[dict[str, int], list[str]]:
    """The oversized module and functions of ``source`` (``path`` relative to the
    package), with their sizes; and what is wrong with ``tables``' entries for it."""
    tree = ast.parse(source)
    found: dict[str, int] = {}
    problems: list[str] = []
    lines = len(source.splitlines())
    for entry in tables:
        where, _, name = entry.partition(":")
        if where != path:
            continue
        table = _table_lines(tree, name)
        if table is None:
            problems.append(f"{entry}: DATA_TABLES names no module-level literal table")
        else:
            lines -= table
    if lines > MAX_MODULE_LINES:
        found[path] = lines
    for name, size in _functions(tree):
        if size > MAX_FUNCTION_LINES:
            found[f"{path}:{name}"] = size
    return found, problems


def _limit(entry: str) -> int:
    return MAX_FUNCTION_LINES if ":" in entry else MAX_MODULE_LINES


def check(found: Mapping[str, int], allowlist: Mapping[str, str]) -> list[str]:
    """What breaks the limits: an offender not allowed, an allowed entry not offending."""
    problems = [
        f"{entry}: {size} lines (limit {_limit(entry)}); "
        "split it (or, for a literal table, list it in DATA_TABLES)"
        for entry, size in found.items()
        if entry not in allowlist
    ]
    problems += [
        f"{entry}: within the limits now; delete it from ALLOWLIST in tests/test_sizes.py"
        for entry in allowlist
        if entry not in found
    ]
    return problems


def _scan() -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    problems: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        more, wrong = sizes(_relative(file), file.read_text(encoding="utf-8"))
        found.update(more)
        problems += wrong
    return found, problems


def test_no_module_or_function_is_oversized_beyond_the_allowlist() -> None:
    found, problems = _scan()
    assert [] == problems + check(found, ALLOWLIST)


def test_every_data_table_entry_names_a_module_that_exists() -> None:
    assert [] == [e for e in DATA_TABLES if not (PACKAGE / e.partition(":")[0]).is_file()]


# The check itself, shown failing on what it must catch.


def _function(name: str, body_lines: int, decorators: int = 0) -> str:
    head = "@staticmethod\n" * decorators + f"def {name}() -> None:\n"
    return head + "    x = 1\n" * body_lines


def test_a_function_over_80_lines_fails() -> None:
    source = _function("short", 79) + _function("long", 80)  # 80 and 81 lines
    found, _ = sizes("m.py", source)
    assert {"m.py:long": 81} == found
    assert ["m.py:long: 81 lines (limit 80)"] == [p.split(";")[0] for p in check(found, {})]


def test_decorators_count_and_methods_and_nested_functions_are_named() -> None:
    method = "class C:\n" + "\n".join(
        "    " + line for line in _function("m", 79, decorators=1).splitlines()
    )
    nested = "def outer() -> None:\n" + "\n".join(
        "    " + line for line in _function("inner", 80).splitlines()
    )
    found, _ = sizes("m.py", method + "\n" + nested + "\n")
    assert {"m.py:C.m": 81, "m.py:outer": 82, "m.py:outer.inner": 81} == found


def test_a_module_over_500_lines_fails_unless_its_literal_table_is_exempted() -> None:
    source = "TABLE = {\n" + "    'k': 1,\n" * 10 + "}\n" + "x = 1\n" * 489  # 501 lines
    assert ({"big.py": 501}, []) == sizes("big.py", source, {})
    assert ({}, []) == sizes("big.py", source, {"big.py:TABLE": "codes"})
    assert ({"big.py": 501}, ["big.py:NOPE: DATA_TABLES names no module-level literal table"]) == (
        sizes("big.py", source, {"big.py:NOPE": "codes"})
    )


def test_an_allowlisted_entry_that_no_longer_offends_fails() -> None:
    assert [
        "m.py:f: within the limits now; delete it from ALLOWLIST in tests/test_sizes.py"
    ] == check({"m.py": 600}, {"m.py": "owner", "m.py:f": "owner"})
