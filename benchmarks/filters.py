"""The SPEC's example filters, each with a hand-written CQL2-text equivalent for the peers.

CQL2 has no bare words and no ``*`` wildcard: a wildcard becomes ``LIKE '...%'``, every text value
is quoted, and a date-time literal is ``TIMESTAMP('...')``. ``catalogID`` holds strings in the
GBDX records, so its CQL2 equivalent compares with a quoted string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filter:
    label: str
    gbdx: str
    cql2: str


TYPICAL = Filter(
    "typical 3-clause",
    "sensorPlatformName = WORLDVIEW03* AND cloudCover < 20 AND offNadirAngle < 10",
    "sensorPlatformName LIKE 'WORLDVIEW03%' AND cloudCover < 20 AND offNadirAngle < 10",
)

PARSE_FILTERS = (
    TYPICAL,
    Filter(
        "OR of two bare values",
        "(sensorPlatformName = WORLDVIEW03_VNIR) OR (sensorPlatformName = WORLDVIEW03_SWIR)",
        "(sensorPlatformName = 'WORLDVIEW03_VNIR') OR (sensorPlatformName = 'WORLDVIEW03_SWIR')",
    ),
    Filter("one comparison", "cloudCover < 20", "cloudCover < 20"),
    Filter(
        "catalog id",
        "catalogID = 1050010018826700",
        "catalogID = '1050010018826700'",
    ),
    Filter(
        "OR of two quoted values",
        "(sensorPlatformName = 'WORLDVIEW01' OR sensorPlatformName ='QUICKBIRD02')",
        "(sensorPlatformName = 'WORLDVIEW01' OR sensorPlatformName = 'QUICKBIRD02')",
    ),
    Filter(
        "timestamp",
        "timestamp >= '2016-01-01T00:00:00.000Z'",
        "timestamp >= TIMESTAMP('2016-01-01T00:00:00.000Z')",
    ),
)

# Predicate evaluation against the peers: the typical filter, one comparison every record can
# answer, and one on a property 677 of the 3,670 records lack (where the peers raise).
PREDICATE_FILTERS = (
    TYPICAL,
    Filter("cloudCover < 20", "cloudCover < 20", "cloudCover < 20"),
    Filter("offNadirAngle < 10 (missing on 677)", "offNadirAngle < 10", "offNadirAngle < 10"),
)

# Closures versus generated code (catalogql only): 1, 3 and 6 comparisons.
CODEGEN_TIMED = (
    ("1 clause", "cloudCover < 20"),
    ("3 clauses", TYPICAL.gbdx),
    (
        "6 clauses",
        "(sensorPlatformName = WORLDVIEW02 OR sensorPlatformName = WORLDVIEW03*) AND "
        "cloudCover < 50 AND offNadirAngle < 30 AND sunElevation > 20 AND "
        "timestamp >= '2010-01-01T00:00:00.000Z'",
    ),
)

# Extra filters the generated code must agree on, record for record, with compile_predicate.
CODEGEN_CHECKED = (
    "NOT cloudCover < 20",
    "NOT (cloudCover < 20 OR offNadirAngle > 10)",
    "offNadirAngle <> 10.5 OR NOT sunElevation >= 30",
    "sensorPlatformName <> WORLDVIEW0*",
    "NOT sensorPlatformName = *03_*",
    "catalogID = 1050010*",
    "catalogID = 1030010045539700",
    "catalogID > 1040000000000000",
    "cloudCover = '0'",
    "cloudCover = abc",
    "cloudCover <> abc",
    "path = 44 AND row < 40",
    "bearing > 100",
    "NOT bearing > 100",
    "multiResolution <> 2",
    "stereoPair = x OR NOT stereoPair = x",
    "timestamp < 2012-01-01",
    "NOT timestamp >= '2016-01-01T00:00:00.000Z'",
    "acquisitionDate >= 2017-01-01",
    "vendor = DigitalGlobe AND platformName = WORLDVIEW*",
    "a.b = 1 OR a.b = x*",
    "flag = true OR flag = 'FALSE'",
    "tags = x OR NOT tags = y*",
    "n = 1 OR n > 2.5 OR n = 1*",
)
