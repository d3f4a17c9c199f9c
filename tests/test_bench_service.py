"""The ``service`` benchmark section runs end to end on a small size (no timing asserted)."""

from __future__ import annotations

import pytest

pytest.importorskip("rasterio")

from benchmarks import service
from benchmarks.timing import QUICK


def test_service_section_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = service.ServiceConfig(
        records=2_000,
        sizes_mb=(0.2,),
        files=(2,),
        per_kind=2,
        reps=1,
        stores=("memory", "sqlite"),
    )
    res = service.run(QUICK, cfg=cfg)
    (size,) = res["uploads"]["sizes"]
    assert size["files"] == 2
    assert set(size["times_s"]) == {"upload sqlite", "upload memory", "copyfile+fsync", "cp+fsync"}
    assert all(len(t) == 2 for t in size["times_s"].values())
    parts = {p["part"]: p["s"] for p in res["uploads"]["profile"]["parts"]}
    assert parts["read and check with rasterio (read_raster)"] > 0
    assert parts["footprint (densify, transform, split)"] > 0
    stores = res["visibility"]["stores"]
    assert set(stores) == {"memory", "sqlite"}
    for raw in stores.values():
        assert "error" not in raw, raw.get("error")
        assert raw["leaks"] == 0
        assert set(raw["kinds"]) == set(service.KINDS)
        for row in raw["requests"]:
            assert row["returned_on"] <= row["returned_off"]
    # the principal reads only part of the catalog: some broad search must lose records
    broad = [r for r in stores["sqlite"]["requests"] if r["kind"] == "broad"]
    assert any(r["returned_on"] < r["returned_off"] for r in broad)
    text = service.summary(res)
    assert "cp+fsync" in text and "on/off" in text
    assert "Service:" in capsys.readouterr().out
