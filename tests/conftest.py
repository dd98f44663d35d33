"""Hypothesis profiles: ``default`` is sized for the suite; ``long`` runs ten times the examples.

    TRACKER_FUZZ=long .venv/bin/python -m pytest -q tests/test_hostile_properties.py
    .venv/bin/python -m pytest -q --hypothesis-profile=long      # the same, for every property test

Property tests that state their own size scale it with ``fuzz_examples`` (tests/test_hostile_properties.py).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Wall-clock deadlines fail at random on a loaded machine; too_slow fires on big generated texts.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("TRACKER_FUZZ", "default"))
