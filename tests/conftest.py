"""Shared test configuration.

Hypothesis profiles: ``default`` is quick for the edit-test loop; ``thorough`` (set
``HYPOTHESIS_PROFILE=thorough``, as ``.ci/run`` does) tries many more examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
