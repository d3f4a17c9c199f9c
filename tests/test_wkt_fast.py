"""The batch WKT reader (``geometry.read_wkt``) against GEOS's (``shapely.from_wkt``), issue 14.

``read_wkt`` reads the plain POLYGON / MULTIPOLYGON text of the common footprint without GEOS's
tokenizer and hands every other text to ``shapely.from_wkt``. Whatever it reads must be the very
geometry GEOS builds (same type, same coordinates bit for bit: the same WKB), and whatever GEOS
refuses must be None: on the real records, on generated variants of the plain form (spacing,
signs, decimals, exponents, long mantissas, unclosed and short rings, 3-D, empty, garbage) and
on batches that mix them, so that a text the fast path leaves out never disturbs its
neighbours.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogql.search import geometry
from catalogql.search.geometry import read_footprints, read_wkt
from property_settings import scaled


def geos(text: object) -> bytes | None:
    """GEOS's reading of one text, as WKB (None when it refuses or it is not text)."""
    if not isinstance(text, str):
        return None
    with np.errstate(all="ignore"):
        shape = shapely.from_wkt(text, on_invalid="ignore")
    return None if shape is None else bytes(shapely.to_wkb(shape))


def assert_same(texts: Sequence[object]) -> None:
    """read_wkt over the batch equals shapely.from_wkt text by text."""
    read = read_wkt(texts)
    assert len(read) == len(texts)
    for text, shape in zip(texts, read, strict=True):
        expected = geos(text)
        got = None if shape is None else bytes(shapely.to_wkb(shape))
        assert got == expected, f"read_wkt differs from shapely.from_wkt on {text!r}"


def fast_count(texts: Sequence[object]) -> int:
    """How many of the texts the fast path reads itself (the rest go to GEOS)."""
    found, _ = geometry._plain_wkt(texts)
    return len(found)


# --------------------------------------------------------------------------------------------
# The real footprints


def test_real_footprints_read_as_geos_does(gbdx_records: Mapping[str, dict[str, Any]]) -> None:
    texts = [record["properties"].get("footprintWkt") for record in gbdx_records.values()]
    assert len(texts) > 1000
    read = read_wkt(texts)
    with np.errstate(all="ignore"):
        expected = shapely.from_wkt(
            np.array([t if isinstance(t, str) else None for t in texts], dtype=object),
            on_invalid="ignore",
        )
    assert (shapely.get_type_id(read) == shapely.get_type_id(expected)).all()
    assert (shapely.to_wkb(read) == shapely.to_wkb(expected)).all()
    # the real footprints are of the plain form: the fast path reads nearly all of them
    strings = [t for t in texts if isinstance(t, str)]
    assert fast_count(strings) >= 0.99 * len(strings)


def test_real_footprints_read_alike_in_any_batch(
    gbdx_records: Mapping[str, dict[str, Any]],
) -> None:
    texts = [record["properties"].get("footprintWkt") for record in gbdx_records.values()]
    whole = shapely.to_wkb(read_wkt(texts))
    for size in (1, 7, 300):
        parts = [read_wkt(texts[at : at + size]) for at in range(0, min(len(texts), 900), size)]
        assert (shapely.to_wkb(np.concatenate(parts)) == whole[: len(np.concatenate(parts))]).all()


# --------------------------------------------------------------------------------------------
# Numbers: every spelling the plain form allows is read to GEOS's (strtod's) double


NUMBERS = [
    "0", "-0", "0.0", "-0.0", "00", "007", "5.", "-5.", ".5", "-.5", "1", "-1", "180", "-180",
    "179.99999999999999", "0.1", "0.2", "0.3", "12.54278657", "33.03863", "-0.001640670018",
    "0.00772821608394", "1234567890123456", "123456789012345.6", "9007199254740993",
    "9007199254740992", "0.000000000000001", "999999999999999.9", "4.35", "2.675",
    "0.1000000000000000055511151231257827", "1e5", "1E5", "1e-5", "-1.5e+2", "+1", "+.5",
    "1.7976931348623157e308", "1e400", "-1e400", "5e-324", "1e-400",
]  # fmt: skip
MALFORMED = [
    ".", "-", "+", "--1", "-+1", "1-2", "1..2", "1.2.3", ".-5", "5-", "e5", "1e", "1e+", "0x1p3",
    "1_000", "1.........", "1--------", "--------1", "nan", "NaN", "inf", "-inf", "Infinity",
    "1,5", "\u0661", "1\u00a02",
]  # fmt: skip


def ring(x: str, y: str) -> str:
    """A closed 5-point ring with one corner at (x, y) and the others ordinary."""
    return f"({x} {y}, 10 0, 10 10, 0 10, {x} {y})"


@pytest.mark.parametrize("number", NUMBERS)
def test_numbers_are_read_exactly(number: str) -> None:
    texts = [
        f"POLYGON ({ring(number, '1')})",
        f"POLYGON ({ring('1', number)})",
        f"MULTIPOLYGON (({ring(number, number)}))",
        f"MULTIPOLYGON(({ring(number, '-' + number)}),({ring('3', '4')}))",
    ]
    assert_same(texts)


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_numbers_are_geos_decision(token: str) -> None:
    texts = [f"POLYGON ({ring(token, '1')})", f"MULTIPOLYGON (({ring('1', token)}))"]
    assert_same(texts)
    assert_same([*texts, f"POLYGON ({ring('1', '2')})"])


def test_the_plain_form_is_read_without_geos() -> None:
    texts = [
        "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
        "POLYGON((0 0,1 0,1 1,0 1,0 0))",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), "
        "((5 5, 6 5, 6 6, 5 5), (5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1)))",
        "POLYGON  (  (  -0.5   .5 , 1. 0,1 1 ,  -0.5 .5 )  )  ",
    ]  # fmt: skip
    assert fast_count(texts) == len(texts)
    assert_same(texts)


def test_what_the_plain_form_leaves_to_geos() -> None:
    texts = [
        "POLYGON ((0 0, 1 0, 1 1, 0 1))",  # unclosed: GEOS refuses
        "POLYGON ((0 0, 1 0, 0 0))",  # three points
        "POLYGON ((0 0, 1 0, 1 1, -0 0))",  # closed only as -0 == 0
        "POLYGON ((0 0 1, 1 0 1, 1 1 1, 0 0 1))",  # 3-D
        "POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))",
        "POLYGON EMPTY",
        "MULTIPOLYGON EMPTY",
        "POLYGON (EMPTY)",
        "MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))",
        "polygon ((0 0, 1 0, 1 1, 0 0))",
        "POLYGON\t((0 0, 1 0, 1 1, 0 0))",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)) junk",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        "POLYGON (((0 0, 1 0, 1 1, 0 0)))",
        "POLYGON ((0 0, 1 0, 1 1, 0 0), )",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)(0 0, 1 0, 1 1, 0 0))",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)),((0 0, 1 0, 1 1, 0 0))",
        "POLYGON ((0 0, 1 0, 1 1, 0 0))*",
        "MULTIPOLYGON ((0 0, 1 0, 1 1, 0 0))",
        "MULTIPOLYGON ((((0 0, 1 0, 1 1, 0 0))))",
        "POLYGON ((0 0, 1 0, 1 1 0 0))",
        "POLYGON ((0, 0 1 0, 1 1, 0 0))",
        "POLYGON ((0 0,, 1 0, 1 1, 0 0))",
        "POLYGON (0 0 (1 0, 1 1, 2 2, ))",  # as many numbers as points, one pair misplaced
        "POLYGON ((1 0, 1 1, 2 2, 1 0,) 0 0)",
        "MULTIPOLYGON (0 0 ((1 0, 1 1, 2 2, )))",
        "MULTIPOLYGON (((1 0, 1 1, 2 2, 1 0)) 0 0, ((1 0, 1 1, 2 2, )))",
        "POLYGON (())",
        "POLYGON ()",
        "POLYGON",
        "POLYGON ((12345678901234567 0, 1 0, 1 1, 12345678901234567 0))",  # 17 characters
        "POLYGON ((0 0, 1 0, 1 1, 0 0))\x00",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)) ",
        "POINT (1 2)",
        "SRID=4326;POLYGON ((0 0, 1 0, 1 1, 0 0))",
        "",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((0 0, 1 0, 1 1, 0 1)))",
    ]
    assert fast_count(texts) <= 3  # only the last three... of which two are plain and closed
    assert_same(texts)
    for text in texts:
        assert_same([text])


def test_not_text_is_none() -> None:
    assert read_wkt([None, 7, b"POLYGON ((0 0, 1 0, 1 1, 0 0))", "POINT (1 2)"])[:3].tolist() == [
        None,
        None,
        None,
    ]
    assert len(read_wkt([])) == 0


# --------------------------------------------------------------------------------------------
# Generated texts


DIGITS = st.text("0123456789", min_size=0, max_size=18)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A number as WKT writers spell it, or nearly (some spellings GEOS refuses)."""
    choice = draw(st.integers(0, 9))
    if choice <= 3:  # a double as Python prints it, or with a fixed number of decimals
        value = draw(st.floats(-200, 200, allow_nan=False, allow_infinity=False))
        decimals = draw(st.one_of(st.none(), st.integers(0, 20)))
        return repr(value) if decimals is None else f"{value:.{decimals}f}"
    if choice <= 6:  # -?digits[.digits], any lengths
        sign = draw(st.sampled_from(["", "", "-", "+"]))
        whole, fraction = draw(DIGITS), draw(DIGITS)
        dot = draw(st.sampled_from([".", ".", ""]))
        exponent = draw(st.sampled_from(["", "", "", "e5", "E-3", "e+2", "e", "e400", "e-330"]))
        return f"{sign}{whole}{dot}{fraction if dot else ''}{exponent}"
    if choice == 7:  # a double's exact bits, printed with all 17 digits
        bits = draw(st.integers(0, 2**64 - 1))
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        return f"{value:.17g}" if math.isfinite(value) else repr(value)
    return draw(st.sampled_from(NUMBERS + MALFORMED))


SPACES = st.sampled_from(["", " ", " ", " ", "  ", "\t", "\n", "\r\n"])


@st.composite
def rings(draw: st.DrawFn) -> str:
    """A ring's text: mostly closed, sometimes open, short, 3-D or with a word inside."""
    size = draw(st.integers(0, 5))
    points = [
        [draw(numbers()) for _ in range(draw(st.sampled_from([2, 2, 2, 2, 2, 2, 3, 1, 4])))]
        for _ in range(size)
    ]
    closed = draw(st.integers(0, 4)) != 0
    if points and closed:
        points.append(list(points[0]))  # closed, as footprints are
    between = draw(st.sampled_from([" ", " ", " ", "  ", "\t", "\n"]))  # x and y
    pieces = [between.join(point) for point in points]
    comma = draw(st.sampled_from([", ", ",", " , ", ",  ", " ,"]))
    body = comma.join(pieces)
    if draw(st.integers(0, 30)) == 0:
        body = draw(st.sampled_from(["EMPTY", body + ",", "(" + body + ")", body + " x"]))
    return "(" + draw(SPACES) + body + draw(SPACES) + ")"


@st.composite
def texts(draw: st.DrawFn) -> str:
    """A POLYGON or MULTIPOLYGON text, nearly always of the plain form."""
    keyword = draw(
        st.sampled_from(["POLYGON", "POLYGON", "MULTIPOLYGON", "MULTIPOLYGON", "polygon",
                         "POLYGON Z", "MultiPolygon", "POINT", "POLYGON M"])
    )  # fmt: skip
    polygons = [
        "(" + ", ".join(draw(st.lists(rings(), min_size=0, max_size=3))) + ")"
        for _ in range(draw(st.integers(1, 3)))
    ]
    if keyword.upper().startswith("MULTI"):
        body = "(" + draw(st.sampled_from([", ", ","])).join(polygons) + ")"
    else:
        body = polygons[0]
    if draw(st.integers(0, 40)) == 0:
        body = draw(st.sampled_from(["EMPTY", body + ")", body[1:], body + " ", "(" + body + ")"]))
    return keyword + draw(SPACES) + body + draw(st.sampled_from(["", "", "", " ", "  "]))


@st.composite
def plain_texts(draw: st.DrawFn) -> str:
    """A text of the plain form, nearly always read by the fast path."""
    keyword = draw(st.sampled_from(["POLYGON", "MULTIPOLYGON"]))
    count = draw(st.integers(1, 2))
    polygons = []
    for _ in range(count):
        ring_texts = []
        for _ in range(draw(st.integers(1, 2))):
            size = draw(st.integers(3, 6))
            points = [f"{draw(numbers())} {draw(numbers())}" for _ in range(size)]
            points.append(points[0])
            ring_texts.append("(" + ", ".join(points) + ")")
        polygons.append("(" + ", ".join(ring_texts) + ")")
    body = "(" + ", ".join(polygons) + ")" if keyword == "MULTIPOLYGON" else polygons[0]
    return keyword + draw(st.sampled_from(["", " "])) + body


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts(), min_size=1, max_size=4))
def test_generated_texts_read_as_geos_does(batch: list[str]) -> None:
    assert_same(batch)


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(plain_texts(), min_size=1, max_size=4))
def test_generated_plain_texts_read_as_geos_does(batch: list[str]) -> None:
    assert_same(batch)


@settings(max_examples=scaled(300), deadline=None)
@given(st.floats(-180, 180, allow_nan=False), st.integers(0, 17))
def test_doubles_with_any_decimals(value: float, decimals: int) -> None:
    x = f"{value:.{decimals}f}"
    text = f"POLYGON ({ring(x, x)})"
    assert_same([text])
    shape = read_wkt([text])[0]
    assert shapely.get_coordinates(shape)[0, 0] == float(x)  # strtod's double: float()'s
    assert math.copysign(1, shapely.get_coordinates(shape)[0, 0]) == math.copysign(1, float(x))
    if len(x) <= 16:  # at most 15 digits: below 2**53, so the fast path reads it itself
        assert fast_count([text]) == 1


# --------------------------------------------------------------------------------------------
# The footprint batch reader uses it


def test_read_footprints_unchanged_on_mixed_batches() -> None:
    batch = [
        "MULTIPOLYGON(((12.54278657 33.03863, 12.75 33.06, 12.75 33.0, 12.54278657 33.03863)))",
        "POLYGON ((0 0, 1 0, 1 1, 0 1))",  # unclosed: read alone, and refused there
        "POLYGON ((179.5 -16.5, -179.5 -16.5, -179.5 -15.5, 179.5 -15.5, 179.5 -16.5))",
        "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",  # invalid: read alone
        "POLYGON ((0 0, 200 0, 200 1, 0 0))",  # out of range
        None,
        "POINT (1 2)",
        "POLYGON ((1e1 0, 11 0, 11 1, 1e1 0))",
    ]
    shapes = read_footprints(batch)
    kinds = [None if shape is None else shape.geom_type for shape in shapes]
    assert kinds == ["MultiPolygon", None, None, None, None, None, "Point", "Polygon"]
    assert shapes[0] is not None
    assert bytes(shapely.to_wkb(shapes[0])) == geos(batch[0])
