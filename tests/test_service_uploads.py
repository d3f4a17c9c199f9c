"""Images and uploads of the catalog service (SPEC section 7) on every store.

Real GeoTIFFs made with rasterio: every band dtype, UTM, polar stereographic (EPSG:3413, with and
without the pole), one crossing the antimeridian (EPSG:32660 near 180), nodata, multi-band with a
srcband mapping, the ndarray form, multi-file images, and the client's own files. Every failure
(truncated, not a TIFF, too few bands, a dtype that does not fit, an engineering CRS, a full
disk, a SIGKILL mid-upload) ends as a ``failure`` status and leaves no image, no record and, after
``gc``, no file.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

import catalogql as cq
from catalog_fixtures import DURABLE_STORES, Factory
from catalogql.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalogql.search.errors import RecordNotFound
from catalogql.service import Principal, Service
from catalogql.service.uploads import DTYPE_FITS, split_antimeridian
from conftest import SHARED_DIR, require_shared

OWNER = Principal("alice")
READER = Principal("rita", groups=["readers"])
STRANGER = Principal("mallory")

SRC = Path(__file__).resolve().parents[1] / "src"

BAND_DTYPES = {
    "Byte": "uint8",
    "UInt16": "uint16",
    "Int16": "int16",
    "UInt32": "uint32",
    "Int32": "int32",
    "Float32": "float32",
    "Float64": "float64",
}
RANGES = {
    "Byte": [0, 255],
    "UInt16": [0, 10000],
    "Int16": [-100, 100],
    "UInt32": [0, 10000],
    "Int32": [-100, 100],
    "Float32": [0, 1],
    "Float64": [0, 1],
}


def geotiff(
    *,
    dtype: str = "uint16",
    count: int = 1,
    width: int = 16,
    height: int = 12,
    crs: Any = "EPSG:32613",
    transform: Any = None,
    nodata: float | None = None,
    seed: int = 0,
) -> bytes:
    """A GeoTIFF's bytes (default: UTM 13N near -105, 40)."""
    if transform is None:
        transform = from_origin(500000, 4430000, 30, 30)
    data = (np.arange(count * width * height) + seed).reshape(count, height, width) % 100
    with MemoryFile() as memory:
        with memory.open(
            driver="GTiff",
            width=width,
            height=height,
            count=count,
            dtype=dtype,
            crs=crs,
            transform=transform,
            nodata=nodata,
        ) as dataset:
            dataset.write(data.astype(dtype))
        return bytes(memory.read())


@pytest.fixture
def svc(new_catalog: Factory, tmp_path: Path) -> Service:
    return cq.open_service(new_catalog(), storage=tmp_path / "files")


def product(svc: Service, name: str = "scenes", bands: Any = (("red", 1, "UInt16"),)) -> str:
    pid = str(
        svc.add_product(OWNER, name, title=name, description="uploads", read=["group:readers"])[
            "id"
        ]
    )
    for band, srcband, dtype in bands:
        svc.add_band(
            OWNER, pid, band, srcband=srcband, dtype=dtype, data_range=RANGES[dtype],
            type="spectral",
        )  # fmt: skip
    return pid


def files_left(svc: Service) -> tuple[list[str], list[Path]]:
    return svc.files.hashes(), svc.files.temporary_files()


def assert_nothing_left(svc: Service, pid: str, key: str) -> None:
    with pytest.raises(NotFound):
        svc.get_image(OWNER, pid, key)
    with pytest.raises(RecordNotFound):
        svc.catalog.get_record(f"{pid}:{key}")
    assert svc.list_images(OWNER, pid)[0] == []
    svc.gc()
    assert files_left(svc) == ([], [])


# -- success: every dtype, CRSs, nodata, srcband mapping -----------------------------------------


@pytest.mark.parametrize("band_dtype", sorted(BAND_DTYPES))
def test_every_dtype_uploads_and_becomes_a_record(svc: Service, band_dtype: str) -> None:
    pid = product(svc, bands=[("b", 1, band_dtype)])
    status = svc.upload_image(
        OWNER, pid, geotiff(dtype=BAND_DTYPES[band_dtype]), image_id="scene",
        acquired="2020-08-01T00:00:00Z", cloud_fraction=0.25,
    )  # fmt: skip
    assert status["status"] == "success", status["errors"]
    image = svc.get_image(OWNER, pid, "scene")
    assert image["raster_size"] == [16, 12]
    assert image["band_dtypes"] == [BAND_DTYPES[band_dtype]]
    assert image["cs_code"] == "EPSG:32613"
    record = svc.catalog.get_record(f"{pid}:scene", readers=READER.names)
    assert record["type"] == ["GBDXCatalogRecord", "UserImage", pid]
    props = record["properties"]
    assert props["timestamp"] == "2020-08-01T00:00:00Z" and props["cloudCover"] == 25.0
    assert (props["width"], props["height"], props["crs"]) == (16, 12, "EPSG:32613")
    assert props["bands"] == ["b"] and props["product"] == pid
    footprint = shapely.from_wkt(props["footprintWkt"])
    assert footprint.geom_type == "Polygon"
    west, south, east, north = footprint.bounds
    assert -105.01 < west < east < -104.99 and 40.0 < south < north < 40.04
    assert len(footprint.exterior.coords) == 4 * 20 + 1  # 21 points per edge, corners shared


def test_dtype_fits_table_is_exactly_the_lossless_casts() -> None:
    for band_dtype, fits in DTYPE_FITS.items():
        target = np.dtype(BAND_DTYPES[band_dtype])
        for source in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"):
            assert (source in fits) == np.can_cast(source, target, "safe"), (band_dtype, source)


def test_a_dtype_that_does_not_fit_fails_naming_the_band(svc: Service) -> None:
    pid = product(svc, bands=[("red", 1, "Byte")])
    status = svc.upload_image(
        OWNER, pid, geotiff(dtype="uint16"), image_id="s", acquired="2020-01-01"
    )
    assert status["status"] == "failure"
    assert [(e["field"], e["code"]) for e in status["errors"]] == [
        ("bands.red.dtype", "upload.dtype")
    ]
    assert_nothing_left(svc, pid, "s")


def test_multi_band_with_srcband_mapping_and_nodata(svc: Service) -> None:
    pid = product(svc, bands=[("red", 3, "UInt16"), ("green", 2, "UInt16"), ("blue", 1, "UInt16")])
    status = svc.upload_image(
        OWNER, pid, geotiff(count=3, nodata=0), image_id="rgb", acquired="2020-01-01"
    )
    assert status["status"] == "success", status["errors"]
    image = svc.get_image(OWNER, pid, "rgb")
    assert image["band_count"] == 3 and image["nodata"] == [0.0, 0.0, 0.0]
    record = svc.catalog.get_record(f"{pid}:rgb")
    assert record["properties"]["bands"] == ["blue", "green", "red"]  # by srcband


def test_too_few_bands_fails_naming_each_missing_band(svc: Service) -> None:
    pid = product(svc, bands=[("red", 1, "UInt16"), ("nir", 4, "UInt16")])
    status = svc.upload_image(OWNER, pid, geotiff(count=2), image_id="s", acquired="2020-01-01")
    assert status["status"] == "failure"
    assert [(e["field"], e["code"]) for e in status["errors"]] == [
        ("bands.nir.srcband", "upload.too-few-bands")
    ]
    assert "has 2 bands" in status["errors"][0]["message"]
    assert_nothing_left(svc, pid, "s")


def _upload_footprint(svc: Service, data: bytes, key: str) -> Any:
    pid = product(svc, name=f"p-{key}")
    status = svc.upload_image(OWNER, pid, data, image_id=key, acquired="2020-01-01")
    assert status["status"] == "success", status["errors"]
    return shapely.from_wkt(svc.catalog.get_record(f"{pid}:{key}")["properties"]["footprintWkt"])


def test_antimeridian_utm_60n_is_split_into_a_multipolygon(svc: Service) -> None:
    data = geotiff(crs="EPSG:32660", transform=from_origin(800000, 1000000, 1000, 1000), width=70)
    shape = _upload_footprint(svc, data, "am")
    assert shape.geom_type == "MultiPolygon" and len(shape.geoms) == 2
    west, _, east, _ = shape.bounds
    assert west == -180 and east == 180
    east_part, west_part = sorted(shape.geoms, key=lambda g: -g.bounds[0])
    assert east_part.bounds[2] == 180 and 179 < east_part.bounds[0] < 180
    assert west_part.bounds[0] == -180 and -180 < west_part.bounds[2] < -179


def test_polar_stereographic_without_the_pole(svc: Service) -> None:
    data = geotiff(crs="EPSG:3413", transform=from_origin(1000000, -900000, 1000, 1000), width=100)
    shape = _upload_footprint(svc, data, "polar")
    assert shape.geom_type == "Polygon" and shape.is_valid
    assert 60 < shape.bounds[1] < shape.bounds[3] < 90


def test_polar_stereographic_over_the_pole_is_closed_through_it(svc: Service) -> None:
    data = geotiff(
        crs="EPSG:3413", transform=from_origin(-100000, 100000, 2000, 2000), width=100, height=100
    )
    shape = _upload_footprint(svc, data, "pole")
    assert shape.is_valid and shape.bounds[3] == 90
    assert shape.bounds[0] == -180 and shape.bounds[2] == 180
    for lon in (-179.0, -90.0, 0.0, 45.0, 135.0, 179.0):
        assert shape.contains(shapely.geometry.Point(lon, 89.5)), lon
    assert not shape.contains(shapely.geometry.Point(0, 88.0))


def test_split_antimeridian_keeps_the_area() -> None:
    ring = [(170.0, 0.0), (-170.0, 0.0), (-170.0, 10.0), (170.0, 10.0), (170.0, 0.0)]
    shape = split_antimeridian(ring)
    assert shape.geom_type == "MultiPolygon" and shape.area == pytest.approx(200.0)


# -- failures leave nothing behind --------------------------------------------------------------


def test_bytes_that_are_not_a_tiff(svc: Service) -> None:
    pid = product(svc)
    status = svc.upload_image(OWNER, pid, b"hello, not a tiff", image_id="s", acquired="2020-01-01")
    assert status["status"] == "failure"
    error = status["errors"][0]
    assert (error["field"], error["code"]) == ("s", "upload.not-geotiff")
    assert error["hint"]
    assert_nothing_left(svc, pid, "s")


def test_a_truncated_tiff(svc: Service) -> None:
    pid = product(svc)
    whole = geotiff(width=256, height=256)
    status = svc.upload_image(
        OWNER, pid, whole[: len(whole) // 2], image_id="s", acquired="2020-01-01"
    )
    assert status["status"] == "failure"
    assert status["errors"][0]["code"] in ("upload.damaged", "upload.not-geotiff")
    assert_nothing_left(svc, pid, "s")


def test_a_crs_that_cannot_be_transformed(svc: Service) -> None:
    pid = product(svc)
    local = CRS.from_wkt('LOCAL_CS["arbitrary",UNIT["metre",1]]')
    status = svc.upload_image(OWNER, pid, geotiff(crs=local), image_id="s", acquired="2020-01-01")
    assert status["status"] == "failure"
    assert [e["code"] for e in status["errors"]] == ["upload.crs"]
    assert "cannot be transformed" in status["errors"][0]["message"]
    assert_nothing_left(svc, pid, "s")


def test_a_full_disk(svc: Service) -> None:
    pid = product(svc)
    written: list[int] = []

    def full(fd: int, chunk: bytes) -> None:
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(os.write(fd, chunk[:100]))

    svc.files.writer = full
    big = geotiff(width=1024, height=1024)  # > one chunk: the second write fails
    status = svc.upload_image(OWNER, pid, big, image_id="s", acquired="2020-01-01")
    assert status["status"] == "failure"
    assert status["errors"][0]["code"] == "storage.full"
    assert "full" in status["errors"][0]["message"]
    assert files_left(svc) == ([], [])  # the temporary file is gone at once
    assert_nothing_left(svc, pid, "s")


def test_a_failure_keeps_a_file_another_image_holds(svc: Service) -> None:
    pid = product(svc, bands=[("red", 1, "UInt16")])
    data = geotiff()
    assert (
        svc.upload_image(OWNER, pid, data, image_id="a", acquired="2020-01-01")["status"]
        == "success"
    )
    other = product(svc, name="bytes", bands=[("red", 1, "Byte")])  # the same bytes do not fit
    assert (
        svc.upload_image(OWNER, other, data, image_id="b", acquired="2020-01-01")["status"]
        == "failure"
    )
    svc.gc()
    assert len(svc.files.hashes()) == 1
    svc.remove_image(OWNER, pid, "a")
    svc.gc()
    assert svc.files.hashes() == []


# -- requests refused before any status --------------------------------------------------------


def test_request_errors_raise_before_a_status(svc: Service) -> None:
    pid = product(svc)
    data = geotiff()
    with pytest.raises(InvalidInput) as caught:
        svc.upload_image(OWNER, pid, data, image_id="s")
    assert caught.value.problems[0].field == "acquired"
    with pytest.raises(InvalidInput) as caught:
        svc.upload_image(OWNER, pid, data, image_id="s", acquired="2020-01-01", cloud_fraction=3)
    assert caught.value.problems[0].field == "cloud_fraction"
    with pytest.raises(Forbidden):
        svc.upload_image(READER, pid, data, image_id="s", acquired="2020-01-01")
    with pytest.raises(NotFound):
        svc.upload_image(STRANGER, pid, data, image_id="s", acquired="2020-01-01")
    with pytest.raises(InvalidInput):
        svc.upload_image(OWNER, pid, data, acquired="2020-01-01")  # bytes name nothing
    assert svc.list_uploads(OWNER, pid)["data"] == []


def test_overwrite(svc: Service) -> None:
    pid = product(svc)
    first = svc.upload_image(OWNER, pid, geotiff(), image_id="s", acquired="2020-01-01")
    assert first["status"] == "success"
    with pytest.raises(Conflict):
        svc.upload_image(OWNER, pid, geotiff(seed=1), image_id="s", acquired="2021-01-01")
    again = svc.upload_image(
        OWNER, pid, geotiff(seed=1), image_id="s", acquired="2021-01-01", overwrite=True
    )
    assert again["status"] == "success"
    assert svc.catalog.get_record(f"{pid}:s")["properties"]["timestamp"] == "2021-01-01"
    svc.gc()
    assert len(svc.files.hashes()) == 1  # the first file is no longer referenced


def test_the_same_bytes_are_stored_once(svc: Service) -> None:
    pid = product(svc)
    data = geotiff()
    for key in ("a", "b"):
        assert (
            svc.upload_image(OWNER, pid, data, image_id=key, acquired="2020-01-01")["status"]
            == "success"
        )
    assert len(svc.files.hashes()) == 1
    svc.remove_image(OWNER, pid, "a")
    svc.gc()
    assert len(svc.files.hashes()) == 1
    svc.remove_image(OWNER, pid, "b")
    svc.gc()
    assert svc.files.hashes() == []


def test_sources_path_file_object_and_names(svc: Service, tmp_path: Path) -> None:
    pid = product(svc)
    path = tmp_path / "scene_001.tif"
    path.write_bytes(geotiff())
    status = svc.upload_image(OWNER, pid, path, acquired="2020-01-01")
    assert (status["id"], status["image_id"], status["status"]) == (
        "scene_001.tif",
        "scene_001",
        "success",
    )
    with open(path, "rb") as file:
        status = svc.upload_image(OWNER, pid, file, image_id="from_file", acquired="2020-01-01")
    assert status["status"] == "success" and status["id"] == "from_file"
    assert svc.get_image(OWNER, pid, "scene_001")["files"] == ["scene_001.tif"]


# -- statuses ------------------------------------------------------------------------------------


def test_status_passes_through_its_states(svc: Service) -> None:
    pid = product(svc)
    seen: list[tuple[str, str]] = []
    svc.upload_hook = lambda stage, status: seen.append(
        (stage, svc.upload_status(OWNER, pid, status["id"])["status"])
    )
    svc.upload_image(OWNER, pid, geotiff(), image_id="s", acquired="2020-01-01")
    assert seen == [("stored", "running"), ("commit", "running")]
    assert svc.upload_status(OWNER, pid, "s")["status"] == "success"
    assert svc.upload_status(READER, pid, "s")["status"] == "success"
    with pytest.raises(NotFound):
        svc.upload_status(STRANGER, pid, "s")


def test_a_hook_that_raises_ends_as_failure(svc: Service) -> None:
    pid = product(svc)

    def boom(stage: str, status: Any) -> None:
        if stage == "commit":
            raise RuntimeError("the database went away")

    svc.upload_hook = boom
    status = svc.upload_image(OWNER, pid, geotiff(), image_id="s", acquired="2020-01-01")
    assert status["status"] == "failure" and status["exception_name"] == "RuntimeError"
    assert "the database went away" in status["errors"][0]["message"]
    assert_nothing_left(svc, pid, "s")


def test_list_uploads_wire_shape_paging_and_status_filter(svc: Service) -> None:
    pid = product(svc)
    for index in range(5):
        data = geotiff(seed=index) if index % 2 == 0 else b"broken"
        svc.upload_image(OWNER, pid, data, image_id=f"s{index}", acquired="2020-01-01")
    seen: list[str] = []
    token = None
    while True:
        answer = svc.list_uploads(OWNER, pid, limit=2, continuation=token)
        assert set(answer) == {"data", "meta"} and "continuation_token" in answer["meta"]
        for item in answer["data"]:
            assert item["type"] == "upload"
            assert item["attributes"]["status"] in ("SUCCESS", "FAILURE")
            assert {"created", "status", "runtime", "exception_name", "failure_type"} <= set(
                item["attributes"]
            )
            seen.append(item["id"])
        token = answer["meta"]["continuation_token"]
        if token is None:
            break
    assert seen == [f"s{i}" for i in range(5)]
    failed = svc.list_uploads(OWNER, pid, status="FAILURE")["data"]
    assert [u["id"] for u in failed] == ["s1", "s3"]
    with pytest.raises(InvalidInput):
        svc.list_uploads(OWNER, pid, status="DONE")
    with pytest.raises(NotFound):
        svc.list_uploads(STRANGER, pid)


# -- ndarray and multi-file -----------------------------------------------------------------------


def test_upload_ndarray_bands_last(svc: Service) -> None:
    pid = product(svc, bands=[("red", 1, "UInt16"), ("nir", 2, "UInt16")])
    array = np.arange(8 * 6 * 2, dtype="uint16").reshape(8, 6, 2)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    status = svc.upload_ndarray(
        OWNER, pid, buffer.getvalue(), "nd_scene",
        geotrans=[-105.0, 0.001, 0.0, 40.1, 0.0, -0.001],
        proj4="+proj=longlat +datum=WGS84 +no_defs", acquired="2020-10-01T00:00:00Z",
    )  # fmt: skip
    assert (status["id"], status["status"]) == ("nd_scene.tif", "success"), status["errors"]
    assert svc.upload_status(OWNER, pid, "nd_scene.tif")["status"] == "success"
    image = svc.get_image(OWNER, pid, "nd_scene")
    assert image["raster_size"] == [6, 8] and image["band_count"] == 2
    with rasterio.open(svc.files.path(image["file_sha256s"][0])) as dataset:
        assert dataset.read(2)[1, 0] == array[1, 0, 1]  # the last axis is the band
    with pytest.raises(InvalidInput) as caught:
        svc.upload_ndarray(OWNER, pid, b"nonsense", "x", geotrans=[0, 1, 0, 0, 0, -1])
    assert {p.field for p in caught.value.problems} == {"ndarray", "proj4"}


def test_multi_file_makes_one_image_once_every_part_arrived(svc: Service, tmp_path: Path) -> None:
    pid = product(svc, bands=[("red", 1, "UInt16"), ("nir", 1, "UInt16")])
    svc.change_band(OWNER, pid, "nir", srcfile=1)
    group = {"image_files": ["a.tif", "b.tif"], "image_id": "scene_multi"}
    for index, name in enumerate(group["image_files"]):
        (tmp_path / name).write_bytes(geotiff(seed=index))
    first = svc.upload_image(
        OWNER, pid, tmp_path / "a.tif", multi_file=group, acquired="2020-01-01"
    )
    assert first["status"] == "pending" and first["waiting_for"] == ["b.tif"]
    svc.gc()
    assert len(svc.files.hashes()) == 1  # a waiting part's file is kept
    with pytest.raises(NotFound):
        svc.get_image(OWNER, pid, "scene_multi")
    second = svc.upload_image(
        OWNER, pid, tmp_path / "b.tif", multi_file=group, acquired="2020-01-01"
    )
    assert second["status"] == "success", second["errors"]
    assert svc.upload_status(OWNER, pid, "a.tif")["status"] == "success"
    image = svc.get_image(OWNER, pid, "scene_multi")
    assert image["files"] == ["a.tif", "b.tif"] and len(image["file_sha256s"]) == 2
    assert svc.catalog.get_record(f"{pid}:scene_multi")["properties"]["bands"] == ["nir", "red"]


# -- images as records: metadata, grants, cascade ------------------------------------------------


def test_add_image_metadata_and_its_record(svc: Service) -> None:
    pid = product(svc)
    body = {
        "acquired": "2020-03-01T10:00:00Z",
        "geometry": '{"type":"Polygon","coordinates":[[[-105.0,40.0],[-104.9,40.0],'
        "[-104.9,40.1],[-105.0,40.1],[-105.0,40.0]]]}",
        "cs_code": "EPSG:4326",
        "sat_id": "SAT-1",
        "raster_size": [16, 16],
        "geotrans": [-105.0, 0.001, 0, 40.1, 0, -0.001],
        "files": ["gs://bucket/img_a.tif"],
        "extra_properties": {"tile": "img_a", "score": 3},
        "cloud_fraction": 0.05,
        "storage_state": "available",
    }
    image = svc.add_image(OWNER, pid, "img_a", **body)
    assert image["geometry"]["type"] == "Polygon"  # JSON text arrives as an object
    props = svc.catalog.get_record(f"{pid}:img_a")["properties"]
    assert (props["tile"], props["score"], props["sat_id"], props["cloudCover"]) == (
        "img_a",
        3,
        "SAT-1",
        5.0,
    )
    with pytest.raises(Conflict):
        svc.add_image(OWNER, pid, "img_a", **body)
    with pytest.raises(InvalidInput) as caught:
        svc.add_image(OWNER, pid, "bad", **{**body, "extra_properties": {"footprintWkt": "x"}})
    assert caught.value.problems[0].field == "extra_properties.footprintWkt"
    svc.change_image(OWNER, pid, "img_a", cloud_fraction=0.5)
    assert svc.catalog.get_record(f"{pid}:img_a")["properties"]["cloudCover"] == 50.0
    with pytest.raises(Forbidden):
        svc.change_image(READER, pid, "img_a", cloud_fraction=0.1)


def test_records_follow_the_products_grants_and_cascade(svc: Service) -> None:
    pid = product(svc)
    svc.upload_image(OWNER, pid, geotiff(), image_id="s", acquired="2020-01-01")
    ident = f"{pid}:s"
    assert svc.catalog.get_record(ident, readers=READER.names)["identifier"] == ident
    with pytest.raises(RecordNotFound):
        svc.catalog.get_record(ident, readers=STRANGER.names)
    svc.change_product(OWNER, pid, read=[STRANGER.user])  # the records follow the product
    assert svc.catalog.get_record(ident, readers=STRANGER.names)["identifier"] == ident
    with pytest.raises(RecordNotFound):
        svc.catalog.get_record(ident, readers=READER.names)
    assert svc.get_image(OWNER, pid, "s")["read"] == ["group:readers"]  # copied only on request
    svc.set_global_permissions(OWNER, pid)
    assert svc.get_image(OWNER, pid, "s")["read"] == [STRANGER.user]
    svc.replace_product(OWNER, pid, title="t", description="d")  # read: back to []
    with pytest.raises(RecordNotFound):
        svc.catalog.get_record(ident, readers=STRANGER.names)
    assert svc.catalog.get_record(ident, readers=OWNER.names)["identifier"] == ident
    with pytest.raises(InvalidInput):  # 400, as the Descartes service answered
        svc.remove_product(OWNER, pid)
    svc.remove_product(OWNER, pid, cascade=True)
    with pytest.raises(RecordNotFound):
        svc.catalog.get_record(ident)
    svc.gc()
    assert files_left(svc) == ([], [])


# -- the client's own files ------------------------------------------------------------------------


def test_the_files_the_client_uploaded(svc: Service) -> None:
    folder = require_shared(SHARED_DIR / "descartes-v1" / "files")
    names = sorted(p.name for p in folder.glob("*.tif"))
    assert names, f"no GeoTIFF in {folder}"
    with rasterio.open(folder / names[0]) as dataset:
        dtype = {v: k for k, v in BAND_DTYPES.items()}[dataset.dtypes[0]]
    pid = product(svc, bands=[("b1", 1, dtype)])
    for name in names:
        status = svc.upload_image(OWNER, pid, folder / name, acquired="2020-08-01T00:00:00Z")
        assert status["status"] == "success", (name, status["errors"])
        key = name.removesuffix(".tif")
        assert svc.get_image(OWNER, pid, key)["file_sizes"] == [(folder / name).stat().st_size]


# -- a crash (SIGKILL) mid-upload, then reopening --------------------------------------------------

_CHILD = """
import sys, time, pathlib
import catalogql as cq
from catalogql.service import Principal
url, storage, marker, stage, pid, source = sys.argv[1:7]
svc = cq.open_service(url, storage=storage)
def stop(where):
    pathlib.Path(marker + ".tmp").write_text(where)
    pathlib.Path(marker + ".tmp").rename(marker)  # whole when it appears
    time.sleep(600)
if stage == "rename":
    svc.files.before_rename = lambda path: stop("rename")
else:
    svc.upload_hook = lambda s, status: stop(s) if s == stage else None
svc.upload_image(Principal("alice"), pid, pathlib.Path(source), image_id="big",
                 acquired="2020-01-01")
"""


@pytest.mark.parametrize("new_catalog", DURABLE_STORES, indirect=True)
@pytest.mark.parametrize("stage", ["rename", "stored", "commit"])
def test_sigkill_mid_upload_then_reopen(new_catalog: Factory, tmp_path: Path, stage: str) -> None:
    catalog = new_catalog()
    storage = tmp_path / "files"
    svc = cq.open_service(catalog, storage=storage)
    pid = product(svc)
    source = tmp_path / "big.tif"
    source.write_bytes(geotiff(width=2048, height=1024))  # 4 MB
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD), catalog.url, str(storage), str(marker),
         stage, pid, str(source)],
        env=env, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child ended early: {child.communicate()[1].decode()[-2000:]}")
        time.sleep(0.05)
    assert marker.read_text() == stage
    child.send_signal(signal.SIGKILL)
    child.wait()
    if stage == "rename":
        assert svc.files.temporary_files()  # the half-done write is there before recovery
    else:
        assert len(svc.files.hashes()) == 1  # stored, not committed
    reopened = cq.open_service(catalog.url, storage=storage)  # startup recovery
    try:
        status = reopened.upload_status(OWNER, pid, "big")
        assert status["status"] == "failure"
        assert [e["code"] for e in status["errors"]] == ["upload.interrupted"]
        assert "interrupted" in status["errors"][0]["message"]
        assert files_left(reopened) == ([], [])
        assert_nothing_left(reopened, pid, "big")
        again = reopened.upload_image(OWNER, pid, source, image_id="big", acquired="2020-01-01")
        assert again["status"] == "success"
    finally:
        reopened.close()


# -- Catalog.remove_records (what images' removal and cascades use) ------------------------------


def _point(identifier: str, labels: list[str]) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type": labels,
        "properties": {"timestamp": "2020-01-01T00:00:00Z", "footprintWkt": "POINT (1 2)"},
    }


def test_remove_records_on_every_store(new_catalog: Factory) -> None:
    catalog = new_catalog()
    catalog.add_records([_point(f"r{i}", ["L"] if i < 2 else ["M"]) for i in range(5)])
    with pytest.raises(KeyError), catalog.transaction():
        assert catalog.remove_records(["r4", "nope"], type_label="L") == 3
        raise KeyError("rolled back")
    assert len(catalog) == 5
    with catalog.transaction():
        catalog.add_records([_point("new", ["L"])])
        assert catalog.remove_records(["r4"], type_label="L") == 4  # the unit's own record too
    assert len(catalog) == 2
    found = catalog.search({"searchAreaWkt": "POLYGON((0 0,3 0,3 3,0 3,0 0))"})
    assert sorted(r["identifier"] for r in found["results"]) == ["r2", "r3"]
    assert found["stats"]["typeCounts"]["M"] == 2 and "L" not in found["stats"]["typeCounts"]
    catalog.add_records([_point("r0", ["L"])], readers=["group:x"])
    restricted = catalog.search({}, readers=["group:x"])
    assert [r["identifier"] for r in restricted["results"]] == ["r0"]
    assert catalog.remove_records([]) == 0
    with pytest.raises(InvalidInput):
        catalog.remove_records("r0")
    assert catalog.remove_records(type_label="L") == 1 and len(catalog) == 2
    assert catalog.search({}, readers=["group:x"])["results"] == []


def test_a_failed_part_fails_the_parts_waiting_for_it(svc: Service, tmp_path: Path) -> None:
    pid = product(svc, bands=[("red", 1, "UInt16"), ("nir", 1, "UInt16")])
    svc.change_band(OWNER, pid, "nir", srcfile=1)
    group = {"image_files": ["a.tif", "b.tif"], "image_id": "scene_multi"}
    (tmp_path / "a.tif").write_bytes(geotiff())
    (tmp_path / "b.tif").write_bytes(b"II*\x00 broken")
    first = svc.upload_image(
        OWNER, pid, tmp_path / "a.tif", multi_file=group, acquired="2020-01-01"
    )
    assert first["status"] == "pending"
    second = svc.upload_image(
        OWNER, pid, tmp_path / "b.tif", multi_file=group, acquired="2020-01-01"
    )
    assert second["status"] == "failure" and second["errors"][0]["field"] == "b.tif"
    waiting = svc.upload_status(OWNER, pid, "a.tif")
    assert waiting["status"] == "failure"
    assert [e["code"] for e in waiting["errors"]][:1] == ["upload.part-failed"]
    assert_nothing_left(svc, pid, "scene_multi")
    with pytest.raises(InvalidInput) as caught:
        svc.upload_image(OWNER, pid, tmp_path / "a.tif", acquired="2020-01-01",
                         multi_file={"image_files": ["x.tif"], "image_id": "m"})  # fmt: skip
    assert caught.value.problems[0].field == "multi_file.image_files"


def test_ndarray_int8_fits_an_int16_band(svc: Service) -> None:
    pid = product(svc, bands=[("t", 1, "Int16")])
    array = np.full((4, 4), -5, dtype="int8")
    status = svc.upload_ndarray(
        OWNER, pid, array, "cold", geotrans=[10.0, 0.1, 0.0, 5.0, 0.0, -0.1],
        wkt_srs=CRS.from_epsg(4326).to_wkt(), acquired="2020-01-01",
    )  # fmt: skip
    assert status["status"] == "success", status["errors"]
    assert svc.get_image(OWNER, pid, "cold")["band_dtypes"] == ["int8"]
    record = svc.catalog.get_record(f"{pid}:cold")
    assert shapely.from_wkt(record["properties"]["footprintWkt"]).bounds == (10.0, 4.6, 10.4, 5.0)


def test_two_threads_uploading_one_image_id(svc: Service) -> None:
    import threading

    pid = product(svc)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def upload(seed: int) -> None:
        barrier.wait()
        try:
            outcomes.append(
                svc.upload_image(
                    OWNER, pid, geotiff(seed=seed), image_id="same", acquired="2020-01-01"
                )["status"]
            )
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=upload, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["conflict", "success"], ["failure", "success"])
    assert len(svc.list_images(OWNER, pid)[0]) == 1
    svc.gc()
    assert len(svc.files.hashes()) == 1
