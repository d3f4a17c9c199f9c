"""A synthetic satellite catalog in the shape of the real GBDX Catalog v2 records.

:func:`generate_records` streams records that look like the ones the GBDX service returned (the
recorded sample of ``fixtures/gbdx-v2/``): the same type lists, the same property names per kind,
the same value types, formats and (roughly) distributions. The numbers below were measured once on
that sample with a script and written down here as constants; nothing reads the sample at run time.

What the sample showed, and what this module copies:

- Nine kinds of record (type lists in :data:`TYPE_MIX`): DigitalGlobe acquisitions of WV01, WV02,
  WV03_VNIR, WV03_SWIR, GE01 and QB02 (38 properties, ``catalogID`` equal to the identifier,
  16 hex digits such as ``1030010045539700`` whose first six name the sensor), Landsat 8 scenes
  (14 properties, ids like ``LC81740532014364LGN00``: path, row, year, day of year), IKONOS
  acquisitions (18 properties, 28-digit ids that start with the acquisition time) and a few
  ``IDAHOImage`` products (37 properties, UUID identifiers, ``catalogID`` of their acquisition).
- DigitalGlobe footprints are strips: about 0.1-0.2 degrees across (narrower for WV03), either a
  single tile (0.1-0.25 degrees long, 5-11 vertices) or a strip about a degree long (sometimes up to
  3), with a vertex every ~0.053 degrees along both long edges, 10 significant digits. GE01 strips
  often run east-west (``bearing`` near 90); the others run north-south (near 180, a few near 0).
- Landsat footprints are the scenes' bounding boxes: 5 vertices, 5 decimals, ~2.14 degrees tall and
  2.07/cos(latitude) degrees wide, on the WRS-2 grid (the same path/row gives the same box).
  A scene is revisited every 16 days, and path *p* is imaged 7 days after path *p - 1*; night
  (ascending, rows above 122) scenes have ``cloudCover`` -1, as in the sample.
- Times: DigitalGlobe and IKONOS images are taken near 10:30 local solar time, Landsat near 10:11
  (night scenes near 21:50), so the UTC hour follows the longitude. ``sunElevation`` and
  ``sunAzimuth`` are computed from the place, day and hour (a scene in polar night is moved half a
  year). ``panResolution`` is the sensor's nadir ground sample distance over cos(offNadirAngle)^1.84
  (fitted on the sample) and ``multiResolution`` four times that (WV01 has no multispectral band:
  0.0; WV03_SWIR has no pan band: 0.0). Sensors only image within their operating years
  (:data:`OPERATING`).

The type mix (:data:`TYPE_MIX`) is the sample's, rounded to per mille: 44 % WV01, 18.5 % Landsat 8,
12.6 % WV02 and so on. The sample is what gbdxtools' tests happened to ask for, not a census of the
archive, but it is the only real mix at hand and keeps generated and recorded catalogs comparable.

Where: 75 % of the footprints are centred near one of the places of :data:`PLACES` (chosen by
weight; Gaussian offset, sigma 0.5 degrees of latitude), the rest anywhere between latitudes -60
and 75 (uniform on the sphere). On 1,000,000 records a 0.2-degree square (:func:`city_area`) over a
heavy place (Boulder) meets a few thousand footprints, over a middling one a few hundred, and over
empty ocean or desert a handful (mostly Landsat scenes). Footprints never cross the antimeridian or
leave the valid lon/lat range: they are shifted inward instead.

Determinism: everything comes from one ``random.Random(seed)``, so the same seed gives the same
records byte for byte (``json.dumps(record, sort_keys=True)``) on one platform, and across
platforms as far as their ``math`` libraries agree to the last bit (values are rounded to 5-10
significant digits, so a difference would have to land on a rounding edge).

Identifiers are unique within one call, by construction: the DigitalGlobe serial (eight hex digits)
is a bijective mix of ``(seed mod 256) * 2**24 + index``, so ids are also unique across seeds 0-255
for up to 16,777,216 records a call; IKONOS ids end in the index (unique up to 10**7 records);
Landsat ids are unique because each path/row takes its 16-day revisits in turn (a cell asked for
more scenes than there are revisits gets reprocessing versions ``LGN01``, ``LGN02``, ...),
which costs a counter per WRS-2 cell touched (at most 57,784) and no other state. A Landsat id
names a scene (path, row, day), so two seeds may both hold the same scene.

Speed (CPython 3.11 on this project's 2-core box, while other jobs kept both cores busy):
streaming 1,000,000 records took 52 s of CPU time (75 s wall clock at 69 % of a core) with constant
memory, 29 MB peak RSS for the whole interpreter (``/usr/bin/time -v``); :func:`write_jsonl` of
1,000,000 records took 77 s of CPU time, 34 MB peak RSS, and wrote 1.77 GB. Printing the footprints'
coordinates is the largest single cost (about 0.2 microseconds a number, ~64 numbers a record).
On 100,000 records a 0.2-degree square over Boulder met 532 footprints, Tokyo 242, Kigali 77, and
five random squares elsewhere 0-1.

>>> records = list(generate_records(3, seed=7))
>>> [r["type"][-1] for r in records] == [r["type"][-1] for r in generate_records(3, seed=7)]
True
>>> sorted(records[0]) == ["identifier", "properties", "type"]
True
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike
from types import MappingProxyType
from typing import Any

__all__ = [
    "OPERATING",
    "PLACES",
    "TYPE_MIX",
    "Place",
    "city_area",
    "generate_records",
    "write_jsonl",
]


@dataclass(frozen=True, slots=True)
class Place:
    """A centre that footprints cluster around: a city or a region imagery is often taken of.

    ``weight`` is relative: a place with weight 10 gets ten times the footprints of one with 1.
    """

    name: str
    lon: float
    lat: float
    weight: float


# fmt: off
_PLACE_ROWS: tuple[tuple[str, float, float, float], ...] = (
    # North America (the sample is centred on Boulder/Denver, so they weigh most)
    ("Boulder", -105.27, 40.01, 12), ("Denver", -104.99, 39.74, 8),
    ("Colorado Springs", -104.82, 38.83, 3), ("Fort Collins", -105.08, 40.59, 2),
    ("Salt Lake City", -111.89, 40.76, 4), ("Phoenix", -112.07, 33.45, 4),
    ("Las Vegas", -115.14, 36.17, 3), ("Los Angeles", -118.24, 34.05, 9),
    ("San Diego", -117.16, 32.72, 4), ("San Francisco", -122.42, 37.77, 8),
    ("Sacramento", -121.49, 38.58, 2), ("Portland", -122.68, 45.52, 3),
    ("Seattle", -122.33, 47.61, 5), ("Vancouver", -123.12, 49.28, 4),
    ("Calgary", -114.07, 51.05, 2), ("Edmonton", -113.49, 53.55, 1.5),
    ("Anchorage", -149.90, 61.22, 1.5), ("Honolulu", -157.86, 21.31, 2),
    ("Albuquerque", -106.65, 35.08, 2), ("El Paso", -106.49, 31.76, 2),
    ("Dallas", -96.80, 32.78, 5), ("Houston", -95.37, 29.76, 6),
    ("San Antonio", -98.49, 29.42, 3), ("Austin", -97.74, 30.27, 3),
    ("Oklahoma City", -97.52, 35.47, 2), ("Kansas City", -94.58, 39.10, 2),
    ("Omaha", -95.93, 41.26, 1.5), ("Minneapolis", -93.27, 44.98, 3),
    ("Chicago", -87.63, 41.88, 7), ("St. Louis", -90.20, 38.63, 2.5),
    ("New Orleans", -90.07, 29.95, 3), ("Memphis", -90.05, 35.15, 1.5),
    ("Nashville", -86.78, 36.16, 2), ("Atlanta", -84.39, 33.75, 4),
    ("Miami", -80.19, 25.76, 5), ("Tampa", -82.46, 27.95, 2.5),
    ("Orlando", -81.38, 28.54, 2.5), ("Charlotte", -80.84, 35.23, 2),
    ("Washington", -77.04, 38.91, 8), ("Baltimore", -76.61, 39.29, 2.5),
    ("Philadelphia", -75.17, 39.95, 4), ("New York", -74.01, 40.71, 10),
    ("Boston", -71.06, 42.36, 4), ("Pittsburgh", -80.00, 40.44, 2),
    ("Detroit", -83.05, 42.33, 3), ("Cleveland", -81.69, 41.50, 2),
    ("Toronto", -79.38, 43.65, 5), ("Montreal", -73.57, 45.50, 4),
    ("Ottawa", -75.70, 45.42, 2), ("Mexico City", -99.13, 19.43, 8),
    ("Guadalajara", -103.35, 20.66, 3), ("Monterrey", -100.32, 25.69, 3),
    ("Havana", -82.37, 23.11, 2), ("Port-au-Prince", -72.34, 18.54, 2.5),
    ("Guatemala City", -90.51, 14.63, 2), ("Panama City", -79.52, 8.98, 2),
    # South America
    ("Bogota", -74.07, 4.71, 4), ("Medellin", -75.56, 6.25, 2),
    ("Caracas", -66.90, 10.48, 3), ("Quito", -78.47, -0.18, 2),
    ("Lima", -77.04, -12.05, 4), ("La Paz", -68.15, -16.50, 2),
    ("Santiago", -70.65, -33.45, 4), ("Buenos Aires", -58.38, -34.60, 6),
    ("Montevideo", -56.16, -34.90, 2), ("Asuncion", -57.58, -25.26, 1.5),
    ("Sao Paulo", -46.63, -23.55, 8), ("Rio de Janeiro", -43.17, -22.91, 6),
    ("Brasilia", -47.88, -15.79, 3), ("Belo Horizonte", -43.94, -19.92, 3),
    ("Salvador", -38.50, -12.97, 2), ("Recife", -34.88, -8.05, 2),
    ("Manaus", -60.02, -3.12, 2), ("Belem", -48.50, -1.46, 1.5),
    # Europe
    ("London", -0.13, 51.51, 9), ("Paris", 2.35, 48.86, 8), ("Madrid", -3.70, 40.42, 5),
    ("Barcelona", 2.17, 41.39, 4), ("Lisbon", -9.14, 38.72, 3), ("Dublin", -6.26, 53.35, 2.5),
    ("Amsterdam", 4.90, 52.37, 4), ("Brussels", 4.35, 50.85, 3), ("Berlin", 13.40, 52.52, 5),
    ("Hamburg", 9.99, 53.55, 3), ("Munich", 11.58, 48.14, 3), ("Frankfurt", 8.68, 50.11, 3),
    ("Zurich", 8.54, 47.38, 2.5), ("Vienna", 16.37, 48.21, 3), ("Prague", 14.42, 50.08, 2.5),
    ("Warsaw", 21.01, 52.23, 3), ("Budapest", 19.04, 47.50, 2.5), ("Rome", 12.50, 41.90, 5),
    ("Milan", 9.19, 45.46, 4), ("Naples", 14.27, 40.85, 2.5), ("Athens", 23.73, 37.98, 3),
    ("Istanbul", 28.98, 41.01, 7), ("Ankara", 32.85, 39.93, 3), ("Bucharest", 26.10, 44.43, 2.5),
    ("Sofia", 23.32, 42.70, 2), ("Belgrade", 20.46, 44.79, 2), ("Kyiv", 30.52, 50.45, 4),
    ("Donetsk", 37.80, 48.02, 3), ("Sevastopol", 33.52, 44.62, 3), ("Minsk", 27.56, 53.90, 2),
    ("Moscow", 37.62, 55.76, 8), ("Saint Petersburg", 30.34, 59.93, 4),
    ("Stockholm", 18.07, 59.33, 3), ("Oslo", 10.75, 59.91, 2.5), ("Copenhagen", 12.57, 55.68, 2.5),
    ("Helsinki", 24.94, 60.17, 2.5), ("Reykjavik", -21.94, 64.15, 1.5),
    # Africa (the sample's other hot spot is the Sudan/South Sudan border, and Tripoli)
    ("Cairo", 31.24, 30.04, 8), ("Alexandria", 29.92, 31.20, 3), ("Tripoli", 13.19, 32.89, 4),
    ("Tunis", 10.18, 36.81, 2), ("Algiers", 3.06, 36.75, 2.5), ("Casablanca", -7.59, 33.57, 3),
    ("Dakar", -17.47, 14.72, 2), ("Bamako", -8.00, 12.64, 2), ("Niamey", 2.11, 13.51, 1.5),
    ("Abidjan", -4.01, 5.36, 2.5), ("Accra", -0.19, 5.60, 2.5), ("Lagos", 3.38, 6.52, 6),
    ("Abuja", 7.49, 9.06, 2.5), ("Kano", 8.52, 12.00, 2), ("Maiduguri", 13.15, 11.85, 2.5),
    ("N'Djamena", 15.04, 12.13, 2), ("Khartoum", 32.53, 15.50, 4), ("Heglig", 29.40, 10.00, 6),
    ("Bentiu", 29.80, 9.23, 3), ("Juba", 31.58, 4.86, 3), ("Addis Ababa", 38.76, 9.02, 3),
    ("Mogadishu", 45.32, 2.05, 3), ("Nairobi", 36.82, -1.29, 4), ("Kampala", 32.58, 0.35, 2.5),
    ("Kigali", 30.06, -1.94, 1.5), ("Kinshasa", 15.27, -4.44, 4), ("Goma", 29.23, -1.68, 2),
    ("Luanda", 13.23, -8.84, 2.5), ("Dar es Salaam", 39.21, -6.79, 3),
    ("Lusaka", 28.32, -15.39, 1.5), ("Harare", 31.05, -17.83, 2),
    ("Johannesburg", 28.05, -26.20, 5), ("Cape Town", 18.42, -33.92, 4),
    ("Antananarivo", 47.52, -18.88, 1.5),
    # Middle East and Central Asia
    ("Jerusalem", 35.21, 31.77, 5), ("Gaza", 34.47, 31.50, 4), ("Beirut", 35.50, 33.89, 3),
    ("Damascus", 36.29, 33.51, 5), ("Aleppo", 37.16, 36.20, 5), ("Mosul", 43.13, 36.34, 4),
    ("Baghdad", 44.36, 33.31, 6), ("Basra", 47.78, 30.51, 2.5), ("Kuwait City", 47.98, 29.38, 2.5),
    ("Riyadh", 46.68, 24.71, 4), ("Jeddah", 39.19, 21.49, 3), ("Sanaa", 44.19, 15.37, 3),
    ("Aden", 45.03, 12.79, 2), ("Doha", 51.53, 25.29, 3), ("Dubai", 55.27, 25.20, 5),
    ("Abu Dhabi", 54.37, 24.45, 3), ("Muscat", 58.41, 23.59, 2), ("Tehran", 51.39, 35.69, 6),
    ("Isfahan", 51.67, 32.65, 2.5), ("Kabul", 69.21, 34.56, 4), ("Kandahar", 65.71, 31.61, 2.5),
    ("Tashkent", 69.24, 41.30, 2), ("Almaty", 76.89, 43.24, 2), ("Baku", 49.87, 40.41, 2),
    # South Asia
    ("Karachi", 67.01, 24.86, 5), ("Lahore", 74.36, 31.52, 4), ("Islamabad", 73.05, 33.68, 3),
    ("Delhi", 77.21, 28.61, 8), ("Mumbai", 72.88, 19.08, 7), ("Kolkata", 88.36, 22.57, 5),
    ("Chennai", 80.27, 13.08, 4), ("Bangalore", 77.59, 12.97, 4), ("Hyderabad", 78.49, 17.39, 4),
    ("Ahmedabad", 72.57, 23.02, 3), ("Dhaka", 90.41, 23.81, 5), ("Kathmandu", 85.32, 27.72, 2.5),
    ("Colombo", 79.86, 6.93, 2),
    # East and Southeast Asia, Oceania
    ("Beijing", 116.41, 39.90, 9), ("Tianjin", 117.20, 39.08, 4), ("Shanghai", 121.47, 31.23, 9),
    ("Nanjing", 118.80, 32.06, 3), ("Hangzhou", 120.16, 30.27, 3), ("Wuhan", 114.31, 30.59, 4),
    ("Chongqing", 106.55, 29.56, 4), ("Chengdu", 104.07, 30.57, 4), ("Xi'an", 108.94, 34.34, 3),
    ("Guangzhou", 113.26, 23.13, 6), ("Shenzhen", 114.06, 22.54, 5),
    ("Hong Kong", 114.17, 22.32, 5),
    ("Taipei", 121.57, 25.03, 4), ("Seoul", 126.98, 37.57, 7), ("Busan", 129.08, 35.18, 3),
    ("Pyongyang", 125.76, 39.04, 5), ("Yongbyon", 125.75, 39.80, 3), ("Tokyo", 139.69, 35.69, 10),
    ("Osaka", 135.50, 34.69, 5), ("Nagoya", 136.91, 35.18, 3), ("Sendai", 140.87, 38.27, 3),
    ("Fukushima", 141.03, 37.42, 3), ("Sapporo", 141.35, 43.06, 2),
    ("Vladivostok", 131.89, 43.12, 2),
    ("Manila", 120.98, 14.60, 5), ("Tacloban", 125.00, 11.24, 2), ("Hanoi", 105.85, 21.03, 4),
    ("Ho Chi Minh City", 106.63, 10.82, 4), ("Bangkok", 100.50, 13.76, 6),
    ("Yangon", 96.20, 16.87, 3), ("Phnom Penh", 104.93, 11.56, 2),
    ("Kuala Lumpur", 101.69, 3.14, 4),
    ("Singapore", 103.82, 1.35, 5), ("Jakarta", 106.85, -6.21, 6), ("Surabaya", 112.75, -7.25, 2.5),
    ("Banda Aceh", 95.32, 5.55, 2), ("Balikpapan", 116.83, -1.24, 1.5),
    ("Port Moresby", 147.18, -9.44, 1.5), ("Darwin", 130.84, -12.46, 1.5),
    ("Perth", 115.86, -31.95, 3), ("Adelaide", 138.60, -34.93, 2.5),
    ("Melbourne", 144.96, -37.81, 4), ("Sydney", 151.21, -33.87, 5),
    ("Brisbane", 153.03, -27.47, 3), ("Auckland", 174.76, -36.85, 3),
    ("Christchurch", 172.64, -43.53, 2),
    # Polar and remote sites that imagery programmes return to
    ("McMurdo Station", 166.67, -77.85, 1), ("Nuuk", -51.72, 64.18, 1),
    ("Svalbard", 15.63, 78.22, 1), ("Norilsk", 88.20, 69.35, 1),
)
# fmt: on

PLACES: tuple[Place, ...] = tuple(Place(*row) for row in _PLACE_ROWS)
"""The centres footprints cluster around, heaviest first within each region.

>>> next(p for p in PLACES if p.name == "Boulder")
Place(name='Boulder', lon=-105.27, lat=40.01, weight=12)
"""

_DG = ("GBDXCatalogRecord", "Acquisition", "DigitalGlobeAcquisition")

TYPE_MIX: Mapping[tuple[str, ...], float] = MappingProxyType(
    {
        (*_DG, "WV01"): 0.440,
        ("GBDXCatalogRecord", "Acquisition", "Landsat8", "LandsatAcquisition"): 0.185,
        (*_DG, "WV02"): 0.126,
        (*_DG, "QB02"): 0.082,
        ("GBDXCatalogRecord", "Acquisition", "IKONOS", "IKONOSAcquisition"): 0.055,
        (*_DG, "GE01"): 0.053,
        (*_DG, "WV03_VNIR"): 0.041,
        (*_DG, "WV03_SWIR"): 0.013,
        ("GBDXCatalogRecord", "IDAHOImage", "DigitalGlobeProduct", "WV03_VNIR"): 0.005,
    }
)
"""Each type list and its share of the records (the recorded sample's mix, per mille).

Sensors outside the requested time range drop out and the others share their part.

>>> round(sum(TYPE_MIX.values()), 9)
1.0
"""

OPERATING: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "WV01": ("2007-10-01", None),
        "WV02": ("2009-10-20", None),
        "WV03_VNIR": ("2014-08-20", None),
        "WV03_SWIR": ("2014-08-20", None),
        "GE01": ("2008-10-01", None),
        "QB02": ("2001-11-01", "2015-01-27"),
        "IKONOS": ("1999-10-01", "2015-03-31"),
        "Landsat8": ("2013-04-11", None),
        "IDAHOImage": ("2014-08-20", None),
    }
)
"""First and last day (None: still imaging) each sensor's records may fall on, in UTC.

>>> OPERATING["QB02"]
('2001-11-01', '2015-01-27')
"""


@dataclass(frozen=True, slots=True)
class _Optical:
    """How one DigitalGlobe (or IKONOS) sensor's acquisitions look."""

    kind: str  # the last type label, also the OPERATING key
    prefixes: tuple[str, ...]  # catalogID heads (6 hex digits), first is the common one
    platform: str  # sensorPlatformName and platformName
    bands: str  # imageBands
    pan_gsd: float  # nadir panResolution in metres (0.0: no pan band)
    multi_gsd: float  # nadir multiResolution in metres (0.0: no multispectral band)
    width: float  # swath across the strip, degrees of latitude
    forward: float  # share of scanDirection "Forward"
    max_ona: float  # largest offNadirAngle


_SENSORS: dict[str, _Optical] = {
    s.kind: s
    for s in (
        _Optical("WV01", ("102001",), "WORLDVIEW01", "PAN", 0.497, 0.0, 0.175, 0.69, 45.0),
        _Optical("WV02", ("103001",), "WORLDVIEW02", "PAN_MS1_MS2", 0.462, 1.848, 0.16, 0.66, 47.0),
        _Optical(
            "WV03_VNIR",
            ("104001",),
            "WORLDVIEW03_VNIR",
            "PAN_MS1_MS2",
            0.309,
            1.236,
            0.13,
            0.76,
            40,
        ),
        _Optical("WV03_SWIR", ("104A01",), "WORLDVIEW03_SWIR", "SWIR", 0.0, 3.70, 0.115, 0.75, 30),
        _Optical("GE01", ("105041", "105001"), "GEOEYE01", "PAN_MS1", 0.409, 1.636, 0.16, 0.01, 44),
        _Optical("QB02", ("101001",), "QUICKBIRD02", "PAN_MS1", 0.609, 2.436, 0.16, 1.0, 45.0),
        _Optical("IKONOS", (), "IKONOS", "PAN_MS1", 0.82, 3.28, 0.11, 1.0, 44.0),
    )
}

_BACKGROUND = 0.25  # share of footprints placed anywhere between _BG_LAT
_BG_LAT = (-60.0, 75.0)
_SIGMA = 0.5  # Gaussian spread around a place, degrees of latitude
_STEP = 0.053  # vertex spacing along a strip's long edges, degrees
_RES_EXP = 1.84  # resolution = nadir / cos(offNadirAngle) ** _RES_EXP
_DAY = 86400
_MASK32 = 0xFFFFFFFF
_EIGHT_BAND = "8-band (Coastal, Blue, Green, Yellow, Red, Red-edge, NIR1, NIR2) Multispectral"
_BROWSE = "https://geobigdata.io/thumbnails/v1/browse/{}.large.png"
_LANDSAT_BROWSE = (
    "https://s3-us-west-2.amazonaws.com/landsat-pds/L8/{:03d}/{:03d}/{}/{}_thumb_large.jpg"
)
_LANDSAT_STATIONS = ("LGN", "KIS", "SG1", "ASN", "PAC", "MTI")
# WRS-2: 233 paths, 248 rows an orbit; path p crosses the equator (descending) at about
# -64.6 - 1.5451 (p - 1) degrees, and the scene centre drifts east 0.243 degrees per degree of
# latitude. _LANDSAT_ANCHOR is the day number (since 1970) on which path 0 would be imaged.
_WRS_PATH_DEG = 360.0 / 233.0
_WRS_ROW_DEG = 360.0 / 248.0
_SIN_INCLINATION = math.sin(math.radians(98.2))
_LANDSAT_ANCHOR = 17174 - 7 * 33  # 2017-01-08 is a path-33 day


def _seconds(text: str) -> float:
    """Seconds since 1970 of an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _kind(types: tuple[str, ...]) -> str:
    """The :data:`OPERATING` key of a type list of :data:`TYPE_MIX`."""
    if types[1] == "IDAHOImage":
        return "IDAHOImage"
    return types[2] if types[2] in ("Landsat8", "IKONOS") else types[-1]


def _mix32(key: int) -> int:
    """A bijection of 32-bit integers that scatters consecutive keys (so serials look random)."""
    key = ((key ^ 0x5BD1E995) * 0x9E3779B1) & _MASK32
    key ^= key >> 16
    key = (key * 0x85EBCA6B) & _MASK32
    key ^= key >> 13
    key = (key * 0xC2B2AE35) & _MASK32
    return key ^ (key >> 16)


_RING_FORMATS: dict[int, str] = {}


def _ring_format(points: int) -> str:
    """A %-format for a MULTIPOLYGON of one closed ring of ``points`` vertices (10 digits each).

    One ``%`` over all the numbers is the fastest way CPython has to print them.

    >>> _ring_format(2) % (1.5, 2.0, 1.5, 2.0)
    'MULTIPOLYGON(((1.5 2, 1.5 2)))'
    """
    fmt = _RING_FORMATS.get(points)
    if fmt is None:
        fmt = "MULTIPOLYGON(((" + ", ".join(["%.10g %.10g"] * points) + ")))"
        _RING_FORMATS[points] = fmt
    return fmt


def _solar(lat: float, day: float, local_hours: float) -> tuple[float, float]:
    """Sun elevation and azimuth (clockwise from north), degrees, at a latitude and solar time."""
    declination = math.radians(23.44) * math.sin(
        2 * math.pi * ((day - 10957) % 365.25 - 80) / 365.25
    )
    hour_angle = math.radians(15.0 * (local_hours - 12.0))
    phi = math.radians(lat)
    sin_el = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))
    azimuth = math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(phi) - math.tan(declination) * math.cos(phi),
        )
    )
    return elevation, (azimuth + 180.0) % 360.0


class _Generator:
    """The state of one :func:`generate_records` call (one RNG, the Landsat revisit counters)."""

    def __init__(self, seed: int, start: str, end: str) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.t0 = _seconds(start)
        self.t1 = _seconds(end)
        if self.t1 < self.t0:
            raise ValueError(f"start {start!r} is after end {end!r}")
        self.windows: dict[str, tuple[float, float]] = {}
        kinds: list[tuple[str, ...]] = []
        weights: list[float] = []
        for types, share in TYPE_MIX.items():
            kind = _kind(types)
            first, last = OPERATING[kind]
            lo = max(self.t0, _seconds(first))
            hi = min(self.t1, _seconds(last) + _DAY - 1 if last else self.t1)
            if kind == "Landsat8" and hi - lo < 40 * _DAY:
                continue  # too short for a 16-day revisit cycle inside the window
            if hi < lo:
                continue
            self.windows[kind] = (lo, hi)
            kinds.append(types)
            weights.append(share)
        if not kinds:
            raise ValueError(f"no sensor was imaging between {start!r} and {end!r}")
        self.kinds = kinds
        total = sum(weights)
        acc = 0.0
        self.cum_kinds: list[float] = []
        for w in weights:
            acc += w / total
            self.cum_kinds.append(acc)
        self.cum_kinds[-1] = 1.0
        acc = 0.0
        self.cum_places: list[float] = []
        for place in PLACES:
            acc += place.weight
            self.cum_places.append(acc)
        self.place_total = acc
        self.revisits: dict[int, int] = {}
        self.seed_key = (seed & 0xFF) << 24

    # where and when -------------------------------------------------------------------------

    def where(self, max_abs_lat: float = 84.0) -> tuple[float, float]:
        """A footprint centre: near a weighted place, or anywhere in the background band."""
        rng = self.rng
        if rng.random() < _BACKGROUND:
            lo, hi = (math.sin(math.radians(v)) for v in _BG_LAT)
            lat = math.degrees(math.asin(lo + (hi - lo) * rng.random()))
            lon = 360.0 * rng.random() - 180.0
        else:
            place = PLACES[bisect.bisect(self.cum_places, rng.random() * self.place_total)]
            rnd = rng.random
            # a normal offset, approximated by three uniforms (cheap, and without far tails)
            lat = place.lat + (rnd() + rnd() + rnd() - 1.5) * (2.0 * _SIGMA)
            coslat = max(0.05, math.cos(math.radians(lat)))
            lon = place.lon + (rnd() + rnd() + rnd() - 1.5) * (2.0 * _SIGMA) / coslat
            if lon > 180.0:
                lon -= 360.0
            elif lon < -180.0:
                lon += 360.0
        return lon, max(-max_abs_lat, min(max_abs_lat, lat))

    def when(self, kind: str, lon: float, lat: float, local: float) -> tuple[float, float, float]:
        """An acquisition time near ``local`` solar hours, with the sun well up if possible.

        Returns the time (seconds since 1970), the sun's elevation and azimuth.
        """
        lo, hi = self.windows[kind]
        t = lo + (hi - lo) * self.rng.random()
        day = t // _DAY
        hours = local - lon / 15.0
        t = day * _DAY + hours * 3600.0
        elevation, azimuth = _solar(lat, day, local)
        if elevation < 5.0:  # polar night: try the other half of the year
            for days in (183, -183):
                if lo <= t + days * _DAY <= hi:
                    t += days * _DAY
                    elevation, azimuth = _solar(lat, day + days, local)
                    break
        if t < lo:
            t += _DAY
        elif t > hi:
            t -= _DAY
        t = min(hi, max(lo, t))
        if elevation < 5.0:
            elevation = 5.0 + 3.0 * self.rng.random()
        return t, elevation, azimuth

    @staticmethod
    def stamp(t: float, millis: int = 0) -> str:
        """``2015-07-31T10:07:17.000Z`` for seconds since 1970."""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + f".{millis:03d}Z"

    # footprints ---------------------------------------------------------------------------

    def strip(
        self, lon: float, lat: float, length: float, width: float, *, across_step: float = 0.0
    ) -> tuple[str, bool]:
        """A DigitalGlobe-style strip around (lon, lat) as MULTIPOLYGON WKT.

        ``length`` and ``width`` are in degrees of latitude; the strip runs north-south, or
        east-west when the caller asks for it by passing a negative length. Returns the WKT and
        whether the strip runs east-west.
        """
        rng = self.rng
        rnd = rng.random
        east_west = length < 0
        length = abs(length)
        coslat = max(0.02, math.cos(math.radians(lat)))
        n_long = max(1, round(length / _STEP))
        n_across = max(1, round(width / across_step)) if across_step else 1
        tilt = (rnd() - 0.5) * 0.012
        if east_west:
            half_x, half_y = length / coslat / 2, width / 2
        else:
            half_x, half_y = width / coslat / 2, length / 2
        half_x = min(half_x, 60.0)
        # keep every vertex (shear and jitter included) inside the valid range
        reach_y = half_y + abs(tilt) * half_x * coslat + 1e-3
        lat = max(-89.0 + reach_y, min(89.0 - reach_y, lat))
        reach_x = half_x + abs(tilt) * half_y / coslat + 1e-3
        lon = max(-180.0 + reach_x, min(180.0 - reach_x, lon))
        x0, x1, y0, y1 = lon - half_x, lon + half_x, lat - half_y, lat + half_y
        jx = jy = 2e-4
        if east_west:
            n_top, n_side = n_long, n_across
        else:
            n_top, n_side = n_across, n_long
        # the ring: top edge (west to east), east side (north to south), bottom, west side;
        # sheared by the tilt, each vertex jittered by up to 1e-4 degrees across its edge
        c: list[float] = []
        add = c.extend
        dx, dy = (x1 - x0) / n_top, (y1 - y0) / n_side
        sy, sx = tilt * coslat, tilt / coslat
        yb, xb = sy * dx, sx * dy
        ya = y1 + sy * (x0 - lon) - 1e-4
        for i in range(n_top):
            add((x0 + dx * i, ya + yb * i + rnd() * jy))
        xa = x1 + sx * (y1 - lat) - 1e-4
        for i in range(n_side):
            add((xa - xb * i + rnd() * jx, y1 - dy * i))
        ya = y0 + sy * (x1 - lon) - 1e-4
        for i in range(n_top):
            add((x1 - dx * i, ya - yb * i + rnd() * jy))
        xa = x0 + sx * (y0 - lat) - 1e-4
        for i in range(n_side):
            add((xa + xb * i + rnd() * jx, y0 + dy * i))
        c += c[:2]
        return _ring_format(len(c) // 2) % tuple(c), east_west

    def strip_length(self) -> float:
        """How long a strip is, degrees: a tile, a strip of about a degree, or a long one."""
        rnd = self.rng.random
        u = rnd()
        if u < 0.30:
            return 0.10 + 0.15 * rnd()
        if u < 0.42:
            return 0.25 + 0.70 * rnd()
        if u < 0.93:
            return 0.95 + 0.17 * rnd()
        return 1.12 + 1.98 * rnd()

    # properties ---------------------------------------------------------------------------

    def cloud(self) -> int:
        """Cloud cover in percent: half the scenes clear, a long tail up to 100."""
        rnd = self.rng.random
        u = rnd()
        if u < 0.42:
            return 0
        if u < 0.62:
            return 1 + int(10.0 * rnd())
        return 11 + int(90.0 * rnd())

    def off_nadir(self, sensor: _Optical) -> float:
        """Off-nadir angle: mostly 5-30 degrees, a few steep looks up to the sensor's limit."""
        rnd = self.rng.random
        if rnd() < 0.08:
            return 25.0 + (sensor.max_ona - 25.0) * rnd()
        return 1.0 + (rnd() + rnd()) * 0.5 * min(31.0, sensor.max_ona - 1.0)

    # records ------------------------------------------------------------------------------

    def record(self, index: int) -> dict[str, Any]:
        """Record number ``index`` of this call."""
        types = self.kinds[bisect.bisect(self.cum_kinds, self.rng.random())]
        if types[1] == "IDAHOImage":
            return self.idaho(index, types)
        kind = types[-1]
        if kind == "LandsatAcquisition":
            return self.landsat(types)
        if kind == "IKONOSAcquisition":
            return self.ikonos(index, types)
        return self.digitalglobe(index, types, _SENSORS[kind])

    def catalog_id(self, index: int, prefix: str) -> str:
        return f"{prefix}{_mix32(self.seed_key + index):08X}00"

    def digitalglobe(self, index: int, types: tuple[str, ...], s: _Optical) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        lon, lat = self.where()
        t, sun_el, sun_az = self.when(s.kind, lon, lat, 10.5 + (rnd() - 0.5) * 1.6)
        prefix = s.prefixes[0] if len(s.prefixes) == 1 or rnd() < 0.7 else s.prefixes[1]
        ident = self.catalog_id(index, prefix)
        length = self.strip_length()
        east_west = s.kind == "GE01" and rnd() < 0.5
        ona = self.off_nadir(s)
        width = s.width * (0.9 + 0.2 * rnd()) / math.cos(math.radians(ona)) ** 0.5
        wkt, _ = self.strip(lon, lat, -length if east_west else length, width)
        spread = (0.2 + 3.0 * rnd() * rnd()) * (0.3 + length)
        half = spread / 2
        ona_start = max(0.1, ona + half if rnd() < 0.5 else ona - half)
        ona_end = max(0.1, 2 * ona - ona_start)
        cos_exp = math.cos(math.radians(ona)) ** -_RES_EXP
        k_start = math.cos(math.radians(ona_start)) ** -_RES_EXP
        k_end = math.cos(math.radians(ona_end)) ** -_RES_EXP
        pan = (
            round(s.pan_gsd * cos_exp, 7),
            round(s.pan_gsd * k_start, 7),
            round(s.pan_gsd * k_end, 7),
        )
        multi = (
            round(s.multi_gsd * cos_exp, 7),
            round(s.multi_gsd * k_start, 7),
            round(s.multi_gsd * k_end, 7),
        )
        target = 360.0 * rnd()
        dt = (rnd() - 0.5) * 20.0 * rnd()
        t_start = round((target - dt) % 360.0, 5)
        t_end = round((target + dt) % 360.0, 5)
        if east_west:
            bearing = 90.0 + rng.gauss(0.0, 1.2)
        elif rnd() < 0.08:
            bearing = (
                abs(rng.gauss(0.0, 0.003)) if rnd() < 0.5 else 360.0 - abs(rng.gauss(0.0, 0.003))
            )
        else:
            bearing = 180.0 + rng.gauss(0.0, 0.006)
        sun_el = round(sun_el, 6)
        sun_az = round(sun_az, 6)
        ona_r = (round(ona, 6), round(ona_start, 6), round(ona_end, 6))
        bands = s.bands
        if s.kind == "GE01" and rnd() < 0.015:
            bands = "PAN"
        return {
            "identifier": ident,
            "type": list(types),
            "properties": {
                "bearing": round(bearing, 9),
                "browseURL": _BROWSE.format(ident),
                "catalogID": ident,
                "cloudCover": self.cloud(),
                "footprintWkt": wkt,
                "imageBands": bands,
                "multiResolution": multi[0],
                "multiResolution_end": multi[2],
                "multiResolution_max": max(multi[1], multi[2]),
                "multiResolution_min": min(multi[1], multi[2]),
                "multiResolution_start": multi[1],
                "offNadirAngle": ona_r[0],
                "offNadirAngle_end": ona_r[2],
                "offNadirAngle_max": max(ona_r[1], ona_r[2]),
                "offNadirAngle_min": min(ona_r[1], ona_r[2]),
                "offNadirAngle_start": ona_r[1],
                "panResolution": pan[0],
                "panResolution_end": pan[2],
                "panResolution_max": max(pan[1], pan[2]),
                "panResolution_min": min(pan[1], pan[2]),
                "panResolution_start": pan[1],
                "platformName": s.platform,
                "scanDirection": "Forward" if rnd() < s.forward else "Reverse",
                "sensorPlatformName": s.platform,
                "stereoPair": None,
                "sunAzimuth": sun_az,
                "sunAzimuth_max": sun_az,
                "sunAzimuth_min": sun_az,
                "sunElevation": sun_el,
                "sunElevation_max": sun_el,
                "sunElevation_min": sun_el,
                "targetAzimuth": round(target, 5),
                "targetAzimuth_end": t_end,
                "targetAzimuth_max": max(t_start, t_end),
                "targetAzimuth_min": min(t_start, t_end),
                "targetAzimuth_start": t_start,
                "timestamp": self.stamp(t),
                "vendor": "DigitalGlobe",
            },
        }

    def ikonos(self, index: int, types: tuple[str, ...]) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        s = _SENSORS["IKONOS"]
        lon, lat = self.where()
        t, sun_el, sun_az = self.when("IKONOS", lon, lat, 10.5 + (rnd() - 0.5) * 1.6)
        u = rnd()
        if u < 0.65:
            length = rng.uniform(0.10, 0.14)
        elif u < 0.85:
            length = rng.uniform(0.14, 0.6)
        else:
            length = rng.uniform(0.6, 1.3) if u < 0.97 else rng.uniform(1.3, 3.1)
        # (the real IKONOS footprints carry 12 significant digits; 10 are within a millimetre)
        wkt, _ = self.strip(lon, lat, length, s.width * (0.95 + 0.1 * rnd()), across_step=0.056)
        ona = self.off_nadir(s)
        k = math.cos(math.radians(ona)) ** -_RES_EXP
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(int(t)))
        ident = f"{stamp}{self.seed % 10}000001{index % 10_000_000:07d}"
        zone = f"{min(60, int((lon + 180.0) // 6.0) + 1)}{'N' if lat >= 0 else 'S'}"
        u = rnd()
        components = 1 if u < 0.95 else (2 if u < 0.985 else rng.randint(3, 4))
        return {
            "identifier": ident,
            "type": list(types),
            "properties": {
                "bucketName": "ikonos-product",
                "bucketPrefix": f"po_{1_000_000 + _mix32(self.seed_key + index) % 9_000_000}",
                "catalogID": ident,
                "cloudCover": self.cloud(),
                "components": components,
                "footprintWkt": wkt,
                "imageBands": s.bands,
                "multiResolution": round(s.multi_gsd * k, 7),
                "offNadirAngle": ona,
                "panResolution": round(s.pan_gsd * k, 7),
                "platformName": s.platform,
                "sensorPlatformName": s.platform,
                "sunAzimuth": round(sun_az, 5),
                "sunElevation": round(sun_el, 6),
                "targetAzimuth": round(360.0 * rnd(), 5),
                "timestamp": self.stamp(t),
                "vendor": "DigitalGlobe",
                "zone": zone,
            },
        }

    def landsat(self, types: tuple[str, ...]) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        lon, lat = self.where(max_abs_lat=80.0)
        night = rnd() < 0.12
        # the WRS-2 cell the point falls in (descending pass), and that cell's centre
        u = math.degrees(
            math.asin(max(-1.0, min(1.0, math.sin(math.radians(lat)) / _SIN_INCLINATION)))
        )
        row = max(1, min(122, round(60.0 - u / _WRS_ROW_DEG)))
        path = round((-64.6 + 0.243 * lat - lon) / _WRS_PATH_DEG) % 233 + 1
        u_c = (60 - row) * _WRS_ROW_DEG
        c_lat = math.degrees(math.asin(math.sin(math.radians(u_c)) * _SIN_INCLINATION))
        c_lon = -64.6 + 0.243 * c_lat - (path - 1) * _WRS_PATH_DEG
        c_lon = (c_lon + 180.0) % 360.0 - 180.0
        if night:  # the ascending pass over the same ground: another path and row number
            row = round(60.0 + (180.0 + u_c) / _WRS_ROW_DEG)
            path = (path + 95) % 233 + 1
        # revisits: day = anchor + 7 path + 16 k; each cell takes its k in a scattered order
        lo, hi = self.windows["Landsat8"]
        first = math.ceil(lo / _DAY) + 1
        last = math.floor(hi / _DAY) - 2
        base = _LANDSAT_ANCHOR + 7 * path
        k_min = -((base - first) // 16)
        k_max = (last - base) // 16
        cycles = k_max - k_min + 1
        cell = path * 1000 + row
        count = self.revisits.get(cell, 0)
        self.revisits[cell] = count + 1
        version, slot = divmod(count, cycles)
        step = next(p for p in (97, 89, 83, 79, 73, 71) if cycles % p)
        k = k_min + (slot * step + _mix32(cell + self.seed_key) % cycles) % cycles
        day = base + 16 * k
        local = 21.85 if night else 10.18
        offset = (local - c_lon / 15.0) * 3600.0
        # a few seconds' jitter, kept on the same UTC day so that the cell's days stay 16 apart
        first_second = offset // _DAY * _DAY
        offset = min(first_second + _DAY - 1, max(first_second, offset + 80.0 * rnd() - 40.0))
        t = day * _DAY + offset
        t = min(hi, max(lo, t))
        stamp = time.gmtime(int(t))
        year, doy = stamp.tm_year, stamp.tm_yday
        station = _LANDSAT_STATIONS[min(version // 100, len(_LANDSAT_STATIONS) - 1)]
        if version >= 100 * len(_LANDSAT_STATIONS):
            raise ValueError("more Landsat scenes on one WRS-2 cell than this generator can name")
        sensor = "LO8" if rnd() < 0.005 else "LC8"
        ident = f"{sensor}{path:03d}{row:03d}{year:04d}{doy:03d}{station}{version % 100:02d}"
        # the real bucketPrefix always says LC8 and LGN00 and drops the day's leading zeros
        prefix = f"L8/{path:03d}/{row:03d}/LC8{path:03d}{row:03d}{year:04d}{doy}LGN00"
        half_w = 2.07 / max(0.15, math.cos(math.radians(c_lat))) / 2 + rng.uniform(-0.01, 0.01)
        half_h = 1.07 + rng.uniform(-0.01, 0.01)
        c_lon += rng.uniform(-0.02, 0.02)
        c_lon = max(-180.0 + half_w + 1e-3, min(180.0 - half_w - 1e-3, c_lon))
        x0, x1 = round(c_lon - half_w, 5), round(c_lon + half_w, 5)
        y0, y1 = round(c_lat - half_h, 5), round(c_lat + half_h, 5)
        wkt = _ring_format(5) % (x0, y0, x0, y1, x1, y1, x1, y0, x0, y0)
        return {
            "identifier": ident,
            "type": list(types),
            "properties": {
                "browseURL": _LANDSAT_BROWSE.format(path, row, ident, ident),
                "bucketName": "landsat-pds",
                "bucketPrefix": prefix,
                "catalogID": ident,
                "cloudCover": -1 if night and rnd() < 0.94 else self.cloud(),
                "footprintWkt": wkt,
                "multiResolution": 30.0,
                "panResolution": 15.0,
                "path": path,
                "platformName": "LANDSAT-8" if rnd() < 0.005 else "LANDSAT08",
                "row": row,
                "sensorPlatformName": "LANDSAT08",
                "timestamp": self.stamp(t),
                "vendor": "Landsat",
            },
        }

    def idaho(self, index: int, types: tuple[str, ...]) -> dict[str, Any]:
        rng = self.rng
        rnd = rng.random
        lon, lat = self.where()
        t, sun_el, sun_az = self.when("IDAHOImage", lon, lat, 10.5 + (rnd() - 0.5) * 1.6)
        millis = rng.randrange(1000)
        stamp = self.stamp(t, millis)
        catalog_id = f"104001{_mix32(self.seed_key + index) ^ 0x5A5A5A5A:08X}00"
        pan = rnd() < 0.5
        ona = round(self.off_nadir(_SENSORS["WV03_VNIR"]), 1)
        k = math.cos(math.radians(ona)) ** -_RES_EXP
        newer = rnd() < 0.25
        bucket = "rda-images-1" if newer else "idaho-images"
        width = 42500 if pan else 10651
        height = rng.randint(30000, 46000) // (1 if pan else 4)
        tile = 1024 if newer and pan else 256
        half_x = 0.085 / max(0.05, math.cos(math.radians(lat)))
        half_y = height * (0.31 if pan else 1.24) * k / 111_320 / 2
        lat = max(-89.0 + half_y, min(89.0 - half_y, lat))
        lon = max(-180.0 + half_x + 1e-3, min(180.0 - half_x - 1e-3, lon))
        skew = (rnd() - 0.5) * 0.02
        corners = (
            (lon - half_x, lat + half_y + skew),
            (lon + half_x, lat + half_y - skew),
            (lon + half_x, lat - half_y - skew),
            (lon - half_x, lat - half_y + skew),
        )
        wkt = _ring_format(5) % (*(v for corner in corners for v in corner), *corners[0])
        order = 50_000_000_000 + _mix32(self.seed_key + index) % 9_999_999_999
        part = rng.randint(1, 9)
        strip_id = f"A010010{rng.getrandbits(36):09X}"
        ident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return {
            "identifier": ident,
            "type": list(types),
            "properties": {
                "acquisitionDate": stamp,
                "bucketName": bucket,
                "catalogID": catalog_id,
                "cloudCover": 0 if rnd() < 0.7 else self.cloud(),
                "colorInterpretation": "PAN" if pan else "WORLDVIEW_8_BAND",
                "dataType": "UNSIGNED_SHORT",
                "epsgCode": "4326",
                "footprintWkt": wkt,
                "groundSampleDistanceMeters": round((0.31 if pan else 1.24) * k, 3),
                "idahoImageId": ident,
                "imageHeight": height,
                "imageWidth": width,
                "nativeTileFileFormat": "PNG" if pan else "TIF",
                "numBands": 1 if pan else 8,
                "numXTiles": -(-width // tile),
                "numYTiles": -(-height // tile),
                "offNadirAngle": ona,
                "platformName": "WORLDVIEW03_VNIR",
                "pniirs": round((5.7 if pan else 3.7) - ona / 50.0, 1),
                "profileName": "dg_1b",
                "satAzimuth": round(360.0 * rnd(), 1),
                "satElevation": round(90.0 - ona * 1.13, 1),
                "sensorName": "Panchromatic" if pan else _EIGHT_BAND,
                "sensorPlatformName": "WORLDVIEW03_VNIR",
                "sunAzimuth": round(sun_az, 1),
                "sunElevation": round(sun_el, 1),
                "tileBucketName": bucket,
                "tilePartition": "0000",
                "tileXOffset": 0,
                "tileXSize": 256,
                "tileYOffset": 0,
                "tileYSize": 256,
                "timestamp": stamp,
                "vendor": "DigitalGlobe",
                "vendorDatasetIdentifier": (
                    f"LV1B:{order:012d}_01_P{part:03d}:{catalog_id}:{strip_id}"
                ),
                "vendorName": "DigitalGlobe",
                "version": "1.1" if newer else "1.0",
            },
        }


def generate_records(
    n: int,
    *,
    seed: int = 0,
    start: str = "1999-09-24T00:00:00.000Z",
    end: str = "2017-12-31T23:59:59.000Z",
) -> Iterator[dict[str, Any]]:
    """Stream ``n`` synthetic GBDX catalog records, the same ones for the same arguments.

    Args:
        n: How many records (0 or more).
        seed: Chooses the catalog; records of different seeds differ (and their identifiers
            do not collide for seeds 0-255 and up to 2**24 records).
        start: ISO 8601 date or date-time; no record is older.
        end: ISO 8601 date or date-time; no record is newer. Sensors not imaging between
            ``start`` and ``end`` are left out (see :data:`OPERATING`).

    Yields:
        Records ``{"identifier", "type", "properties"}`` shaped like the real GBDX ones.

    Raises:
        ValueError: ``n`` is negative, ``start`` is after ``end``, or no sensor was imaging
            between them.

    >>> first = next(generate_records(1, seed=42))
    >>> first == next(generate_records(1, seed=42)), first == next(generate_records(1, seed=43))
    (True, False)
    >>> first["properties"]["footprintWkt"].startswith("MULTIPOLYGON(((")
    True
    >>> r = next(generate_records(1, seed=1, start="2016-01-01", end="2016-01-31"))
    >>> "2016-01-01" <= r["properties"]["timestamp"] <= "2016-01-31T23:59:59"
    True
    """
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    gen = _Generator(seed, start, end)
    for index in range(n):
        yield gen.record(index)


def city_area(place: Place | str, size_deg: float = 0.2) -> str:
    """A WKT POLYGON, ``size_deg`` degrees on a side, centred on a place (a search area).

    Args:
        place: A :class:`Place` or the name of one of :data:`PLACES`.
        size_deg: The side of the square, in degrees of longitude and of latitude.

    Returns:
        ``POLYGON((...))`` in lon/lat, clamped to the valid range.

    Raises:
        KeyError: No place of :data:`PLACES` has that name.

    >>> city_area("Boulder")
    'POLYGON((-105.37 39.91, -105.17 39.91, -105.17 40.11, -105.37 40.11, -105.37 39.91))'
    """
    if isinstance(place, str):
        found = [p for p in PLACES if p.name == place]
        if not found:
            raise KeyError(f"no place named {place!r}; see catalogql.testing.synthetic.PLACES")
        place = found[0]
    half = size_deg / 2

    def clamp(v: float, limit: float) -> str:
        return f"{round(max(-limit, min(limit, v)), 9):.10g}"

    x0, x1 = clamp(place.lon - half, 180.0), clamp(place.lon + half, 180.0)
    y0, y1 = clamp(place.lat - half, 90.0), clamp(place.lat + half, 90.0)
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def write_jsonl(
    path: str | PathLike[str],
    n: int,
    *,
    seed: int = 0,
    start: str = "1999-09-24T00:00:00.000Z",
    end: str = "2017-12-31T23:59:59.000Z",
) -> int:
    """Write ``n`` records of :func:`generate_records` as JSON Lines (for ``catalogql load``).

    Args:
        path: The file to write (replaced if it exists).
        n: How many records.
        seed: As for :func:`generate_records`.
        start: As for :func:`generate_records`.
        end: As for :func:`generate_records`.

    Returns:
        The number of records written.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp) / "catalog.jsonl"
    ...     (write_jsonl(out, 5, seed=3), len(out.read_text().splitlines()))
    (5, 5)
    """
    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(path, "w", encoding="utf-8") as out:
        batch: list[str] = []
        for record in generate_records(n, seed=seed, start=start, end=end):
            batch.append(dumps(record))
            count += 1
            if len(batch) >= 1000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    return count
