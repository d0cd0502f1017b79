"""Hypothesis profile for the router suite: reproducible examples when CI is set."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs must be repeatable (the same examples every run) and must not fail on wall-clock
# deadlines on shared runners. Locally hypothesis keeps its defaults and explores new examples;
# each test caps its own max_examples to keep the suite fast.
settings.register_profile("ci", derandomize=True, max_examples=50, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
