"""Shared test configuration.

Hypothesis profiles: ``default`` is quick for the edit-test loop; ``thorough`` (set
``HYPOTHESIS_PROFILE=thorough``, as ``.ci/run`` does) tries many more examples.

Tests marked ``slow`` (subprocess runs, big replays, concurrency) are skipped in the quick
loop; ``--run-slow`` runs them, and so does the ``thorough`` profile, so CI runs them all.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=40, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (HYPOTHESIS_PROFILE=thorough does too)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or os.environ.get("HYPOTHESIS_PROFILE") == "thorough":
        return
    skip = pytest.mark.skip(
        reason="slow: run with --run-slow or HYPOTHESIS_PROFILE=thorough (as CI does)"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
