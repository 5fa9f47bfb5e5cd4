"""grid_for_point: concave polygons and the boundary rule (smallest code wins)."""

import pytest

from tests.world import square
from yizhan.areas.selectors import grid_for_point, nearest_grid
from yizhan.areas.services import area_create

# An L-shaped (concave) grid: the square 0..2 × 0..2 minus its top-right quarter 1..2 × 1..2.
L_SHAPE = {
    "type": "Polygon",
    "coordinates": [
        [[113.30, 40.00], [113.32, 40.00], [113.32, 40.01], [113.31, 40.01], [113.31, 40.02],
         [113.30, 40.02], [113.30, 40.00]]
    ],
}  # fmt: skip


@pytest.fixture
def tree(db):
    district = area_create(level="district", code="550000", name="区")
    street = area_create(level="street", code="550000001", name="街道", parent=district)
    community = area_create(
        level="community",
        code="550000001001",
        name="社区",
        parent=street,
        boundary=square(113.30, 40.00, 113.32, 40.02),
    )
    concave = area_create(
        level="grid", code="550000001001001", name="L", parent=community, boundary=L_SHAPE
    )
    notch = area_create(
        level="grid",
        code="550000001001002",
        name="notch",
        parent=community,
        boundary=square(113.31, 40.01, 113.32, 40.02),
    )
    return community, concave, notch


def test_point_inside_the_concave_part_is_in_the_l(tree):
    _, concave, _ = tree
    assert grid_for_point(40.005, 113.315) == concave
    assert grid_for_point(40.015, 113.305) == concave


def test_point_in_the_notch_is_not_in_the_l_even_though_inside_its_bbox(tree):
    _, concave, notch = tree
    assert grid_for_point(40.015, 113.315) == notch


def test_point_on_a_shared_edge_goes_to_the_smallest_code(tree):
    _, concave, notch = tree
    # The notch's bottom edge (lat 40.01, lng 113.31..113.32) is shared with the L.
    assert grid_for_point(40.01, 113.315) == concave
    # The notch's left edge (lng 113.31, lat 40.01..40.02) is shared too.
    assert grid_for_point(40.015, 113.31) == concave


def test_point_on_an_outer_edge_and_vertex_belongs_to_the_grid(tree):
    _, concave, notch = tree
    assert grid_for_point(40.00, 113.305) == concave
    assert grid_for_point(40.02, 113.32) == notch  # the notch's outer corner


def test_point_outside_every_grid_is_none(tree):
    assert grid_for_point(40.03, 113.315) is None
    assert grid_for_point(float("nan"), 113.3) is None


def test_nearest_grid_falls_back_to_the_closest(tree):
    community, concave, notch = tree
    assert nearest_grid(40.015, 113.325, community=community) == notch
    assert nearest_grid(39.99, 113.305, community=community) == concave
