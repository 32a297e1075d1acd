from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import cxrecovery


def test_all_is_sorted_and_unique() -> None:
    assert sorted(set(cxrecovery.__all__)) == cxrecovery.__all__


def test_all_names_exactly_the_public_names() -> None:
    public = {name for name in dir(cxrecovery) if not name.startswith("_")}
    public -= {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    public = {n for n in public if type(getattr(cxrecovery, n)).__name__ != "module"}
    assert public | {"__version__"} == set(cxrecovery.__all__)


def test_lazy_names_are_the_submodules_own_objects() -> None:
    import importlib

    for name, module in cxrecovery._LAZY.items():
        assert getattr(importlib.import_module(module), name) is getattr(cxrecovery, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cxrecovery.Nope  # noqa: B018


def test_import_is_cheap_until_a_name_is_used() -> None:
    code = "import sys, cxrecovery; print('cxrecovery.engine' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()


def test_every_name_in_all_resolves() -> None:
    for name in cxrecovery.__all__:
        assert getattr(cxrecovery, name) is not None


def test_version_matches_the_package_metadata() -> None:
    from importlib.metadata import version

    assert version("cxrecovery") == cxrecovery.__version__


def test_every_error_is_a_cxrecovery_error_and_a_builtin() -> None:
    errors = [getattr(cxrecovery, name) for name in cxrecovery.__all__ if name.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, cxrecovery.CxRecoveryError)
        if error is not cxrecovery.CxRecoveryError:
            builtins = [
                b
                for b in error.__mro__
                if b.__module__ == "builtins" and b not in (Exception, BaseException, object)
            ]
            assert builtins, f"{error.__name__} means no builtin error"


def test_the_library_never_imports_hypothesis_or_pytest() -> None:
    code = (
        "import sys, cxrecovery, cxrecovery.cli; "
        "bad = [m for m in ('hypothesis', 'pytest') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "" == result.stdout.strip()


def test_py_typed_is_shipped() -> None:
    spec = importlib.util.find_spec("cxrecovery")
    assert spec is not None
    assert spec.origin is not None
    assert (Path(spec.origin).parent / "py.typed").is_file()


def test_every_builtin_fact_is_documented() -> None:
    from cxrecovery.facts import BUILTIN_FACTS

    page = (Path(__file__).parent.parent / "docs" / "facts.md").read_text(encoding="utf-8")
    for name in BUILTIN_FACTS:
        assert f"| `{name}` |" in page, name
