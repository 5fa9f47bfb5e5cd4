"""Areas: the public tree a rider picks from, and point → grid."""

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from yizhan.areas.models import Area
from yizhan.areas.selectors import areas_for_user, grid_for_point
from yizhan.core.errors import ApplicationError
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import get_for_user
from yizhan.core.schemas import ERRORS

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None = Field(None, alias="parent.code")
    center_lat: float | None
    center_lng: float | None


class AreaDetailOut(AreaOut):
    address: str
    boundary: dict | None


class LocateOut(Schema):
    grid: AreaOut | None
    community: AreaOut | None


@router.get(
    "/areas",
    response={200: list[AreaOut], **ERRORS},
    auth=None,
    summary="List areas (district, street, community, grid)",
)
@paginate(YizhanPagination)
def list_areas(request, level: str | None = None, parent: str | None = None):
    qs = areas_for_user(request.user, level=level or None)
    if parent:
        qs = qs.filter(parent__code=parent)
    return qs


@router.get(
    "/areas/locate",
    response={200: LocateOut, **ERRORS},
    auth=None,
    summary="Find the grid and community of a WGS-84 point",
)
def locate(request, lat: float, lng: float):
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ApplicationError(_("The location is not a valid point."), code="invalid_location")
    grid = grid_for_point(lat, lng)
    return {"grid": grid, "community": grid.parent if grid else None}


@router.get(
    "/areas/{code}",
    response={200: AreaDetailOut, **ERRORS},
    auth=None,
    summary="One area with its boundary (GeoJSON, WGS-84)",
)
def get_area(request, code: str):
    return get_for_user(Area.objects.select_related("parent"), request.user, code=code)
