"""A user's script for the real ``descarteslabs==1.12.1`` client, pointed at ``catalogql serve``.

Nothing in it names the server: ``Catalog()`` and ``Metadata()`` take the URL and the token from
the environment (WIRE.md section 0). Run it with the client's python::

    export DESCARTESLABS_ENV=gcp-production
    export DESCARTESLABS_PLATFORM_URL=http://127.0.0.1:8000
    export DESCARTESLABS_TOKEN=$(catalogql token --sub alice)
    python examples/descartes_client.py scene.tif     # a GeoTIFF of 3 uint16 bands

It makes a product readable by ``group:readers`` with three bands, uploads the GeoTIFF, waits for
the upload, searches the product and prints what it found; then removes the product with cascade.
"""

import sys
import time
import uuid

from descarteslabs.client.services.catalog import Catalog
from descarteslabs.client.services.metadata import Metadata
from descarteslabs.client.services.metadata import properties as p

catalog, metadata = Catalog(), Metadata()
path = sys.argv[1]

product = catalog.add_product(
    f"scenes-{uuid.uuid4().hex[:6]}", title="Scenes", description="", read=["group:readers"]
)
pid = product["data"]["id"]  # "<sha1 of your token's sub>:scenes-..."
for srcband, name in enumerate(["red", "green", "blue"], start=1):
    catalog.add_band(pid, name, srcband=srcband, dtype="UInt16", data_range=[0, 10000],
                     type="spectral")  # fmt: skip

upload = catalog.upload_image(path, pid, image_id="scene", acquired="2020-08-01T00:00:00Z",
                              cloud_fraction=0.1)  # fmt: skip
for _ in range(300):  # the server ingests it in the background
    status = catalog.upload_result(pid, upload)["data"]["attributes"]["status"]
    if status.upper() in ("SUCCESS", "FAILURE"):
        break
    time.sleep(0.2)
print("upload", upload, status)

found = metadata.search(products=[pid], q=p.cloud_fraction < 0.5, start_datetime="2020-01-01")
for feature in found["features"]:
    print(feature["id"], feature["properties"]["acquired"], feature["properties"]["cloud_fraction"])
print("summary", metadata.summary(products=[pid])["count"])
print("removed", catalog.remove_product(pid, cascade=True))
