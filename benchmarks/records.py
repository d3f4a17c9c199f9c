"""The real GBDX records of the shared fixtures (read-only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_RECORDS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "gbdx-v2" / "records.jsonl"
)


def load(path: Path) -> list[dict[str, Any]] | None:
    """The records' ``properties`` dicts, or None (with a printed note) when the file is absent."""
    if not path.is_file():
        print(f"\n(skipped: {path} not found; the record benchmarks need ../shared/fixtures)")
        return None
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["properties"] for line in f if line.strip()]
