"""Uploads of GeoTIFFs (SPEC section 7, WIRE.md section 6): file in, image and record out.

An upload has an id (the file's name by default, ``<image_id>.tif`` for an ndarray) and a status
kept as a document of kind ``upload`` (id ``<product id>:<upload id>``, parent the product):

``pending`` → ``running`` → ``success`` | ``failure`` (with ``errors``, each positioned:
``field``, ``message``, ``hint``, ``code``).

What :func:`run_upload` does, in order:

1. the status goes to ``running`` (committed), naming the process that runs it;
2. the bytes go to the :class:`~catalogql.service.storage.FileStore` (sha256, temporary name,
   fsync, rename; the same bytes are stored once); the hash is recorded in the status before the
   rename, so a :meth:`~catalogql.service.Service.gc` running meanwhile keeps the file;
3. the file is read with rasterio (:func:`read_raster`: size, band count, dtype per band, CRS,
   transform, nodata; every block is read, so a truncated file fails here) and checked against
   the product's bands (:func:`check_bands`: each band's ``srcfile`` is one of the upload's files
   and its ``srcband`` exists there, and the file's dtype fits the band's, :data:`DTYPE_FITS`);
4. the footprint is computed in lon/lat (:func:`footprint`: the raster's extent in its CRS,
   densified to :data:`EDGE_POINTS` points per edge, transformed to EPSG:4326, split at the
   antimeridian into a MultiPolygon and a ring around a pole closed through it, by the search's
   own :func:`~catalogql.search.geometry.settle_polygonal`);
5. the image document, its search record and the ``success`` status commit in one unit of work.

Any failure in 2-5 ends as ``failure`` with its errors: no exception leaves :func:`run_upload`
past the status (a failure to write the status itself is the one exception). A failed upload
leaves no image and no record; its file, if nothing else references it, is removed by the next
:meth:`~catalogql.service.Service.gc` (also run on opening a service with storage), which also
turns the uploads of processes that died (a crash) into ``failure`` with an ``upload.interrupted``
error. Files are kept by a scan (every image's ``file_sha256s``, and the hashes of uploads still
``pending`` or ``running``), under a lock the uploads share and the collection takes alone.

Multi-file uploads (``multi_file={"image_files": [...], "image_id": ...}``, WIRE.md section 6):
each file is its own upload; a part stays ``pending`` (its file kept) until every file of
``image_files`` has arrived; the last one makes the image from all of them (band ``srcfile``
is the index in ``image_files``) and every part ends ``success`` (or ``failure``) with it.

**Dtype compatibility** (:data:`DTYPE_FITS`): a file's band fits a product band when every value
the file's dtype holds is a value of the band's dtype, exactly:

=========  ==================================================================
band dtype  file dtypes that fit
=========  ==================================================================
Byte        uint8
UInt16      uint8, uint16
Int16       uint8, int8, int16
UInt32      uint8, uint16, uint32
Int32       uint8, int8, uint16, int16, int32
Float32     uint8, int8, uint16, int16, float32
Float64     uint8, int8, uint16, int16, uint32, int32, float32, float64
=========  ==================================================================

(32-bit integers do not fit Float32: it holds only 24 bits of mantissa.)
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from catalogql.errors import CatalogqlError, Conflict, InvalidInput, Problem
from catalogql.search.documents import Document, documents
from catalogql.search.engine import Catalog
from catalogql.search.geometry import settle_polygonal
from catalogql.service.access import authorize, not_found, readers
from catalogql.service.fields import check_id_text, raise_problems
from catalogql.service.images import IMAGE, check_image, image_id, write_image
from catalogql.service.paging import now, page
from catalogql.service.principals import Principal
from catalogql.service.products import PRODUCT, load_product
from catalogql.service.storage import FileStore, StoredFile, process_alive

__all__ = [
    "DTYPE_FITS",
    "EDGE_POINTS",
    "NDARRAY_DTYPES",
    "STATUSES",
    "UPLOAD",
    "RasterInfo",
    "Source",
    "begin_upload",
    "check_bands",
    "footprint",
    "image_key_of",
    "list_uploads",
    "ndarray_geotiff",
    "read_raster",
    "recover_uploads",
    "referenced_files",
    "run_upload",
    "split_antimeridian",
    "upload_status",
    "wire_status",
]

UPLOAD = "upload"
"""The document kind of uploads' statuses."""

STATUSES = ("pending", "running", "success", "failure")
"""An upload's statuses (on the wire upper-cased: ``SUCCESS``, …)."""

EDGE_POINTS = 21

READ_CHUNK = 16 * 1024 * 1024
"""Bytes of pixels read in one call when an upload's every block is checked: whole rows of every
band, a multiple of the block height (one call per block was 4 times slower on a 50 MB file)."""
"""Points per edge of the raster's extent when its footprint is computed (corners included)."""

DTYPE_FITS: dict[str, frozenset[str]] = {
    "Byte": frozenset({"uint8"}),
    "UInt16": frozenset({"uint8", "uint16"}),
    "Int16": frozenset({"uint8", "int8", "int16"}),
    "UInt32": frozenset({"uint8", "uint16", "uint32"}),
    "Int32": frozenset({"uint8", "int8", "uint16", "int16", "int32"}),
    "Float32": frozenset({"uint8", "int8", "uint16", "int16", "float32"}),
    "Float64": frozenset(
        {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
    ),
}
"""Band dtype -> the file dtypes whose every value it holds exactly (the module's table)."""

NDARRAY_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")
"""The array dtypes :func:`ndarray_geotiff` takes (those the client sends, WIRE.md section 6)."""

Source = bytes | bytearray | memoryview | str | Path | BinaryIO
"""What an upload reads: bytes, a path, or a binary file object."""

Hook = Callable[[str, Mapping[str, Any]], None]
"""Called at an upload's stages (``"stored"``: the file is stored; ``"commit"``: just before the
image commits) with the upload's status; tests use it to crash or fail there."""

_CODE = "upload"


def _problem(field: str, message: str, hint: str, code: str) -> Problem:
    return Problem(field, None, message, hint, code)


# -- reading a raster --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RasterInfo:
    """What an upload reads from a raster file.

    Attributes:
        width: Columns.
        height: Rows.
        count: Bands.
        dtypes: Each band's dtype (numpy names: ``uint16``, …).
        crs: The CRS as WKT, or None.
        cs_code: ``EPSG:<code>`` when the CRS has one, else None.
        proj4: The CRS as a PROJ string, or None.
        geotrans: The GDAL geotransform (x0, dx, rx, y0, ry, dy).
        nodata: Each band's nodata value (None where unset).
    """

    width: int
    height: int
    count: int
    dtypes: tuple[str, ...]
    crs: str | None
    cs_code: str | None
    proj4: str | None
    geotrans: tuple[float, ...]
    nodata: tuple[float | None, ...]


def read_raster(path: str | Path, field: str = "file") -> RasterInfo:
    """Read a GeoTIFF's header and every block of it (so a truncated file fails).

    Raises:
        InvalidInput: Not a GeoTIFF rasterio reads, unreadable data, no CRS or no
            georeferencing; the problem names ``field``.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.tif"
    >>> _ = path.write_bytes(b"not a tiff")
    >>> read_raster(path)
    Traceback (most recent call last):
      ...
    catalogql.errors.InvalidInput: file is not a GeoTIFF: not recognized as being in a \
supported file format (hint: upload a GeoTIFF (.tif) file)
    """
    import rasterio
    import rasterio.errors

    def fail(message: str, hint: str, code: str) -> InvalidInput:
        return InvalidInput(message, [_problem(field, message, hint, code)])

    with _quiet_gdal():
        try:
            dataset = rasterio.open(path)
        except rasterio.errors.RasterioIOError as error:
            reason = str(error).rpartition(": ")[2] or "rasterio cannot open it"
            if "not recognized" in reason:
                reason = "not recognized as being in a supported file format"
            raise fail(
                f"{field} is not a GeoTIFF: {reason}",
                "upload a GeoTIFF (.tif) file",
                "upload.not-geotiff",
            ) from None
        with dataset:
            if dataset.driver != "GTiff":
                raise fail(
                    f"{field} is a {dataset.driver} file, not a GeoTIFF",
                    "convert it to GeoTIFF (gdal_translate -of GTiff)",
                    "upload.not-geotiff",
                )
            try:
                for window in _row_windows(dataset):
                    dataset.read(window=window)
            except Exception as error:  # rasterio/GDAL read errors of a damaged file
                raise fail(
                    f"{field} is damaged or truncated: {str(error)[:300]}",
                    "upload the whole file again (check its size and checksum)",
                    "upload.damaged",
                ) from None
            if dataset.crs is None:
                raise fail(
                    f"{field} has no coordinate reference system",
                    "georeference it (gdal_translate -a_srs EPSG:…)",
                    "upload.no-crs",
                )
            if dataset.transform.is_identity:
                raise fail(
                    f"{field} has no georeferencing (its geotransform is the identity)",
                    "georeference it (gdal_translate -a_ullr … -a_srs …)",
                    "upload.no-geotransform",
                )
            crs = dataset.crs
            epsg = (
                crs.to_epsg() if crs.is_epsg_code or crs.is_geographic or crs.is_projected else None
            )
            try:
                proj4 = crs.to_proj4() or None
            except Exception:  # an engineering CRS has no PROJ string
                proj4 = None
            return RasterInfo(
                width=dataset.width,
                height=dataset.height,
                count=dataset.count,
                dtypes=tuple(dataset.dtypes),
                crs=crs.to_wkt(),
                cs_code=None if epsg is None else f"EPSG:{epsg}",
                proj4=proj4,
                geotrans=tuple(float(v) for v in dataset.transform.to_gdal()),
                nodata=tuple(dataset.nodatavals),
            )


def _row_windows(dataset: Any) -> Iterator[Any]:
    """Windows of whole rows covering a raster, about :data:`READ_CHUNK` bytes each."""
    import numpy as np
    from rasterio.windows import Window

    itemsize = max(np.dtype(dtype).itemsize for dtype in dataset.dtypes)
    row_bytes = max(1, dataset.width * dataset.count * itemsize)
    block_rows = max(1, dataset.block_shapes[0][0])
    rows = max(block_rows, READ_CHUNK // row_bytes // block_rows * block_rows)
    for top in range(0, dataset.height, rows):
        yield Window(0, top, dataset.width, min(rows, dataset.height - top))


@contextlib.contextmanager
def _quiet_gdal() -> Iterator[None]:
    """Keep GDAL's error messages off stderr (they are raised as exceptions instead)."""
    import rasterio

    with rasterio.Env(CPL_LOG="/dev/null"):
        yield


# -- checking against the product's bands ------------------------------------------------------


def check_bands(
    bands: Sequence[Mapping[str, Any]], files: Sequence[RasterInfo], names: Sequence[str]
) -> list[Problem]:
    """The problems of an upload's files against the product's bands (empty: it fits).

    Each band's ``srcfile`` (0-based, default 0) must be one of ``files`` and its ``srcband``
    (1-based) one of that file's bands, whose dtype fits the band's (:data:`DTYPE_FITS`).

    >>> info = RasterInfo(4, 4, 1, ("uint16",), None, None, None, (0, 1, 0, 0, 0, -1), (None,))
    >>> [p.field for p in check_bands([{"name": "red", "srcband": 1, "dtype": "Byte"},
    ...     {"name": "nir", "srcband": 2, "dtype": "UInt16"}], [info], ["a.tif"])]
    ['bands.red.dtype', 'bands.nir.srcband']
    """
    problems: list[Problem] = []
    for band in bands:
        name = band.get("name", "?")
        srcfile = band.get("srcfile") or 0
        srcband = band.get("srcband")
        if not isinstance(srcfile, int) or not 0 <= srcfile < len(files):
            problems.append(
                _problem(
                    f"bands.{name}.srcfile",
                    f"band {name!r} reads file {srcfile} (srcfile, from 0), but the upload has "
                    f"{len(files)} file{'s' if len(files) != 1 else ''}",
                    "upload every file of the image (multi_file), or change the band's srcfile",
                    "upload.srcfile",
                )
            )
            continue
        info, file_name = files[srcfile], names[srcfile]
        if not isinstance(srcband, int) or not 1 <= srcband <= info.count:
            problems.append(
                _problem(
                    f"bands.{name}.srcband",
                    f"band {name!r} reads band {srcband} of {file_name}, which has "
                    f"{info.count} band{'s' if info.count != 1 else ''}",
                    "upload a file with the product's bands, or change the band's srcband",
                    "upload.too-few-bands",
                )
            )
            continue
        found = info.dtypes[srcband - 1]
        dtype = band.get("dtype")
        if dtype in DTYPE_FITS and found not in DTYPE_FITS[str(dtype)]:
            fits = ", ".join(sorted(DTYPE_FITS[str(dtype)]))
            problems.append(
                _problem(
                    f"bands.{name}.dtype",
                    f"band {name!r} is {dtype}, but band {srcband} of {file_name} is {found}, "
                    f"whose values {dtype} does not hold",
                    f"write the file as one of {fits}, or give the band a wider dtype",
                    "upload.dtype",
                )
            )
    return problems


# -- the footprint -----------------------------------------------------------------------------


def split_antimeridian(ring: Sequence[tuple[float, float]]) -> Any:
    """A lon/lat ring as a shapely Polygon or MultiPolygon within -180..180 (RFC 7946 §3.1.9).

    A step of more than 180 degrees of longitude crosses the antimeridian: the shape is cut
    there into a part on each side; a ring that turns once around a pole is closed through it.
    This is the search's own split (:func:`catalogql.search.geometry.settle_polygonal`), so an
    upload's footprint is the shape the stores index.

    >>> split_antimeridian([(179, 0), (-179, 0), (-179, 1), (179, 1), (179, 0)]).geom_type
    'MultiPolygon'
    >>> split_antimeridian([(0, 0), (1, 0), (1, 1), (0, 0)]).geom_type
    'Polygon'
    """
    from shapely.geometry import Polygon

    notes: list[Problem] = []
    return settle_polygonal(Polygon(list(ring)), "footprint", notes)


def footprint(info: RasterInfo, field: str = "file", points: int = EDGE_POINTS) -> Any:
    """The raster's extent in lon/lat: a shapely Polygon or MultiPolygon (see the module doc).

    Raises:
        InvalidInput: The CRS cannot be transformed to EPSG:4326 (or gives no finite lon/lat).

    >>> info = RasterInfo(10, 10, 1, ("uint8",), "EPSG:4326", "EPSG:4326", None,
    ...                   (10.0, 0.1, 0.0, 5.0, 0.0, -0.1), (None,))
    >>> footprint(info).bounds
    (10.0, 4.0, 11.0, 5.0)
    """
    from rasterio.crs import CRS
    from rasterio.warp import transform

    x0, dx, rx, y0, ry, dy = info.geotrans
    cols: list[float] = []
    rows: list[float] = []
    steps = [i / (points - 1) for i in range(points - 1)]
    for (c0, r0), (c1, r1) in (
        ((0, 0), (1, 0)),
        ((1, 0), (1, 1)),
        ((1, 1), (0, 1)),
        ((0, 1), (0, 0)),
    ):
        for t in steps:
            cols.append((c0 + (c1 - c0) * t) * info.width)
            rows.append((r0 + (r1 - r0) * t) * info.height)
    cols.append(cols[0])
    rows.append(rows[0])
    xs = [x0 + c * dx + r * rx for c, r in zip(cols, rows, strict=True)]
    ys = [y0 + c * ry + r * dy for c, r in zip(cols, rows, strict=True)]
    message = ""
    try:
        with _quiet_gdal():
            lons, lats = transform(CRS.from_user_input(info.crs or ""), "EPSG:4326", xs, ys)
    except Exception as error:  # PROJ finds no operation (an engineering CRS), or fails
        message = str(error).split(" from ")[0][:200]
        lons, lats = [], []
    finite = lons and all(math.isfinite(v) for v in [*lons, *lats])
    if not finite:
        name = info.cs_code or (info.crs or "").split("[", 1)[-1].split(",", 1)[0].strip('"')
        raise InvalidInput(
            f"{field}'s CRS ({name}) cannot be transformed to lon/lat (EPSG:4326)"
            + (f": {message}" if message else ""),
            [
                _problem(
                    field,
                    f"{field}'s CRS ({name}) cannot be transformed to lon/lat (EPSG:4326)",
                    "georeference the file in a CRS with a datum (an EPSG code such as "
                    "EPSG:32613), not a local or engineering one",
                    "upload.crs",
                )
            ],
        )
    return split_antimeridian(list(zip(lons, lats, strict=True)))


# -- the ndarray form --------------------------------------------------------------------------


def ndarray_geotiff(
    array: Any,
    *,
    geotrans: Sequence[float],
    proj4: str | None = None,
    wkt_srs: str | None = None,
) -> bytes:
    """A GeoTIFF of an array (``.npy`` bytes or a numpy array; bands on the last axis).

    Raises:
        InvalidInput: A bad array, dtype, geotrans or CRS (each named).

    >>> import numpy as np
    >>> data = ndarray_geotiff(np.zeros((8, 8, 2), dtype="uint16"),
    ...     geotrans=[-105.0, 0.001, 0.0, 40.1, 0.0, -0.001],
    ...     proj4="+proj=longlat +datum=WGS84 +no_defs")
    >>> data[:4] in (b"II*\\x00", b"MM\\x00*")
    True
    """
    import numpy as np
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.io import MemoryFile

    problems: list[Problem] = []
    if isinstance(array, bytes | bytearray | memoryview):
        try:
            array = np.load(io.BytesIO(bytes(array)), allow_pickle=False)
        except Exception as error:  # numpy raises ValueError, EOFError, … on a bad .npy
            problems.append(
                _problem(
                    "ndarray",
                    f"ndarray is not a .npy file numpy reads without pickles: {error}",
                    "send numpy.save(file, array, allow_pickle=False) bytes",
                    "upload.npy",
                )
            )
    if not problems and (not isinstance(array, np.ndarray) or array.ndim not in (2, 3)):
        shape = getattr(array, "shape", None)
        problems.append(
            _problem(
                "ndarray",
                f"ndarray must have 2 or 3 dimensions (rows, cols[, bands]), not shape {shape}",
                "give an array of shape (rows, cols) or (rows, cols, bands)",
                "upload.npy",
            )
        )
    elif not problems and (array.dtype.name not in NDARRAY_DTYPES or 0 in array.shape):
        problems.append(
            _problem(
                "ndarray",
                f"ndarray of dtype {array.dtype.name} and shape {array.shape} cannot be stored",
                f"give a non-empty array of one of {', '.join(NDARRAY_DTYPES)}",
                "upload.npy",
            )
        )
    numbers = isinstance(geotrans, list | tuple) and len(geotrans) == 6
    if not numbers or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in geotrans
    ):
        problems.append(
            _problem(
                "geotrans",
                f"geotrans must be 6 finite numbers (GDAL order), not {geotrans!r}",
                "give [x0, pixel width, 0, y0, 0, -pixel height]",
                "upload.geotrans",
            )
        )
    crs: Any = None
    if (proj4 is None) == (wkt_srs is None):
        problems.append(
            _problem(
                "proj4",
                "give the array's CRS as proj4 or as wkt_srs (one of them)",
                'e.g. proj4="+proj=utm +zone=13 +datum=WGS84"',
                "upload.crs",
            )
        )
    else:
        try:
            crs = CRS.from_wkt(wkt_srs) if wkt_srs is not None else CRS.from_proj4(str(proj4))
        except Exception as error:  # rasterio's CRSError
            name = "wkt_srs" if wkt_srs is not None else "proj4"
            problems.append(
                _problem(name, f"{name} is not a CRS: {error}", "give a valid CRS", "upload.crs")
            )
    raise_problems(problems)
    data = array if array.ndim == 3 else array[:, :, np.newaxis]
    rows, cols, count = data.shape
    with MemoryFile() as memory:
        with memory.open(
            driver="GTiff",
            width=cols,
            height=rows,
            count=count,
            dtype=data.dtype.name,
            crs=crs,
            transform=Affine.from_gdal(*geotrans),
        ) as dataset:
            dataset.write(np.moveaxis(data, 2, 0))
        return bytes(memory.read())


# -- the statuses ------------------------------------------------------------------------------


def image_key_of(upload_id: str) -> str:
    """The image key an upload makes by default: its id without ``.tif``/``.tiff``.

    >>> image_key_of("scene_001.tif"), image_key_of("scene"), image_key_of(".tif")
    ('scene_001', 'scene', '.tif')
    """
    for suffix in (".tif", ".tiff", ".TIF", ".TIFF"):
        if upload_id.endswith(suffix) and len(upload_id) > len(suffix):
            return upload_id[: -len(suffix)]
    return upload_id


def _upload_doc_id(product_id: str, upload_id: str) -> str:
    return f"{product_id}:{upload_id}"


def _worker() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _status_result(document: Document) -> dict[str, Any]:
    body = document.body
    return {"id": body["upload_id"], **{k: v for k, v in body.items() if k != "upload_id"}}


def _put_status(catalog: Catalog, document: Document, **changes: Any) -> Document:
    body = {**document.body, **changes, "updated": now()}
    new = Document(UPLOAD, document.id, document.parent, document.owner, document.readers, body)
    with catalog.transaction():
        documents(catalog).put(new)
    return new


def _error_dicts(error: BaseException) -> list[dict[str, Any]]:
    if isinstance(error, CatalogqlError):
        return [p.to_dict() for p in error.problems]
    return [
        Problem(
            "",
            None,
            f"the upload failed: {type(error).__name__}: {error}"[:1000],
            "upload again; if it fails the same way, report it with this message",
            "upload.error",
        ).to_dict()
    ]


def begin_upload(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    upload_id: str,
    *,
    image_key: str,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
    multi_file: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check an upload's request and record it as ``pending`` (the POST of WIRE.md section 6).

    Refusals here raise (they are the request's errors, before any status exists): the product
    (404/403: needs ``write``), the ids, the metadata (400, each field named; ``acquired`` is
    required), an existing image without ``overwrite`` (409), an upload of this id still pending
    or running (409).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> begin_upload(catalog, alice, pid, "a.tif", image_key="a",
    ...              metadata={"acquired": "2020-01-01"})["status"]
    'pending'
    """
    problems: list[Problem] = []
    check_id_text(upload_id, "upload_id", problems)
    check_id_text(image_key, "image_id", problems)
    raise_problems(problems)
    fields = dict(metadata or {})
    for computed in ("geometry", "raster_size", "geotrans", "cs_code", "proj4", "wkt_srs"):
        fields.pop(computed, None)  # what the file says wins (see run_upload)
    checked = check_image(fields, partial=True)
    if checked.get("acquired") is None:
        raise_problems(
            [
                _problem(
                    "acquired",
                    "acquired is required",
                    "give the image's time, e.g. acquired='2020-08-01T00:00:00Z'",
                    "service.required",
                )
            ]
        )
    group = _check_multi(multi_file, upload_id)
    store = documents(catalog)
    with catalog.transaction():
        product = load_product(catalog, principal, product_id, "write", lock=True)
        ident = _upload_doc_id(product_id, upload_id)
        if store.get(IMAGE, image_id(product_id, image_key)) is not None and not overwrite:
            raise Conflict(
                f"image {image_id(product_id, image_key)!r} exists already",
                hint="upload with overwrite=True to replace it, or choose another image_id",
            )
        old = store.get(UPLOAD, ident, lock=True)
        if old is not None and old.body.get("status") in ("pending", "running"):
            raise Conflict(
                f"upload {upload_id!r} of product {product_id!r} is still {old.body.get('status')}",
                hint="wait for it to end (upload_status), or upload under another name",
            )
        body: dict[str, Any] = {
            "upload_id": upload_id,
            "product": product_id,
            "image_id": image_key,
            "status": "pending",
            "created": now(),
            "updated": now(),
            "overwrite": bool(overwrite),
            "metadata": {k: v for k, v in checked.items() if v is not None},
            "errors": [],
        }
        if group is not None:
            body["multi_file"] = group
        document = Document(UPLOAD, ident, product_id, principal.user, readers(product.body), body)
        store.put(document)
    return _status_result(document)


def _check_multi(multi_file: Mapping[str, Any] | None, upload_id: str) -> dict[str, Any] | None:
    if multi_file is None:
        return None
    files = multi_file.get("image_files") if isinstance(multi_file, Mapping) else None
    key = multi_file.get("image_id") if isinstance(multi_file, Mapping) else None
    good = (
        isinstance(files, list)
        and files
        and all(isinstance(f, str) and f for f in files)
        and len(set(files)) == len(files)
    )
    problems: list[Problem] = []
    if not good:
        problems.append(
            _problem(
                "multi_file.image_files",
                f"multi_file.image_files must be a list of distinct file names, not {files!r}",
                'e.g. {"image_files": ["a.tif", "b.tif"], "image_id": "scene"}',
                "upload.multi-file",
            )
        )
    elif isinstance(files, list) and upload_id not in files:
        problems.append(
            _problem(
                "multi_file.image_files",
                f"the upload {upload_id!r} is not one of multi_file.image_files {files!r}",
                "upload each file under its own name, listed in image_files",
                "upload.multi-file",
            )
        )
    check_id_text(key, "multi_file.image_id", problems)
    raise_problems(problems)
    return {"image_files": list(files or []), "image_id": key}


def upload_status(
    catalog: Catalog, principal: Principal, product_id: str, upload_id: str
) -> dict[str, Any]:
    """An upload's status (needs ``read`` on the product; else 404, as for no upload).

    ``{"id", "product", "image_id", "status", "created", "updated", "errors", …}``.

    >>> from catalogql.search import open_catalog
    >>> upload_status(open_catalog("memory://"), Principal("a"), "ns:p", "x.tif")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: upload 'x.tif' not found (hint: check the id; ids of products \
are namespaced: <namespace>:<name>)
    """
    product = documents(catalog).get(PRODUCT, product_id) if isinstance(product_id, str) else None
    authorize(
        principal,
        None if product is None else product.body,
        "read",
        product_id=str(product_id),
        kind=UPLOAD,
        id=str(upload_id),
    )
    found = (
        documents(catalog).get(UPLOAD, _upload_doc_id(product_id, upload_id))
        if isinstance(upload_id, str)
        else None
    )
    if found is None:
        raise not_found(UPLOAD, str(upload_id))
    return _status_result(found)


def wire_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """One upload's status in the shape of WIRE.md section 3 (``upload_results``' items).

    >>> wire_status({"id": "a.tif", "status": "success", "errors": []})["attributes"]["status"]
    'SUCCESS'
    """
    errors = status.get("errors") or []
    attributes: dict[str, Any] = {
        "created": status.get("created"),
        "updated": status.get("updated"),
        "status": str(status.get("status", "")).upper(),
        "product_id": status.get("product"),
        "image_id": status.get("image_id"),
        "runtime": status.get("runtime"),
        "peak_memory_usage": None,
        "exception_name": status.get("exception_name"),
        "failure_type": "exception" if status.get("status") == "failure" else None,
        "errors": errors,
        "stacktrace": None,
        "labels": [status.get("product"), status.get("image_id")],
        "logs": [e.get("message") for e in errors],
    }
    return {"id": status["id"], "type": "upload", "attributes": attributes}


def list_uploads(
    catalog: Catalog,
    principal: Principal,
    product_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    continuation: str | None = None,
) -> dict[str, Any]:
    """A product's uploads in id order, a page at a time, as WIRE.md's ``upload_results``.

    ``{"data": [{"id", "type": "upload", "attributes": {"created", "status": "SUCCESS"|…,
    …}}], "meta": {"continuation_token": <str or None>}}``; ``status`` keeps only those with it
    (``success`` or ``SUCCESS``, …).

    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> list_uploads(catalog, alice, pid)
    {'data': [], 'meta': {'continuation_token': None}}
    """
    load_product(catalog, principal, product_id, "read")
    wanted: str | None = None
    if status is not None:
        wanted = status.lower() if isinstance(status, str) else None
        if wanted not in STATUSES:
            message = (
                f"status must be one of {', '.join(s.upper() for s in STATUSES)}, not {status!r}"
            )
            raise InvalidInput(
                message, [_problem("status", message, "e.g. status='SUCCESS'", "upload.status")]
            )
    found, token = page(
        documents(catalog),
        UPLOAD,
        f"uploads:{product_id}:{wanted or ''}",
        limit=limit,
        continuation=continuation,
        parent=product_id,
        keep=None if wanted is None else (lambda d: d.body.get("status") == wanted),
    )
    return {
        "data": [wire_status(_status_result(d)) for d in found],
        "meta": {"continuation_token": token},
    }


# -- running an upload -------------------------------------------------------------------------


def referenced_files(catalog: Catalog) -> set[str]:
    """Every file hash an image or a pending or running upload references (a scan).

    >>> from catalogql.search import open_catalog
    >>> referenced_files(open_catalog("memory://"))
    set()
    """
    store = documents(catalog)
    keep: set[str] = set()
    for kind in (IMAGE, UPLOAD):
        after: str | None = None
        while batch := store.list(kind, after=after, limit=1000):
            for document in batch:
                if kind == IMAGE:
                    keep.update(document.body.get("file_sha256s") or ())
                elif document.body.get("status") in ("pending", "running"):
                    sha = document.body.get("sha256")
                    if isinstance(sha, str):
                        keep.add(sha)
            after = batch[-1].id
    return keep


def recover_uploads(catalog: Catalog) -> list[str]:
    """Turn the uploads whose process died (on this host) into ``failure``; their doc ids.

    An upload being run names its process (``worker``); one still ``pending`` or ``running``
    whose process is gone was interrupted (a crash), and ends with an ``upload.interrupted``
    error. Parts of a multi-file upload waiting for the others are not interrupted.

    >>> from catalogql.search import open_catalog
    >>> recover_uploads(open_catalog("memory://"))
    []
    """
    store = documents(catalog)
    host = socket.gethostname()
    ended: list[str] = []
    after: str | None = None
    while batch := store.list(UPLOAD, after=after, limit=1000):
        for document in batch:
            worker = document.body.get("worker")
            if (
                document.body.get("status") in ("pending", "running")
                and isinstance(worker, Mapping)
                and worker.get("host") == host
                and not process_alive(int(worker.get("pid", 0)))
            ):
                message = (
                    f"the upload was interrupted: its process ({worker.get('pid')}) ended "
                    "before it finished (a crash or a kill); nothing of it was kept"
                )
                _put_status(
                    catalog,
                    document,
                    status="failure",
                    worker=None,
                    exception_name="UploadInterrupted",
                    errors=[
                        Problem(
                            "", None, message, "upload the file again", "upload.interrupted"
                        ).to_dict()
                    ],
                )
                ended.append(document.id)
        after = batch[-1].id
    return ended


def _source_name(source: Source) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return str(getattr(source, "name", "bytes"))


def run_upload(
    catalog: Catalog,
    files: FileStore,
    principal: Principal,
    product_id: str,
    upload_id: str,
    source: Source,
    *,
    hook: Hook | None = None,
    max_size: int | None = None,
) -> dict[str, Any]:
    """Run a pending upload on its bytes (the PUT); its final status (see the module docstring).

    >>> import tempfile
    >>> from catalogql.search import open_catalog
    >>> from catalogql.service.products import add_product
    >>> catalog, alice = open_catalog("memory://"), Principal("alice")
    >>> pid = add_product(catalog, alice, "p", title="P", description="")["id"]
    >>> _ = begin_upload(catalog, alice, pid, "a.tif", image_key="a",
    ...                  metadata={"acquired": "2020-01-01"})
    >>> status = run_upload(catalog, FileStore(tempfile.mkdtemp()), alice, pid, "a.tif", b"x")
    >>> status["status"], status["errors"][0]["code"]
    ('failure', 'upload.not-geotiff')
    """
    started = time.monotonic()
    store = documents(catalog)
    ident = _upload_doc_id(product_id, upload_id)
    with catalog.transaction():
        load_product(catalog, principal, product_id, "write")
        document = store.get(UPLOAD, ident, lock=True)
        if document is None:
            raise not_found(UPLOAD, upload_id)
        if document.body.get("status") != "pending" or document.body.get("sha256"):
            raise Conflict(
                f"upload {upload_id!r} is {document.body.get('status')}, not waiting for its file",
                hint="begin a new upload (upload_image) to send the file again",
            )
        document = Document(
            UPLOAD,
            ident,
            document.parent,
            document.owner,
            document.readers,
            {**document.body, "status": "running", "worker": _worker(), "updated": now()},
        )
        store.put(document)
    holder = [document]
    try:
        with files.sharing():
            stored = files.put(
                source,
                max_size=max_size,
                on_hashed=lambda sha: holder.__setitem__(
                    0, _put_status(catalog, holder[0], sha256=sha)
                ),
            )
            if hook is not None:
                hook("stored", _status_result(holder[0]))
            final = _finish(catalog, files, principal, holder[0], stored, hook)
    except Exception as error:
        failed = _put_status(
            catalog,
            holder[0],
            status="failure",
            worker=None,
            errors=_error_dicts(error),
            exception_name=type(error).__name__,
            runtime=round(time.monotonic() - started, 6),
        )
        if not isinstance(error, CatalogqlError):
            failed = _put_status(
                catalog,
                failed,
                stacktrace="".join(traceback.format_exception_only(type(error), error)),
            )
        _fail_group(catalog, failed)
        return _status_result(failed)
    runtime = round(time.monotonic() - started, 6)
    return {**final, "runtime": runtime}


def _finish(
    catalog: Catalog,
    files: FileStore,
    principal: Principal,
    upload: Document,
    stored: StoredFile,
    hook: Hook | None,
) -> dict[str, Any]:
    """Read and check the stored file (and its group's), then commit image, record, statuses."""
    store = documents(catalog)
    body = upload.body
    product_id = str(body["product"])
    group = body.get("multi_file")
    parts: list[Document] = [upload]
    if isinstance(group, Mapping):
        names = list(group["image_files"])
        key = str(group["image_id"])
        found: dict[str, Document] = {upload.body["upload_id"]: upload}
        for name in names:
            other = store.get(UPLOAD, _upload_doc_id(product_id, name))
            if (
                other is not None
                and other.body.get("sha256")
                and other.body.get("status") in ("pending", "running")
                and other.body.get("multi_file", {}).get("image_id") == key
            ):
                found.setdefault(name, other)
        if len(found) < len(names):
            missing = [n for n in names if n not in found]
            waiting = _put_status(
                catalog, upload, status="pending", worker=None, waiting_for=missing
            )
            return _status_result(waiting)
        parts = [found[name] for name in names]
    else:
        names = [str(body["upload_id"])]
        key = str(body["image_id"])
    infos: list[RasterInfo] = []
    problems: list[Problem] = []
    for name, part in zip(names, parts, strict=True):
        sha = stored.sha256 if part is upload else str(part.body["sha256"])
        try:
            infos.append(read_raster(files.path(sha), field=name))
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems[0].message, problems)
    bands = _bands(catalog, product_id)
    problems = check_bands(bands, infos, names)
    shapes = []
    for name, info in zip(names, infos, strict=True):
        try:
            shapes.append(footprint(info, field=name))
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems[0].message, problems)
    import shapely
    import shapely.geometry

    shape = shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)
    first = infos[0]
    shas = [stored.sha256 if p is upload else str(p.body["sha256"]) for p in parts]
    sizes = [files.path(sha).stat().st_size for sha in shas]
    image_body: dict[str, Any] = {
        **body.get("metadata", {}),
        "geometry": json_geometry(shapely.geometry.mapping(shape)),
        "raster_size": [first.width, first.height],
        "geotrans": list(first.geotrans),
        "files": names,
        "file_sizes": sizes,
        "file_sha256s": shas,
        "band_count": sum(i.count for i in infos),
        "band_dtypes": [list(i.dtypes) for i in infos] if len(infos) > 1 else list(first.dtypes),
        "nodata": [list(i.nodata) for i in infos] if len(infos) > 1 else list(first.nodata),
        "upload_id": body["upload_id"],
        "storage_state": "available",
    }
    if first.cs_code is not None:
        image_body["cs_code"] = first.cs_code
    if first.proj4 is not None:
        image_body["proj4"] = first.proj4
    if first.crs is not None:
        image_body["wkt_srs"] = first.crs
    if len(infos) == 1:
        image_body["band_count"] = first.count
    if hook is not None:
        hook("commit", _status_result(upload))
    with catalog.transaction():
        product = load_product(catalog, principal, product_id, "write", lock=True)
        exists = store.get(IMAGE, image_id(product_id, key), lock=True) is not None
        if exists and not any(p.body.get("overwrite") for p in parts):
            raise Conflict(
                f"image {image_id(product_id, key)!r} exists already",
                hint="upload with overwrite=True to replace it, or choose another image_id",
            )
        write_image(catalog, product, key, image_body, create=False)
        done = now()
        result: dict[str, Any] = {}
        for part in parts:
            latest = upload if part is upload else part
            finished = {
                **latest.body,
                "status": "success",
                "worker": None,
                "updated": done,
                "errors": [],
            }
            finished.pop("waiting_for", None)
            new = Document(
                UPLOAD, latest.id, latest.parent, latest.owner, readers(product.body), finished
            )
            store.put(new)
            if part is upload:
                result = _status_result(new)
    return result


def _fail_group(catalog: Catalog, failed: Document) -> None:
    """A failed part fails the parts of its group that wait for it (their files are freed)."""
    group = failed.body.get("multi_file")
    if not isinstance(group, Mapping):
        return
    store = documents(catalog)
    product_id = str(failed.body["product"])
    for name in group.get("image_files", ()):
        other = store.get(UPLOAD, _upload_doc_id(product_id, name))
        if (
            other is not None
            and other.id != failed.id
            and other.body.get("status") == "pending"
            and other.body.get("sha256")
            and other.body.get("multi_file", {}).get("image_id") == group.get("image_id")
        ):
            _put_status(
                catalog,
                other,
                status="failure",
                errors=[
                    Problem(
                        "multi_file",
                        None,
                        f"another file of the image, {failed.body['upload_id']!r}, failed",
                        "fix that file, then upload every file of the image again",
                        "upload.part-failed",
                    ).to_dict(),
                    *failed.body.get("errors", []),
                ],
            )


def _bands(catalog: Catalog, product_id: str) -> list[dict[str, Any]]:
    store = documents(catalog)
    found: list[dict[str, Any]] = []
    after: str | None = None
    while batch := store.list("band", parent=product_id, after=after, limit=1000):
        found.extend(dict(d.body) for d in batch)
        after = batch[-1].id
    return found


def json_geometry(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A shapely ``mapping`` as plain JSON (tuples become lists).

    >>> json_geometry({"type": "Point", "coordinates": (1.0, 2.0)})
    {'type': 'Point', 'coordinates': [1.0, 2.0]}
    """
    import json

    result: dict[str, Any] = json.loads(json.dumps(mapping))
    return result
