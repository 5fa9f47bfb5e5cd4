"""Reads of the area tree."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.geometry import BOUNDARY_TOLERANCE_DEG, covers_point, distance_deg
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.permissions import Action, restrict


def areas_for_user(user, *, level: str | None = None, within: Area | None = None) -> QuerySet:
    qs = restrict(Area.objects.select_related("parent"), user, Action.VIEW)
    if level:
        qs = qs.filter(level=level)
    if within is not None:
        qs = qs.filter(code__startswith=within.code)
    return qs.order_by("code")


def areas_in_scope(user, *, levels: tuple[str, ...] = ()) -> QuerySet:
    """Areas beneath the user's own (the ones they may operate on), for console choices."""
    qs = restrict(Area.objects.select_related("parent"), user, Action.OPERATE)
    if levels:
        qs = qs.filter(level__in=levels)
    return qs.order_by("code")


def area_by_code(code: str | None, *, level: str = "", field: str) -> Area:
    """The area with ``code`` (of ``level`` when given), for request input: a 400 naming the
    field when there is none. The tree is public, so this needs no permission check."""
    text = (code or "").strip() if isinstance(code, str) else ""
    area = Area.objects.select_related("parent").filter(code=text).first() if text else None
    if area is None:
        raise ApplicationError(
            _("No area has the code %(code)s.") % {"code": text[:32]},
            code="unknown_area",
            field=field,
        )
    if level and area.level != level:
        raise ApplicationError(
            _("%(name)s is not a %(level)s.")
            % {"name": area.name, "level": AreaLevel(level).label},
            code=f"not_a_{level}",
            field=field,
        )
    return area


def communities() -> QuerySet:
    return Area.objects.filter(level=AreaLevel.COMMUNITY).select_related("parent").order_by("code")


def grid_for_point(lat: float, lng: float, *, within: Area | None = None) -> Area | None:
    """The grid a WGS-84 point lies in, or None. Rule for boundary points: see geometry.py.

    Candidates come from the bounding-box index; exact containment is tested on the polygon, so
    concave grids are right. Ties on a shared boundary go to the smallest code.
    """
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return None
    eps = BOUNDARY_TOLERANCE_DEG
    candidates = Area.objects.filter(
        level=AreaLevel.GRID,
        min_lat__lte=lat + eps,
        max_lat__gte=lat - eps,
        min_lng__lte=lng + eps,
        max_lng__gte=lng - eps,
    ).order_by("code")
    if within is not None:
        candidates = candidates.filter(code__startswith=within.code)
    for grid in candidates:
        if covers_point(grid, lat, lng):
            return grid
    return None


def nearest_grid(lat: float, lng: float, *, community: Area) -> Area | None:
    """就近原则: the community's grid containing the point, else the one nearest to it."""
    inside = grid_for_point(lat, lng, within=community)
    if inside is not None:
        return inside
    grids = list(Area.objects.filter(level=AreaLevel.GRID, code__startswith=community.code))
    if not grids:
        return None
    return min(grids, key=lambda g: (distance_deg(g, lat, lng), g.code))
