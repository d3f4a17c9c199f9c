"""Hypothesis profiles for every test of the repository, the doctests of ``src/`` included.

Gating runs (``make test``, CI) use ``ci``: the same examples every time, so a green commit stays
green, and no example database. ``make hunt`` uses ``hunt``: random seeds and, through
``CATALOGQL_PROPERTY_SCALE`` (``tests/property_settings.py``), many more examples, to find bugs.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("hunt", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("CATALOGQL_HYPOTHESIS_PROFILE", "ci"))
