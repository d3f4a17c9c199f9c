"""How many examples the property tests draw, in one place.

``make test`` and CI draw each test's base number of examples with a fixed seed (the ``ci``
profile of ``conftest.py``: ``derandomize=True``, no example database), so a green commit stays
green. ``make hunt`` sets ``CATALOGQL_PROPERTY_SCALE`` (default 1) to draw many times as many,
with random seeds, to find bugs rather than to gate.
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("CATALOGQL_PROPERTY_SCALE", "1"))


def scaled(n: int) -> int:
    """``n`` examples times the scale, at least one."""
    return max(1, int(n * SCALE))
