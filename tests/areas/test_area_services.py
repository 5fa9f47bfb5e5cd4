import pytest

from tests.world import square
from yizhan.areas.geometry import BoundaryError, parse_boundary
from yizhan.areas.models import Area
from yizhan.areas.services import area_create, area_set_boundary, areas_import
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry

UNCLOSED = {
    "type": "Polygon",
    "coordinates": [[[113.30, 40.0], [113.31, 40.0], [113.31, 40.01], [113.30, 40.01]]],
}


def test_unclosed_polygon_is_refused_with_a_readable_message():
    with pytest.raises(BoundaryError) as exc:
        parse_boundary(UNCLOSED)
    assert exc.value.status == 400


def test_self_intersecting_and_out_of_range_polygons_are_refused():
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    }
    with pytest.raises(BoundaryError):
        parse_boundary(bow_tie)
    with pytest.raises(BoundaryError):
        parse_boundary(square(113.3, 95.0, 113.4, 96.0))
    with pytest.raises(BoundaryError):
        parse_boundary({"type": "Point", "coordinates": [1, 2]})


@pytest.mark.django_db
def test_area_codes_must_extend_the_parent():
    district = area_create(level="district", code="140213", name="平城区")
    with pytest.raises(ApplicationError):
        area_create(level="street", code="14021", name="x", parent=district)
    with pytest.raises(ApplicationError):
        area_create(level="street", code="140214001", name="x", parent=district)
    with pytest.raises(ApplicationError):
        area_create(level="community", code="140213001", name="x", parent=district)
    assert Area.objects.count() == 1


@pytest.mark.django_db
def test_community_needs_a_boundary_and_nothing_is_half_written():
    district = area_create(level="district", code="140213", name="平城区")
    street = area_create(level="street", code="140213001", name="清远街道", parent=district)
    with pytest.raises(BoundaryError):
        area_create(level="community", code="140213001001", name="c", parent=street)
    with pytest.raises(BoundaryError):
        area_create(
            level="community", code="140213001001", name="c", parent=street, boundary=UNCLOSED
        )
    assert not Area.objects.filter(code="140213001001").exists()


def test_set_boundary_updates_bbox_and_audits(world):
    area_set_boundary(
        area=world.grid_b1,
        boundary=square(113.30, 40.08, 113.325, 40.09),
        actor=world.district_admin,
    )
    world.grid_b1.refresh_from_db()
    assert world.grid_b1.max_lng == pytest.approx(113.325)
    assert AuditEntry.objects.filter(action="area.boundary_changed").count() == 1


def test_set_boundary_outside_scope_is_forbidden(world):
    with pytest.raises(ApplicationError) as exc:
        area_set_boundary(area=world.grid_b1, boundary=square(0, 0, 1, 1), actor=world.street_admin)
    assert exc.value.status == 403


def _feature(code, name, geometry=None):
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


@pytest.mark.django_db
def test_import_is_all_or_nothing_with_row_errors():
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature("660000", "区"),
            _feature("660000001", "街道"),
            _feature("660000001001", "社区", square(1, 1, 2, 2)),
            _feature("660000001002", "坏社区", UNCLOSED),
            _feature("660000009001", "孤儿", square(1, 1, 2, 2)),
        ],
    }
    result = areas_import(collection=collection)
    assert not result.ok
    assert [row for row, _code, _msg in result.errors] == [4, 5]
    assert Area.objects.count() == 0

    collection["features"] = collection["features"][:3]
    result = areas_import(collection=collection)
    assert result.ok and result.created == 3
    result = areas_import(collection=collection)
    assert result.updated == 3 and result.created == 0
    assert Area.objects.count() == 3


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": ["Polygon"], "coordinates": []},
        {"type": {"a": 1}},
        {"type": "Polygon", "coordinates": [[[113.3, 40.0, "x"], [113.31, 40.0], [113.31, 40.01],
                                             [113.3, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[113.3, 40.0, 1, 2], [113.31, 40.0], [113.31, 40.01],
                                             [113.3, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[10**400, 40.0], [113.31, 40.0], [113.31, 40.01],
                                             [10**400, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[True, 40.0], [113.31, 40.0], [113.31, 40.01],
                                             [True, 40.0]]]},
    ],
)  # fmt: skip
def test_odd_geometries_are_refused_not_crashed_on(geometry):
    with pytest.raises(BoundaryError):
        parse_boundary(geometry)


def test_an_altitude_is_accepted_and_dropped():
    ring = [[113.3, 40.0, 5], [113.31, 40.0, 5], [113.31, 40.01, 5], [113.3, 40.0, 5]]
    geometry = parse_boundary({"type": "Polygon", "coordinates": [ring]})
    assert geometry["coordinates"][0][0] == [113.3, 40.0]


def test_only_the_platform_operator_adds_a_district(world):
    with pytest.raises(ApplicationError) as exc:
        area_create(level="district", code="140214", name="x", actor=world.district_admin)
    assert exc.value.status == 403
    assert not Area.objects.filter(code="140214").exists()
