"""The test files mirror the packages.

Every unit of ``src/cxrecovery`` (a top-level module or package, as in the layer table
of ``tests/test_architecture.py``) has its tests in ``tests/test_<unit>.py`` or
``tests/test_<unit>_<topic>.py`` (a leading underscore dropped: ``_cli_policy`` is
``test_cli_policy.py``). A unit tested only through another's files is listed in
``TESTED_THROUGH`` with where; a test file that is about the whole library rather than
one unit is listed in ``ACROSS`` with why. Both lists only shrink: an entry that no
longer applies fails the test. ``tests/README.md`` gives the map in prose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "src" / "cxrecovery"

# Units whose behaviour is tested through other units' files: unit -> where.
TESTED_THROUGH: dict[str, str] = {
    "errors": "every test that expects a CxRecoveryError; the hierarchy in test_api.py",
    "_version": "test_api.py (cxrecovery.__version__)",
    "_validation": "test_arguments.py (each public entry point refusing a bad argument)",
    "formats": "test_documents*.py and test_policy.py (durations, the reader's paths)",
}

# Test files about the library as a whole, not one unit: file -> why.
ACROSS: dict[str, str] = {
    "test_api.py": "the public names, their docs and lazy loading",
    "test_architecture.py": "the import layers",
    "test_arguments.py": "bad arguments at every public entry point",
    "test_docs_reference.py": "the reference pages against the code",
    "test_fuzz_documents.py": "case and policy documents fuzzed through load and decide",
    "test_layout.py": "this file",
    "test_service_example.py": "the examples/service host",
    "test_sizes.py": "module and function sizes",
}


def units(package: Path = PACKAGE) -> set[str]:
    """The top-level modules and packages of ``package`` (``__init__`` aside)."""
    found = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    found |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    return found


def unit_of(test_file: str, known: Iterable[str]) -> str | None:
    """The unit a ``test_*.py`` file is about (the longest name that prefixes it)."""
    stem = test_file.removeprefix("test_").removesuffix(".py")
    matches = [u for u in known if stem == u.lstrip("_") or stem.startswith(u.lstrip("_") + "_")]
    return max(matches, key=len) if matches else None


def layout_problems(
    test_files: Iterable[str],
    known: Iterable[str],
    through: Mapping[str, str] = TESTED_THROUGH,
    across: Mapping[str, str] = ACROSS,
) -> list[str]:
    """What breaks the mirror: a file of no unit, a unit with no file, a stale entry."""
    known = set(known)
    files = sorted(test_files)
    owners = {f: unit_of(f, known) for f in files}
    problems = [
        f"{f}: names no unit of src/cxrecovery; rename it test_<unit>_<topic>.py "
        "(or list it in ACROSS with why)"
        for f, unit in owners.items()
        if unit is None and f not in across
    ]
    covered = {unit for unit in owners.values() if unit is not None}
    problems += [
        f"{unit}: no tests/test_{unit.lstrip('_')}*.py (or list it in TESTED_THROUGH)"
        for unit in sorted(known - covered)
        if unit not in through
    ]
    problems += [
        f"{unit}: in TESTED_THROUGH but " + ("has test files now" if unit in known else "gone")
        for unit in through
        if unit in covered or unit not in known
    ]
    problems += [
        f"{f}: in ACROSS but " + ("names a unit now" if f in owners else "gone")
        for f in across
        if f not in owners or owners[f] is not None
    ]
    return problems


def test_every_package_has_its_test_files_and_every_test_file_its_package() -> None:
    files = [p.name for p in TESTS.glob("test_*.py")]
    assert [] == layout_problems(files, units())


# The check itself, shown failing on what it must catch.


def test_a_test_file_is_read_as_the_longest_unit_it_names() -> None:
    known = {"cli", "_cli_policy", "engine", "tables"}
    assert "_cli_policy" == unit_of("test_cli_policy.py", known)
    assert "cli" == unit_of("test_cli.py", known)
    assert "engine" == unit_of("test_engine_sweep.py", known)
    assert unit_of("test_table_size.py", known) is None
    assert unit_of("test_enginesweep.py", known) is None


def test_a_stray_file_an_untested_unit_and_stale_entries_fail() -> None:
    problems = layout_problems(
        ["test_engine.py", "test_misc.py", "test_plan.py", "test_old.py"],
        {"engine", "facts", "plan", "money"},
        through={"facts": "engine tests", "plan": "x", "gone": "x"},
        across={"test_old.py": "x", "test_plan.py": "x", "test_absent.py": "x"},
    )
    assert [
        "test_misc.py: names no unit of src/cxrecovery; rename it test_<unit>_<topic>.py "
        "(or list it in ACROSS with why)",
        "money: no tests/test_money*.py (or list it in TESTED_THROUGH)",
        "plan: in TESTED_THROUGH but has test files now",
        "gone: in TESTED_THROUGH but gone",
        "test_plan.py: in ACROSS but names a unit now",
        "test_absent.py: in ACROSS but gone",
    ] == problems
