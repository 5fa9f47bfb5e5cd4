"""Dashboard selectors: periods, who may see which area, constant query counts, coverage
targets, the monthly brief's data and the public numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.dashboards import rollup_world as rw
from tests.world import square
from yizhan.areas.services import area_create
from yizhan.core.errors import ApplicationError, Forbidden, NotFound, Unauthenticated
from yizhan.dashboards import kpis
from yizhan.dashboards.kpis import Metric, Period, PeriodError
from yizhan.dashboards.models import CoverageTarget
from yizhan.dashboards.selectors import (
    brief_data,
    child_rows,
    dashboard,
    map_points,
    overdue_page,
    public_headline,
    report_heat,
)
from yizhan.dashboards.services import coverage_target_set, rebuild_rollups
from yizhan.people.models import User

TODAY = dt.date(2026, 12, 2)


# --- periods (no database) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, anchor, start, end",
    [
        ("month", "2026-04", dt.date(2026, 4, 1), dt.date(2026, 4, 30)),
        ("month", "2024-02-10", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("quarter", "2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        ("quarter", "2026-11-30", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("year", "2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("week", "2026-W01", dt.date(2025, 12, 29), dt.date(2026, 1, 4)),
        ("week", "2026-03-04", dt.date(2026, 3, 2), dt.date(2026, 3, 8)),
        ("", None, dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ],
)
def test_a_period_from_user_input(kind, anchor, start, end):
    period = Period.parse(kind, anchor=anchor, today=TODAY)
    assert (period.start, period.end) == (start, end)


def test_the_previous_period_has_the_same_kind_and_ends_the_day_before():
    assert Period.parse("month", anchor="2026-03", today=TODAY).previous() == Period(
        "month", dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    )
    assert Period.parse("quarter", anchor="2026-Q1", today=TODAY).previous() == Period(
        "quarter", dt.date(2025, 10, 1), dt.date(2025, 12, 31)
    )
    custom = Period.parse("custom", start="2026-03-10", end="2026-03-19", today=TODAY)
    assert custom.previous() == Period("custom", dt.date(2026, 2, 28), dt.date(2026, 3, 9))
    assert custom.previous().days == custom.days == 10
    assert Period.parse("week", anchor="2026-03-04", today=TODAY).previous().start == dt.date(
        2026, 2, 23
    )


@pytest.mark.parametrize(
    "args, field, code",
    [
        ({"kind": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "end", "invalid_period"),
        ({"kind": "custom", "start": "2022-01-01", "end": "2026-01-01"}, "end", "period_too_long"),
        ({"kind": "custom", "start": "2026-01-01"}, "end", "invalid_period"),
        ({"kind": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "start", "invalid_period"),
        ({"kind": "custom", "start": "yesterday", "end": "2026-03-01"}, "start", "invalid_period"),
        ({"kind": "month", "anchor": "2026-13"}, "anchor", "invalid_period"),
        ({"kind": "month", "anchor": "'; DROP TABLE x"}, "anchor", "invalid_period"),
        ({"kind": "decade"}, "kind", "invalid_period"),
        ({"kind": "year", "anchor": "1999"}, "start", "period_out_of_range"),
        ({"kind": "year", "anchor": "2030"}, "end", "period_out_of_range"),
    ],
)
def test_bad_periods_are_refused_with_a_readable_message(args, field, code):
    with pytest.raises(PeriodError) as refused:
        Period.parse(**args, today=TODAY)
    error = refused.value
    assert isinstance(error, ApplicationError) and error.status == 400
    assert (error.field, error.code) == (field, code)
    assert str(error.message)


def test_metric_change_and_ratio():
    m = Metric("reports", "Reports", 15, 10)
    assert (m.change, m.ratio, m.direction) == (5, 0.5, "up")
    assert Metric("x", "x", 3, 0).ratio is None
    assert Metric("x", "x", None, 2).change is None
    assert Metric("x", "x", 50.0, 62.5, unit="percent").change == -12.5


# --- scope ---------------------------------------------------------------------------------------


@pytest.fixture
def built(world):
    cat = rw.category(world.street_a, "fire", "消防")
    rw.report(world.grid_a1_west, cat, rw.at(dt.date(2026, 3, 2)), status="dispatched",
              deadline=rw.at(dt.date(2026, 3, 3)))  # fmt: skip
    rw.station(world.grid_a1_west)
    rebuild_rollups()
    return world


MARCH = Period("month", dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, area, error",
    [
        ("anonymous", "street_a", Unauthenticated),
        ("rider", "community_a1", Forbidden),
        ("merchant", "street_a", Forbidden),
        ("community_staff", "street_a", NotFound),  # above the scope
        ("other_community_staff", "community_a1", NotFound),  # beside it
        ("street_admin", "district", NotFound),
        ("street_admin", "street_b", NotFound),
    ],
)
def test_an_area_outside_the_scope_is_refused_everywhere(built, who, area, error):
    user = built.account(who)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    code = getattr(built, area).code
    for call in (
        lambda: dashboard(user=user, area=code, period=MARCH),
        lambda: overdue_page(user=user, area=code),
        lambda: map_points(user=user, area=code),
        lambda: report_heat(user=user, area=code, period=MARCH),
        lambda: child_rows(user=user, area=code, period=MARCH),
    ):
        with pytest.raises(error):
            call()


@pytest.mark.django_db
def test_an_unknown_area_is_not_found_and_staff_see_their_own_and_below(built):
    with pytest.raises(NotFound):
        dashboard(user=built.district_admin, area="440000999", period=MARCH)
    assert dashboard(user=built.community_staff, area=built.grid_a1_west, period=MARCH)
    data = dashboard(user=built.district_admin, area=built.district.code, period=MARCH)
    assert data.area.level == "district" and len(data.children) == 2
    superuser = User.objects.create_superuser("root", password="x-Y-z-2026-long")
    assert dashboard(user=superuser, area=built.street_b, period=MARCH).children[0].name


# --- query counts --------------------------------------------------------------------------------


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_dashboard_query_count_does_not_grow_with_data_or_children(built):
    w = built
    fn = lambda: dashboard(user=w.district_admin, area=w.street_a, period=MARCH)  # noqa: E731
    year = lambda: dashboard(  # noqa: E731
        user=w.district_admin, area=w.street_a, period=Period.parse("year", anchor="2026")
    )
    small, small_year = count_queries(fn), count_queries(year)
    cat = rw.category(w.street_a, "more", "更多")
    for n in range(6):
        box = square(113.36 + n * 0.01, 40.09, 113.37 + n * 0.01, 40.10)
        community = area_create(level="community", code=f"44000000101{n}", name=f"新{n}",
                                parent=w.street_a, boundary=box)  # fmt: skip
        grid = area_create(level="grid", code=f"{community.code}001", name=f"新网格{n}",
                           parent=community, boundary=box)  # fmt: skip
        for day in range(1, 29, 3):
            rw.report(grid, cat, rw.at(dt.date(2026, 3, day)), status="dispatched",
                      deadline=rw.at(dt.date(2026, 3, day + 1)))  # fmt: skip
            rw.report(grid, cat, rw.at(dt.date(2026, 1 + day % 9, day)))
        rw.station(grid, kind="corner")
    rebuild_rollups()
    assert count_queries(fn) == small
    assert count_queries(year) == small_year
    assert small <= 20
    data = fn()
    assert len(data.children) == 8 and data.overdue_count == 1 + 6 * 10
    assert len(data.overdue) == 10


@pytest.mark.django_db
def test_overdue_pages(built):
    cat = rw.category(built.street_a, "x", "叉")
    for day in range(1, 26):
        rw.report(built.grid_a2, cat, rw.at(dt.date(2026, 4, day)), status="dispatched",
                  deadline=rw.at(dt.date(2026, 4, day), 18))  # fmt: skip
    first = overdue_page(user=built.street_admin, area=built.street_a, page=1, size=20)
    second = overdue_page(user=built.street_admin, area=built.street_a, page="2", size=20)
    assert (first.count, first.pages, len(first.rows), len(second.rows)) == (26, 2, 20, 6)
    deadlines = [r.deadline_at for r in first.rows + second.rows]
    assert deadlines == sorted(deadlines)
    assert first.rows[0].overdue_hours > first.rows[-1].overdue_hours > 0
    clamped = overdue_page(user=built.street_admin, area=built.street_a, page="x", size=10_000)
    assert (clamped.page, clamped.size) == (1, 100)
    assert overdue_page(user=built.community_staff, area=built.grid_a1_east).count == 0


# --- coverage targets ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_street_admin_sets_a_coverage_target_that_communities_inherit(built):
    coverage_target_set(area=built.street_a, percent="80", actor=built.street_admin)
    street = dashboard(user=built.street_admin, area=built.street_a, period=MARCH)
    assert street.metric("coverage").target == 80
    assert street.metric("coverage").value == 50.0  # A1 has an open station, A2 none
    community = dashboard(user=built.street_admin, area=built.community_a1, period=MARCH)
    assert community.metric("coverage").target == 80
    assert community.metric("coverage").value == 50.0  # one of A1's two grids
    coverage_target_set(area=built.community_a1.code, percent=100, actor=built.street_admin)
    again = dashboard(user=built.street_admin, area=built.community_a1, period=MARCH)
    assert again.metric("coverage").target == 100
    coverage_target_set(area=built.community_a1, percent=None, actor=built.street_admin)
    assert not CoverageTarget.objects.filter(area_code=built.community_a1.code).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, area, percent, error",
    [
        ("community_staff", "community_a1", 50, Forbidden),  # staff do not configure
        ("street_admin", "street_b", 50, Forbidden),  # areas are public: seen, not set
        ("street_admin", "street_a", 0, ApplicationError),
        ("street_admin", "street_a", 101, ApplicationError),
        ("street_admin", "street_a", "lots", ApplicationError),
        ("street_admin", "grid_a2", 50, ApplicationError),
    ],
)
def test_bad_coverage_targets_are_refused_and_nothing_is_written(built, who, area, percent, error):
    with pytest.raises(error):
        coverage_target_set(area=getattr(built, area), percent=percent, actor=built.account(who))
    assert not CoverageTarget.objects.exists()


# --- the brief and the public page ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_brief_for_a_month_with_no_data_is_honestly_empty(built):
    data = brief_data(area=built.street_b, month=dt.date(2025, 6, 15))
    assert data.is_empty
    assert data.period == Period("month", dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert all(m.value in (0, None) for m in data.headline if kpis.METRICS[m.key][2] == "flow")
    assert set(data.breakdowns) == set(kpis.BREAKDOWNS) and set(data.trends) == set(kpis.TRENDS)
    full = brief_data(area=built.street_a.code, month=dt.date(2026, 3, 5))
    assert not full.is_empty and full.metric("reports").value == 1


@pytest.mark.django_db
def test_the_public_headline_has_aggregates_only(built):
    metrics = public_headline(street=built.street_a.code)
    assert [m.key for m in metrics] == list(kpis.PUBLIC_METRICS)
    assert {m.key: m.value for m in metrics}["stations"] == 1
    with pytest.raises(NotFound):
        public_headline(street="999999999")


@pytest.mark.django_db
def test_every_key_is_present_and_labelled(built):
    data = dashboard(user=built.street_admin, area=built.street_a, period=MARCH)
    assert [m.key for m in data.headline] == list(kpis.METRICS)
    assert all(str(m.label) for m in data.headline)
    assert set(data.children[0].metrics) == set(kpis.CHILD_METRICS)
    points = map_points(user=built.street_admin, area=built.street_a)
    assert len(points) == 1 and points[0].kind == "rider_station"
