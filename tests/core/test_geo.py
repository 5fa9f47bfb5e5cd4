"""core.geo: coordinate systems, input checks, distances, the search grid and map links.

Pure functions, no database. Reference values come from published pairs (wandergis/coordtransform's
own test output, a Baidu pick of Beijing railway station) and from an independent plain
implementation of Baidu's formula written here.
"""

import math
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from yizhan.core import geo
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import CRS

# Mainland China, well inside the out-of-China box, where the offsets apply.
china_lat = st.floats(min_value=18.0, max_value=53.0)
china_lng = st.floats(min_value=73.0, max_value=135.0)
any_lat = st.floats(min_value=-90.0, max_value=90.0)
any_lng = st.floats(min_value=-180.0, max_value=180.0)

DATONG = (40.0952, 113.2826)  # WGS-84, 平城区


def _close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


# --- Reference values ----------------------------------------------------------------------------


def test_tiananmen_wgs84_to_gcj02():
    assert _close(geo.wgs84_to_gcj02(39.908823, 116.397470), (39.910225, 116.403714), 1e-5)


def test_forward_formulas_match_coordtransforms_published_output():
    # wandergis/coordtransform test/app.js, input (lng 116.404, lat 39.915), output [lng, lat].
    # The forward formulas are closed-form, so ours must agree to the last few bits.
    assert _close(
        geo.wgs84_to_gcj02(39.915, 116.404), (39.91640428150164, 116.41024449916938), 1e-12
    )
    assert _close(
        geo.gcj02_to_bd09(39.915, 116.404), (39.92133699351021, 116.41036949371029), 1e-12
    )


def test_our_inverses_refine_coordtransforms_one_step_results():
    # The same source's inverses are the one-step approximations: ours lie a few cm from them,
    # and unlike them, map forward onto the input exactly.
    gcj_to_wgs = geo.gcj02_to_wgs84(39.915, 116.404)
    assert 0.01 < geo.haversine_m(*gcj_to_wgs, 39.91359571849836, 116.39775550083061) < 0.5
    assert _close(geo.wgs84_to_gcj02(*gcj_to_wgs), (39.915, 116.404), 1e-9)

    bd_to_gcj = geo.bd09_to_gcj02(39.915, 116.404)
    assert 0.01 < geo.haversine_m(*bd_to_gcj, 39.90865673957631, 116.39762729119315) < 0.5
    assert _close(geo.gcj02_to_bd09(*bd_to_gcj), (39.915, 116.404), 1e-9)


def test_beijing_railway_station_gcj02_to_bd09():
    # A pair picked on Amap and Baidu (the R package `cst`'s bd2gcj example), to 5 decimals.
    assert _close(geo.gcj02_to_bd09(39.90245, 116.42703), (39.90851, 116.43351), 1e-5)
    assert _close(geo.bd09_to_gcj02(39.90851, 116.43351), (39.90245, 116.42703), 1e-5)


def _plain_gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """Baidu's formula written out independently of the module, as the published snippets do."""
    x_pi = 3.14159265358979324 * 3000.0 / 180.0
    z = math.sqrt(lng**2 + lat**2) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * x_pi)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


@given(china_lat, china_lng)
def test_bd09_matches_an_independent_implementation(lat, lng):
    assert _close(geo.gcj02_to_bd09(lat, lng), _plain_gcj02_to_bd09(lat, lng), 1e-12)


def test_datong_gcj02_shift_is_about_600_m():
    gcj = geo.wgs84_to_gcj02(*DATONG)
    assert 500 < geo.haversine_m(*DATONG, *gcj) < 700
    # and BD-09 adds roughly another 700 m on top
    assert 1000 < geo.haversine_m(*DATONG, *geo.wgs84_to_bd09(*DATONG)) < 2000


# --- Round trips ---------------------------------------------------------------------------------


@given(china_lat, china_lng)
def test_gcj02_round_trip_is_within_a_centimetre(lat, lng):
    gcj = geo.wgs84_to_gcj02(lat, lng)
    assert geo.haversine_m(lat, lng, *gcj) > 1  # the shift really happened
    back = geo.gcj02_to_wgs84(*gcj)
    assert geo.haversine_m(lat, lng, *back) < 0.01
    # the stopping rule: the forward transform of the answer is the input
    assert _close(geo.wgs84_to_gcj02(*back), gcj, 1e-7)


@given(china_lat, china_lng)
def test_bd09_round_trip_is_within_a_centimetre(lat, lng):
    bd = geo.wgs84_to_bd09(lat, lng)
    assert geo.haversine_m(lat, lng, *geo.bd09_to_wgs84(*bd)) < 0.01
    gcj = geo.wgs84_to_gcj02(lat, lng)
    assert geo.haversine_m(*gcj, *geo.bd09_to_gcj02(*geo.gcj02_to_bd09(*gcj))) < 0.01


@given(china_lat, china_lng)
def test_inverse_from_the_other_side_round_trips_too(lat, lng):
    # A point picked on an Amap or Baidu map, stored as WGS-84, shown on that map again.
    assert geo.haversine_m(lat, lng, *geo.wgs84_to_gcj02(*geo.gcj02_to_wgs84(lat, lng))) < 0.01
    assert geo.haversine_m(lat, lng, *geo.wgs84_to_bd09(*geo.bd09_to_wgs84(lat, lng))) < 0.01


def test_one_step_inverse_is_metres_off_in_datong_and_the_iteration_fixes_it():
    gcj_lat, gcj_lng = geo.wgs84_to_gcj02(*DATONG)
    shifted_lat, shifted_lng = geo.wgs84_to_gcj02(gcj_lat, gcj_lng)
    one_step = (2 * gcj_lat - shifted_lat, 2 * gcj_lng - shifted_lng)
    assert geo.haversine_m(*DATONG, *one_step) > 1
    assert geo.haversine_m(*DATONG, *geo.gcj02_to_wgs84(gcj_lat, gcj_lng)) < 0.01


@pytest.mark.parametrize(
    "point",
    [
        (51.5007, -0.1246),  # London
        (40.6892, -74.0445),  # New York
        (-33.8568, 151.2153),  # Sydney
        (35.6586, 139.7454),  # Tokyo: east of the box
        (0.5, 100.0),  # south of the box
        (56.0, 100.0),  # north of the box
        (40.0, 71.9),  # west of the box
    ],
)
def test_outside_china_every_conversion_is_the_identity(point):
    for convert in (
        geo.wgs84_to_gcj02,
        geo.gcj02_to_wgs84,
        geo.gcj02_to_bd09,
        geo.bd09_to_gcj02,
        geo.wgs84_to_bd09,
        geo.bd09_to_wgs84,
    ):
        assert convert(*point) == point
    assert geo.out_of_china(*point)
    assert not geo.out_of_china(*DATONG)


def test_dispatchers_take_a_crs_or_any_alias():
    gcj = geo.wgs84_to_gcj02(*DATONG)
    bd = geo.wgs84_to_bd09(*DATONG)
    assert geo.from_wgs84(*DATONG, CRS.GCJ02) == gcj
    assert geo.from_wgs84(*DATONG, "Amap") == gcj
    assert geo.from_wgs84(*DATONG, "baidu") == bd
    assert geo.from_wgs84(*DATONG, None) == DATONG
    assert geo.to_wgs84(*gcj, "tencent") == geo.gcj02_to_wgs84(*gcj)
    assert geo.to_wgs84(*bd, CRS.BD09) == geo.bd09_to_wgs84(*bd)
    assert geo.to_wgs84(*DATONG, "gps") == DATONG
    with pytest.raises(ApplicationError) as err:
        geo.to_wgs84(*DATONG, "mercator")
    assert err.value.code == "invalid_crs"


# --- parse_crs and check_point -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wgs84", CRS.WGS84),
        ("WGS-84", CRS.WGS84),
        ("gps", CRS.WGS84),
        (None, CRS.WGS84),
        ("", CRS.WGS84),
        ("  ", CRS.WGS84),
        ("gcj02", CRS.GCJ02),
        ("GCJ-02", CRS.GCJ02),
        ("amap", CRS.GCJ02),
        (" Gaode ", CRS.GCJ02),
        ("tencent", CRS.GCJ02),
        ("QQ", CRS.GCJ02),
        ("bd09", CRS.BD09),
        ("BD-09", CRS.BD09),
        ("bd09ll", CRS.BD09),
        ("Baidu", CRS.BD09),
        (CRS.GCJ02, CRS.GCJ02),
    ],
)
def test_parse_crs_accepts_aliases(value, expected):
    assert geo.parse_crs(value) is expected


@pytest.mark.parametrize("value", ["wgs", "gcj", "epsg:4326", "mercator", "bd-09mc", 4326, 0])
def test_parse_crs_refuses_anything_else(value):
    with pytest.raises(ApplicationError) as err:
        geo.parse_crs(value)
    assert err.value.code == "invalid_crs"
    assert err.value.field == "crs"
    assert err.value.status == 400


def test_parse_crs_message_names_the_value():
    with translation.override("en"), pytest.raises(ApplicationError) as err:
        geo.parse_crs("utm")
    assert str(err.value.message) == "Unknown coordinate system utm: use wgs84, gcj02 or bd09."


@pytest.mark.parametrize(
    ("lat", "lng", "expected"),
    [
        ("40.0952", "113.2826", (40.0952, 113.2826)),
        (" 40.0952 ", 113, (40.0952, 113.0)),
        (Decimal("40.0952"), Decimal("113.2826"), (40.0952, 113.2826)),
        (90, 180, (90.0, 180.0)),
        (-90, -180, (-90.0, -180.0)),
        (0, 0, (0.0, 0.0)),
    ],
)
def test_check_point_accepts_numbers_and_numeric_text(lat, lng, expected):
    result = geo.check_point(lat, lng)
    assert result == expected
    assert all(type(v) is float for v in result)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        ("abc", 113.0),
        ("", 113.0),
        ("nan", 113.0),
        ("inf", 113.0),
        (float("-inf"), 113.0),
        (float("nan"), 113.0),
        ("1e400", 113.0),
        (91, 113.0),
        (-90.0001, 113.0),
        (True, 113.0),
        (None, 113.0),
        ([40], 113.0),
        (40.0, -181),
        (40.0, 180.5),
        (40.0, "NaN"),
        (40.0, "abc"),
        (40.0, False),
        (40.0, None),
        (None, None),
    ],
)
def test_check_point_refuses(lat, lng):
    with pytest.raises(ApplicationError) as err:
        geo.check_point(lat, lng)
    assert err.value.code == "invalid_location"
    assert err.value.field == "lat"
    assert err.value.status == 400


def test_check_point_names_the_coordinate_and_the_field():
    with translation.override("en"):
        with pytest.raises(ApplicationError) as err:
            geo.check_point(91, 113, field="work_lat")
        assert str(err.value.message) == "Latitude must be a number between -90 and 90."
        assert err.value.field == "work_lat"
        with pytest.raises(ApplicationError) as err:
            geo.check_point(40, 181)
        assert str(err.value.message) == "Longitude must be a number between -180 and 180."
        with pytest.raises(ApplicationError) as err:
            geo.check_point(None, 113)
        assert str(err.value.message) == "The location is not a valid point."


# --- Distance, bbox, cells -----------------------------------------------------------------------


def _destination(lat: float, lng: float, bearing_deg: float, distance_m: float):
    """The point `distance_m` from (lat, lng) along `bearing_deg`, on the same sphere.

    With unit vectors and atan2 rather than asin(sin φ), which loses micrometres near the
    poles: the start point rotated towards the bearing's tangent by the angle travelled."""
    phi, lam = math.radians(lat), math.radians(lng)
    delta, theta = distance_m / geo.EARTH_RADIUS_M, math.radians(bearing_deg)
    start = (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
    north = (-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi))
    east = (-math.sin(lam), math.cos(lam), 0.0)
    x, y, z = (
        s * math.cos(delta) + (n * math.cos(theta) + e * math.sin(theta)) * math.sin(delta)
        for s, n, e in zip(start, north, east, strict=True)
    )
    lat2 = math.degrees(math.atan2(z, math.hypot(x, y)))
    lng2 = (math.degrees(math.atan2(y, x)) + 540.0) % 360.0 - 180.0
    return lat2, lng2


def test_haversine_known_distances():
    assert geo.haversine_m(0, 0, 1, 0) == pytest.approx(111_195.08, abs=0.01)
    assert geo.haversine_m(40, 113, 41, 113) == pytest.approx(111_195.08, abs=0.01)
    assert geo.haversine_m(*DATONG, *DATONG) == 0
    assert geo.haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8)
    assert geo.haversine_m(0, 179.5, 0, -179.5) == pytest.approx(111_195.08, abs=0.01)


def _inside(box, lat, lng):
    min_lat, min_lng, max_lat, max_lng = box
    return min_lat <= lat <= max_lat and min_lng <= lng <= max_lng


circle = st.tuples(
    any_lat,
    any_lng,
    st.floats(min_value=0, max_value=50_000),
    st.floats(min_value=0, max_value=360),
    st.floats(min_value=0, max_value=1),
)


@settings(max_examples=300)
@given(circle)
@example((0.0, 179.99999999999997, 0.0, 0.0, 0.0))  # the point comes back written as -180°
@example((89.99999999999999, 0.0, 1.3211400884294801e-294, 1.0, 1.0))  # back at the pole
@example((89.9921875, 0.0, 0.0, 0.0, 0.0))
def test_bbox_contains_the_circle_anywhere_on_earth(case):
    lat, lng, radius, bearing, fraction = case
    p = _destination(lat, lng, bearing, radius * fraction)
    assert geo.haversine_m(lat, lng, *p) <= radius + 1e-6
    box = geo.bbox(lat, lng, radius)
    assert -90 <= box[0] <= box[2] <= 90 and -180 <= box[1] <= box[3] <= 180
    assert _inside(box, *p)


def test_bbox_is_tight_in_datong_and_whole_at_poles_and_the_antimeridian():
    min_lat, min_lng, max_lat, max_lng = geo.bbox(*DATONG, 1000)
    assert (max_lat - min_lat) / 2 == pytest.approx(1000 / 111_195.08, rel=1e-6)
    # east-west half-width is about d / cos(lat): wider than the north-south one
    assert (max_lng - min_lng) / 2 == pytest.approx(
        1000 / 111_195.08 / math.cos(math.radians(DATONG[0])), rel=1e-3
    )
    # a circle around the pole holds every longitude
    near_pole = geo.bbox(89.99, 10, 5000)
    assert near_pole[2] == 90 and (near_pole[1], near_pole[3]) == (-180, 180)
    # crossing ±180 widens to all longitudes instead of wrapping
    assert geo.bbox(0, 179.99, 5000)[1::2] == (-180, 180)
    assert geo.bbox(0, -179.99, 5000)[1::2] == (-180, 180)
    with pytest.raises(ValueError):
        geo.bbox(*DATONG, -1)
    with pytest.raises(ValueError):
        geo.bbox(*DATONG, float("nan"))


def test_cell_of_known_cells():
    assert geo.CELL_DEG == 0.01
    assert geo.cell_of(-90, -180) == 0
    assert geo.cell_of(90, 180) == 17_999 * 100_000 + 35_999  # the edges stay in range
    assert geo.cell_of(0, 0) == 9_000 * 100_000 + 18_000
    # 40.07 / 113.30 start a row and a column, despite 130.07 / 0.01 == 13006.999…
    assert geo.cell_of(40.07, 113.30) == 13_007 * 100_000 + 29_330
    assert geo.cell_of(40.0699999, 113.2999999) == 13_006 * 100_000 + 29_329
    assert geo.cell_of(*DATONG) == 13_009 * 100_000 + 29_328


@settings(max_examples=300)
@given(circle)
def test_cell_ranges_cover_every_point_within_the_radius(case):
    lat, lng, radius, bearing, fraction = case
    p = _destination(lat, lng, bearing, radius * fraction)
    ranges = geo.cell_ranges(lat, lng, radius)
    cell = geo.cell_of(*p)
    assert any(first <= cell <= last for first, last in ranges)
    # one contiguous range per row, rows consecutive
    rows = [first // 100_000 for first, _ in ranges]
    assert all(first <= last and first // 100_000 == last // 100_000 for first, last in ranges)
    assert rows == list(range(rows[0], rows[0] + len(rows)))


@given(china_lat, china_lng, st.floats(min_value=0, max_value=20_000))
def test_cell_ranges_are_one_per_row_of_the_box(lat, lng, radius):
    min_lat, _, max_lat, _ = geo.bbox(lat, lng, radius)
    ranges = geo.cell_ranges(lat, lng, radius)
    expected_rows = math.floor(max_lat / 0.01) - math.floor(min_lat / 0.01) + 1
    assert abs(len(ranges) - expected_rows) <= 1  # ≈: float rounding at a row edge aside
    assert len(ranges) <= 2 * radius / 1_111.95 + 2


def test_a_one_km_search_in_datong_touches_a_handful_of_cells():
    ranges = geo.cell_ranges(*DATONG, 1000)
    assert 2 <= len(ranges) <= 3
    assert all(last - first + 1 <= 4 for first, last in ranges)


# --- Navigation links ----------------------------------------------------------------------------

NAME = "清远街道 小哥驿站 A&B #1"
ADDRESS = "平城区 魏都大道 100号?x=1"


def _query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.fragment == ""  # a '#' in the name did not cut the URL
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values())
    return {k: v[0] for k, v in query.items()}


def _fmt(lat: float, lng: float) -> tuple[str, str]:
    return f"{round(lat, 6):.6f}", f"{round(lng, 6):.6f}"


def test_amap_link_uses_gcj02_longitude_first():
    url = geo.amap_link(*DATONG, NAME)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("uri.amap.com", "/marker")
    q = _query(url)
    lat, lng = _fmt(*geo.wgs84_to_gcj02(*DATONG))
    assert q["position"] == f"{lng},{lat}"
    assert q["name"] == NAME
    assert (q["src"], q["coordinate"], q["callnative"]) == ("yizhan", "gaode", "1")


def test_baidu_link_uses_bd09():
    url = geo.baidu_link(*DATONG, NAME, ADDRESS)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("api.map.baidu.com", "/marker")
    q = _query(url)
    lat, lng = _fmt(*geo.wgs84_to_bd09(*DATONG))
    assert q["location"] == f"{lat},{lng}"
    assert (q["title"], q["content"]) == (NAME, ADDRESS)
    assert (q["output"], q["coord_type"], q["src"]) == ("html", "bd09ll", "webapp.yizhan.yizhan")


def test_tencent_link_uses_gcj02():
    url = geo.tencent_link(*DATONG, NAME, ADDRESS)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("apis.map.qq.com", "/uri/v1/marker")
    q = _query(url)
    lat, lng = _fmt(*geo.wgs84_to_gcj02(*DATONG))
    assert q["marker"] == f"coord:{lat},{lng};title:{NAME};addr:{ADDRESS}"
    assert q["referer"] == "yizhan"


def test_tencent_link_keeps_its_separators_out_of_names():
    q = _query(geo.tencent_link(*DATONG, "A;B|C", "x;y"))
    attributes = q["marker"].split(";")
    assert attributes[1:] == ["title:A；B｜C", "addr:x；y"]


def test_link_text_is_percent_encoded():
    for url in geo.navigation_links(*DATONG, NAME, ADDRESS).values():
        query = urlsplit(url).query
        for raw in (" ", "#", "?", "清", "A&B"):
            assert raw not in query
        assert "%E6%B8%85" in query  # 清
        assert "A%26B%20%231" in query


def test_navigation_links_has_one_link_per_app():
    links = geo.navigation_links(*DATONG, NAME)
    assert links == {
        "amap": geo.amap_link(*DATONG, NAME),
        "baidu": geo.baidu_link(*DATONG, NAME),
        "tencent": geo.tencent_link(*DATONG, NAME),
    }
    assert _query(links["baidu"])["content"] == ""


def test_links_round_to_six_decimals():
    url = geo.amap_link(40.123456789, 113.987654321, "x")
    position = _query(url)["position"]
    assert all(len(part.split(".")[1]) == 6 for part in position.split(","))
