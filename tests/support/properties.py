"""The property tests' settings: Hypothesis profiles, and a time bound that grows with the examples.

`fast` (make test, CI): the same examples on every run, so a red run is red again on any machine, and a failure
found in `thorough` is kept in its test as an @example. `thorough` (make test-all): twenty times as many
examples, new random ones each run, remembered in .hypothesis/ until they pass. A test whose examples are cheap
asks for a multiple of the profile's max_examples. No deadline: a loaded 2-core machine makes any example slow
now and then; the time bound is pytest-timeout's.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast",
    derandomize=True,
    deadline=None,
    max_examples=10,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

# 3 min in `fast`, an hour in `thorough` (an example takes up to ~3 s on a loaded machine); every other test
# has pyproject.toml's 60 s.
PROPERTY_TEST_BOUND = pytest.mark.timeout(18 * settings().max_examples)
