"""A pytest plugin for host test suites (the ``pytest11`` entry point).

Fixtures:

- ``cxrecovery_policy``: the policy from ``--cxrecovery-policy PATH`` or the
  ``cxrecovery_policy`` ini value (relative to the rootdir); the default policy if neither.
- ``cxrecovery_engine``: an :class:`~cxrecovery.Engine` built from it, once per session.
- ``cxrecovery_now``: a fixed, timezone-aware decision time; ``cxrecovery_clock``: a
  callable returning it, for code that asks a clock.
- ``cxrecovery_golden``: a :class:`GoldenPlans` that decides every case document in a
  folder and compares each plan with its recorded ``.plan.json``;
  ``--cxrecovery-update-golden`` records the new plans instead.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cxrecovery.documents import load_case
from cxrecovery.engine import Engine
from cxrecovery.policy import Policy, default_policy, load_policy

__all__ = ["FIXED_NOW", "GoldenPlans"]

# The ledger conformance suite asserts with plain `assert`: let pytest explain failures.
pytest.register_assert_rewrite("cxrecovery.testing.ledger")

FIXED_NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
"""The ``cxrecovery_now`` fixture's instant: a Monday morning, inside business hours."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cxrecovery")
    group.addoption(
        "--cxrecovery-policy",
        default=None,
        help="policy file (TOML or JSON) for the cxrecovery fixtures; the default policy if none",
    )
    group.addoption(
        "--cxrecovery-update-golden",
        action="store_true",
        default=False,
        help="record the plans of the golden-file cases instead of comparing them",
    )
    parser.addini("cxrecovery_policy", "policy file for the cxrecovery fixtures", default="")


class GoldenPlans:
    """Decides a folder of case documents and compares the plans with recorded ones.

    Each ``NAME.json`` case has its plan in ``NAME.plan.json`` beside it (or in
    ``golden``), decided at the case's latest event (or ``at``).

    .. versionadded:: 0.1.0
    """

    def __init__(self, engine: Engine, *, update: bool) -> None:
        self.engine = engine
        self.update = update

    def check(
        self, cases: str | Path, *, golden: str | Path | None = None, at: datetime | None = None
    ) -> list[Path]:
        """Compare (or, when updating, record) every plan; return the golden files.

        Raises:
            pytest.fail: with a unified diff of every plan that changed or is missing.
        """
        folder = Path(cases)
        target = Path(golden) if golden is not None else folder
        paths = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".plan.json"))
        if not paths:
            pytest.fail(f"no case documents (*.json) in {folder}")
        problems: list[str] = []
        written: list[Path] = []
        for path in paths:
            case = load_case(path)
            plan = self.engine.decide(case, at=at or case.last_event_at())
            text = plan.to_json()
            recorded = target / f"{path.stem}.plan.json"
            written.append(recorded)
            if self.update:
                target.mkdir(parents=True, exist_ok=True)
                recorded.write_text(text, encoding="utf-8")
                continue
            if not recorded.exists():
                problems.append(
                    f"{recorded}: no recorded plan (run with --cxrecovery-update-golden)"
                )
                continue
            old = recorded.read_text(encoding="utf-8")
            if old != text:
                diff = difflib.unified_diff(
                    old.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{recorded} (recorded)",
                    tofile=f"{path.name} (decided now)",
                )
                problems.append("".join(diff))
        if problems:
            pytest.fail(
                f"{len(problems)} plan(s) changed; if the change is intended, accept it with "
                "--cxrecovery-update-golden\n\n" + "\n".join(problems),
                pytrace=False,
            )
        return written


@pytest.fixture(scope="session")
def cxrecovery_policy(pytestconfig: pytest.Config) -> Policy:
    """The policy under test: ``--cxrecovery-policy``, the ini value, or the default."""
    option = pytestconfig.getoption("cxrecovery_policy")
    if option:
        return load_policy(Path(option))
    ini = str(pytestconfig.getini("cxrecovery_policy") or "")
    if ini:
        return load_policy(Path(pytestconfig.rootpath) / ini)
    return default_policy()


@pytest.fixture(scope="session")
def cxrecovery_engine(cxrecovery_policy: Policy) -> Engine:
    """An engine compiled from ``cxrecovery_policy``, once per session."""
    return Engine(cxrecovery_policy)


@pytest.fixture
def cxrecovery_now() -> datetime:
    """A fixed decision time (:data:`FIXED_NOW`)."""
    return FIXED_NOW


@pytest.fixture
def cxrecovery_clock(cxrecovery_now: datetime) -> Callable[[], datetime]:
    """A clock that always says :data:`FIXED_NOW`."""
    return lambda: cxrecovery_now


@pytest.fixture
def cxrecovery_golden(pytestconfig: pytest.Config, cxrecovery_engine: Engine) -> GoldenPlans:
    """The golden-file helper, recording when ``--cxrecovery-update-golden`` is given."""
    return GoldenPlans(
        cxrecovery_engine, update=bool(pytestconfig.getoption("cxrecovery_update_golden"))
    )
