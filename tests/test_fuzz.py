"""The fuzzer (``make fuzz``) finds a planted bug of each class and writes its reproducer."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import catalogql as cq
from catalogql.testing import fuzz


def _bucket(node: Any) -> int:
    return len(repr(node)) % 7


def test_fuzzer_reports_each_class_of_planted_bug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_gbdx, real_sql = cq.to_gbdx, cq.to_sql

    def foreign(node: Any, schema: Any = None) -> str:
        raise KeyError("planted")

    def slow(node: Any, schema: Any = None) -> dict[str, Any]:
        if _bucket(node) == 0:
            while True:  # interrupted by the worker's CPU-time alarm
                pass
        return {}

    def stuck(node: Any, dialect: Any = "sqlite", schema: Any = None) -> tuple[str, dict[str, Any]]:
        if _bucket(node) == 1 and dialect == "postgresql":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPROF})  # like a loop in C code
            while True:  # ended by the parent's watchdog
                pass
        return real_sql(node, dialect, schema)

    def hungry(node: Any) -> Any:
        if _bucket(node) == 2:
            hog = b"x" * (120 << 20)
            assert hog
        return lambda properties: False

    def crashing(text: str, kind: str = "filter", *args: Any, **kwargs: Any) -> list[Any]:
        if kind == "filter" and len(text) % 7 == 3:
            os._exit(3)
        return []

    def lawless(node: Any) -> str:
        return "a = 1" if _bucket(node) == 4 else real_gbdx(node)

    monkeypatch.setattr(cq, "to_cql2_text", foreign)
    monkeypatch.setattr(cq, "to_cql2_json", slow)
    monkeypatch.setattr(cq, "to_sql", stuck)
    monkeypatch.setattr(cq, "compile_predicate", hungry)
    monkeypatch.setattr(cq, "check", crashing)
    monkeypatch.setattr(cq, "to_gbdx", lawless)

    out = tmp_path / "findings"
    report = fuzz.run(
        200, seed=7, step_seconds=1.0, memory_mb=48, shrink_seconds=8, pool_size=30, out=out
    )

    assert report.inputs == 200
    assert report.steps["parse_filter"] > 50
    found = {(f.cls, f.step) for f in report.findings}
    assert ("foreign", "to_cql2_text") in found
    assert ("hang", "to_cql2_json") in found
    assert ("hang", "to_sql:postgresql") in found
    assert ("memory", "compile_predicate") in found
    assert ("crash", "check") in found
    assert ("law", "to_gbdx") in found
    assert not {f.cls for f in report.findings} - set(fuzz.CLASSES)

    planted = next(f for f in report.findings if f.step == "to_cql2_text")
    assert planted.error == "KeyError: 'planted'"
    assert isinstance(planted.shrunk, str)
    assert len(planted.shrunk) < len(planted.case.payload) or len(planted.shrunk) <= 5
    written = sorted(path.name for path in out.iterdir())
    assert "summary.txt" in written
    assert len(written) == len(report.findings) + 1
    body = json.loads(next(out.glob("foreign-to_cql2_text-*.json")).read_text())
    assert body["reproducer"].endswith(f"cq.to_cql2_text(cq.parse_filter({planted.shrunk!r}))")
    summary = (out / "summary.txt").read_text()
    assert "findings: foreign" in summary and "peak resident size" in summary


def test_unplanted_drawn_inputs_find_nothing_foreign(tmp_path: Path) -> None:
    report = fuzz.run(60, seed=3, pool_size=20, shrink_seconds=0)
    assert report.inputs == 60
    assert not [f for f in report.findings if f.cls == "foreign" and f.case.origin == "drawn"]


def test_a_findings_reproducer_header_runs() -> None:
    """Each finding's reproducer starts ``make_pools(1, 1).records``; it used to ask Hypothesis
    for zero examples of the filters and raise instead of giving the records."""
    records = fuzz.make_pools(1, 1).records
    assert records and all("identifier" in record for record in records)
