"""Boundaries: validate GeoJSON polygons and find the grid a point falls in.

Boundary rule (documented in docs/areas.md and tested): a point inside a grid's polygon belongs to
that grid; a point on a boundary (an edge or a vertex, within 1e-9 degrees ≈ 0.1 mm) belongs to
every grid it touches, and when several grids touch it the one with the smallest code wins. So
every point of a shared edge maps to exactly one grid, the same one every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from yizhan.core.errors import ApplicationError

BOUNDARY_TOLERANCE_DEG = 1e-9


class BoundaryError(ApplicationError):
    code = "invalid_boundary"


@dataclass(frozen=True)
class BBox:
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float
    center_lat: float
    center_lng: float


def _is_coordinate(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _check_position(position: Any, where: str) -> tuple[float, float]:
    # RFC 7946 positions are [lng, lat] with an optional altitude; nothing more.
    if not isinstance(position, list | tuple) or not 2 <= len(position) <= 3:
        raise BoundaryError(
            _("%(where)s: a position must be [longitude, latitude].") % {"where": where}
        )
    if not all(_is_coordinate(v) for v in position):
        raise BoundaryError(_("%(where)s: coordinates must be numbers.") % {"where": where})
    lng, lat = position[0], position[1]
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise BoundaryError(
            _("%(where)s: [%(lng)s, %(lat)s] is not a WGS-84 [longitude, latitude] pair.")
            % {"where": where, "lng": lng, "lat": lat}
        )
    return float(lng), float(lat)


def _check_ring(ring: Any, where: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise BoundaryError(
            _("%(where)s: a ring needs at least 4 positions (3 corners and the first repeated).")
            % {"where": where}
        )
    points = [_check_position(p, where) for p in ring]
    if points[0] != points[-1]:
        raise BoundaryError(
            _("%(where)s: the polygon does not close (its last point must repeat its first).")
            % {"where": where}
        )


def parse_boundary(data: Any) -> dict:
    """Validate a GeoJSON Polygon/MultiPolygon (or a Feature holding one); return the geometry.

    Raises :class:`BoundaryError` with a message a person can act on.
    """
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(_("A boundary must be a GeoJSON Polygon or MultiPolygon."))
    coordinates = data.get("coordinates")
    polygons = [coordinates] if data["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryError(_("The boundary has no coordinates."))
    for p_index, polygon in enumerate(polygons, start=1):
        if not isinstance(polygon, list) or not polygon:
            raise BoundaryError(_("Polygon %(n)s has no rings.") % {"n": p_index})
        for r_index, ring in enumerate(polygon, start=1):
            _check_ring(ring, _("polygon %(p)s, ring %(r)s") % {"p": p_index, "r": r_index})
    # Keep only [lng, lat]: an altitude means nothing to a boundary on a map.
    coordinates = [[[list(p[:2]) for p in ring] for ring in polygon] for polygon in polygons]
    if data["type"] == "Polygon":
        coordinates = coordinates[0]
    geometry = {"type": data["type"], "coordinates": coordinates}
    geom = shape(geometry)
    if not geom.is_valid:
        raise BoundaryError(
            _("The boundary is not a valid polygon: %(reason)s")
            % {"reason": explain_validity(geom)}
        )
    if geom.area == 0:
        raise BoundaryError(_("The boundary encloses no area."))
    return geometry


def bbox_of(geometry: dict) -> BBox:
    geom = shape(geometry)
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    centre = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    return BBox(min_lat, max_lat, min_lng, max_lng, centre.y, centre.x)


@lru_cache(maxsize=4096)
def _prepared(key: tuple[int, str], geometry_json: str) -> BaseGeometry:
    import json

    geom = shape(json.loads(geometry_json))
    shapely.prepare(geom)
    return geom


def geometry_of(area) -> BaseGeometry | None:
    """The area's boundary as a prepared shapely geometry, cached per (id, last change)."""
    if not area.boundary:
        return None
    import json

    key = (area.pk, area.updated_at.isoformat() if area.updated_at else "")
    return _prepared(key, json.dumps(area.boundary, sort_keys=True))


def covers_point(area, lat: float, lng: float) -> bool:
    geom = geometry_of(area)
    if geom is None:
        return False
    return bool(shapely.dwithin(geom, Point(lng, lat), BOUNDARY_TOLERANCE_DEG))


def distance_deg(area, lat: float, lng: float) -> float:
    geom = geometry_of(area)
    if geom is None:
        return math.inf
    return float(geom.distance(Point(lng, lat)))
