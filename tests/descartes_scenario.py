"""A user's session with the real, unchanged ``descarteslabs==1.12.1`` client, step by step.

Run it with the client's python (``tests/descartes_client.py`` builds that venv) and only
the environment of WIRE.md section 0::

    DESCARTESLABS_ENV=gcp-production DESCARTESLABS_PLATFORM_URL=http://127.0.0.1:8000 \\
    DESCARTESLABS_TOKEN=<jwt> python descartes_scenario.py --second-token <jwt of another user> \\
        [--reader-token <jwt of a user in group:readers>] [--tif FILE]... [--tag TAG]

``Catalog()`` and ``Metadata()`` are made without arguments, as a user's script makes them, so the
same script runs against any server. Each step prints one JSON line on standard output:
``{"step", "ok", "value" (what came back, summarised) | "error" (the exception's class name) and
"message", "seconds"}``. ``ok`` is false when a step raised what it did not expect (or did not
raise what it expected); the script goes on, so that one run shows every step, and exits 1 if
any step was not ok. ``tests/test_descartes_client.py`` runs it and checks each step's value.

The product is ``scenes-<tag>`` in the caller's namespace; ``--tif`` files (3 bands of uint16,
as the bands the scenario adds) are uploaded as images ``tif_0``, ``tif_1``, ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable
from typing import Any

warnings.simplefilter("ignore")  # the client's deprecation warnings are not the scenario's output

BOX = [[-105.5, 39.5], [-104.5, 39.5], [-104.5, 40.5], [-105.5, 40.5], [-105.5, 39.5]]
WKT_BOX = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in BOX) + "))"
FAR_AWAY = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}
WAIT_SECONDS = 60.0  # for uploads and the deletion task to finish

failures = 0


def step(
    name: str,
    action: Callable[[], Any],
    show: Callable[[Any], Any] = lambda value: value,
    raises: str | None = None,
) -> Any:
    """Run one step, print its JSON line, and return what it returned (None if it raised)."""
    global failures
    started = time.monotonic()
    line: dict[str, Any] = {"step": name}
    value = None
    try:
        value = action()
    except Exception as exc:
        line.update(error=type(exc).__name__, message=str(exc)[:500])
        if getattr(exc, "original_status", None) is not None:  # the client's ServerError
            line["status"] = exc.original_status
        line["ok"] = type(exc).__name__ == raises
        if raises is None:
            line["traceback"] = traceback.format_exc()[-1500:]
    else:
        try:
            line["value"] = show(value)
        except Exception as exc:  # the answer had an unexpected shape
            line.update(error=type(exc).__name__, message=f"reading the answer: {exc}")
            line["ok"] = False
        else:
            line["ok"] = raises is None
    line["seconds"] = round(time.monotonic() - started, 3)
    failures += not line["ok"]
    print(json.dumps(line, default=str), flush=True)
    return value


def until(probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Call ``probe`` until ``done`` says its answer is final (at most WAIT_SECONDS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = probe()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def ids_of(features: Any) -> list[str]:
    return sorted(feature["id"] for feature in features)


def keys_of(features: Any) -> list[str]:
    """The image keys (the part after the product id) of some features, sorted."""
    return sorted(feature["id"].rsplit(":", 1)[1] for feature in features)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--second-token", required=True, help="a token of a user with no grants")
    parser.add_argument("--reader-token", help="a token of a user in group:readers")
    parser.add_argument("--tif", action="append", default=[], help="a GeoTIFF to upload")
    parser.add_argument("--tag", default=uuid.uuid4().hex[:8], help="the product's suffix")
    args = parser.parse_args()

    import numpy as np
    import shapely.geometry
    from descarteslabs.client.auth import Auth
    from descarteslabs.client.services.catalog import Catalog
    from descarteslabs.client.services.metadata import Metadata
    from descarteslabs.client.services.metadata import properties as p

    catalog, metadata = Catalog(), Metadata()  # URLs and token from the environment only
    namespace = Auth().namespace
    step("whoami", lambda: {"namespace": namespace, "url": catalog.base_url})

    def product_doc(answer: Any) -> dict[str, Any]:
        attributes = answer["data"]["attributes"]
        return {
            "id": answer["data"]["id"],
            "type": answer["data"]["type"],
            "title": attributes.get("title"),
            "read": attributes.get("read"),
        }

    name = f"scenes-{args.tag}"
    made = step(
        "add_product",
        lambda: catalog.add_product(
            name,
            title="Scenes",
            description="the scenario's product",
            read=["group:readers"],
            tags=["scenario"],
            start_datetime="2020-01-01",
        ),
        product_doc,
    )
    pid = made["data"]["id"] if made else f"{namespace}:{name}"
    step("add_product again", lambda: catalog.add_product(name, "t", "d"), raises="ConflictError")
    step("get_product", lambda: catalog.get_product(pid), product_doc)

    def band_doc(answer: Any) -> dict[str, Any]:
        attributes = answer["data"]["attributes"]
        return {
            "id": answer["data"]["id"],
            "srcband": attributes.get("srcband"),
            "dtype": attributes.get("dtype"),
            "description": attributes.get("description"),
        }

    for srcband, band in enumerate(("red", "green", "blue"), start=1):
        step(
            f"add_band {band}",
            lambda band=band, srcband=srcband: catalog.add_band(
                pid,
                band,
                srcband=srcband,
                dtype="UInt16",
                data_range=[0, 10000],
                type="spectral",
                nodata=0,
                color=band.capitalize(),
            ),
            band_doc,
        )
    step(
        "add_band outside its dtype",
        lambda: catalog.add_band(
            pid, "nir", srcband=4, dtype="Byte", data_range=[0, 300], type="spectral"
        ),
        raises="BadRequestError",
    )
    step("get_band", lambda: catalog.get_band(pid, "red"), band_doc)
    step(
        "change_band", lambda: catalog.change_band(pid, "red", description="the red one"), band_doc
    )
    step(
        "replace_band",
        lambda: catalog.replace_band(
            pid,
            "green",
            srcband=2,
            dtype="UInt16",
            data_range=[0, 10000],
            type="spectral",
            nodata=0,
        ),
        band_doc,
    )
    step(
        "add_band spare",
        lambda: catalog.add_band(
            pid, "spare", srcband=1, dtype="UInt16", data_range=[0, 10000], type="spectral"
        ),
        band_doc,
    )
    step("remove_band spare", lambda: catalog.remove_band(pid, "spare"), lambda value: value)
    step("get_band removed", lambda: catalog.get_band(pid, "spare"), raises="NotFoundError")
    step("get_bands_by_product", lambda: metadata.get_bands_by_product(pid), sorted)

    # Uploads: the GeoTIFFs, then an ndarray; the server processes them, we wait for the results.
    uploads = []
    months = iter(range(8, 13))
    for index, path in enumerate(args.tif):
        month = next(months)
        cloud = round(0.1 * (index + 1), 2)
        uploaded = step(
            f"upload_image tif_{index}",
            lambda path=path, index=index, month=month, cloud=cloud: catalog.upload_image(
                path,
                pid,
                image_id=f"tif_{index}",
                acquired=f"2020-{month:02d}-01T00:00:00Z",
                cloud_fraction=cloud,
            ),
        )
        uploads.append(uploaded)
    array = (np.arange(16 * 16 * 3, dtype="uint16") % 1000).reshape(16, 16, 3)
    uploads.append(
        step(
            "upload_ndarray",
            lambda: catalog.upload_ndarray(
                array,
                pid,
                "nd_scene",
                proj4="+proj=longlat +datum=WGS84 +no_defs",
                geotrans=[-105.0, 0.001, 0.0, 40.1, 0.0, -0.001],
                acquired="2020-12-15T00:00:00Z",
                cloud_fraction=0.0,
            ),
        )
    )

    def statuses(answer: Any) -> dict[str, str]:
        return {item["id"]: str(item["attributes"]["status"]).upper() for item in answer["data"]}

    finished = {"SUCCESS", "FAILURE"}
    step(
        "upload_results until done",
        lambda: until(
            lambda: catalog.upload_results(pid, limit=100),
            lambda answer: (
                len(answer["data"]) >= len(uploads) and set(statuses(answer).values()) <= finished
            ),
        ),
        statuses,
    )
    step(
        "upload_results limit 1",
        lambda: catalog.upload_results(pid, limit=1),
        lambda answer: {
            "count": len(answer["data"]),
            "more": answer["meta"]["continuation_token"] is not None,
        },
    )
    step(
        "iter_upload_results",
        lambda: list(catalog.iter_upload_results(pid)),
        lambda items: sorted(item["id"] for item in items),
    )
    step(
        "upload_result nd_scene.tif",
        lambda: catalog.upload_result(pid, "nd_scene.tif"),
        lambda answer: {
            "id": answer["data"]["id"],
            "status": str(answer["data"]["attributes"]["status"]).upper(),
        },
    )
    step(
        "add_image metadata only",
        lambda: catalog.add_image(
            pid,
            "meta_only",
            acquired="2021-02-01T00:00:00Z",
            cloud_fraction=0.6,
            geometry={"type": "Polygon", "coordinates": [BOX]},
        ),
        lambda answer: answer["data"]["id"],
    )
    total = len(args.tif) + 2  # the GeoTIFFs, the ndarray, the metadata-only image

    # Metadata search: geom in its three forms, dates, q, paging, fields.
    def features(answer: Any) -> list[str]:
        return keys_of(answer["features"])

    geometry = {"type": "Polygon", "coordinates": [BOX]}
    step("search geom dict", lambda: metadata.search(products=[pid], geom=geometry), features)
    step(
        "search geom shapely",
        lambda: metadata.search(products=[pid], geom=shapely.geometry.shape(geometry)),
        features,
    )
    step("search geom wkt", lambda: metadata.search(products=[pid], geom=WKT_BOX), features)
    step("search geom far away", lambda: metadata.search(products=[pid], geom=FAR_AWAY), features)
    step(
        "search dates",
        lambda: metadata.search(
            products=[pid], start_datetime="2020-08-15", end_datetime="2020-12-31"
        ),
        features,
    )
    step("search q", lambda: metadata.search(products=[pid], q=p.cloud_fraction < 0.15), features)
    step(
        "search q any_of and range",
        lambda: metadata.search(
            products=[pid],
            q=[p.key.any_of(["nd_scene", "meta_only", "tif_0"]), p.cloud_fraction >= 0.05],
        ),
        features,
    )
    step(
        "search desc limit 2",
        lambda: metadata.search(products=[pid], sort_field="acquired", sort_order="desc", limit=2),
        lambda answer: [f["id"].rsplit(":", 1)[1] for f in answer["features"]],
    )
    step(
        "search fields",
        lambda: metadata.search(products=[pid], fields=["acquired", "cloud_fraction"], limit=1),
        lambda answer: {
            "keys": sorted(answer["features"][0]),
            "properties": sorted(answer["features"][0].get("properties", {})),
        },
    )
    step(
        "features batch_size 2",
        lambda: list(metadata.features(products=[pid], batch_size=2)),
        keys_of,
    )

    def pages() -> list[int]:
        sizes, token = [], None
        for _ in range(100):
            page = metadata.paged_search(products=[pid], limit=2, continuation_token=token)
            sizes.append(len(page["features"]))
            token = page.get("properties", {}).get("continuation_token")
            if not page["features"] or not token:
                break
        return sizes

    step("paged_search limit 2", pages)
    step(
        "ids",
        lambda: metadata.ids(products=[pid], q=p.cloud_fraction < 0.5),
        lambda ids: sorted(i.rsplit(":", 1)[1] for i in ids),
    )
    step(
        "summary",
        lambda: metadata.summary(products=[pid]),
        lambda answer: {"count": answer["count"], "products": answer.get("products")},
    )
    step(
        "summary by month",
        lambda: metadata.summary(products=[pid], interval="month"),
        lambda answer: [(item["date"][:7], item["count"]) for item in answer["items"]],
    )
    step(
        "get",
        lambda: metadata.get(f"{pid}:nd_scene"),
        lambda image: {
            "id": image["id"],
            "product": image.get("product"),
            "acquired": image.get("acquired"),
            "key": image.get("key"),
        },
    )
    step(
        "get_by_ids",
        lambda: metadata.get_by_ids([f"{pid}:nd_scene", f"{pid}:meta_only", f"{pid}:missing"]),
        keys_of,
    )
    step("metadata get_product", lambda: metadata.get_product(pid), lambda product: product["id"])
    step(
        "products",
        lambda: metadata.products(limit=1000),
        lambda products: pid in [product["id"] for product in products],
    )
    step("available_products", lambda: metadata.available_products(), lambda ids: pid in ids)
    step("own_products", lambda: catalog.own_products(), lambda ps: [q["id"] for q in ps])
    step("metadata bands", lambda: metadata.bands(products=[pid]), lambda bs: ids_of(bs))
    step("metadata get_band", lambda: metadata.get_band(f"{pid}:red"), lambda band: band["id"])
    step(
        "get_bands_by_id",
        lambda: metadata.get_bands_by_id(f"{pid}:nd_scene"),
        lambda bands: sorted(bands),
    )

    # Changes: product, image; removal of an image.
    step(
        "change_product", lambda: catalog.change_product(pid, title="Scenes (changed)"), product_doc
    )
    step(
        "replace_product",
        lambda: catalog.replace_product(
            pid, "Scenes (replaced)", "replaced", read=["group:readers"]
        ),
        product_doc,
    )
    step(
        "change_image",
        lambda: catalog.change_image(pid, "meta_only", cloud_fraction=0.12),
        lambda answer: answer["data"]["attributes"].get("cloud_fraction"),
    )
    step(
        "get changed image",
        lambda: metadata.get(f"{pid}:meta_only"),
        lambda image: image.get("cloud_fraction"),
    )
    step(
        "replace_image",
        lambda: catalog.replace_image(
            pid, "meta_only", acquired="2021-03-01T00:00:00Z", geometry=geometry, cloud_fraction=0.7
        ),
        lambda answer: answer["data"]["attributes"].get("cloud_fraction"),
    )
    step(
        "get_image",
        lambda: catalog.get_image(pid, "meta_only"),
        lambda answer: answer["data"]["id"],
    )
    step("remove_image", lambda: catalog.remove_image(pid, "meta_only"))
    step("get removed image", lambda: metadata.get(f"{pid}:meta_only"), raises="NotFoundError")
    step(
        "summary after remove",
        lambda: metadata.summary(products=[pid]),
        lambda answer: answer["count"],
    )

    # Errors as the client's exception classes.
    step(
        "get_product missing",
        lambda: catalog.get_product(f"{namespace}:missing-{args.tag}"),
        raises="NotFoundError",
    )
    step(
        "search bad sort_field",
        lambda: metadata.search(products=[pid], sort_field="bogus"),
        raises="BadRequestError",
    )
    step(
        "add_image duplicate",
        lambda: catalog.add_image(
            pid, "nd_scene", acquired="2020-01-01T00:00:00Z", geometry=geometry
        ),
        raises="ConflictError",
    )

    # Other users: one in group:readers reads but cannot write; one with no grant sees nothing.
    def clients(token: str) -> tuple[Any, Any]:
        auth = Auth(jwt_token=token, token_info_path=None)
        other_metadata = Metadata(auth=auth)
        return Catalog(auth=auth, metadata=other_metadata), other_metadata

    if args.reader_token:
        reader_catalog, reader_metadata = clients(args.reader_token)
        step("reader search", lambda: reader_metadata.search(products=[pid]), features)
        step("reader get_product", lambda: reader_catalog.get_product(pid), product_doc)
        step(
            "reader change_product",
            lambda: reader_catalog.change_product(pid, title="x"),
            raises="ServerError",
        )
    second_catalog, second_metadata = clients(args.second_token)
    step("second search", lambda: second_metadata.search(products=[pid]), features)
    step(
        "second summary",
        lambda: second_metadata.summary(products=[pid]),
        lambda answer: answer["count"],
    )
    step(
        "second available_products",
        lambda: second_metadata.available_products(),
        lambda ids: pid in ids,
    )
    step("second get", lambda: second_metadata.get(f"{pid}:nd_scene"), raises="NotFoundError")
    step("second get_product", lambda: second_catalog.get_product(pid), raises="NotFoundError")
    step(
        "second remove_product",
        lambda: second_catalog.remove_product(pid, cascade=True),
        raises="NotFoundError",
    )

    # Removal: an empty product at once; one that holds bands and images is refused, then
    # removed with cascade as a deletion task.
    empty = step(
        "add_product empty",
        lambda: catalog.add_product(f"empty-{args.tag}", title="Empty", description=""),
        lambda answer: answer["data"]["id"],
    )
    if empty:
        empty_id = empty["data"]["id"]
        step("remove_product empty", lambda: catalog.remove_product(empty_id))
        step("get_product empty", lambda: catalog.get_product(empty_id), raises="NotFoundError")
    step(
        "remove_product without cascade",
        lambda: catalog.remove_product(pid),
        raises="BadRequestError",
    )
    task = step(
        "remove_product cascade",
        lambda: catalog.remove_product(pid, cascade=True),
        lambda answer: sorted(answer),
    )
    if isinstance(task, dict) and "deletion_task" in task:
        step(
            "product_deletion_status",
            lambda: until(
                lambda: catalog.product_deletion_status(task["deletion_task"]),
                lambda answer: answer.get("completed") is True,
            ),
            lambda answer: {
                "completed": answer.get("completed"),
                "deleted": answer.get("response", {}).get("deleted"),
            },
        )
    step("get_product removed", lambda: catalog.get_product(pid), raises="NotFoundError")
    step("search removed", lambda: metadata.search(products=[pid]), features)
    print(
        json.dumps(
            {"step": "end", "ok": failures == 0, "value": {"failures": failures, "total": total}}
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    if not os.environ.get("DESCARTESLABS_ENV"):
        sys.exit(
            "set DESCARTESLABS_ENV=gcp-production (and DESCARTESLABS_PLATFORM_URL, "
            "DESCARTESLABS_TOKEN) before running the scenario: see WIRE.md section 0"
        )
    sys.exit(main())
