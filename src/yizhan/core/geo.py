"""Coordinates: the three Chinese coordinate systems, distances, the search grid and map links.

Yizhan stores every point in WGS-84 (what GPS, OSM and 天地图 use) and converts only at the edge:
a point picked on an Amap or Tencent map arrives in GCJ-02, one from Baidu in BD-09, and a link
that opens one of those apps must be shifted into its system. In Datong the GCJ-02 shift is about
600 m, so a missed conversion puts a station in the wrong street.

- GCJ-02 (高德 Amap, 腾讯 Tencent, WeChat maps) is WGS-84 moved by the public "offset" formula
  below. Its inverse has no closed form; the one-step inverse most libraries ship is metres off,
  so `gcj02_to_wgs84` iterates until the forward transform reproduces the input.
- BD-09 (百度 Baidu) is GCJ-02 moved once more by a small polar-coordinate formula; its inverse is
  refined the same way (the closed-form inverse is up to ~20 cm off), so WGS-84 → BD-09 →
  WGS-84 comes back within a millimetre.
- Outside mainland China (the usual rough bounding box) GCJ-02 is WGS-84, and we let BD-09 be
  WGS-84 there too (see `gcj02_to_bd09`).

Argument order is always (lat, lng) and results are (lat, lng), even where a map API wants
longitude first; the link builders take care of that.

The nearby search (一刻钟服务圈) uses `haversine_m`, `bbox` and the grid cells: each stored point
keeps `cell_of(lat, lng)` in an indexed integer column, and a radius query becomes one
`cell BETWEEN a AND b` per grid row from `cell_ranges`, followed by the exact distance check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError

Point = tuple[float, float]


# --- Coordinate systems --------------------------------------------------------------------------


class CRS(StrEnum):
    """The coordinate reference system a pair of numbers is written in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


_CRS_ALIASES: dict[str, CRS] = {
    "wgs84": CRS.WGS84,
    "wgs-84": CRS.WGS84,
    "gps": CRS.WGS84,
    "gcj02": CRS.GCJ02,
    "gcj-02": CRS.GCJ02,
    "amap": CRS.GCJ02,
    "gaode": CRS.GCJ02,
    "tencent": CRS.GCJ02,
    "qq": CRS.GCJ02,
    "bd09": CRS.BD09,
    "bd-09": CRS.BD09,
    "bd09ll": CRS.BD09,  # Baidu's own name for it (`coord_type=bd09ll`)
    "baidu": CRS.BD09,
}


def parse_crs(value: CRS | str | None) -> CRS:
    """The CRS named by `value`, case-insensitively; nothing given means WGS-84.

    Clients name the system they picked a point in by app ("amap", "baidu") as often as by
    datum, so both are accepted. Anything else is refused rather than guessed: treating a BD-09
    point as WGS-84 silently moves it about a kilometre.
    """
    if value is None:
        return CRS.WGS84
    if isinstance(value, str):
        key = value.strip().lower()
        if not key:
            return CRS.WGS84
        crs = _CRS_ALIASES.get(key)
        if crs is not None:
            return crs
    raise ApplicationError(
        _("Unknown coordinate system %(value)s: use wgs84, gcj02 or bd09.") % {"value": value},
        code="invalid_crs",
        field="crs",
    )


# --- Input check ---------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """`value` as a finite float, or None for anything that is not plainly a number.

    Booleans are refused although Python counts them as ints: `True` for a latitude is a bug in
    the caller, not the equator plus one.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def check_point(lat: object, lng: object, *, field: str = "lat") -> Point:
    """A point from request input as two floats, or an `invalid_location` error on `field`.

    Accepts numbers and numeric strings (forms and query strings send text); refuses anything
    else, NaN and infinities (which would poison every distance computed from them), and values
    outside the globe.
    """
    if lat is None or lng is None:
        raise ApplicationError(
            _("The location is not a valid point."), code="invalid_location", field=field
        )
    lat_f = _number(lat)
    if lat_f is None or not -90.0 <= lat_f <= 90.0:
        raise ApplicationError(
            _("Latitude must be a number between -90 and 90."),
            code="invalid_location",
            field=field,
        )
    lng_f = _number(lng)
    if lng_f is None or not -180.0 <= lng_f <= 180.0:
        raise ApplicationError(
            _("Longitude must be a number between -180 and 180."),
            code="invalid_location",
            field=field,
        )
    return lat_f, lng_f


# --- GCJ-02 --------------------------------------------------------------------------------------

# The public GCJ-02 formula: Krasovsky 1940 ellipsoid (semi-major axis, eccentricity squared).
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323

# The iterative inverses stop once the forward transform of the estimate is this close to the
# input (1e-9° is about 0.1 mm, well inside the 1e-7° ≈ 1 cm asked for). The transforms are
# contractions with a factor of a few thousandths, so this takes two or three steps; the cap only
# guards against a pathological input.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_STEPS = 30


def out_of_china(lat: float, lng: float) -> bool:
    """Whether the point lies outside the rough box where the Chinese offsets apply.

    This is the box every public implementation uses (it includes bits of neighbouring
    countries); matching it matters more than being right about borders, because the map apps
    use the same box.
    """
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_shift(lat: float, lng: float) -> Point:
    """WGS-84 → GCJ-02 without the out-of-China test, so the inverse can iterate across it."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def _invert(
    forward: Callable[[float, float], Point], lat: float, lng: float, start: Point
) -> Point:
    """Solve forward(p) == (lat, lng) by fixed-point iteration from `start`.

    Each step moves the estimate by the forward transform's miss. Both offsets change by only a
    few thousandths of a degree per degree, so the miss shrinks about a thousandfold per step.
    """
    est_lat, est_lng = start
    for _step in range(_INVERSE_MAX_STEPS):
        got_lat, got_lng = forward(est_lat, est_lng)
        miss_lat, miss_lng = got_lat - lat, got_lng - lng
        if abs(miss_lat) < _INVERSE_TOLERANCE_DEG and abs(miss_lng) < _INVERSE_TOLERANCE_DEG:
            break
        est_lat -= miss_lat
        est_lng -= miss_lng
    return est_lat, est_lng


def wgs84_to_gcj02(lat: float, lng: float) -> Point:
    """WGS-84 → GCJ-02 (Amap, Tencent); unchanged outside China."""
    if out_of_china(lat, lng):
        return lat, lng
    return _gcj_shift(lat, lng)


def gcj02_to_wgs84(lat: float, lng: float) -> Point:
    """GCJ-02 → WGS-84, exact to about 0.1 mm against the forward formula; unchanged outside China.

    Starts from the usual one-step estimate (subtract the shift computed at the GCJ-02 point,
    which alone is up to ~5 m off) and iterates. Within ~1 km of the edge of the China box a
    point can map across it; the result is then the iterate of the unconditional formula.
    """
    if out_of_china(lat, lng):
        return lat, lng
    shifted_lat, shifted_lng = _gcj_shift(lat, lng)
    start = (2.0 * lat - shifted_lat, 2.0 * lng - shifted_lng)
    return _invert(_gcj_shift, lat, lng, start)


# --- BD-09 ---------------------------------------------------------------------------------------

_X_PI = math.pi * 3000.0 / 180.0


def _bd_shift(lat: float, lng: float) -> Point:
    """GCJ-02 → BD-09, Baidu's published formula, without the out-of-China test."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _bd_unshift_approx(lat: float, lng: float) -> Point:
    """The usual closed-form BD-09 → GCJ-02, up to ~20 cm off; the iteration's start."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def gcj02_to_bd09(lat: float, lng: float) -> Point:
    """GCJ-02 → BD-09 (Baidu); unchanged outside China.

    Baidu's formula itself is defined everywhere, but GCJ-02 is WGS-84 outside China, and a
    foreign point moved by Baidu's ~1 km offset helps nobody; passing it through keeps every
    conversion the identity abroad. The price is a seam at the edge of the box (in open sea or
    desert), where the two directions test the box on slightly different numbers.
    """
    if out_of_china(lat, lng):
        return lat, lng
    return _bd_shift(lat, lng)


def bd09_to_gcj02(lat: float, lng: float) -> Point:
    """BD-09 → GCJ-02, refined until the forward formula reproduces the input; see gcj02_to_bd09."""
    if out_of_china(lat, lng):
        return lat, lng
    return _invert(_bd_shift, lat, lng, _bd_unshift_approx(lat, lng))


def wgs84_to_bd09(lat: float, lng: float) -> Point:
    """WGS-84 → BD-09, through GCJ-02 as Baidu defines it."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def bd09_to_wgs84(lat: float, lng: float) -> Point:
    """BD-09 → WGS-84, both steps inverted iteratively."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


_TO_WGS84: dict[CRS, Callable[[float, float], Point]] = {
    CRS.WGS84: lambda lat, lng: (lat, lng),
    CRS.GCJ02: gcj02_to_wgs84,
    CRS.BD09: bd09_to_wgs84,
}
_FROM_WGS84: dict[CRS, Callable[[float, float], Point]] = {
    CRS.WGS84: lambda lat, lng: (lat, lng),
    CRS.GCJ02: wgs84_to_gcj02,
    CRS.BD09: wgs84_to_bd09,
}


def to_wgs84(lat: float, lng: float, crs: CRS | str | None) -> Point:
    """A point written in `crs` (a CRS or any alias `parse_crs` accepts) as WGS-84.

    The numbers are not checked here; run request input through `check_point` first.
    """
    return _TO_WGS84[parse_crs(crs)](lat, lng)


def from_wgs84(lat: float, lng: float, crs: CRS | str | None) -> Point:
    """A WGS-84 point written in `crs`, for a map or an app that draws in that system."""
    return _FROM_WGS84[parse_crs(crs)](lat, lng)


# --- Distance, bounding box and grid cells --------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG); a sphere is within 0.5 % of the ellipsoid

# A hair added to every side of `bbox`, so a point exactly on the circle is not lost to rounding.
_BBOX_PAD_DEG = 1e-9


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres; numerically stable for the short distances we compare."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) of a box holding every point within `radius_m`.

    The longitude half-width is that of the circle's tangent points, asin(sin(d) / cos(lat)),
    not d / cos(lat), which is too narrow away from the equator. When the circle reaches a pole
    every longitude is inside it, so the box spans all of them. When the box would reach or cross
    the antimeridian (±180°) it also spans every longitude instead of wrapping: the box stays a
    plain range that always contains the circle, at the cost of a wide scan for a case that cannot
    arise in China.
    """
    if not radius_m >= 0:
        raise ValueError(f"radius_m must be a non-negative number, not {radius_m!r}")
    angle = radius_m / EARTH_RADIUS_M
    d_lat = math.degrees(angle)
    min_lat, max_lat = lat - d_lat, lat + d_lat
    # Padding included: a point a rounding error from a pole may come back at any longitude.
    if min_lat - _BBOX_PAD_DEG <= -90.0 or max_lat + _BBOX_PAD_DEG >= 90.0:
        min_lng, max_lng = -180.0, 180.0
    else:
        d_lng = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
        min_lng, max_lng = lng - d_lng, lng + d_lng
        # Touching counts as crossing, padding included: -180° and 180° are one meridian but
        # different cells, and a point a rounding error from 180° may be written as -180°.
        if min_lng - _BBOX_PAD_DEG <= -180.0 or max_lng + _BBOX_PAD_DEG >= 180.0:
            min_lng, max_lng = -180.0, 180.0
    return (
        max(-90.0, min_lat - _BBOX_PAD_DEG),
        max(-180.0, min_lng - _BBOX_PAD_DEG),
        min(90.0, max_lat + _BBOX_PAD_DEG),
        min(180.0, max_lng + _BBOX_PAD_DEG),
    )


CELL_DEG = 0.01  # about 1.1 km north-south, 0.85 km east-west in Datong
_ROWS = round(180 / CELL_DEG)
_COLS = round(360 / CELL_DEG)
_ROW_STRIDE = 100_000  # cell = row * stride + col; a stride above _COLS keeps cells readable
# Quotients this close to a whole number are taken as it, so 40.07° falls in the row that starts
# at 40.07° as a reader expects, not the one below because 130.07 / 0.01 = 13006.999…
_SNAP = 1e-9


def _cell_index(value: float, offset: float, count: int, deg: float = CELL_DEG) -> int:
    """floor((value + offset) / deg) clamped to [0, count - 1].

    Monotonic in `value` (the snap and the clamp only merge neighbours), which is what makes
    `cell_ranges` complete: a point inside the box gets an index between the box's corners'.
    """
    quotient = (value + offset) / deg
    nearest = round(quotient)
    if abs(quotient - nearest) < _SNAP:
        quotient = nearest
    return min(max(math.floor(quotient), 0), count - 1)


def cell_of(lat: float, lng: float) -> int:
    """The grid cell holding the point: row * 100_000 + col, rows from the south pole up, columns
    east from -180°. lat = 90 and lng = 180 fall in the last row and column.

    Store it next to the point and compute it only with this function, so stored and queried
    cells agree to the last bit.
    """
    return _cell_index(lat, 90.0, _ROWS) * _ROW_STRIDE + _cell_index(lng, 180.0, _COLS)


def cell_ranges(lat: float, lng: float, radius_m: float) -> list[tuple[int, int]]:
    """Inclusive (first_cell, last_cell) ranges, one per grid row, covering `bbox(...)`.

    Each range is contiguous in the cell numbering, so `cell BETWEEN a AND b OR …` is one index
    range scan per row. Every point within `radius_m` has its `cell_of` inside one of them; the
    exact distance check is still needed, as the ranges cover the box, not the circle.
    """
    return _ranges(lat, lng, radius_m, CELL_DEG, _ROWS, _COLS, _ROW_STRIDE)


def _ranges(
    lat: float, lng: float, radius_m: float, deg: float, rows: int, cols: int, stride: int
) -> list[tuple[int, int]]:
    min_lat, min_lng, max_lat, max_lng = bbox(lat, lng, radius_m)
    first_row, last_row = (
        _cell_index(min_lat, 90.0, rows, deg),
        _cell_index(max_lat, 90.0, rows, deg),
    )
    first_col, last_col = (
        _cell_index(min_lng, 180.0, cols, deg),
        _cell_index(max_lng, 180.0, cols, deg),
    )
    return [
        (row * stride + first_col, row * stride + last_col)
        for row in range(first_row, last_row + 1)
    ]


# The fine grid: 0.001° cells (about 111 m by 85 m in Datong) for searches of tens of metres,
# such as the duplicate reports within 50 m. Same scheme, a stride of 1,000,000 (the largest
# cell number, 179,999,999,999, fits a bigint).
FINE_CELL_DEG = 0.001
_FINE_ROWS = round(180 / FINE_CELL_DEG)
_FINE_COLS = round(360 / FINE_CELL_DEG)
_FINE_STRIDE = 1_000_000


def fine_cell_of(lat: float, lng: float) -> int:
    """`cell_of` on the fine (0.001°) grid."""
    return _cell_index(lat, 90.0, _FINE_ROWS, FINE_CELL_DEG) * _FINE_STRIDE + _cell_index(
        lng, 180.0, _FINE_COLS, FINE_CELL_DEG
    )


def fine_cell_ranges(lat: float, lng: float, radius_m: float) -> list[tuple[int, int]]:
    """`cell_ranges` on the fine (0.001°) grid."""
    return _ranges(lat, lng, radius_m, FINE_CELL_DEG, _FINE_ROWS, _FINE_COLS, _FINE_STRIDE)


# --- Navigation links ----------------------------------------------------------------------------

# Six decimals is about 0.1 m, finer than any phone's fix; Baidu documents it as the maximum.
_DECIMALS = 6


def _fmt(value: float) -> str:
    return f"{value:.{_DECIMALS}f}"


class _PercentCodes(dict):
    """Code point → itself if unreserved (RFC 3986: letters, digits, ``-._~``), else its UTF-8
    bytes as ``%XX``: ``text.translate(table)`` is ``urllib.parse.quote(text, safe="")``, a
    few times faster on Chinese text (quote works byte by byte in Python). Filled as code
    points are met; a lone surrogate raises UnicodeEncodeError, as quote does."""

    _UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    _LIMIT = 60_000  # more distinct code points than that are encoded, not remembered

    def __missing__(self, code_point: int) -> str:
        char = chr(code_point)
        code = char if char in self._UNRESERVED else "".join(f"%{b:02X}" for b in char.encode())
        if len(self) < self._LIMIT:
            self[code_point] = code
        return code


_PERCENT_CODES = _PercentCodes()


def _q(text: str) -> str:
    """Percent-encode everything but unreserved characters, so &, #, ; and spaces stay data."""
    return text.translate(_PERCENT_CODES)


def amap_link(lat: float, lng: float, name: str) -> str:
    """Amap (高德) marker for a WGS-84 point, opening the app on a phone (`callnative=1`).

    https://lbs.amap.com/api/uri-api/guide/mobile-web/point: `position=lon,lat` (longitude
    first), `coordinate=gaode` meaning GCJ-02. Amap would also accept `coordinate=wgs84`; we
    convert ourselves so that all three links place the marker by the same formula.
    """
    return _amap(*wgs84_to_gcj02(lat, lng), _q(name))


def _amap(g_lat: float, g_lng: float, q_name: str) -> str:
    return (
        f"https://uri.amap.com/marker?position={_fmt(g_lng)},{_fmt(g_lat)}"
        f"&name={q_name}&src=yizhan&coordinate=gaode&callnative=1"
    )


def baidu_link(lat: float, lng: float, name: str, address: str = "") -> str:
    """Baidu (百度) marker for a WGS-84 point, converted to BD-09 (`coord_type=bd09ll`).

    Baidu's web URI API (lbsyun.baidu.com, "uri/api/web", marker): `location=lat,lng`; `title`,
    `content` and `output=html` are required (an empty content is sent rather than left out);
    `src` follows the documented `webapp.companyName.appName` pattern.
    """
    return _baidu(*wgs84_to_bd09(lat, lng), _q(name), _q(address))


def _baidu(b_lat: float, b_lng: float, q_name: str, q_address: str) -> str:
    return (
        f"https://api.map.baidu.com/marker?location={_fmt(b_lat)},{_fmt(b_lng)}"
        f"&title={q_name}&content={q_address}&output=html&coord_type=bd09ll"
        f"&src=webapp.yizhan.yizhan"
    )


def _tencent_text(text: str, quoted: str | None = None) -> str:
    # In Tencent's `marker` value ";" separates attributes and "|" separates markers, and the
    # server splits after decoding the query, so percent-encoding alone would not protect them.
    # Their full-width forms read the same in a Chinese name.
    if quoted is not None and ";" not in text and "|" not in text:
        return quoted  # nothing to replace: the plain encoding
    return _q(text.replace(";", "；").replace("|", "｜"))


def tencent_link(lat: float, lng: float, name: str, address: str = "") -> str:
    """Tencent (腾讯) marker for a WGS-84 point, converted to GCJ-02 (Tencent's default).

    https://lbs.qq.com/webApi/uriV1/uriGuide/uriWebMarker: `marker=coord:lat,lng;title:…;addr:…`
    with `referer` (the calling app's name) required.
    """
    return _tencent(*wgs84_to_gcj02(lat, lng), _tencent_text(name), _tencent_text(address))


def _tencent(g_lat: float, g_lng: float, t_name: str, t_address: str) -> str:
    return (
        f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{_fmt(g_lat)},{_fmt(g_lng)}"
        f";title:{t_name};addr:{t_address}&referer=yizhan"
    )


def navigation_links(lat: float, lng: float, name: str, address: str = "") -> dict[str, str]:
    """Links that open each of the three Chinese map apps at a WGS-84 point, keyed by app.

    The same links as ``amap_link``, ``baidu_link`` and ``tencent_link``, with the GCJ-02 point
    (Amap, Tencent, and the step to BD-09) computed once and each text encoded once: the
    nearby search builds these for every result.
    """
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    q_name, q_address = _q(name), _q(address)
    return {
        "amap": _amap(g_lat, g_lng, q_name),
        "baidu": _baidu(*gcj02_to_bd09(g_lat, g_lng), q_name, q_address),
        "tencent": _tencent(
            g_lat, g_lng, _tencent_text(name, q_name), _tencent_text(address, q_address)
        ),
    }
