"""Duplicates: open reports of the same category nearby (radius and window per street), found
through the fine cell index and equal to a plain scan; the same photo found by its hash."""

import math
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reports.builders import (
    A1_WEST,
    advance,
    encode,
    key,
    make_given,
    picture,
    submit,
    upload,
)
from yizhan.core.geo import haversine_m
from yizhan.core.images import dhash_rotations, hamming, process_image
from yizhan.reports import services as rs
from yizhan.reports.choices import Source
from yizhan.reports.models import Report


@pytest.fixture
def g(world, settings, tmp_path):
    made = make_given(world, settings, tmp_path)
    rs.report_settings_update(street=world.street_a, actor=world.street_admin, burst_reports=100)
    return made


def offset(point, north_m: float, east_m: float) -> tuple[float, float]:
    lat, lng = point
    return (
        lat + north_m / 111_195,
        lng + east_m / (111_195 * math.cos(math.radians(lat))),
    )


def filed(g, at, *, category=None, reporter=None) -> Report:
    """A report without photos (as an Open311 client files it): fast to make in numbers."""
    return rs.report_submit(
        reporter=reporter or g.rider, category=category or g.wire, lat=at[0], lng=at[1],
        description="楼下飞线", idempotency_key=key(), source=Source.OPEN311,
    )  # fmt: skip


def test_open_reports_of_the_category_within_50_m_nearest_first(g):
    at_10 = filed(g, offset(A1_WEST, 10, 0))
    at_40 = filed(g, offset(A1_WEST, 0, -40))
    filed(g, offset(A1_WEST, 60, 0))  # too far
    filed(g, offset(A1_WEST, 5, 5), category=g.clutter)  # another category
    closed = filed(g, offset(A1_WEST, 1, 0))
    rs.report_reject(report=closed, actor=g.staff, reason="误报")
    old = filed(g, offset(A1_WEST, 2, 0))
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    found = rs.duplicates_near(category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1])
    assert [r.pk for r, _d in found] == [at_10.pk, at_40.pk]
    assert [round(d) for _r, d in found] == [10, 40]
    assert rs.duplicates_near(
        category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1], exclude=at_10.pk
    )[0][0] == at_40  # fmt: skip


def test_dispatched_and_handled_reports_still_count_as_open(g):
    report = advance(g, submit(g), "handled")
    found = rs.duplicates_near(category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1])
    assert [r for r, _d in found] == [report]


def test_radius_and_window_are_the_streets_settings(g):
    at_80 = filed(g, offset(A1_WEST, 80, 0))
    week_old = filed(g, offset(A1_WEST, 5, 0))
    Report.objects.filter(pk=week_old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert [r for r, _ in rs.duplicates_near(category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1])] == [
        week_old
    ]
    rs.report_settings_update(
        street=g.world.street_a, actor=g.world.street_admin, duplicate_radius_m=100,
        duplicate_days=7,
    )  # fmt: skip
    assert [r for r, _ in rs.duplicates_near(category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1])] == [
        at_80
    ]


def test_a_report_in_the_neighbouring_grid_is_found_across_the_boundary(g):
    """The grids' boundary is at lng 113.31: a report 20 m east of it is 40 m from one 20 m west
    (fine cells, not grids, decide)."""
    west = offset((40.095, 113.31), 0, -20)
    east = filed(g, offset((40.095, 113.31), 0, 20))
    assert east.grid == g.world.grid_a1_east
    assert [r for r, _ in rs.duplicates_near(category=g.wire, lat=west[0], lng=west[1])] == [east]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(
        st.tuples(st.floats(-120, 120), st.floats(-120, 120)), min_size=1, max_size=12
    ),
    radius=st.integers(5, 100),
    centre=st.tuples(st.floats(-300, 300), st.floats(-300, 300)),
)
def test_the_cell_search_finds_exactly_what_a_plain_scan_finds(g, offsets, radius, centre):
    here = offset((40.095, 113.31), *centre)
    with transaction.atomic():
        rs.report_settings_update(
            street=g.world.street_a, actor=g.world.street_admin, duplicate_radius_m=radius
        )
        made = [filed(g, offset(here, north, east)) for north, east in offsets]
        found = rs.duplicates_near(category=g.wire, lat=here[0], lng=here[1])
        expected = sorted(
            (haversine_m(here[0], here[1], r.lat, r.lng), r.pk)
            for r in made
            if haversine_m(here[0], here[1], r.lat, r.lng) <= radius
        )
        assert [r.pk for r, _d in found] == [pk for _d, pk in expected]
        transaction.set_rollback(True)


# --- the same photo -------------------------------------------------------------------------------


def test_same_photos_finds_the_picture_at_any_quarter_turn_and_only_it(g):
    first = submit(g, seed=300)
    other = submit(g, seed=301)
    image = picture(300)
    for turn in (0, 90, 180, 270):
        turned = image.rotate(turn, expand=True)
        processed = process_image(upload(encode(turned, quality=85)), sizes=rs.PHOTO_SIZES)
        found = rs.same_photos(processed.phash_rotations)
        assert [p.report_id for p in found] == [first.pk], turn
        assert rs.same_photos(processed.phash_rotations, exclude_report=first.pk) == []
    assert other.pk not in [p.report_id for p in rs.same_photos(dhash_rotations(image))]


def test_different_pictures_are_far_apart_in_hash():
    hashes = [dhash_rotations(picture(seed))[0] for seed in range(40)]
    closest = min(hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert closest > rs.SAME_PHOTO_DISTANCE
