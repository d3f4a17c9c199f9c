"""The Descartes Labs Catalog story of the seed, run on a catalog given by URL, each step asserted.

    python examples/seed_story.py sqlite:///story.db [--storage DIR]
    python examples/seed_story.py memory://
    python examples/seed_story.py postgresql://user@host/db --storage /var/tmp/story-files

It uses only the public API (``import catalogql as cq``), with rasterio and numpy to make the
GeoTIFFs it uploads. The story (the seed, ``000_e532961e37b628f0.txt``): create a product
(private to its creator by default), add its bands (dtype, nbits, data range, srcband of a
multiband file), upload GeoTIFFs, find them with search (GBDX and Metadata), grant read access to
a group, see that a stranger sees nothing, and remove the product with cascade. It prints one
line per step and exits 0, or stops at the first step that does not hold (an AssertionError
naming it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import catalogql as cq

AREA = "POLYGON ((-105.1 39.9, -104.8 39.9, -104.8 40.1, -105.1 40.1, -105.1 39.9))"
"""The search area: the scenes below lie in it (UTM zone 13N, north of Denver)."""

SCENES = {  # key: (upper-left easting, northing in EPSG:32613 metres, acquired, cloud fraction)
    "scene_a": (500_000.0, 4_430_000.0, "2020-06-01T17:40:00Z", 0.05),
    "scene_b": (501_920.0, 4_430_000.0, "2020-06-17T17:40:00Z", 0.30),
}


def write_geotiff(path: Path, west: float, north: float) -> Path:
    """A 64 x 64 GeoTIFF of 3 UInt16 bands (30 m pixels, EPSG:32613) at ``path``."""
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    ramp = np.add.outer(np.arange(64), np.arange(64)).astype("uint16")
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint16",
        crs="EPSG:32613", transform=Affine(30.0, 0.0, west, 0.0, -30.0, north),
    ) as raster:  # fmt: skip
        raster.write(np.stack([ramp, ramp * 2, ramp * 3]))
    return path


def found(svc: cq.Service, who: cq.Principal, product_id: str) -> list[str]:
    """The image keys of a product that ``who`` finds with a GBDX search over :data:`AREA`."""
    body = {"searchAreaWkt": AREA, "types": ["UserImage"],
            "filters": [f"product = '{product_id}'"]}  # fmt: skip
    answer = svc.search(who, body)  # only what ``who`` may read, decided in the store's query
    return sorted(record["properties"]["key"] for record in answer["results"])


def metadata_found(svc: cq.Service, who: cq.Principal, product_id: str) -> list[str]:
    """The image ids of a product that ``who`` finds with the Descartes Metadata search."""
    body = {"products": [product_id], "geom": AREA, "limit": 1}
    ids: list[str] = []
    features, token = svc.metadata_search(who, body)
    while True:  # one feature a page: the continuation tokens page through them all
        ids.extend(feature["id"] for feature in features)
        if token is None:
            return sorted(ids)
        features, token = svc.metadata_search(who, {**body, "continuation_token": token})


def refuses(error: type[cq.CatalogqlError], call: Callable[[], Any]) -> cq.CatalogqlError:
    """The error ``call`` raises, asserted to be an ``error``."""
    try:
        call()
    except error as raised:
        return raised
    raise AssertionError(f"expected {error.__name__}, and the call succeeded")


def story(
    url: str, storage: str | Path | None = None, *, say: Callable[[str], None] = print
) -> None:
    """Run the seed's story on the catalog at ``url`` (``storage``: where uploads go)."""
    alice = cq.Principal("alice", email="alice@example.com", groups=["mapping"])
    bob = cq.Principal("bob", groups=["readers"])  # a colleague: his group is granted read
    mallory = cq.Principal("mallory", org="elsewhere")  # a stranger: never granted anything
    with (
        tempfile.TemporaryDirectory(prefix="seed-story-") as scratch,
        cq.open_service(
            url, storage=storage if storage is not None else Path(scratch) / "files"
        ) as svc,
    ):
        # 1. a new product, with optional metadata; by default only its creator reads it
        product = svc.add_product(
            alice, "story_landcover", title="Land cover classes", description="Seed story",
            spectral_bands=3, resolution="30m", revisit="16 days",
        )  # fmt: skip
        pid = product["id"]
        assert pid == f"{alice.namespace}:story_landcover", pid
        assert product["read"] == [] and product["owners"] == [alice.user], product
        assert [p["id"] for p in svc.list_products(alice)[0]] == [pid]
        say(f"1. product {pid}: private to alice")

        # 2. bands: dtype, nbits, data range; srcband says which band of a multiband file
        for srcband, name in enumerate(("red", "green", "blue"), start=1):
            band = svc.add_band(alice, pid, name, srcband=srcband, dtype="UInt16", nbits=14,
                                data_range=[0, 10000], type="spectral")  # fmt: skip
            assert band["id"] == f"{pid}:{name}" and band["srcband"] == srcband
        invalid = refuses(
            cq.InvalidInput,
            lambda: svc.add_band(alice, pid, "nir", srcband=4, dtype="Byte",
                                 data_range=[0, 300], type="spectral"),
        )  # fmt: skip
        assert invalid.problems[0].field == "data_range[1]", invalid.problems
        bands = sorted((b["srcband"], b["name"]) for b in svc.list_bands(alice, pid)[0])
        assert bands == [(1, "red"), (2, "green"), (3, "blue")], bands
        say("2. bands red, green, blue (srcband 1-3, UInt16); a Byte band over 255 refused")

        # 3. uploads: one call per file; each status ends in success
        for key, (west, north, acquired, cloud) in SCENES.items():
            path = write_geotiff(Path(scratch) / f"{key}.tif", west, north)
            status = svc.upload_image(alice, pid, path, acquired=acquired, cloud_fraction=cloud)
            assert status["status"] == "success", status
            assert svc.upload_status(alice, pid, f"{key}.tif")["status"] == "success"
            image = svc.get_image(alice, pid, key)
            assert image["raster_size"] == [64, 64] and image["cs_code"] == "EPSG:32613", image
        images = svc.list_images(alice, pid)[0]
        stored = {sha for image in images for sha in image["file_sha256s"]}
        keys = sorted(image["id"] for image in images)
        assert keys == [f"{pid}:{key}" for key in sorted(SCENES)], keys
        failed = svc.upload_image(alice, pid, b"not a tiff", image_id="junk",
                                  acquired="2020-06-01T00:00:00Z")  # fmt: skip
        assert failed["status"] == "failure" and failed["errors"], failed
        refuses(cq.NotFound, lambda: svc.get_image(alice, pid, "junk"))
        say(f"3. uploaded {', '.join(f'{k}.tif' for k in SCENES)}; a non-TIFF failed, leaving "
            "no image")  # fmt: skip

        # 4. search: the owner finds them; her colleague not yet
        assert found(svc, alice, pid) == sorted(SCENES)
        assert metadata_found(svc, alice, pid) == [f"{pid}:{key}" for key in sorted(SCENES)]
        assert svc.summary(alice, {"products": [pid]})["count"] == len(SCENES)
        assert found(svc, bob, pid) == [] and metadata_found(svc, bob, pid) == []
        refuses(cq.NotFound, lambda: svc.get_product(bob, pid))
        say("4. a search over the area (GBDX and Metadata) finds both for alice, nothing for bob")

        # 5. grants: read for bob's group, copied to the bands and images
        svc.change_product(alice, pid, read=["group:readers"], set_global_permissions=True)
        assert found(svc, bob, pid) == sorted(SCENES)
        assert len(metadata_found(svc, bob, pid)) == len(SCENES)
        assert svc.get_image(bob, pid, "scene_a")["id"] == f"{pid}:scene_a"
        assert svc.get_record(bob, f"{pid}:scene_a")["properties"]["cloudCover"] == 5
        assert svc.get_band(bob, pid, "red")["read"] == ["group:readers"]
        refuses(cq.Forbidden, lambda: svc.change_product(bob, pid, title="mine now"))
        say("5. read granted to group:readers: bob finds both, and may not write")

        # 6. a stranger sees nothing, and cannot tell the product exists
        assert found(svc, mallory, pid) == [] and metadata_found(svc, mallory, pid) == []
        assert svc.search(mallory, {"types": ["UserImage"]})["stats"]["typeCounts"] == {}
        assert svc.summary(mallory, {"products": [pid]})["count"] == 0
        refuses(cq.RecordNotFound, lambda: svc.get_record(mallory, f"{pid}:scene_a"))
        assert svc.list_products(mallory)[0] == []
        missing = refuses(cq.NotFound, lambda: svc.get_product(mallory, pid))
        never = refuses(cq.NotFound, lambda: svc.get_product(mallory, f"{alice.namespace}:none"))
        assert missing.message.replace(pid, "X") == never.message.replace(
            f"{alice.namespace}:none", "X"
        )
        refuses(cq.NotFound, lambda: svc.get_image(mallory, pid, "scene_a"))
        refuses(cq.NotFound, lambda: svc.remove_product(mallory, pid, cascade=True))
        say("6. mallory finds nothing; the product answers her as a missing one does")

        # 7. removal: refused while it holds bands and images, then with cascade
        refuses(cq.InvalidInput, lambda: svc.remove_product(alice, pid))
        refuses(cq.Forbidden, lambda: svc.remove_product(bob, pid, cascade=True))
        task = svc.remove_product(alice, pid, cascade=True)
        assert task is not None
        status = svc.product_deletion_status(alice, task["deletion_task"])
        assert status["completed"] is True and status["response"]["failures"] == [], status
        refuses(cq.NotFound, lambda: svc.get_product(alice, pid))
        assert found(svc, alice, pid) == [] and found(svc, bob, pid) == []
        assert svc.catalog.search({"filters": [f"product = '{pid}'"]})["results"] == []
        collected = svc.gc()  # the files of the removed images (and of the failed upload)
        assert stored <= set(collected["removed_files"]), (stored, collected)
        assert svc.gc()["removed_files"] == []
        say(f"7. removed with cascade ({status['response']['deleted']} objects): its records "
            f"gone, and its {len(stored)} files at the next gc")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the story on the catalog the command line names."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="memory://, sqlite:///FILE.db or postgresql://...")
    parser.add_argument("--storage", help="where uploaded files go (default: a temporary folder)")
    args = parser.parse_args(argv)
    story(args.url, args.storage)
    print("the story holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
