"""The ``serve`` benchmark section runs end to end for a moment and finds nothing lost."""

from __future__ import annotations

import pytest

pytest.importorskip("rasterio")

from benchmarks import serve
from benchmarks.timing import QUICK

from conftest import GBDX_RECORDS, require_shared


def test_serve_section_runs_briefly_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    require_shared(GBDX_RECORDS)
    cfg = serve.ServeConfig(
        clients=3,
        seconds={"healthz": 0.5, "get": 0.5, "mix": 2.0},
        rounds=1,
        stores=("sqlite",),
        serialize_reps=2,
        warm_up_s=0.5,
        max_records=1500,  # of which over 1,000 are Acquisitions, for the serialization
    )
    res = serve.run(QUICK, cfg=cfg)
    store = res["stores"]["sqlite"]
    assert res["verdict"] == "PASS", (store["failures"], store["problems"])
    (one,) = store["rounds"]
    assert one["healthz"]["kinds"]["healthz"]["count"] > 0
    assert one["get"]["kinds"]["get"]["count"] > 0
    assert set(one["mix"]["kinds"]) == set(store["plan"])
    if "upload" in store["plan"]:
        assert store["uploads_acknowledged"] > 0
    assert store["serialization"]["records"] == 1000
    text = serve.summary(res)
    assert "healthz alone" in text and "PASS" in text
    assert "Serve:" in capsys.readouterr().out


def test_a_failed_request_or_a_lost_write_fails_the_section() -> None:
    ok = {"stores": {"sqlite": {"failures": [], "problems": []}}}
    assert serve.verdict(ok) == "PASS"
    lost = {"stores": {"sqlite": {"failures": [], "problems": ["upload x.tif ended failure"]}}}
    assert serve.verdict(lost).startswith("FAIL (1 ")
    failed = {"stores": {"sqlite": {"failures": ["get: 500"], "problems": []}, "postgresql": {}}}
    assert serve.verdict(failed).startswith("FAIL (1 ")
